package inventory

import (
	"context"
	"sync"
	"time"
)

// sweeper calls a store's Sweep at a fixed interval until stopped.
type sweeper struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startSweeper starts sweeping every interval, or returns nil (a valid,
// inert sweeper) when interval is not positive.
func startSweeper(interval time.Duration, sweep func(context.Context) (int, error)) *sweeper {
	if interval <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &sweeper{cancel: cancel}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// Errors are transient (Redis unreachable); the next tick
				// retries, and lazy expiry covers the gap.
				_, _ = sweep(ctx)
			}
		}
	}()
	return s
}

// stop ends the loop and waits for it; safe to call on nil and more than once.
func (s *sweeper) stop() {
	if s == nil {
		return
	}
	s.cancel()
	s.wg.Wait()
}
