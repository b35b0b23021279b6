package lab

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name    string
		cfg     *Config
		wantErr bool
		check   func(Config) string
	}{
		{name: "nil", cfg: nil, check: func(c Config) string {
			return cmp.Diff([]any{DefaultPrefix, DefaultRange.String(), DefaultOpen, DefaultClosed, []uint16{445}, DefaultStateDir},
				[]any{c.Prefix, c.Range.String(), c.Open, c.Closed, c.Ports, c.StateDir})
		}},
		{name: "negative means none", cfg: &Config{Open: -1, Closed: -1}, check: func(c Config) string {
			return cmp.Diff([]float64{0, 0}, []float64{c.Open, c.Closed})
		}},
		{name: "whole /15", cfg: &Config{Range: netip.MustParsePrefix("198.18.0.0/15")}},
		{name: "range masked", cfg: &Config{Range: netip.MustParsePrefix("198.19.7.9/16")}, check: func(c Config) string {
			return cmp.Diff("198.19.0.0/16", c.Range.String())
		}},
		{name: "outside benchmarking", cfg: &Config{Range: netip.MustParsePrefix("10.0.0.0/16")}, wantErr: true},
		{name: "wider than /15", cfg: &Config{Range: netip.MustParsePrefix("198.16.0.0/14")}, wantErr: true},
		{name: "ipv6", cfg: &Config{Range: netip.MustParsePrefix("2001:db8::/64")}, wantErr: true},
		{name: "too small for servers", cfg: &Config{Range: netip.MustParsePrefix("198.18.0.0/24"), Samba: true}, wantErr: true},
		{name: "fractions above 1", cfg: &Config{Open: 0.7, Closed: 0.4}, wantErr: true},
		{name: "port 0", cfg: &Config{Ports: []uint16{0}}, wantErr: true},
		{name: "bad prefix", cfg: &Config{Prefix: "a/b"}, wantErr: true},
		{name: "long prefix", cfg: &Config{Prefix: strings.Repeat("x", 33)}, wantErr: true},
		{name: "loss above 1", cfg: &Config{Loss: 2}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tt.cfg.withDefaults()
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrConfig) {
				t.Fatalf("err %v does not wrap ErrConfig", err)
			}
			if tt.check != nil && err == nil {
				if diff := tt.check(c); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

// lastAddrSlow walks the prefix one address at a time.
func lastAddrSlow(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	for p.Contains(a.Next()) {
		a = a.Next()
	}
	return a
}

func TestLastAddr(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var b [4]byte
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		p := netip.PrefixFrom(netip.AddrFrom4(b), 16+rng.IntN(17)).Masked()
		if got, want := lastAddr(p), lastAddrSlow(p); got != want {
			t.Fatalf("lastAddr(%v) = %v, want %v", p, got, want)
		}
	}
}

func TestLayout(t *testing.T) {
	l := newLayout(netip.MustParsePrefix("198.18.0.0/16"))
	got := []string{l.synproxy.String(), l.anyip.String(), l.services.String(), l.host(7).String()}
	want := []string{"198.18.253.0/24", "198.18.254.0/24", "198.18.255.0/24", "198.18.255.7"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layout (-want +got):\n%s", diff)
	}
}

// drawSlow is the obvious reference for draw: one draw per address and
// port, and a map lookup for reserved addresses.
func drawSlow(c *Config, reserved []netip.Prefix) (open, closed map[netip.AddrPort]bool) {
	open, closed = map[netip.AddrPort]bool{}, map[netip.AddrPort]bool{}
	rng := rand.New(rand.NewPCG(c.Seed, 0x736d6273776565))
	for a := c.Range.Addr(); c.Range.Contains(a); a = a.Next() {
		for _, p := range c.Ports {
			u := rng.Float64()
			skip := false
			for _, r := range reserved {
				skip = skip || r.Contains(a)
			}
			ap := netip.AddrPortFrom(a, p)
			switch {
			case skip:
			case u < c.Open:
				open[ap] = true
			case u < c.Open+c.Closed:
				closed[ap] = true
			}
		}
	}
	return open, closed
}

func TestDrawMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 20 {
		c, err := (&Config{
			Range:  netip.PrefixFrom(netip.MustParseAddr("198.18.0.0"), 20+rng.IntN(3)).Masked(),
			Open:   rng.Float64() * 0.3,
			Closed: rng.Float64() * 0.3,
			Ports:  []uint16{445, 139, uint16(1 + rng.IntN(65535))}[:1+rng.IntN(3)],
			Seed:   rng.Uint64(),
			Samba:  i%2 == 0,
		}).withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		var reserved []netip.Prefix
		if c.Samba {
			reserved = newLayout(c.Range).reserved()
		}
		g := draw(&c, reserved)
		open, closed := drawSlow(&c, reserved)
		for a := c.Range.Addr(); c.Range.Contains(a); a = a.Next() {
			for _, p := range c.Ports {
				ap := netip.AddrPortFrom(a, p)
				want := StateFiltered
				switch {
				case open[ap]:
					want = StateOpen
				case closed[ap]:
					want = StateClosed
				}
				if got := g.State(ap); got != want {
					t.Fatalf("case %d: State(%v) = %s, want %s", i, ap, got, want)
				}
			}
		}
		if got := g.State(netip.MustParseAddrPort("203.0.113.1:445")); got != StateOutside {
			t.Errorf("outside address: %s", got)
		}
	}
}

func TestDrawFractions(t *testing.T) {
	c, _ := (&Config{Open: 0.05, Closed: 0.10, Seed: 9}).withDefaults()
	g := draw(&c, nil)
	n := float64(1 << 16)
	if o := float64(len(g.Open[445])) / n; o < 0.045 || o > 0.055 {
		t.Errorf("open fraction %v, want about 0.05", o)
	}
	if cl := float64(len(g.Closed[445])) / n; cl < 0.09 || cl > 0.11 {
		t.Errorf("closed fraction %v, want about 0.10", cl)
	}
	// Same seed, same truth; another seed, another truth.
	if diff := cmp.Diff(g.Open[445], draw(&c, nil).Open[445], cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("draw is not deterministic (-first +second):\n%s", diff)
	}
	c.Seed++
	if cmp.Equal(g.Open[445], draw(&c, nil).Open[445], cmp.Comparer(func(a, b netip.Addr) bool { return a == b })) {
		t.Errorf("seeds %d and %d drew the same open set", c.Seed-1, c.Seed)
	}
}

func TestStateServers(t *testing.T) {
	g := &GroundTruth{
		Range:    netip.MustParsePrefix("198.18.0.0/16"),
		Reserved: []netip.Prefix{netip.MustParsePrefix("198.18.255.0/24"), netip.MustParsePrefix("198.18.254.0/24")},
		Servers: []Server{
			{Address: netip.MustParseAddr("198.18.255.1"), Port: 445},
			{Address: netip.MustParseAddr("198.18.254.1"), Prefix: netip.MustParsePrefix("198.18.254.0/24"), Port: 445},
		},
		Hostile: []Hostile{{Address: netip.MustParseAddr("198.18.253.0"), Prefix: netip.MustParsePrefix("198.18.253.0/24")}},
	}
	tests := []struct {
		ap   string
		want PortState
	}{
		{"198.18.255.1:445", StateOpen},
		{"198.18.255.9:445", StateFiltered},
		{"198.18.254.200:445", StateOpen},
		{"198.18.253.7:8080", StateOpen},
		{"198.18.0.1:445", StateFiltered},
		{"198.20.0.1:445", StateOutside},
	}
	for _, tt := range tests {
		t.Run(tt.ap, func(t *testing.T) {
			if got := g.State(netip.MustParseAddrPort(tt.ap)); got != tt.want {
				t.Errorf("State(%s) = %s, want %s", tt.ap, got, tt.want)
			}
		})
	}
}

func TestWriteNFT(t *testing.T) {
	c, _ := (&Config{Range: netip.MustParsePrefix("198.18.0.0/24"), Open: 0.02, Closed: 0.02, Seed: 5, Ports: []uint16{445, 139}}).withDefaults()
	g := draw(&c, nil)
	var b strings.Builder
	if err := writeNFT(&b, g); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, p := range g.Ports {
		for _, a := range g.Open[p] {
			if !strings.Contains(out, a.String()+" . "+itoa(p)) {
				t.Errorf("open %v:%d missing from the ruleset", a, p)
			}
		}
	}
	for _, want := range []string{"ip daddr != 198.18.0.0/24 accept", "@open accept", "@closed reject with tcp reset", "\t\tdrop\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("ruleset lacks %q:\n%s", want, out)
		}
	}
	// An empty set has no elements clause (nft rejects "elements = { }").
	c.Open, c.Closed = 0, 0
	b.Reset()
	_ = writeNFT(&b, draw(&c, nil))
	if strings.Contains(b.String(), "elements") {
		t.Errorf("empty sets written with elements:\n%s", b.String())
	}
}

func itoa(p uint16) string {
	return netip.AddrPortFrom(netip.IPv4Unspecified(), p).String()[len("0.0.0.0:"):]
}

func TestSambaConf(t *testing.T) {
	for _, m := range sambaMatrix() {
		conf := smbConf("/d", "LAB", []uint16{445}, m.extra, m.guest)
		for _, want := range []string{"lock directory = /d/lock", "private dir = /d/private", "ncalrpc dir = /d/ncalrpc", "pid directory = /d/pid"} {
			if !strings.Contains(conf, want) {
				t.Errorf("%s: smb.conf lacks %q", m.name, want)
			}
		}
		if strings.Contains(conf, "[public]") != m.guest {
			t.Errorf("%s: public share present = %v, want %v", m.name, !m.guest, m.guest)
		}
	}
}

// TestStateAllocs checks that a ground-truth lookup, which a test may do
// for every reply of a /15 scan, does not allocate.
func TestStateAllocs(t *testing.T) {
	c, _ := (&Config{Samba: true, Ports: []uint16{445, 139}}).withDefaults()
	g := draw(&c, newLayout(c.Range).reserved())
	aps := []netip.AddrPort{
		netip.AddrPortFrom(g.Open[445][3], 445),
		netip.AddrPortFrom(g.Closed[139][3], 139),
		netip.MustParseAddrPort("198.18.7.7:445"),
		netip.MustParseAddrPort("8.8.8.8:445"),
	}
	if n := testing.AllocsPerRun(1000, func() {
		for _, ap := range aps {
			_ = g.State(ap)
		}
	}); n != 0 {
		t.Errorf("State allocates %v times per run, want 0", n)
	}
}

func BenchmarkState(b *testing.B) {
	c, _ := (&Config{}).withDefaults()
	g := draw(&c, nil)
	ap := netip.AddrPortFrom(g.Open[445][len(g.Open[445])/2], 445)
	b.ReportAllocs()
	for b.Loop() {
		_ = g.State(ap)
	}
}

func BenchmarkDraw(b *testing.B) {
	c, _ := (&Config{Range: Benchmarking}).withDefaults()
	b.ReportAllocs()
	for b.Loop() {
		_ = draw(&c, nil)
	}
	b.ReportMetric(float64(1<<17)*float64(b.N)/b.Elapsed().Seconds(), "addrs/s")
}
