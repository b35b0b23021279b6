package rawscantest

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/smbsweep/smbsweep/rawscan"
)

// The fake sits at rawscan's connection seams.
var (
	_ rawscan.RxConn = (*Network)(nil)
	_ rawscan.TxConn = (*Network)(nil)
	_ rawscan.TxConn = (*Tx)(nil)
)

// Behavior is how a simulated host answers a SYN.
type Behavior uint8

// Behaviors.
const (
	// Silent hosts do not answer (nothing there, or a dropping firewall).
	Silent Behavior = iota
	// Open hosts answer SYN-ACK.
	Open
	// Closed hosts answer RST+ACK.
	Closed
	// Unreachable targets make a router answer ICMP port unreachable.
	Unreachable
)

// ErrClosed is returned by ReadBatch and WriteBatch after Close.
var ErrClosed = errors.New("rawscantest: network closed")

// Config describes the simulated hosts. A nil Config is a network where every
// host is silent.
type Config struct {
	// Hosts says how the target dst:port answers. Nil means Silent.
	Hosts func(dst netip.Addr, port uint16) Behavior
	// Loss is the probability in [0, 1) that a probe or its answer is lost.
	Loss float64
	// Seed seeds the loss decisions and the hosts' initial sequence
	// numbers.
	Seed uint64
	// TTL, Window and MSS are those of every answer; 0 means 64, 29200
	// and 1460.
	TTL         uint8
	Window, MSS uint16
	// Queue is the number of answers buffered before further ones are
	// dropped (and counted); 0 means 1<<16.
	Queue int
	// Record keeps every probe for Probes.
	Record bool
}

// A Network is an in-memory packet connection: the rawscan transmitter
// writes SYN frames into it and the receiver reads the answers. It
// implements rawscan.TxConn and rawscan.RxConn and is safe for concurrent
// use, so one Network can serve every sender and the receiver.
type Network struct {
	cfg     Config
	replies chan []byte
	done    chan struct{}
	once    sync.Once

	mu     sync.Mutex
	rng    *rand.Rand
	probes []Probe

	written atomic.Uint64
	dropped atomic.Uint64
}

// New returns a Network.
func New(cfg *Config) *Network {
	if cfg == nil {
		cfg = &Config{}
	}
	c := *cfg
	if c.TTL == 0 {
		c.TTL = 64
	}
	if c.Window == 0 {
		c.Window = 29200
	}
	if c.MSS == 0 {
		c.MSS = 1460
	}
	if c.Queue == 0 {
		c.Queue = 1 << 16
	}
	return &Network{
		cfg:     c,
		replies: make(chan []byte, c.Queue),
		done:    make(chan struct{}),
		rng:     rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15)),
	}
}

// WriteBatch takes frames as the wire would and queues each host's answer.
func (n *Network) WriteBatch(frames [][]byte) (int, error) {
	select {
	case <-n.done:
		return 0, ErrClosed
	default:
	}
	for _, f := range frames {
		n.written.Add(1)
		p, ok := ParseProbe(f)
		if !ok || p.Flags != FlagSYN {
			continue
		}
		n.mu.Lock()
		if n.cfg.Record {
			n.probes = append(n.probes, p)
		}
		lost := n.cfg.Loss > 0 && n.rng.Float64() < n.cfg.Loss
		isn := n.rng.Uint32()
		n.mu.Unlock()
		if lost {
			continue
		}
		b := Silent
		if n.cfg.Hosts != nil {
			b = n.cfg.Hosts(p.Dst, p.DstPort)
		}
		if r := n.answer(&p, b, isn); r != nil {
			n.Inject(r)
		}
	}
	return len(frames), nil
}

// answer builds the reply of a host with behaviour b to p, nil for none.
func (n *Network) answer(p *Probe, b Behavior, isn uint32) []byte {
	s := Segment{
		SrcMAC: p.DstMAC, DstMAC: p.SrcMAC,
		Src: p.Dst, Dst: p.Src, TTL: n.cfg.TTL,
		SrcPort: p.DstPort, DstPort: p.SrcPort,
		Ack: p.Seq + 1, Window: n.cfg.Window,
	}
	switch b {
	case Open:
		s.Seq, s.Flags, s.MSS = isn, FlagSYN|FlagACK, n.cfg.MSS
	case Closed:
		s.Flags, s.Window = FlagRST|FlagACK, 0
	case Unreachable:
		// RFC 792: type 3 code 3, port unreachable, from the target.
		s.ICMP, s.ICMPType, s.ICMPCode = p.IP, 3, 3
	default:
		return nil
	}
	return Build(&s)
}

// Inject queues frame for the receiver as if it had arrived from the wire,
// for example a forged SYN-ACK.
func (n *Network) Inject(frame []byte) {
	select {
	case n.replies <- frame:
	default:
		n.dropped.Add(1)
	}
}

// ReadBatch blocks until at least one frame is queued, then copies up to
// len(bufs) of them into bufs, setting sizes.
func (n *Network) ReadBatch(bufs [][]byte, sizes []int) (int, error) {
	var f []byte
	select {
	case f = <-n.replies:
	case <-n.done:
		return 0, ErrClosed
	}
	i := 0
	for {
		sizes[i] = copy(bufs[i], f)
		i++
		if i == len(bufs) {
			return i, nil
		}
		select {
		case f = <-n.replies:
		default:
			return i, nil
		}
	}
}

// Drops returns the number of answers lost because the queue was full, as a
// kernel ring would.
func (n *Network) Drops() (uint64, error) { return n.dropped.Load(), nil }

// Written returns the number of frames written so far.
func (n *Network) Written() uint64 { return n.written.Load() }

// Probes returns a copy of every SYN written, when Config.Record is set.
func (n *Network) Probes() []Probe {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Probe(nil), n.probes...)
}

// Close makes ReadBatch and WriteBatch fail with ErrClosed. It is safe to
// call more than once.
func (n *Network) Close() error {
	n.once.Do(func() { close(n.done) })
	return nil
}

// Tx returns a sending side of the network for one sender: its Close does
// not close the Network, so each sender can close its own.
func (n *Network) Tx() *Tx { return &Tx{n: n} }

// Tx is one sender's side of a Network.
type Tx struct{ n *Network }

// WriteBatch is Network.WriteBatch.
func (t *Tx) WriteBatch(frames [][]byte) (int, error) { return t.n.WriteBatch(frames) }

// Close does nothing; the Network stays open.
func (t *Tx) Close() error { return nil }
