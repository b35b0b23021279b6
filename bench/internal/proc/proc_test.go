package proc

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		text    string
		want    time.Duration
		wantErr bool
	}{
		{name: "captured", file: "stat.txt", want: 420 * time.Millisecond},
		{name: "name with spaces and parentheses", file: "stat-paren.txt", want: 18 * time.Second},
		{name: "no name", text: "1 2 3", wantErr: true},
		{name: "truncated", text: "1 (a) S 1 2 3", wantErr: true},
		{name: "not a number", text: "1 (a) S 1 1 1 0 -1 0 0 0 0 0 x 5 0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.text)
			if tt.file != "" {
				var err error
				if b, err = os.ReadFile(filepath.Join("testdata", tt.file)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ParseStatCPU(b)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseStatCPU = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseStatusKiB(t *testing.T) {
	captured, err := os.ReadFile(filepath.Join("testdata", "status.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		text    []byte
		key     string
		want    int64
		wantErr bool
	}{
		{"captured VmHWM", captured, "VmHWM", 1600, false},
		{"missing key", captured, "VmNope", 0, true},
		{"no unit", []byte("VmHWM:\t12\n"), "VmHWM", 0, true},
		{"not a number", []byte("VmHWM:\tx kB\n"), "VmHWM", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStatusKiB(tt.text, tt.key)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseStatusKiB(%s) = %v, %v; want %v, error %v", tt.key, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// FuzzParse checks that the procfs parsers never panic on any input.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"stat.txt", "stat-paren.txt", "status.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := ParseStatCPU(b); err == nil && d < 0 {
			t.Fatalf("negative CPU time %v", d)
		}
		_, _ = ParseStatusKiB(b, "VmHWM")
	})
}
