package pipeline

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Format is an output format.
type Format string

// Output formats.
const (
	// JSONLines writes one JSON object per line (the default).
	JSONLines Format = "json"
	// CSV writes CSVHeader once, then one row per host.
	CSV Format = "csv"
)

// CSVHeader are the columns of CSV output, a flat subset of Record.
var CSVHeader = []string{"ip", "port", "status", "timestamp", "ttl", "window", "mss", "dialect", "smb1", "signing_required", "os_version", "netbios_computer", "error"}

// ParseFormat returns the Format named s ("json", "jsonl" or "csv").
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "", "json", "jsonl", "ndjson":
		return JSONLines, nil
	case "csv":
		return CSV, nil
	}
	return "", fmt.Errorf("pipeline: unknown output format %q (want json or csv)", s)
}

// An Output writes records to a file, each with a single write(2) of a
// whole line, so a crash or SIGKILL never leaves a torn line in a regular
// file (a pipe only guarantees this for lines up to PIPE_BUF, 4096 bytes).
// Write is called by one goroutine, the pipeline's writer.
type Output struct {
	w      io.Writer
	f      *os.File // nil when w is not a file
	format Format
	buf    bytes.Buffer
	enc    *json.Encoder
	cw     *csv.Writer
	off    atomic.Int64
	header bool
}

// NewOutput returns an Output writing format to w. If w is an *os.File
// opened for appending (O_APPEND), offsets count from its current size, and
// a CSV header is written only if the file is empty.
func NewOutput(w io.Writer, format Format) (*Output, error) {
	if format == "" {
		format = JSONLines
	}
	if format != JSONLines && format != CSV {
		return nil, fmt.Errorf("pipeline: unknown output format %q", format)
	}
	o := &Output{w: w, format: format}
	if f, ok := w.(*os.File); ok {
		o.f = f
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			o.off.Store(fi.Size())
		}
	}
	o.enc = json.NewEncoder(&o.buf)
	o.enc.SetEscapeHTML(false)
	o.cw = csv.NewWriter(&o.buf)
	o.header = format == CSV && o.off.Load() == 0
	return o, nil
}

// Write writes one record.
func (o *Output) Write(r *Record) error {
	o.buf.Reset()
	if o.format == CSV {
		if o.header {
			o.cw.Write(CSVHeader)
			o.header = false
		}
		o.cw.Write(csvRow(r))
		o.cw.Flush()
		if err := o.cw.Error(); err != nil {
			return fmt.Errorf("pipeline: encoding CSV: %w", err)
		}
	} else if err := o.enc.Encode(r); err != nil {
		return fmt.Errorf("pipeline: encoding JSON: %w", err)
	}
	n, err := o.w.Write(o.buf.Bytes())
	o.off.Add(int64(n))
	if err != nil {
		return fmt.Errorf("pipeline: writing output: %w", err)
	}
	return nil
}

// Offset returns the number of bytes in the output after the last write.
// Unlike Write, it may be called from any goroutine.
func (o *Output) Offset() int64 { return o.off.Load() }

// Sync flushes the output file to stable storage (fsync); it does nothing
// when the output is not a regular file. It may be called from any
// goroutine, concurrently with Write.
func (o *Output) Sync() error {
	if o.f == nil {
		return nil
	}
	if err := o.f.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !isNotSyncable(err) {
		return fmt.Errorf("pipeline: fsync output: %w", err)
	}
	return nil
}

// isNotSyncable reports the errors fsync returns for pipes and terminals.
func isNotSyncable(err error) bool {
	s := err.Error()
	return strings.Contains(s, "invalid argument") || strings.Contains(s, "not supported")
}

func csvRow(r *Record) []string {
	row := make([]string, len(CSVHeader))
	row[0], row[1], row[2] = r.IP.String(), strconv.Itoa(int(r.Port)), string(r.Status)
	row[3] = r.Timestamp.UTC().Format(time.RFC3339Nano)
	row[4], row[5], row[6] = strconv.Itoa(int(r.Scan.TTL)), strconv.Itoa(int(r.Scan.Window)), strconv.Itoa(int(r.Scan.MSS))
	if s := r.SMB; s != nil {
		row[7] = s.Dialect
		if s.SMB1 != nil {
			row[8] = strconv.FormatBool(s.SMB1.Enabled)
		}
		if s.Signing != nil {
			row[9] = strconv.FormatBool(s.Signing.Required)
		}
		if s.NTLM != nil {
			row[10], row[11] = s.NTLM.OSVersion, s.NTLM.NetBIOSComputer
		}
	}
	row[12] = r.Error
	return row
}

// A Seen is a set of hosts (address and port) already written: the
// pipeline skips them, so a resumed scan does not write a host twice. It
// is not safe for concurrent use; the pipeline touches it only on the
// receiver goroutine.
type Seen struct{ m map[netip.AddrPort]struct{} }

// NewSeen returns an empty set.
func NewSeen() *Seen { return &Seen{m: make(map[netip.AddrPort]struct{})} }

// Add adds ap and reports whether it was new.
func (s *Seen) Add(ap netip.AddrPort) bool {
	if _, ok := s.m[ap]; ok {
		return false
	}
	s.m[ap] = struct{}{}
	return true
}

// Has reports whether ap is in the set.
func (s *Seen) Has(ap netip.AddrPort) bool { _, ok := s.m[ap]; return ok }

// Len returns the number of hosts in the set.
func (s *Seen) Len() int { return len(s.m) }

// ReadHosts reads the hosts of an output file in either format (JSON lines
// with "ip" and "port", or CSV with the header first) and calls fn for each
// complete line's host. It returns the offset just past the last complete
// line: a resumed run truncates the file there, dropping a torn tail.
func ReadHosts(r io.Reader, fn func(netip.AddrPort)) (complete int64, err error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var off int64
	for line := 1; ; line++ {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: accumulate it.
			full := append([]byte(nil), b...)
			for errors.Is(err, bufio.ErrBufferFull) {
				b, err = br.ReadSlice('\n')
				full = append(full, b...)
			}
			b = full
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return off, nil
			}
			return off, err
		}
		off += int64(len(b))
		ap, ok, perr := parseHost(b)
		if perr != nil {
			return off, fmt.Errorf("pipeline: output line %d: %w", line, perr)
		}
		if ok {
			fn(ap)
		}
	}
}

// parseHost reads the host of one output line; ok is false for a CSV
// header or an empty line.
func parseHost(b []byte) (netip.AddrPort, bool, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return netip.AddrPort{}, false, nil
	}
	if b[0] == '{' {
		var h struct {
			IP   netip.Addr `json:"ip"`
			Port uint16     `json:"port"`
		}
		if err := json.Unmarshal(b, &h); err != nil {
			return netip.AddrPort{}, false, err
		}
		return netip.AddrPortFrom(h.IP, h.Port), true, nil
	}
	ip, rest, _ := bytes.Cut(b, []byte(","))
	port, _, _ := bytes.Cut(rest, []byte(","))
	if string(ip) == "ip" {
		return netip.AddrPort{}, false, nil
	}
	a, err := netip.ParseAddr(string(ip))
	if err != nil {
		return netip.AddrPort{}, false, err
	}
	p, err := strconv.ParseUint(string(port), 10, 16)
	if err != nil {
		return netip.AddrPort{}, false, err
	}
	return netip.AddrPortFrom(a, uint16(p)), true, nil
}

// LoadSeen opens the output file at path for a resumed run: it reads the
// hosts already written, truncates a torn last line, and returns the set
// and the file's size. A missing file is an empty set.
func LoadSeen(path string) (*Seen, int64, error) {
	s := NewSeen()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return s, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	off, err := ReadHosts(f, func(ap netip.AddrPort) { s.Add(ap) })
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() != off {
		if err := f.Truncate(off); err != nil {
			return nil, 0, fmt.Errorf("pipeline: truncating torn line of %s: %w", path, err)
		}
	}
	return s, off, nil
}
