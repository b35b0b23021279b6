//go:build race

package rawscan_test

// raceEnabled reports whether the race detector is on; wall-clock rate
// tests are skipped under it (it slows the fake network below the rate).
const raceEnabled = true
