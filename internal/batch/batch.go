// Package batch coalesces concurrent calls into batches, so that many
// callers waiting on Redis share one script call.
package batch

import "sync"

// Call is one queued call. Done is closed once the call has been served.
type Call interface {
	Done() <-chan struct{}
}

// Batcher coalesces concurrent calls into batches without a long-lived
// goroutine. A caller that finds fewer than MaxRunners runners active
// becomes one: it serves batches of up to Max queued calls while later
// callers only queue and wait. Once a runner's own call is done it hands
// any remaining queue to a fresh goroutine and returns, so no caller waits
// behind more than the batches in flight. That goroutine exits as soon as
// the queue is empty.
//
// Under light load a batch holds one call and costs one script call, as
// an unbatched store would; under contention a batch holds every call that
// arrived during the previous round trip. Two runners keep Redis busy
// while one batch's reply travels back and the next batch is built.
//
// Set Max and Run before first use. Run must close every call's Done.
type Batcher[C Call] struct {
	Max int
	Run func([]C)

	mu      sync.Mutex
	queue   []C
	runners int
}

// MaxRunners is how many batches may be in flight at once.
const MaxRunners = 2

// Submit queues c and, if fewer than MaxRunners runners are active,
// serves the queue until c is done. The caller then waits on c.Done().
func (b *Batcher[C]) Submit(c C) {
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if b.runners >= MaxRunners {
		b.mu.Unlock()
		return
	}
	b.runners++
	b.mu.Unlock()
	b.drain(c, true)
}

// drain serves batches until the queue is empty or, when hasOwn is set,
// until own is done, after which it passes the rest to a new goroutine.
func (b *Batcher[C]) drain(own C, hasOwn bool) {
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.runners--
			b.mu.Unlock()
			return
		}
		if hasOwn && isDone(own) {
			b.mu.Unlock()
			var none C
			go b.drain(none, false)
			return
		}
		n := min(len(b.queue), b.Max)
		batch := make([]C, n)
		copy(batch, b.queue)
		// Shift rather than reslice so the backing array does not grow
		// without bound under sustained load.
		rest := copy(b.queue, b.queue[n:])
		clear(b.queue[rest:])
		b.queue = b.queue[:rest]
		b.mu.Unlock()
		b.Run(batch)
	}
}

func isDone(c Call) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}
