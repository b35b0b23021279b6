package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePortList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []uint16
		wantErr bool
	}{
		{in: "445", want: []uint16{445}},
		{in: "445,139", want: []uint16{139, 445}},
		{in: "139,445,139", want: []uint16{139, 445}},
		{in: " 80 , 8000-8002", want: []uint16{80, 8000, 8001, 8002}},
		{in: "1-1", want: []uint16{1}},
		{in: "65535", want: []uint16{65535}},
		{in: "", wantErr: true},
		{in: "0", wantErr: true},
		{in: "65536", wantErr: true},
		{in: "5-1", wantErr: true},
		{in: "1,", wantErr: true},
		{in: "a", wantErr: true},
		{in: "-5", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parsePortList(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parsePortList(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("parsePortList(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
	got, err := parsePortList("1-65535")
	if err != nil || len(got) != 65535 {
		t.Fatalf("parsePortList(1-65535) = %d ports, %v", len(got), err)
	}
}

func TestParseMaxTargets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		total   uint64
		want    uint64
		wantErr bool
	}{
		{in: "", total: 10, want: 0},
		{in: "7", total: 10, want: 7},
		{in: "70", total: 10, want: 70},
		{in: "50%", total: 10, want: 5},
		{in: "100%", total: 3702258432, want: 3702258432},
		{in: "0.5%", total: 1000, want: 5},
		{in: "0", total: 10, wantErr: true},
		{in: "0%", total: 10, wantErr: true},
		{in: "101%", total: 10, wantErr: true},
		{in: "1%", total: 10, wantErr: true},
		{in: "-1", total: 10, wantErr: true},
		{in: "x%", total: 10, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseMaxTargets(tt.in, tt.total)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseMaxTargets(%q, %d) = %d, %v; want %d, error %v", tt.in, tt.total, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// FuzzParsePortList checks the -p parser: it never panics, and what it
// accepts is a sorted list of distinct ports in 1–65535 that parses back to
// itself when written as a comma-separated list.
func FuzzParsePortList(f *testing.F) {
	for _, s := range []string{"445", "445,139", "8000-8010", " 1 , 65535", "5-1", "0", "1-65535", "139,139"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ports, err := parsePortList(s)
		if err != nil {
			if !isUsage(err) {
				t.Fatalf("parsePortList(%q): error %v is not a usage error", s, err)
			}
			return
		}
		if len(ports) == 0 || !slices.IsSorted(ports) || len(slices.Compact(slices.Clone(ports))) != len(ports) || ports[0] == 0 {
			t.Fatalf("parsePortList(%q) = %v: not sorted distinct ports in 1-65535", s, ports)
		}
		parts := make([]string, len(ports))
		for i, p := range ports {
			parts[i] = strconv.Itoa(int(p))
		}
		back, err := parsePortList(strings.Join(parts, ","))
		if err != nil || !slices.Equal(back, ports) {
			t.Fatalf("parsePortList(%q) = %v, which reads back as %v, %v", s, ports, back, err)
		}
	})
}
