package pipeline

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/target"
	"github.com/smbsweep/smbsweep/smbprobe"
)

func randomHit(r *rand.Rand) Hit {
	var a [4]byte
	for i := range a {
		a[i] = byte(r.Uint32())
	}
	return Hit{
		Target: netip.AddrPortFrom(netip.AddrFrom4(a), uint16(r.Uint32())),
		TTL:    uint8(r.Uint32()), Window: uint16(r.Uint32()), MSS: uint16(r.Uint32()),
		Flags: rawscan.Flags(r.Uint32()), Time: r.Int64(), epoch: r.Uint32(),
	}
}

func TestHitRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		h := randomHit(r)
		b, _ := h.AppendBinary(nil)
		if len(b) != hitLen {
			t.Fatalf("record of %d bytes, want %d", len(b), hitLen)
		}
		var got Hit
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if got != h {
			t.Fatalf("round trip: got %+v, want %+v", got, h)
		}
	}
	var h Hit
	if err := h.UnmarshalBinary(make([]byte, hitLen-1)); err == nil {
		t.Errorf("UnmarshalBinary accepted a short record")
	}
}

// TestQueueOrderAndNoLoss pushes seeded random hits through queues of
// several sizes with a consumer that pauses at random, and checks that
// every hit comes out once, in order (the spill keeps arrival order).
func TestQueueOrderAndNoLoss(t *testing.T) {
	tests := []struct {
		name string
		size int
		n    int
	}{
		{"never-full", 1 << 14, 5000},
		{"tiny", 1, 20000},
		{"small", 64, 50000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tt.size), 9))
			q := newQueue(tt.size, t.TempDir())
			stop := make(chan struct{})
			errc := make(chan error, 1)
			go func() { errc <- q.refill(stop) }()
			want := make([]Hit, tt.n)
			for i := range want {
				want[i] = randomHit(r)
			}
			var got []Hit
			done := make(chan struct{})
			go func() {
				defer close(done)
				cr := rand.New(rand.NewPCG(3, 4))
				for h := range q.out {
					got = append(got, h)
					if cr.IntN(1000) == 0 {
						time.Sleep(time.Millisecond)
					}
				}
			}()
			for _, h := range want {
				if err := q.push(h); err != nil {
					t.Fatal(err)
				}
			}
			q.close()
			<-done
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d hits, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("hit %d: got %+v, want %+v", i, got[i], want[i])
				}
			}
			if tt.size < tt.n && q.total.Load() == 0 {
				t.Errorf("nothing spilled through a queue of %d", tt.size)
			}
			if p := q.pending.Load(); p != 0 {
				t.Errorf("%d hits still pending", p)
			}
		})
	}
}

func TestQueuePushAllocs(t *testing.T) {
	q := newQueue(1, t.TempDir())
	h := Hit{Target: netip.MustParseAddrPort("198.18.0.1:445")}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := q.push(h); err != nil {
			t.Fatal(err)
		}
		<-q.out
	})
	if allocs != 0 {
		t.Errorf("push allocates %v times per hit, want 0", allocs)
	}
}

func TestRewound(t *testing.T) {
	st := target.State{Positions: []uint64{100000, 50, 0}, Emitted: []uint64{99990, 50, 0}}
	tests := []struct {
		name      string
		rate      float64
		cooldown  time.Duration
		pos, emit []uint64
	}{
		// 3000 pps × 8 s / 3 threads = 8000, plus one batch of 128.
		{"rate", 3000, 8 * time.Second, []uint64{91872, 0, 0}, []uint64{91862, 0, 0}},
		{"no-cooldown", 3000, 0, []uint64{99872, 0, 0}, []uint64{99862, 0, 0}},
		{"unlimited", 0, 8 * time.Second, []uint64{0, 0, 0}, []uint64{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Checkpoint{State: st, Rate: tt.rate, Cooldown: tt.cooldown}
			got := c.Rewound()
			if diff := cmp.Diff(tt.pos, got.Positions); diff != "" {
				t.Errorf("positions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.emit, got.Emitted); diff != "" {
				t.Errorf("emitted (-want +got):\n%s", diff)
			}
			if st.Positions[0] != 100000 {
				t.Errorf("Rewound modified the checkpoint's state")
			}
		})
	}
}

func TestCheckpointSaveLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ckpt.json")
	want := &Checkpoint{
		Time:         time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC),
		State:        target.State{Seed: 5, Prime: 65537, Generator: 3, Shards: 1, Threads: 2, Ports: []uint16{445}, Positions: []uint64{1, 2}, Emitted: []uint64{1, 2}},
		OutputOffset: 1234, Rate: 1000, Cooldown: 8 * time.Second,
	}
	if err := want.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("checkpoint round trip (-want +got):\n%s", diff)
	}
	if m, _ := filepath.Glob(path + ".tmp*"); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestAdaptive(t *testing.T) {
	type step struct {
		drops, targets, hits uint64
		want                 float64
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"drops back off, then recover up to max", []step{
			{0, 0, 0, 1000}, // primes
			{10, 1000, 10, 700},
			{10, 2000, 20, 735},
			{10, 3000, 30, 771.75},
			{10, 4000, 40, 810.3375},
		}},
		{"hit rate collapse backs off", []step{
			{0, 0, 0, 1000},
			{0, 10000, 100, 1000}, // baseline 1%, already at max
			{0, 20000, 200, 1000},
			{0, 30000, 210, 700}, // 0.1%: loss
		}},
		{"too few targets: hold, then judge the sum", []step{
			{0, 0, 0, 1000},
			{0, 1000, 10, 1000}, // baseline 1%, at max
			{0, 1500, 10, 1000}, // 500 targets: hold
			{0, 2000, 10, 700},  // 1000 targets, 0 hits: loss
		}},
		{"floor", []step{
			{0, 0, 0, 1000},
			{1, 0, 0, 700}, {2, 0, 0, 490}, {3, 0, 0, 343}, {4, 0, 0, 240.1},
			{5, 0, 0, 168.07}, {6, 0, 0, 117.649}, {7, 0, 0, 82.3543}, {8, 0, 0, 57.64801},
			{9, 0, 0, 40.353607}, {10, 0, 0, 28.2475249}, {11, 0, 0, 19.77326743}, {12, 0, 0, 13.841287201},
			{13, 0, 0, 10}, {14, 0, 0, 10},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAdaptive(&AdaptiveConfig{}, 1000)
			for i, s := range tt.steps {
				st := &Status{Scan: ScanStats{Drops: s.drops, Targets: s.targets}, Hits: s.hits}
				got, _ := a.next(st)
				if d := got - s.want; d > 1e-6 || d < -1e-6 {
					t.Fatalf("step %d: rate %v, want %v", i, got, s.want)
				}
				if got > 1000 {
					t.Fatalf("step %d: rate %v above the maximum", i, got)
				}
			}
		})
	}
}

func TestOutputAndReadHosts(t *testing.T) {
	ts := time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)
	h := Hit{Target: netip.MustParseAddrPort("198.18.0.7:445"), TTL: 64, Window: 64240, MSS: 1460, Time: ts.UnixNano(), Flags: rawscan.FlagSuspectProxy}
	res := &smbprobe.Result{IP: h.Target.Addr(), Port: 445, Status: smbprobe.StatusSuccess, Timestamp: ts,
		SMB: &smbprobe.SMB{Dialect: "3.1.1", Signing: &smbprobe.Signing{Enabled: true, Required: true}, SMB1: &smbprobe.SMB1{Enabled: false, Outcome: "no-dialect"}}}
	tests := []struct {
		name   string
		format Format
		res    *smbprobe.Result
		want   string
	}{
		{"json", JSONLines, res, `{"ip":"198.18.0.7","port":445,"status":"success","timestamp":"2026-11-28T06:00:00Z","scan":{"ttl":64,"window":64240,"mss":1460,"time":"2026-11-28T06:00:00Z","flags":["suspect-proxy"]},"smb":{"smb1":{"enabled":false,"outcome":"no-dialect"},"dialect":"3.1.1","signing":{"enabled":true,"required":true}}}` + "\n"},
		{"json-scan-only", JSONLines, nil, `{"ip":"198.18.0.7","port":445,"timestamp":"2026-11-28T06:00:00Z","scan":{"ttl":64,"window":64240,"mss":1460,"time":"2026-11-28T06:00:00Z","flags":["suspect-proxy"]}}` + "\n"},
		{"csv", CSV, res, strings.Join(CSVHeader, ",") + "\n198.18.0.7,445,success,2026-11-28T06:00:00Z,64,64240,1460,3.1.1,false,true,,,\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			o, err := NewOutput(&b, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			if err := o.Write(recordFrom(&h, tt.res)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if o.Offset() != int64(b.Len()) {
				t.Errorf("Offset %d, want %d", o.Offset(), b.Len())
			}
			var got []string
			if _, err := ReadHosts(&b, func(ap netip.AddrPort) { got = append(got, ap.String()) }); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"198.18.0.7:445"}, got); diff != "" {
				t.Errorf("ReadHosts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadSeenTruncatesTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	full := "{\"ip\":\"198.18.0.1\",\"port\":445}\n{\"ip\":\"198.18.0.2\",\"port\":445}\n"
	if err := os.WriteFile(path, []byte(full+`{"ip":"198.18.0.3","po`), 0o644); err != nil {
		t.Fatal(err)
	}
	seen, size, err := LoadSeen(path)
	if err != nil {
		t.Fatal(err)
	}
	if size != int64(len(full)) || seen.Len() != 2 || !seen.Has(netip.MustParseAddrPort("198.18.0.2:445")) {
		t.Errorf("LoadSeen: size %d (want %d), %d hosts (want 2)", size, len(full), seen.Len())
	}
	b, _ := os.ReadFile(path)
	if string(b) != full {
		t.Errorf("torn line not truncated: %q", b)
	}
}

func TestMerge(t *testing.T) {
	a := "{\"ip\":\"198.18.0.1\",\"port\":445,\"status\":\"success\"}\n{\"ip\":\"198.18.0.2\",\"port\":445}\n"
	b := "{\"ip\":\"198.18.0.2\",\"port\":445,\"status\":\"io-timeout\"}\n{\"ip\":\"198.18.0.3\",\"port\":445}\n{\"ip\":\"198.18.0.4\""
	c := "ip,port,status\n198.18.0.1,445,success\n198.18.0.1,139,success\n"
	d := "ip,port,status\n198.18.0.1,445,io-timeout\n198.18.0.9,445,success\n"
	tests := []struct {
		name    string
		in      []string
		want    string
		records uint64
		dups    uint64
	}{
		{"json first wins, torn dropped", []string{a, b},
			"{\"ip\":\"198.18.0.1\",\"port\":445,\"status\":\"success\"}\n{\"ip\":\"198.18.0.2\",\"port\":445}\n{\"ip\":\"198.18.0.3\",\"port\":445}\n", 3, 1},
		{"csv one header", []string{c, d}, "ip,port,status\n198.18.0.1,445,success\n198.18.0.1,139,success\n198.18.0.9,445,success\n", 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srcs []io.Reader
			for _, s := range tt.in {
				srcs = append(srcs, strings.NewReader(s))
			}
			var out bytes.Buffer
			st, err := Merge(&out, srcs...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("merged (-want +got):\n%s", diff)
			}
			if st.Records != tt.records || st.Duplicates != tt.dups {
				t.Errorf("stats %+v, want %d records, %d duplicates", st, tt.records, tt.dups)
			}
		})
	}
}

func FuzzReadHosts(f *testing.F) {
	f.Add([]byte("{\"ip\":\"198.18.0.1\",\"port\":445}\n"))
	f.Add([]byte("ip,port\n198.18.0.1,445\n"))
	f.Add([]byte("{\"ip\":\"::1\",\"port\":70000}\n"))
	f.Add([]byte("1.2.3.4,x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var hosts []netip.AddrPort
		off, err := ReadHosts(bytes.NewReader(b), func(ap netip.AddrPort) { hosts = append(hosts, ap) })
		if off < 0 || off > int64(len(b)) {
			t.Fatalf("offset %d outside the %d-byte input", off, len(b))
		}
		if err != nil {
			return
		}
		// Every host read back must survive a write and a second read.
		var buf bytes.Buffer
		o, _ := NewOutput(&buf, JSONLines)
		for _, ap := range hosts {
			o.Write(&Record{IP: ap.Addr(), Port: ap.Port()})
		}
		var again []netip.AddrPort
		if _, err := ReadHosts(&buf, func(ap netip.AddrPort) { again = append(again, ap) }); err != nil {
			t.Fatalf("re-reading written hosts: %v", err)
		}
		if len(again) != len(hosts) {
			t.Fatalf("round trip: %d hosts, then %d", len(hosts), len(again))
		}
		for i := range hosts {
			if again[i] != hosts[i] {
				t.Fatalf("round trip host %d: %v, then %v", i, hosts[i], again[i])
			}
		}
	})
}
