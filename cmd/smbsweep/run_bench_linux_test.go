package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
)

// BenchmarkRunLab is the end-to-end benchmark of bench/results/run.md: a
// /16 lab with the Samba matrix and the hostile hosts, scanned and probed
// at unlimited rate by 'smbsweep run' (defaults; without the dense-/24
// hold; with the old fixed pool of 256 workers) and, if
// SMBSWEEP_ZGRAB2 names a zgrab2 v0.2.0 binary and zmap is installed, by
// zmap piped into 'zgrab2 smb'. It reports the wall time per run and the
// hosts and SMB servers found. Needs root (skips otherwise).
func BenchmarkRunLab(b *testing.B) {
	l := labtest.New(b, &lab.Config{Seed: 3, Samba: true, Hostile: true})
	st := l.Status()
	rng := st.Ranges[0].String()
	dir := b.TempDir()
	bin := filepath.Join(dir, "smbsweep")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v: %s", err, out)
	}
	out := filepath.Join(dir, "out.json")
	empty := filepath.Join(dir, "empty.conf")
	os.WriteFile(empty, nil, 0o644)

	type tool struct {
		name string
		argv func() []string
		smb  func(line []byte) bool
	}
	smbsweepSMB := func(line []byte) bool { return strings.Contains(string(line), `"status":"success"`) }
	tools := []tool{
		{"smbsweep", func() []string {
			return []string{bin, "run", "--allow-reserved", "--yes", "-q", "-r", "0", "-c", "2", "-o", out, rng}
		}, smbsweepSMB},
		{"smbsweep-no-hold", func() []string {
			return []string{bin, "run", "--allow-reserved", "--yes", "-q", "-r", "0", "-c", "2", "--hold-dense", "-1", "-o", out, rng}
		}, smbsweepSMB},
		{"smbsweep-workers-256", func() []string {
			return []string{bin, "run", "--allow-reserved", "--yes", "-q", "-r", "0", "-c", "2", "--workers", "256", "-o", out, rng}
		}, smbsweepSMB},
	}
	if zg := os.Getenv("SMBSWEEP_ZGRAB2"); zg != "" {
		if _, err := exec.LookPath("zmap"); err == nil {
			tools = append(tools, tool{"zmap-zgrab2", func() []string {
				return []string{"sh", "-c", "zmap -q -i " + st.Interface + " -G " + st.GatewayMAC + " -r 0 -c 2 -b " + empty +
					" -p 445 -f saddr -o - " + rng + " 2>/dev/null | " + zg + " smb --setup-session -t 10s --connect-timeout 3s -b " + empty +
					" -o " + out + " -m /dev/null -l /dev/null -u /dev/null"}
			}, func(line []byte) bool {
				var r struct {
					Data struct {
						SMB struct {
							Result *struct {
								Version *json.RawMessage `json:"smb_version"`
								SMB1    bool             `json:"smbv1_support"`
							} `json:"result"`
						} `json:"smb"`
					} `json:"data"`
				}
				json.Unmarshal(line, &r)
				res := r.Data.SMB.Result
				return res != nil && (res.Version != nil || res.SMB1)
			}})
		}
	}
	for _, tl := range tools {
		b.Run(tl.name, func(b *testing.B) {
			var hosts, smb int
			var total time.Duration
			for range b.N {
				os.Remove(out)
				argv := tl.argv()
				start := time.Now()
				if o, err := l.Command(b.Context(), argv[0], argv[1:]...).CombinedOutput(); err != nil {
					b.Fatalf("%v: %v\n%s", argv, err, o)
				}
				total += time.Since(start)
				f, err := os.Open(out)
				if err != nil {
					b.Fatal(err)
				}
				hosts, smb = 0, 0
				sc := bufio.NewScanner(f)
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					hosts++
					if tl.smb(sc.Bytes()) {
						smb++
					}
				}
				f.Close()
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/run")
			b.ReportMetric(float64(hosts), "hosts")
			b.ReportMetric(float64(smb), "smb-servers")
		})
	}
}
