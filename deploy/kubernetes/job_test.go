package kubernetes

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/smbsweep/smbsweep/blocklist"
	"github.com/smbsweep/smbsweep/rawscan/target"
)

// job is the part of a batch/v1 Job the test reads.
type job struct {
	Kind string `yaml:"kind"`
	Spec struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		Template       struct {
			Spec struct {
				HostNetwork bool `yaml:"hostNetwork"`
				Affinity    struct {
					PodAntiAffinity struct {
						Required []struct {
							TopologyKey string `yaml:"topologyKey"`
						} `yaml:"requiredDuringSchedulingIgnoredDuringExecution"`
					} `yaml:"podAntiAffinity"`
				} `yaml:"affinity"`
				Containers []struct {
					Args            []string `yaml:"args"`
					SecurityContext struct {
						Capabilities struct {
							Add []string `yaml:"add"`
						} `yaml:"capabilities"`
					} `yaml:"securityContext"`
					VolumeMounts []struct {
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func loadJob(t *testing.T) *job {
	t.Helper()
	b, err := os.ReadFile("job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var j job
		err := dec.Decode(&j)
		if errors.Is(err, io.EOF) {
			t.Fatal("job.yaml has no Job")
		}
		if err != nil {
			t.Fatalf("job.yaml: %v", err)
		}
		if j.Kind == "Job" {
			return &j
		}
	}
}

// flagValue returns the value of --name=V in args.
func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// expand does what the kubelet does to $(VAR) in args.
func expand(s string, env map[string]string) string {
	for k, v := range env {
		s = strings.ReplaceAll(s, "$("+k+")", v)
	}
	return s
}

func TestJobShape(t *testing.T) {
	j := loadJob(t)
	s := &j.Spec
	pod := &s.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	shards, _ := flagValue(c.Args, "shards")
	n, err := strconv.Atoi(shards)
	if err != nil {
		t.Fatalf("--shards=%q", shards)
	}
	env, _ := flagValue(c.Args, "shard-from-env")
	checks := []struct {
		what string
		ok   bool
	}{
		{"completionMode Indexed", s.CompletionMode == "Indexed"},
		{"completions = --shards", s.Completions == n},
		{"parallelism = --shards", s.Parallelism == n},
		{"hostNetwork", pod.HostNetwork},
		{"one pod per node", len(pod.Affinity.PodAntiAffinity.Required) == 1 && pod.Affinity.PodAntiAffinity.Required[0].TopologyKey == "kubernetes.io/hostname"},
		{"NET_RAW and NET_ADMIN", slices.Contains(c.SecurityContext.Capabilities.Add, "NET_RAW") && slices.Contains(c.SecurityContext.Capabilities.Add, "NET_ADMIN")},
		{"--shard-from-env=JOB_COMPLETION_INDEX", env == "JOB_COMPLETION_INDEX"},
		{"no fixed --shard", func() bool { _, ok := flagValue(c.Args, "shard"); return !ok }()},
		{"run subcommand", len(c.Args) > 0 && c.Args[0] == "run"},
		{"results volume", slices.ContainsFunc(c.VolumeMounts, func(m struct {
			MountPath string `yaml:"mountPath"`
		}) bool {
			return m.MountPath == "/results"
		})},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("job.yaml: want %s", ch.what)
		}
	}
}

// TestJobShardMapping expands the pod args for every completion index as
// the Job controller and kubelet would, and checks that the shards they
// select partition the targets (each target in exactly one pod) and that
// each pod writes its own output and checkpoint files.
func TestJobShardMapping(t *testing.T) {
	j := loadJob(t)
	args := j.Spec.Template.Spec.Containers[0].Args
	seedS, _ := flagValue(args, "seed")
	seed, err := strconv.ParseUint(seedS, 10, 64)
	if err != nil {
		t.Fatalf("--seed=%q: a fixed seed is required for shards", seedS)
	}
	shards := j.Spec.Completions
	// The manifest scans 0.0.0.0/0; walk a /16 with the same layout.
	allowed := blocklist.FromPrefixes(netip.MustParsePrefix("198.18.0.0/16"))
	seen := make(map[netip.Addr]int)
	files := make(map[string]int)
	for index := range shards {
		env := map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(index)}
		var shard int
		for _, a := range args {
			a = expand(a, env)
			if strings.Contains(a, "$(") {
				t.Fatalf("index %d: unexpanded variable in %q", index, a)
			}
			if v, ok := strings.CutPrefix(a, "--shard-from-env="); ok {
				shard, err = strconv.Atoi(env[v])
				if err != nil {
					t.Fatalf("index %d: %s=%q", index, v, env[v])
				}
			}
			for _, f := range []string{"--output-file=", "--checkpoint=", "--metadata="} {
				if v, ok := strings.CutPrefix(a, f); ok {
					if prev, dup := files[v]; dup {
						t.Errorf("indexes %d and %d both write %s", prev, index, v)
					}
					files[v] = index
				}
			}
		}
		if shard != index {
			t.Errorf("index %d runs shard %d", index, shard)
		}
		p, err := target.New(&target.Config{Allowed: allowed, Seed: seed, Shards: shards, Shard: shard})
		if err != nil {
			t.Fatal(err)
		}
		it := p.Iterator(0)
		for a, _, ok := it.Next(); ok; a, _, ok = it.Next() {
			if prev, dup := seen[a]; dup {
				t.Fatalf("%v in shards %d and %d", a, prev, shard)
			}
			seen[a] = shard
		}
	}
	if uint64(len(seen)) != allowed.Count() {
		t.Errorf("the %d shards cover %d of %d addresses", shards, len(seen), allowed.Count())
	}
	if len(files) != 3*shards {
		t.Errorf("%d distinct output/checkpoint/metadata files for %d shards, want %d", len(files), shards, 3*shards)
	}
}
