//go:build !race

package rawscan_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
