package rawscan

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCapEffAndMissing(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		wantErr bool
		miss    []Capability
	}{
		{"root", "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n", false, nil},
		{"net_raw only", "CapEff:\t0000000000002000\n", false, []Capability{CapNetAdmin}},
		{"none", "CapEff:\t0000000000000000\n", false, []Capability{CapNetAdmin, CapNetRaw}},
		{"no line", "Name:\tx\n", true, nil},
		{"bad hex", "CapEff:\tzz\n", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eff, err := ParseCapEff([]byte(tt.status))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseCapEff error %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.miss, MissingCapabilities(eff, CapNetAdmin, CapNetRaw)); diff != "" {
				t.Fatalf("missing (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCapabilityError(t *testing.T) {
	got := capabilityError([]Capability{CapNetRaw}, "/usr/local/bin/smbsweep").Error()
	want := "rawscan: missing CAP_NET_RAW in the effective capability set (needed for raw AF_PACKET sockets); run as root or grant it once with: sudo setcap cap_net_raw,cap_net_admin+ep /usr/local/bin/smbsweep"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("message (-want +got):\n%s", diff)
	}
}
