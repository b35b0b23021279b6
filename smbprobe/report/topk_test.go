package report

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// topKRef is the slow, obviously correct reference: an exact count of
// every value.
type topKRef map[string]uint64

func (r topKRef) top(n int) []Count {
	var out []Count
	for k, v := range r {
		out = append(out, Count{Value: k, N: v})
	}
	sortCounts(out)
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func sortCounts(c []Count) {
	for i := 1; i < len(c); i++ { // insertion sort: obviously correct
		for j := i; j > 0 && (c[j].N > c[j-1].N || c[j].N == c[j-1].N && c[j].Value < c[j-1].Value); j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
}

// TestTopKExactUntilFull: while the distinct values fit, the table is an
// exact count, on seeded random streams.
func TestTopKExactUntilFull(t *testing.T) {
	for seed := uint64(1); seed <= 50; seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		max := 1 + rng.IntN(64)
		k, ref := newTopK(max), topKRef{}
		for range rng.IntN(5000) {
			v := strconv.Itoa(rng.IntN(max)) // at most max distinct values
			k.add(v)
			ref[v]++
		}
		got, other := k.top(max)
		if diff := cmp.Diff(ref.top(max), got); diff != "" {
			t.Fatalf("seed %d: top (-want +got):\n%s", seed, diff)
		}
		if other != 0 || k.evicted != 0 {
			t.Fatalf("seed %d: other %d, evicted %d, want 0", seed, other, k.evicted)
		}
	}
}

// TestTopKGuarantees checks Space-Saving's guarantees against an exact
// count when the table overflows, on seeded random Zipf and uniform
// streams: every value more frequent than total/max is reported, each
// reported count brackets the true one, and the estimates sum to total.
func TestTopKGuarantees(t *testing.T) {
	for seed := uint64(1); seed <= 60; seed++ {
		rng := rand.New(rand.NewPCG(seed, 2))
		max := 2 + rng.IntN(100)
		var draw func() uint64
		if seed%2 == 0 {
			draw = rand.NewZipf(rng, 1.05+rng.Float64(), 1, uint64(10*max+rng.IntN(5000))).Uint64
		} else {
			n := uint64(2*max + rng.IntN(1000))
			draw = func() uint64 { return rng.Uint64N(n) }
		}
		k, ref := newTopK(max), topKRef{}
		total := uint64(10000 + rng.IntN(20000))
		for range total {
			v := "v" + strconv.FormatUint(draw(), 10)
			k.add(v)
			ref[v]++
		}
		var sum uint64
		for _, s := range k.slots {
			sum += s.count
			if tr := ref[s.key]; tr < s.count-s.err || tr > s.count {
				t.Fatalf("seed %d: %s: true count %d outside [%d, %d]", seed, s.key, tr, s.count-s.err, s.count)
			}
		}
		if sum != total {
			t.Fatalf("seed %d: estimates sum to %d, want %d", seed, sum, total)
		}
		for v, n := range ref {
			if _, ok := k.idx[v]; n > total/uint64(max) && !ok {
				t.Fatalf("seed %d: %s seen %d > %d/%d times, not in the table", seed, v, n, total, max)
			}
		}
		rows, other := k.top(max)
		var shown uint64
		for _, r := range rows {
			shown += r.N
			if tr := ref[r.Value]; tr < r.N || tr > r.N+r.Error {
				t.Fatalf("seed %d: row %+v, true %d", seed, r, ref[r.Value])
			}
		}
		if shown+other != total {
			t.Fatalf("seed %d: rows %d + other %d != total %d", seed, shown, other, total)
		}
		for i := range len(k.heap) { // the heap invariant, positions and index agree
			if l := 2*i + 1; l < len(k.heap) && k.slots[k.heap[l]].count < k.slots[k.heap[i]].count {
				t.Fatalf("seed %d: heap order broken at %d", seed, i)
			}
			if p := k.slots[k.heap[i]].pos; int(p) != i {
				t.Fatalf("seed %d: slot %d records position %d, is at %d", seed, k.heap[i], p, i)
			}
			if id := k.idx[k.slots[k.heap[i]].key]; id != k.heap[i] {
				t.Fatalf("seed %d: index of %s is %d, want %d", seed, k.slots[k.heap[i]].key, id, k.heap[i])
			}
		}
		if len(k.idx) != len(k.slots) {
			t.Fatalf("seed %d: %d indexed, %d slots", seed, len(k.idx), len(k.slots))
		}
	}
}

func TestTopKRowsAfterOverflow(t *testing.T) {
	// One heavy value among a flood of unique ones, as with computer
	// names: the heavy one is reported exactly enough, the noise is not.
	k := newTopK(8)
	for i := range 10000 {
		if i%3 == 0 {
			k.add("FILESRV")
		} else {
			k.add("WIN-" + strconv.Itoa(i))
		}
	}
	rows, other := k.top(10)
	if len(rows) != 1 || rows[0].Value != "FILESRV" || rows[0].N > 3334 || rows[0].N < 3334-rows[0].Error {
		t.Fatalf("rows %+v", rows)
	}
	if rows[0].N+other != 10000 {
		t.Errorf("rows + other = %d, want 10000", rows[0].N+other)
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"short", "Samba 4.17.12-Debian", "Samba 4.17.12-Debian"},
		{"exactly 64", strings.Repeat("a", 64), strings.Repeat("a", 64)},
		{"ascii", strings.Repeat("a", 100), strings.Repeat("a", 61) + "…"},
		{"rune boundary", strings.Repeat("é", 40), strings.Repeat("é", 30) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clip(tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("clip (-want +got):\n%s", diff)
			}
			if len(got) > maxValueLen {
				t.Errorf("len %d > %d", len(got), maxValueLen)
			}
		})
	}
}

// TestTopKAddAllocs: counting a value already in the table allocates
// nothing (the common case: a few dialects, ciphers, builds).
func TestTopKAddAllocs(t *testing.T) {
	k := newTopK(16)
	vals := []string{"3.1.1", "2.1", "3.0.2", "2.0.2"}
	for _, v := range vals {
		k.add(v)
	}
	i := 0
	if n := testing.AllocsPerRun(1000, func() { k.add(vals[i%len(vals)]); i++ }); n != 0 {
		t.Errorf("add allocates %v times per call, want 0", n)
	}
}

func BenchmarkTopKAdd(b *testing.B) {
	for _, bc := range []struct {
		name     string
		distinct int
	}{{"hits", 8}, {"evicting", 1 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			vals := make([]string, 1<<16)
			rng := rand.New(rand.NewPCG(1, 1))
			for i := range vals {
				vals[i] = "WIN-" + strconv.Itoa(rng.IntN(bc.distinct))
			}
			k := newTopK(256)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				k.add(vals[i%len(vals)])
			}
		})
	}
}
