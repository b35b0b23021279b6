package pipeline

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// MergeStats counts what Merge did.
type MergeStats struct {
	// Records is the number of records written, Duplicates the records
	// dropped because an earlier input had the same host.
	Records, Duplicates uint64
}

// Merge copies the records of the outputs in srcs (JSON lines or CSV, all
// in one format) to dst, each host (address and port) once: the first
// record of a host wins, so pass a resumed run's output after the one it
// resumed, or shards in any order. A CSV header is written once. Lines are
// copied byte for byte; a torn last line of an input is dropped.
func Merge(dst io.Writer, srcs ...io.Reader) (MergeStats, error) {
	var st MergeStats
	seen := NewSeen()
	w := bufio.NewWriterSize(dst, 1<<16)
	header := false
	for i, src := range srcs {
		br := bufio.NewReaderSize(src, 1<<16)
		for line := 1; ; line++ {
			b, err := br.ReadBytes('\n')
			if errors.Is(err, io.EOF) {
				break // a line without its newline is torn
			}
			if err != nil {
				return st, fmt.Errorf("pipeline: merge input %d: %w", i+1, err)
			}
			ap, ok, err := parseHost(b)
			if err != nil {
				return st, fmt.Errorf("pipeline: merge input %d line %d: %w", i+1, line, err)
			}
			if !ok {
				if len(b) > 1 && !header {
					header = true
					w.Write(b)
				}
				continue
			}
			if !seen.Add(ap) {
				st.Duplicates++
				continue
			}
			st.Records++
			if _, err := w.Write(b); err != nil {
				return st, err
			}
		}
	}
	return st, w.Flush()
}

// Hosts returns the hosts of the outputs in srcs, each once, in the order
// first seen.
func Hosts(srcs ...io.Reader) ([]netip.AddrPort, error) {
	seen := NewSeen()
	var out []netip.AddrPort
	for _, src := range srcs {
		if _, err := ReadHosts(src, func(ap netip.AddrPort) {
			if seen.Add(ap) {
				out = append(out, ap)
			}
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
