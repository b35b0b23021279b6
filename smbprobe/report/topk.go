package report

import (
	"cmp"
	"slices"
	"unicode/utf8"
)

// maxValueLen bounds the bytes kept of one counted value. Longer values
// (attacker-controlled names can be kilobytes) are cut at a rune boundary
// and marked with "…".
const maxValueLen = 64

// A Count is one value of a categorical table and how often it was seen.
type Count struct {
	// Value is the counted string, cut to 64 bytes.
	Value string `json:"value"`
	// Label is a human name for Value, if known (the Windows product of
	// an OS build).
	Label string `json:"label,omitempty"`
	// N is how many records had Value, a lower bound once the table has
	// overflowed.
	N uint64 `json:"n"`
	// Error is how many more records may have had Value (0 means N is
	// exact). It is non-zero only for values that entered the table by
	// evicting another after it overflowed.
	Error uint64 `json:"error,omitempty"`
}

// topK counts string values in at most max slots with the Space-Saving
// algorithm (Metwally et al., ICDT 2005): a new value, when all slots are
// taken, replaces the value with the smallest count and inherits that count
// as its error. Every value whose true count exceeds total/max is in the
// table, and each slot's count overestimates its value's by at most its
// error.
//
// Slots stay where they are; a min-heap of slot numbers orders them by
// count, so an eviction is O(log max) with two map operations, and
// re-ordering the heap never touches the map.
//
// A topK is not safe for concurrent use.
type topK struct {
	max     int
	idx     map[string]int32 // value → slot
	slots   []slot
	heap    []int32 // slot numbers, a min-heap on count
	total   uint64
	evicted uint64 // how many evictions happened
}

type slot struct {
	key        string
	count, err uint64
	pos        int32 // in heap
}

func newTopK(max int) *topK {
	return &topK{max: max, idx: make(map[string]int32)}
}

// add counts one occurrence of key.
func (t *topK) add(key string) {
	key = clip(key)
	t.total++
	if i, ok := t.idx[key]; ok {
		t.slots[i].count++
		t.down(int(t.slots[i].pos))
		return
	}
	if len(t.slots) < t.max {
		id := int32(len(t.slots))
		t.slots = append(t.slots, slot{key: key, count: 1, pos: id})
		t.heap = append(t.heap, id)
		t.idx[key] = id
		t.up(int(id))
		return
	}
	id := t.heap[0]
	m := &t.slots[id]
	delete(t.idx, m.key)
	t.evicted++
	m.key, m.err = key, m.count
	m.count++
	t.idx[key] = id
	t.down(0)
}

// min is the smallest count in the table.
func (t *topK) min() uint64 { return t.slots[t.heap[0]].count }

// top returns the n most frequent values, most frequent first (ties by
// value), and how many counted records are not in them. Rows are ordered
// by their guaranteed count (count − error). Once the table has
// overflowed, a value whose guaranteed count does not exceed the smallest
// count in the table could be noise from evictions, so it is left in
// other.
func (t *topK) top(n int) (top []Count, other uint64) {
	s := slices.Clone(t.slots)
	slices.SortFunc(s, func(a, b slot) int {
		if c := cmp.Compare(b.count-b.err, a.count-a.err); c != 0 {
			return c
		}
		return cmp.Compare(a.key, b.key)
	})
	if t.evicted > 0 && len(t.slots) > 0 {
		floor := t.min()
		s = slices.DeleteFunc(s, func(e slot) bool { return e.count-e.err <= floor })
	}
	if n >= 0 && len(s) > n {
		s = s[:n]
	}
	other = t.total
	for _, e := range s {
		top = append(top, Count{Value: e.key, N: e.count - e.err, Error: e.err})
		other -= e.count - e.err
	}
	return top, other
}

func (t *topK) less(i, j int) bool { return t.slots[t.heap[i]].count < t.slots[t.heap[j]].count }

func (t *topK) swap(i, j int) {
	t.heap[i], t.heap[j] = t.heap[j], t.heap[i]
	t.slots[t.heap[i]].pos = int32(i)
	t.slots[t.heap[j]].pos = int32(j)
}

func (t *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.less(i, p) {
			return
		}
		t.swap(i, p)
		i = p
	}
}

func (t *topK) down(i int) {
	n := len(t.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && t.less(r, l) {
			m = r
		}
		if !t.less(m, i) {
			return
		}
		t.swap(i, m)
		i = m
	}
}

// clip cuts s to at most maxValueLen bytes at a rune boundary, marking a
// cut with "…".
func clip(s string) string {
	if len(s) <= maxValueLen {
		return s
	}
	cut := maxValueLen - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
