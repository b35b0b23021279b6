package rawscan_test

import (
	"encoding/csv"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/smbsweep/smbsweep/rawscan"
)

func TestResultOutput(t *testing.T) {
	ts := time.Date(2026, 11, 28, 6, 0, 0, 123, time.UTC)
	tests := []struct {
		name string
		r    rawscan.Result
		json map[string]any
		csv  []string
	}{
		{"open", rawscan.Result{Addr: netip.MustParseAddr("198.18.0.9"), Port: 445, Kind: rawscan.KindSynAck, TTL: 64, Window: 29200, MSS: 1460, Time: ts},
			map[string]any{"ip": "198.18.0.9", "port": 445.0, "status": "success", "classification": "synack", "ttl": 64.0, "window": 29200.0, "mss": 1460.0, "timestamp": "2026-11-28T06:00:00.000000123Z"},
			[]string{"198.18.0.9", "445", "success", "synack", "64", "29200", "1460", "", "", "false", "2026-11-28T06:00:00.000000123Z"}},
		{"unreachable proxy", rawscan.Result{Addr: netip.MustParseAddr("198.18.0.10"), Port: 139, Kind: rawscan.KindICMPUnreach, TTL: 250, ICMPType: 3, ICMPCode: 13, Time: ts, Flags: rawscan.FlagSuspectProxy},
			map[string]any{"ip": "198.18.0.10", "port": 139.0, "status": "unreachable", "classification": "icmp-unreach", "ttl": 250.0, "window": 0.0, "mss": 0.0, "icmp_type": 3.0, "icmp_code": 13.0, "suspect_proxy": true, "timestamp": "2026-11-28T06:00:00.000000123Z"},
			[]string{"198.18.0.10", "139", "unreachable", "icmp-unreach", "250", "0", "0", "3", "13", "true", "2026-11-28T06:00:00.000000123Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got map[string]any
			if err := json.Unmarshal(tt.r.AppendJSON(nil), &got); err != nil {
				t.Fatalf("AppendJSON output is not JSON: %v", err)
			}
			if diff := cmp.Diff(tt.json, got); diff != "" {
				t.Fatalf("JSON (-want +got):\n%s", diff)
			}
			recs, err := csv.NewReader(strings.NewReader(rawscan.CSVHeader + string(tt.r.AppendCSV(nil)))).ReadAll()
			if err != nil || len(recs) != 2 {
				t.Fatalf("CSV: %v, %d records", err, len(recs))
			}
			if diff := cmp.Diff(tt.csv, recs[1]); diff != "" {
				t.Fatalf("CSV (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppendJSONDoesNotAllocate(t *testing.T) {
	r := rawscan.Result{Addr: netip.MustParseAddr("198.18.0.9"), Port: 445, Kind: rawscan.KindSynAck, Time: time.Now()}
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { buf = r.AppendJSON(buf[:0]) }); n != 0 {
		t.Fatalf("AppendJSON allocates %v times, want 0", n)
	}
}
