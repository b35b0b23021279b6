package pipeline

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
)

// spillChunk is how many spilled hits the refiller reads per read(2), and
// how many bytes of spilled hits the producer buffers before write(2).
const spillChunk = 4096

// A queue is the bounded hand-off between the receiver and the SMB workers,
// with a spill file behind it (see the package doc, Back-pressure).
//
// push is called by one goroutine (the receiver) and never blocks on the
// consumers; it may block briefly on the spill file's write(2). The workers
// read out. close is called once, after the last push; out is closed when
// everything pushed, spilled or not, has been handed out.
type queue struct {
	out chan Hit

	mu       sync.Mutex
	spilling bool     // hits go to the spill until the refiller catches up
	buf      []byte   // spilled hits not yet written
	f        *os.File // the spill file, created on first use
	dir      string
	wOff     int64 // bytes written to f
	rOff     int64 // bytes read back from f
	closed   bool
	err      error         // first spill I/O error
	wake     chan struct{} // 1-buffered: there is something to refill, or closed

	pending atomic.Int64  // hits in the spill (buffered or on disk)
	total   atomic.Uint64 // hits ever spilled
}

// newQueue returns a queue holding size hits in memory and spilling to a
// file in dir (os.TempDir if empty).
func newQueue(size int, dir string) *queue {
	return &queue{out: make(chan Hit, size), dir: dir, wake: make(chan struct{}, 1)}
}

// push hands h to the workers, or to the spill if the queue is full or the
// spill is not drained yet. It returns the spill's write error, if any; the
// hit is then lost, and the caller must fail the pipeline.
func (q *queue) push(h Hit) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return q.err
	}
	if !q.spilling {
		select {
		case q.out <- h:
			return nil
		default:
			q.spilling = true
		}
	}
	q.buf, _ = h.AppendBinary(q.buf)
	q.pending.Add(1)
	q.total.Add(1)
	if len(q.buf) >= spillChunk*hitLen {
		if err := q.flushLocked(); err != nil {
			return err
		}
	}
	q.signal()
	return nil
}

func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// flushLocked writes the buffered spill to the file.
func (q *queue) flushLocked() error {
	if len(q.buf) == 0 {
		return nil
	}
	if q.f == nil {
		f, err := os.CreateTemp(q.dir, "smbsweep-spill-*")
		if err != nil {
			q.err = fmt.Errorf("pipeline: creating spill file: %w", err)
			return q.err
		}
		q.f = f
	}
	if _, err := q.f.WriteAt(q.buf, q.wOff); err != nil {
		q.err = fmt.Errorf("pipeline: writing spill file: %w", err)
		return q.err
	}
	q.wOff += int64(len(q.buf))
	q.buf = q.buf[:0]
	return nil
}

// close marks the end of pushes; refill closes out once drained.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

// depth returns the number of hits waiting in memory.
func (q *queue) depth() int { return len(q.out) }

// refill is the refiller goroutine: it moves spilled hits into out, in
// order, as room frees up, and closes out after close once everything is
// handed out. It returns on a read error (after closing out) or when stop
// is closed.
func (q *queue) refill(stop <-chan struct{}) (err error) {
	defer func() {
		close(q.out)
		q.mu.Lock()
		if q.f != nil {
			q.f.Close()
			os.Remove(q.f.Name())
			q.f = nil
		}
		q.mu.Unlock()
	}()
	chunk := make([]byte, spillChunk*hitLen)
	for {
		select {
		case <-q.wake:
		case <-stop:
			return nil
		}
		for {
			q.mu.Lock()
			if err := q.flushLocked(); err != nil {
				q.mu.Unlock()
				return err
			}
			if q.rOff == q.wOff {
				// Caught up: new hits may go to memory again.
				q.spilling = false
				q.rOff, q.wOff = 0, 0
				if q.f != nil {
					if err := q.f.Truncate(0); err != nil {
						q.err = fmt.Errorf("pipeline: truncating spill file: %w", err)
					}
				}
				closed := q.closed
				q.mu.Unlock()
				if closed {
					return nil
				}
				break
			}
			n := min(int64(len(chunk)), q.wOff-q.rOff)
			f, off := q.f, q.rOff
			q.mu.Unlock()
			m, err := f.ReadAt(chunk[:n], off)
			if m < int(n) {
				if err == nil || errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return fmt.Errorf("pipeline: reading spill file: %w", err)
			}
			for b := chunk[:n]; len(b) > 0; b = b[hitLen:] {
				var h Hit
				h.UnmarshalBinary(b[:hitLen])
				select {
				case q.out <- h:
				case <-stop:
					return nil
				}
				q.pending.Add(-1)
			}
			q.mu.Lock()
			q.rOff += n
			q.mu.Unlock()
		}
	}
}
