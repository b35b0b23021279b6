package pipeline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/smbsweep/smbsweep/rawscan/target"
)

// DefaultCheckpointInterval is how often a checkpoint is written when
// Config.CheckpointInterval is zero.
const DefaultCheckpointInterval = 5 * time.Second

// A Checkpoint is what --resume needs to continue a scan: the permutation
// state (seed, generator, shard layout, position per subshard) at a moment
// when every hit received before it had been written, and how long the
// output was then. It is written as JSON.
type Checkpoint struct {
	// Time is when the positions were taken.
	Time time.Time `json:"time"`
	// State is the permutation's state (see target.State).
	State target.State `json:"state"`
	// OutputOffset is the size of the output file, fsynced, when the
	// checkpoint was written. A resumed run refuses an output shorter
	// than this (data was lost).
	OutputOffset int64 `json:"output_offset"`
	// Rate is the send rate in packets per second at the time, and
	// Cooldown the scan's cooldown: Rewound uses them.
	Rate     float64       `json:"rate"`
	Cooldown time.Duration `json:"cooldown_ns"`
	// Done is set by the final checkpoint of a scan that sent everything.
	Done bool `json:"done"`
}

// Rewound returns the state with each thread's position moved back by
// rate × cooldown / threads group elements (at least one batch of
// rawscan.BatchSize, the most a sender draws ahead of what it has sent),
// so targets probed shortly before the checkpoint are probed again:
// their replies may have been lost with the process.
func (c *Checkpoint) Rewound() target.State {
	st := c.State
	st.Positions = append([]uint64(nil), st.Positions...)
	st.Emitted = append([]uint64(nil), st.Emitted...)
	threads := max(len(st.Positions), 1)
	back := uint64(c.Rate*c.Cooldown.Seconds()/float64(threads)) + 128
	if c.Rate <= 0 {
		// Unlimited rate: a whole subshard may have gone by in a
		// cooldown, so start it again.
		back = ^uint64(0)
	}
	for t := range st.Positions {
		d := min(back, st.Positions[t])
		st.Positions[t] -= d
		st.Emitted[t] -= min(d, st.Emitted[t])
		st.Emitted[t] = min(st.Emitted[t], st.Positions[t])
	}
	return st
}

// Save writes c to path atomically: a temporary file in the same
// directory, fsynced, renamed over path, and the directory fsynced.
func (c *Checkpoint) Save(path string) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("pipeline: checkpoint: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("pipeline: checkpoint: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// LoadCheckpoint reads a checkpoint written by Save.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pipeline: checkpoint: %w", err)
	}
	var c Checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("pipeline: checkpoint %s: %w", path, err)
	}
	return &c, nil
}
