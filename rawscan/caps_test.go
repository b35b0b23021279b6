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
