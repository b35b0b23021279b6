package rawscan_test

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/rawscantest"
)

func TestDryRunStampsEveryProbe(t *testing.T) {
	opt := prefixSet{netip.MustParsePrefix("198.19.0.0/28")}
	var (
		mu    sync.Mutex
		dsts  = map[netip.Addr]int{}
		lines []string
	)
	st, err := rawscan.DryRun(context.Background(), &rawscan.Config{
		Targets: func(i int) rawscan.Targets {
			return &rangeTargets{base: labBase, next: uint32(i), stride: 2, end: 256, port: 445}
		},
		Senders: 2, Probes: 2, OptOut: opt,
		Source: srcAddr, SourceMAC: srcMAC, GatewayMAC: gwMAC,
	}, func(_ int, f []byte) {
		mu.Lock()
		defer mu.Unlock()
		var r rawscan.Reply
		if err := r.Decode(f); err != nil {
			t.Errorf("dry-run frame does not decode: %v", err)
			return
		}
		dsts[r.Dst]++
		if len(lines) < 3 {
			lines = append(lines, rawscan.DescribeFrame(f))
		}
	})
	if err != nil {
		t.Fatalf("DryRun: %v", err)
	}
	if st.Sent != 2*240 || st.SkippedOptOut != 16 || len(dsts) != 240 {
		t.Fatalf("sent %d frames to %d targets, skipped %d; want 480 to 240, skipped 16", st.Sent, len(dsts), st.SkippedOptOut)
	}
	for a, n := range dsts {
		if n != 2 || opt.Contains(a) {
			t.Fatalf("%v got %d probes", a, n)
		}
	}
	if !strings.Contains(lines[0], "198.18.0.1:6") || !strings.Contains(lines[0], ":445  SYN") {
		t.Fatalf("unexpected description %q", lines[0])
	}
}

func TestStatusLine(t *testing.T) {
	start := time.Unix(1000, 0)
	prev := rawscan.Stats{SendStart: start, Sent: 10_000, SynAck: 10, Targets: 10_000}
	cur := rawscan.Stats{SendStart: start, SendEnd: start.Add(2 * time.Second), Sent: 20_000, Targets: 20_000, SynAck: 20, RST: 5, Drops: 3}
	got := rawscan.StatusLine(prev, cur, time.Second, 40_000)
	want := "0:02 50% (0:02 left); send: 20000 10.00 Kp/s (10.00 Kp/s avg); recv: 25 15 p/s (12 p/s avg); drops: 3 p/s (3 total); hitrate: 0.10%"
	if got != want {
		t.Fatalf("StatusLine:\n got %q\nwant %q", got, want)
	}
}

// TestSendPathAllocatesNothingPerProbe runs the whole sender path
// (schedule, opt-out, cookie, stamp, batching, pacing) through DryRun for
// two scan sizes: the difference in allocations is what the extra probes
// cost, and must be zero. (Each run has a fixed setup cost: buffers,
// goroutines.)
func TestSendPathAllocatesNothingPerProbe(t *testing.T) {
	opt := prefixSet{netip.MustParsePrefix("198.19.3.0/24")}
	run := func(n uint32) float64 {
		return testing.AllocsPerRun(5, func() {
			_, err := rawscan.DryRun(context.Background(), &rawscan.Config{
				Targets: func(int) rawscan.Targets { return &rangeTargets{base: labBase, stride: 1, end: n, port: 445} },
				Probes:  2, Rate: 0, OptOut: opt,
				Source: srcAddr, SourceMAC: srcMAC, GatewayMAC: gwMAC,
			}, func(int, []byte) {})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := run(1<<10), run(1<<16)
	t.Logf("allocations per run: %.0f for 1Ki targets, %.0f for 64Ki", small, large)
	if perProbe := (large - small) / float64(2*(1<<16-1<<10)); perProbe > 0.001 {
		t.Fatalf("%.0f allocations for 1Ki targets, %.0f for 64Ki: %.4f per probe, want 0", small, large, perProbe)
	}
}

// replayRx is an RxConn that hands out prebuilt frames once, then blocks
// until closed.
type replayRx struct {
	frames [][]byte
	next   int
	done   chan struct{}
	closed sync.Once
}

func (r *replayRx) ReadBatch(bufs [][]byte, sizes []int) (int, error) {
	if r.next == len(r.frames) {
		<-r.done
		return 0, rawscantest.ErrClosed
	}
	n := 0
	for ; n < len(bufs) && r.next < len(r.frames); n++ {
		sizes[n] = copy(bufs[n], r.frames[r.next])
		r.next++
	}
	return n, nil
}
func (r *replayRx) Drops() (uint64, error) { return 0, nil }
func (r *replayRx) Close() error           { r.closed.Do(func() { close(r.done) }); return nil }

// TestReceivePathAllocatesNothingPerReply replays genuine RST replies (and
// a duplicate of each) through the receiver for two reply counts and
// checks that the extra replies cost no allocation. SYN-ACKs would also
// grow the SYN-proxy detector's per-/24 state, which is per network, not
// per packet.
func TestReceivePathAllocatesNothingPerReply(t *testing.T) {
	key := [rawscan.KeySize]byte{3}
	c := rawscan.NewCookie(key)
	replies := func(n int) [][]byte {
		var out [][]byte
		for i := range n {
			dst := netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)})
			v := c.Sum(srcAddr, dst, 445)
			f := rawscantest.Build(&rawscantest.Segment{
				Src: dst, Dst: srcAddr, TTL: 64, SrcPort: 445,
				DstPort: rawscan.DefaultSourcePorts.First + uint16(v.PortOffset%rawscan.DefaultSourcePorts.Size()),
				Ack:     v.Seq + 1, Flags: rawscantest.FlagRST | rawscantest.FlagACK,
			})
			out = append(out, f, f)
		}
		return out
	}
	run := func(frames [][]byte) float64 {
		return testing.AllocsPerRun(5, func() {
			var got uint64
			rx := &replayRx{frames: frames, done: make(chan struct{})}
			s, err := rawscan.New(&rawscan.Config{
				Targets:  func(int) rawscan.Targets { return &rangeTargets{} },
				Cooldown: 300 * time.Millisecond, Key: &key, SinglePort: true,
				Source: srcAddr, SourceMAC: srcMAC, GatewayMAC: gwMAC,
				Tx:      func(int) (rawscan.TxConn, error) { return funcTxNop{}, nil },
				Rx:      rx,
				Results: func(*rawscan.Result) { got++ },
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got != uint64(len(frames)/2) {
				t.Fatalf("%d results from %d unique replies", got, len(frames)/2)
			}
		})
	}
	small, large := replies(1<<8), replies(1<<14)
	a, b := run(small), run(large)
	t.Logf("allocations per run: %.0f for %d replies, %.0f for %d", a, len(small), b, len(large))
	if perReply := (b - a) / float64(len(large)-len(small)); perReply > 0.001 {
		t.Fatalf("%.4f allocations per reply, want 0", perReply)
	}
}

type funcTxNop struct{}

func (funcTxNop) WriteBatch(f [][]byte) (int, error) { return len(f), nil }
func (funcTxNop) Close() error                       { return nil }
