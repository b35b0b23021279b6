package report

import (
	"flag"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// synthProfiles are success records after real captures
// (smbprobe/testdata/resp and Windows Server answers), with {NAME} where
// the NetBIOS computer name goes and {IP} for the address.
var synthProfiles = []struct {
	weight int
	json   string
}{
	{30, `{"ip":"{IP}","port":445,"status":"success","timestamp":"2026-11-28T06:00:00Z","smb":{"smb1":{"enabled":false,"outcome":"connection-reset"},"dialect":"3.1.1","signing":{"enabled":true,"required":false},"capabilities":["dfs","leasing","large_mtu","multi_channel","directory_leasing"],"server_guid":"5a1c0c5e-3c1f-4a3e-9a4b-0d1e2f3a4b5c","system_time":"2026-11-28T06:00:00.1234567Z","max_read_size":8388608,"max_write_size":8388608,"max_transact_size":8388608,"contexts":{"preauth":"sha-512","cipher":"aes-128-gcm","signing_algorithm":"aes-gmac"},"spnego_mechs":["1.2.840.48018.1.2.2","1.2.840.113554.1.2.2","1.3.6.1.4.1.311.2.2.30","1.3.6.1.4.1.311.2.2.10"],"ntlm":{"target_name":"CORP","netbios_computer":"{NAME}","netbios_domain":"CORP","dns_computer":"{NAME}.corp.example","dns_domain":"corp.example","dns_tree":"corp.example","timestamp":"2026-11-28T06:00:00Z","os_version":"10.0.17763","os_name":"Windows 10 1809 / Server 2019","ntlm_revision":15,"flags":3800728069}},"flags":["windows"]}`},
	{15, `{"ip":"{IP}","port":445,"status":"success","timestamp":"2026-11-28T06:00:01Z","smb":{"smb1":{"enabled":false,"outcome":"connection-reset"},"dialect":"3.1.1","signing":{"enabled":true,"required":true},"capabilities":["dfs","leasing","large_mtu","multi_channel","directory_leasing"],"server_guid":"0b7e3c4d-2a1f-4e5d-8c9b-7a6f5e4d3c2b","max_read_size":8388608,"max_write_size":8388608,"max_transact_size":8388608,"contexts":{"preauth":"sha-512","cipher":"aes-256-gcm","signing_algorithm":"aes-gmac"},"spnego_mechs":["1.3.6.1.4.1.311.2.2.10"],"ntlm":{"target_name":"AD","netbios_computer":"{NAME}","netbios_domain":"AD","dns_computer":"{NAME}.ad.example","dns_domain":"ad.example","dns_tree":"ad.example","os_version":"10.0.20348","os_name":"Windows Server 2022","ntlm_revision":15,"flags":3800728069}},"flags":["windows"]}`},
	{10, `{"ip":"{IP}","port":445,"status":"success","timestamp":"2026-11-28T06:00:02Z","smb":{"smb1":{"enabled":true,"outcome":"negotiated","native_os":"Windows Server 2008 R2 Standard 7601 Service Pack 1","native_lanman":"Windows Server 2008 R2 Standard 6.1","signing":{"enabled":true,"required":false},"ntlm":{"target_name":"WORKGROUP","netbios_computer":"{NAME}","netbios_domain":"WORKGROUP","dns_computer":"{NAME}","dns_domain":"","dns_tree":"","os_version":"6.1.7601","ntlm_revision":15,"flags":3800728069}},"dialect":"2.1","signing":{"enabled":true,"required":false},"capabilities":["dfs","leasing","large_mtu"],"ntlm":{"target_name":"WORKGROUP","netbios_computer":"{NAME}","netbios_domain":"WORKGROUP","dns_computer":"{NAME}","dns_domain":"","dns_tree":"","os_version":"6.1.7601","os_name":"Windows 7 SP1 / Server 2008 R2 SP1","ntlm_revision":15,"flags":3800728069}},"flags":["windows"]}`},
	{12, `{"ip":"{IP}","port":445,"status":"success","timestamp":"2026-11-28T06:00:03Z","smb":{"smb1":{"enabled":true,"outcome":"negotiated","native_os":"Windows 6.1","native_lanman":"Samba 4.17.12-Debian","domain":"SRTEST","security_mode":3,"signing":{"enabled":false,"required":false},"capabilities":2155934717,"max_buffer_size":16644,"max_mpx_count":50,"server_guid":"65747273-7473-7273-7600-000000000000","ntlm":{"target_name":"SRTESTSRV","netbios_computer":"{NAME}","netbios_domain":"SRTEST","dns_computer":"vm","dns_domain":"","dns_tree":"","os_version":"6.1.0","ntlm_revision":15,"flags":3800728069}},"dialect":"3.1.1","signing":{"enabled":true,"required":false},"capabilities":["dfs","leasing","large_mtu","multi_channel"],"server_guid":"65747273-7473-7273-7600-000000000000","contexts":{"preauth":"sha-512","cipher":"aes-128-gcm","signing_algorithm":"aes-gmac"},"spnego_mechs":["1.3.6.1.4.1.311.2.2.10"],"ntlm":{"target_name":"SRTESTSRV","netbios_computer":"{NAME}","netbios_domain":"SRTEST","dns_computer":"vm","dns_domain":"","dns_tree":"","os_version":"6.1.0","ntlm_revision":15,"flags":3800728069},"guest":{"allowed":true,"encryption_required":false,"shares":["public","IPC$"]}},"flags":["samba"]}`},
	{8, `{"ip":"{IP}","port":445,"status":"success","timestamp":"2026-11-28T06:00:04Z","smb":{"smb1":{"enabled":false,"outcome":"no-dialect"},"dialect":"3.1.1","signing":{"enabled":true,"required":false},"capabilities":["dfs","leasing","large_mtu","multi_channel"],"contexts":{"preauth":"sha-512","cipher":"aes-128-gcm","signing_algorithm":"aes-gmac"},"ntlm":{"target_name":"NAS","netbios_computer":"{NAME}","netbios_domain":"NAS","os_version":"6.1.0","ntlm_revision":15,"flags":3800728069}},"flags":["samba"]}`},
	{2, `{"ip":"{IP}","port":445,"status":"success","timestamp":"2026-11-28T06:00:05Z","smb":{"smb1":{"enabled":true,"outcome":"negotiated","native_os":"Windows 5.1","native_lanman":"Windows 2000 LAN Manager","signing":{"enabled":false,"required":false},"server_guid":"41414141-4141-4141-4141-414141414141","ntlm":{"netbios_computer":"{NAME}","netbios_domain":"WORKGROUP","os_version":"255.255.65535"}},"dialect":"2.0.2","signing":{"enabled":true,"required":false},"server_guid":"41414141-4141-4141-4141-414141414141","ntlm":{"netbios_computer":"{NAME}","netbios_domain":"WORKGROUP","os_version":"255.255.65535"}},"flags":["impacket-like","honeypot-suspect"],"scan":{"ttl":64,"window":65535,"flags":["suspect-proxy"]}}`},
}

var synthFailures = []struct {
	weight int
	json   string
}{
	{20, `{"ip":"{IP}","port":445,"status":"io-timeout","timestamp":"2026-11-28T06:00:06Z","error":"smb2 negotiate: read tcp 198.18.0.1:40000->{IP}:445: i/o timeout"}`},
	{10, `{"ip":"{IP}","port":445,"status":"connection-refused","timestamp":"2026-11-28T06:00:07Z","error":"dial tcp {IP}:445: connect: connection refused"}`},
	{4, `{"ip":"{IP}","port":139,"status":"connection-closed","timestamp":"2026-11-28T06:00:08Z","error":"smb2 negotiate: EOF"}`},
	{2, `{"ip":"{IP}","port":445,"status":"not-smb","timestamp":"2026-11-28T06:00:09Z","error":"not NBSS: first byte 0x48"}`},
}

// synthReader is an io.Reader of n synthetic result lines, seeded, made on
// the fly so that 10 M records need no file and no memory. Addresses
// cluster in 3,000 /16s (Zipf-distributed, as real SMB exposure clusters in
// ISPs and clouds); computer names are drawn from a space much larger than
// any table, so the top-K tables overflow and evict.
type synthReader struct {
	n, i     int
	rng      *rand.Rand
	zipf     *rand.Zipf
	tmpls    [][]segment
	cum      []int // cumulative template weights
	nets     []uint16
	pending  []byte
	line     []byte
	ip, name []byte

	// hostile makes every string of every record unique (dialect,
	// cipher, build, Samba version, names, shares, flags, status), the
	// worst case for the tables' memory.
	hostile bool
	// every and hook, if set, call hook(i) before record i when
	// i%every == 0, to sample memory as the stream goes.
	every int
	hook  func(i int)
}

// A segment of a template is literal text, or a placeholder.
type segment struct {
	lit  string
	kind int // 0 literal, 1 {IP}, 2 {NAME}
}

func compile(t string) []segment {
	var out []segment
	for t != "" {
		i, j := strings.Index(t, "{IP}"), strings.Index(t, "{NAME}")
		switch {
		case i < 0 && j < 0:
			return append(out, segment{lit: t})
		case j < 0 || (i >= 0 && i < j):
			out = append(out, segment{lit: t[:i]}, segment{kind: 1})
			t = t[i+len("{IP}"):]
		default:
			out = append(out, segment{lit: t[:j]}, segment{kind: 2})
			t = t[j+len("{NAME}"):]
		}
	}
	return out
}

func newSynthReader(n int, seed uint64) *synthReader {
	r := &synthReader{n: n, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
	r.zipf = rand.NewZipf(r.rng, 1.2, 1, 2999)
	for _, p := range r.rng.Perm(1 << 16)[:3000] {
		r.nets = append(r.nets, uint16(p))
	}
	total := 0
	for _, p := range append(synthProfiles[:len(synthProfiles):len(synthProfiles)], synthFailures...) {
		total += p.weight
		r.cum = append(r.cum, total)
		r.tmpls = append(r.tmpls, compile(p.json))
	}
	return r
}

// next appends one record to b.
func (r *synthReader) next(b []byte) []byte {
	k := r.rng.IntN(r.cum[len(r.cum)-1])
	t := 0
	for r.cum[t] <= k {
		t++
	}
	net := r.nets[r.zipf.Uint64()]
	ip := strconv.AppendUint(r.ip[:0], uint64(net>>8), 10)
	ip = append(ip, '.')
	ip = strconv.AppendUint(ip, uint64(net&0xff), 10)
	ip = append(ip, '.')
	ip = strconv.AppendUint(ip, uint64(r.rng.IntN(256)), 10)
	ip = append(ip, '.')
	ip = strconv.AppendUint(ip, uint64(r.rng.IntN(254)+1), 10)
	name := r.name[:0]
	if r.rng.IntN(4) == 0 {
		name = append(name, "FILESRV"...) // a common name
	} else {
		name = append(name, "WIN-"...)
		name = strconv.AppendUint(name, r.rng.Uint64N(1<<40), 36)
	}
	r.ip, r.name = ip, name
	for _, s := range r.tmpls[t] {
		switch s.kind {
		case 0:
			b = append(b, s.lit...)
		case 1:
			b = append(b, ip...)
		case 2:
			b = append(b, name...)
		}
	}
	return append(b, '\n')
}

func (r *synthReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.pending) == 0 {
			if r.i == r.n {
				break
			}
			if r.hook != nil && r.i%r.every == 0 {
				r.hook(r.i)
			}
			r.i++
			if r.hostile {
				r.line = r.nextHostile(r.line[:0])
			} else {
				r.line = r.next(r.line[:0])
			}
			r.pending = r.line
		}
		c := copy(p[n:], r.pending)
		r.pending = r.pending[c:]
		n += c
	}
	if n == 0 && r.i == r.n {
		return 0, io.EOF
	}
	return n, nil
}

// nextHostile appends a record whose every string is new.
func (r *synthReader) nextHostile(b []byte) []byte {
	u := r.rng.Uint64()
	id := strconv.AppendUint(r.name[:0], u, 36)
	r.name = id
	b = append(b, `{"ip":"198.`...)
	b = strconv.AppendUint(b, uint64(18+r.i%2), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, u>>8&0xff, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, u&0xff, 10)
	b = append(b, `","port":445,"status":"`...)
	if r.i%2 == 0 {
		b = append(b, "success"...)
	} else {
		b = append(b, id...)
	}
	b = append(b, `","smb":{"smb1":{"enabled":true,"native_os":"OS-`...)
	b = append(b, id...)
	b = append(b, `","native_lanman":"Samba `...)
	b = append(b, id...)
	b = append(b, `"},"dialect":"0x`...)
	b = append(b, id...)
	b = append(b, `","contexts":{"cipher":"0x`...)
	b = append(b, id...)
	b = append(b, `"},"ntlm":{"netbios_computer":"C-`...)
	b = append(b, id...)
	b = append(b, `","netbios_domain":"D-`...)
	b = append(b, id...)
	b = append(b, `","os_version":"10.0.`...)
	b = append(b, id...)
	b = append(b, `"},"guest":{"allowed":true,"shares":["S-`...)
	b = append(b, id...)
	b = append(b, `"]}},"flags":["F-`...)
	b = append(b, id...)
	return append(b, "\"]}\n"...)
}

var (
	synthOut = flag.String("synth", "", "TestWriteSynthetic writes synthetic records to this path (a file or a FIFO)")
	synthN   = flag.Int("synth.n", 1_000_000, "how many records TestWriteSynthetic writes")
)

// TestWriteSynthetic is a tool, not a test: with -synth PATH it writes
// -synth.n synthetic records there, to feed 'smbsweep report' through a
// FIFO (bench/results/report.md):
//
//	mkfifo /tmp/synth && smbsweep report -o /tmp/r.html - < /tmp/synth &
//	go test -run TestWriteSynthetic ./smbprobe/report -args -synth /tmp/synth -synth.n 10000000
func TestWriteSynthetic(t *testing.T) {
	if *synthOut == "" {
		t.Skip("a tool: run with -synth PATH")
	}
	f, err := os.OpenFile(*synthOut, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, newSynthReader(*synthN, 1)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
