package smbprobe

import (
	"context"
	"net/netip"
	"sync"
)

// Run is the probing stage of the pipeline:
//
//	targets (caller's channel)
//	   │
//	   ├─► worker 1 ─┐
//	   ├─► worker 2 ─┼─► results (buffered, 4×Workers) ─► emit (one goroutine: the caller's)
//	   └─► worker N ─┘
//
// Config.Workers goroutines each take a target, Probe it and pass the
// Result on; Run itself is the single writer and calls emit for every
// result, in completion order, never concurrently. Run returns when targets
// is closed and drained and every result has been emitted, or when ctx is
// canceled (in-flight probes end within their deadline, and their results
// are still emitted), or with the first error of emit, after which the
// remaining results are dropped.
func (p *Prober) Run(ctx context.Context, targets <-chan netip.AddrPort, emit func(*Result) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan *Result, 4*p.cfg.Workers)
	var wg sync.WaitGroup
	for i := 0; i < p.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil { // checked first: select picks ready cases at random
				select {
				case <-ctx.Done():
					return
				case t, ok := <-targets:
					if !ok {
						return
					}
					results <- p.Probe(ctx, t)
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	var err error
	for r := range results {
		if err != nil {
			continue // drain so that workers can finish
		}
		if err = emit(r); err != nil {
			cancel()
		}
	}
	if err == nil {
		err = ctx.Err() // the caller's cancellation; ours has not run yet
	}
	return err
}
