package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseFraction(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    float64
		wantErr bool
	}{
		{name: "percent", in: "5%", want: 0.05},
		{name: "fraction", in: "0.25", want: 0.25},
		{name: "zero", in: "0", want: 0},
		{name: "fractional percent", in: "0.5%", want: 0.005},
		{name: "over 100%", in: "150%", wantErr: true},
		{name: "negative", in: "-1", wantErr: true},
		{name: "garbage", in: "lots", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFraction(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseFraction(%q) error %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("parseFraction(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestLabUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  string // in stdout or stderr
	}{
		{name: "no command", args: nil, code: exitUsage, out: "Usage: smbsweep lab"},
		{name: "unknown", args: []string{"sideways"}, code: exitUsage, out: `unknown command "sideways"`},
		{name: "help", args: []string{"help"}, code: exitOK, out: "up      bring a lab up"},
		{name: "bad range", args: []string{"up", "--range", "10.0.0.0/8x"}, code: exitUsage, out: "smbsweep lab up:"},
		{name: "bad open", args: []string{"up", "--open", "200%"}, code: exitUsage, out: "out of range"},
		{name: "bad ports", args: []string{"up", "--ports", "445,x"}, code: exitUsage, out: "--ports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runLab(tt.args, &stdout, &stderr); code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr.String())
			}
			if all := stdout.String() + stderr.String(); !strings.Contains(all, tt.out) {
				t.Errorf("output lacks %q:\n%s", tt.out, all)
			}
		})
	}
}
