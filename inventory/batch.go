package inventory

import "sync"

// batcher coalesces concurrent calls into batches without a long-lived
// goroutine. A caller that finds fewer than maxRunners runners active
// becomes one: it serves batches of up to max queued calls while later
// callers only queue and wait. Once a runner's own call is done it hands any
// remaining queue to a fresh goroutine and returns, so no caller waits behind
// more than the batches in flight. That goroutine exits as soon as the queue
// is empty.
//
// Under light load a batch holds one call and costs one script call, as an
// unbatched store would; under contention a batch holds every call that
// arrived during the previous round trip. Two runners keep Redis busy while
// one batch's reply travels back and the next batch is built.
type batcher struct {
	max int
	run func([]*reserveCall)

	mu      sync.Mutex
	queue   []*reserveCall
	runners int
}

// maxRunners is how many batches may be in flight at once.
const maxRunners = 2

// submit queues c and, if no runner is active, serves the queue until c is
// done. The caller then waits on c.done.
func (b *batcher) submit(c *reserveCall) {
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if b.runners >= maxRunners {
		b.mu.Unlock()
		return
	}
	b.runners++
	b.mu.Unlock()
	b.drain(c)
}

// drain serves batches until the queue is empty or, when own is set, until
// own is done, after which it passes the rest to a new goroutine.
func (b *batcher) drain(own *reserveCall) {
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.runners--
			b.mu.Unlock()
			return
		}
		if own != nil && isDone(own) {
			b.mu.Unlock()
			go b.drain(nil)
			return
		}
		n := min(len(b.queue), b.max)
		batch := make([]*reserveCall, n)
		copy(batch, b.queue)
		// Shift rather than reslice so the backing array does not grow
		// without bound under sustained load.
		rest := copy(b.queue, b.queue[n:])
		clear(b.queue[rest:])
		b.queue = b.queue[:rest]
		b.mu.Unlock()
		b.run(batch)
	}
}

func isDone(c *reserveCall) bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}
