package transmit

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/smbsweep/smbsweep/bench/internal/benchkit"
)

var testLink = link{ifname: "sink1", srcIP: "192.0.2.66", srcMAC: "02:00:00:aa:00:01", dstMAC: "02:00:00:aa:00:fe"}

func TestSenders(t *testing.T) {
	all := bins{smbsweep: "smbsweep", ceiling: "ceiling", empty: "EMPTY", zmap: true, masscan: true}
	tests := []struct {
		name string
		p    params
		b    bins
		want []string // "tool T rate"
	}{
		{
			name: "quick, every tool",
			p:    paramsFor(&benchkit.Env{Quick: true}),
			b:    all,
			want: []string{
				"smbsweep 1 1e+06", "zmap 1 1e+06", "masscan 1 1e+06",
				"smbsweep 1 0", "smbsweep --qdisc-bypass 1 0", "zmap 1 0", "masscan 1 0", "bare C sendmmsg 1 0",
				"smbsweep 2 1e+06", "zmap 2 1e+06",
				"smbsweep 2 0", "smbsweep --qdisc-bypass 2 0", "zmap 2 0", "bare C sendmmsg 2 0",
			},
		},
		{
			name: "full, peers and ceiling missing",
			p:    paramsFor(&benchkit.Env{Repeats: 3}),
			b:    bins{smbsweep: "smbsweep"},
			want: []string{
				"smbsweep 1 100000", "smbsweep 1 300000", "smbsweep 1 1e+06", "smbsweep 1 0", "smbsweep --qdisc-bypass 1 0",
				"smbsweep 2 100000", "smbsweep 2 300000", "smbsweep 2 1e+06", "smbsweep 2 0", "smbsweep --qdisc-bypass 2 0",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range senders(tt.p, testLink, tt.b) {
				got = append(got, fmt.Sprintf("%s %d %g", s.tool, s.threads, s.rate))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("senders (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSenderCommands(t *testing.T) {
	ss := senders(paramsFor(&benchkit.Env{Quick: true}), testLink, bins{smbsweep: "smbsweep", ceiling: "ceiling", empty: "EMPTY", zmap: true, masscan: true})
	want := map[string]string{
		"smbsweep 1 0":                "smbsweep scan --yes -q --allow-reserved -i sink1 -S 192.0.2.66 --source-mac 02:00:00:aa:00:01 -G 02:00:00:aa:00:fe -r 0 -T 1 -p 1-1000 -c 0 -o /dev/null 198.18.0.0/15",
		"smbsweep --qdisc-bypass 2 0": "smbsweep scan --yes -q --allow-reserved -i sink1 -S 192.0.2.66 --source-mac 02:00:00:aa:00:01 -G 02:00:00:aa:00:fe -r 0 -T 2 -p 1-1000 -c 0 -o /dev/null --qdisc-bypass 198.18.0.0/15",
		"zmap 2 1e+06":                "zmap -q -i sink1 -S 192.0.2.66 --source-mac=02:00:00:aa:00:01 -G 02:00:00:aa:00:fe -M tcp_synscan -p 445 -r 1000000 -T 2 -P 200 -b EMPTY -o /dev/null --disable-syslog 198.18.0.0/15",
		"masscan 1 0":                 "masscan -e sink1 --adapter-ip 192.0.2.66 --adapter-mac 02:00:00:aa:00:01 --router-mac 02:00:00:aa:00:fe -p1-65535 --rate 100000000 --wait 0 -oL /dev/null 198.18.0.0/15",
		"bare C sendmmsg 2 0":         "ceiling mmsg 2 60 sink1 02:00:00:aa:00:fe",
	}
	for _, s := range ss {
		key := fmt.Sprintf("%s %d %g", s.tool, s.threads, s.rate)
		if w, ok := want[key]; ok {
			if got := strings.Join(s.argv, " "); got != w {
				t.Errorf("%s:\n got %s\nwant %s", key, got, w)
			}
			delete(want, key)
		}
	}
	if len(want) > 0 {
		t.Errorf("configurations not generated: %v", want)
	}
}

// runsOf makes samples with the given pps and 2 µs/packet, 10 MiB.
func runsOf(pps ...float64) []sample {
	var out []sample
	for _, p := range pps {
		out = append(out, sample{pps: p, cpuUs: 2, rssKiB: 10240})
	}
	return out
}

func TestRenderRatiosAndGoals(t *testing.T) {
	p := params{rates: []float64{1e6, 0}, threads: []int{1, 2}, repeats: 3}
	ss := []sender{
		{tool: toolSmbsweep, threads: 1, rate: 0}, {tool: toolBypass, threads: 1, rate: 0}, {tool: toolZmap, threads: 1, rate: 0},
		{tool: toolMasscan, threads: 1, rate: 0}, {tool: toolCeiling, threads: 1, rate: 0},
		{tool: toolSmbsweep, threads: 2, rate: 0}, {tool: toolBypass, threads: 2, rate: 0}, {tool: toolZmap, threads: 2, rate: 0},
		{tool: toolCeiling, threads: 2, rate: 0},
	}
	nan := math.NaN()
	runs := [][]sample{
		runsOf(500e3, 520e3, 480e3), runsOf(510e3, 500e3, 505e3), runsOf(300e3, 310e3, 320e3),
		runsOf(350e3, 360e3, 340e3), runsOf(540e3, 550e3, 560e3),
		runsOf(700e3, 720e3, 690e3), runsOf(900e3, 910e3, 880e3), runsOf(600e3, 600e3, nan),
		runsOf(1000e3, 1010e3, 990e3),
	}
	s := render(p, summarize(ss, runs), nil, strings.NewReplacer())
	type verdict struct {
		Measured string
		Met      bool
	}
	var got []verdict
	for _, g := range s.Goals {
		got = append(got, verdict{g.Measured, g.Met})
	}
	want := []verdict{
		// T1: 500k ÷ masscan 350k = 1.43×; T2: 700k ÷ zmap 600k = 1.17×.
		{"1 thread: 500k ÷ masscan 350k = 1.43× (with --qdisc-bypass 1.44×); 2 threads: 700k ÷ zmap 600k = 1.17× (with --qdisc-bypass 1.50×)", false},
		// bypass ÷ C: 505/550 = 92 %, 900/1000 = 90 %.
		{"1 thread: 92 % (505k ÷ 550k); 2 threads: 90 % (900k ÷ 1.00M)", true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("goals (-want +got):\n%s", diff)
	}
	for _, line := range []string{
		"| zmap | 2 | unlimited | 600k | 600k–600k | — | 2.00 | 10.0 | 1 |",
		"| 1 | unlimited | 1.43× (masscan) | 1.44× | 92 % | 91 % |",
	} {
		if !strings.Contains(s.Markdown, line) {
			t.Errorf("Markdown lacks %q:\n%s", line, s.Markdown)
		}
	}
	var files []string
	for _, pl := range s.Plots {
		files = append(files, pl.File)
	}
	if diff := cmp.Diff([]string{"transmit-pps-t1.svg", "transmit-pps-t2.svg", "transmit-cpu.svg"}, files); diff != "" {
		t.Fatalf("plots (-want +got):\n%s", diff)
	}
}
