package blocklist

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ianaIPv4Special is the top-level blocks of the IANA IPv4 Special-Purpose
// Address Registry (https://www.iana.org/assignments/iana-ipv4-special-registry/)
// plus 224.0.0.0/4 from the IPv4 Multicast Address Space Registry, written
// out independently of reserved.conf. Entries nested in these blocks
// (192.0.0.0/29, 192.0.0.170/32, 192.88.99.2/32, ...) add no addresses.
var ianaIPv4Special = []string{
	"0.0.0.0/8",
	"10.0.0.0/8",
	"100.64.0.0/10",
	"127.0.0.0/8",
	"169.254.0.0/16",
	"172.16.0.0/12",
	"192.0.0.0/24",
	"192.0.2.0/24",
	"192.31.196.0/24",
	"192.52.193.0/24",
	"192.88.99.0/24",
	"192.168.0.0/16",
	"192.175.48.0/24",
	"198.18.0.0/15",
	"198.51.100.0/24",
	"203.0.113.0/24",
	"224.0.0.0/4",
	"240.0.0.0/4",
	"255.255.255.255/32",
}

func TestReservedMatchesRegistry(t *testing.T) {
	var ps []netip.Prefix
	for _, s := range ianaIPv4Special {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	want := FromPrefixes(ps...)
	if diff := cmp.Diff(want.String(), Reserved().String()); diff != "" {
		t.Fatalf("Reserved() differs from the registry (-want +got):\n%s", diff)
	}
	// Three /8s, a /10, a /12, two /16s, a /15, eight /24s, and 224/4,
	// 240/4 and 255.255.255.255/32, which merge into 224/3.
	wantCount := uint64(3<<24 + 1<<22 + 1<<20 + 2<<16 + 1<<17 + 8<<8 + 1<<29)
	if got := Reserved().Count(); got != wantCount {
		t.Fatalf("Reserved().Count() = %d, want %d", got, wantCount)
	}
}

func TestReservedConfCitesRFCs(t *testing.T) {
	for i, line := range strings.Split(ReservedConf(), "\n") {
		entry, comment, _ := strings.Cut(line, "#")
		if strings.TrimSpace(entry) == "" {
			continue
		}
		if !strings.Contains(comment, "RFC ") {
			t.Errorf("reserved.conf:%d: %q cites no RFC", i+1, line)
		}
	}
}

func TestReservedSamples(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"0.0.0.0", true},
		{"0.255.255.255", true},
		{"1.0.0.0", false},
		{"8.8.8.8", false},
		{"9.255.255.255", false},
		{"10.1.2.3", true},
		{"100.63.255.255", false},
		{"100.64.0.0", true},
		{"100.127.255.255", true},
		{"100.128.0.0", false},
		{"127.0.0.1", true},
		{"169.254.169.254", true},
		{"172.15.255.255", false},
		{"172.31.255.255", true},
		{"172.32.0.0", false},
		{"192.0.0.170", true},
		{"192.0.1.1", false},
		{"192.0.2.1", true},
		{"192.31.196.1", true},
		{"192.52.193.1", true},
		{"192.88.99.2", true},
		{"192.168.1.1", true},
		{"192.175.48.6", true},
		{"198.17.255.255", false},
		{"198.18.0.1", true},
		{"198.19.255.255", true},
		{"198.20.0.0", false},
		{"198.51.100.7", true},
		{"203.0.113.9", true},
		{"223.255.255.255", false},
		{"224.0.0.1", true},
		{"239.255.255.255", true},
		{"240.0.0.1", true},
		{"255.255.255.255", true},
	}
	r := Reserved()
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := r.Contains(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Fatalf("Reserved().Contains(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}
