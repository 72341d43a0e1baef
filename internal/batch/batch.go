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
// The number is fixed on purpose. Two adaptive limits were built and
// measured against it with 64 callers on two cores shared with Redis: one
// from the server's share of each round trip (the scripts timed
// themselves; the limit was 1 + travel/server), one a hill climb on calls
// served per second. The first chose one batch on a hot SKU (Redis CPU
// per reservation −12%) but up to eight behind WaitReplicas, where the
// replica's CPU on the same cores looks like travel: wall time per
// reservation rose from 14–16 µs to 19–22 µs. The second wandered over
// 1–5 whatever the load, since throughput there changes less from one to
// four batches in flight than it varies between 20 ms epochs (more than
// 15%), and cost Redis CPU (+15% per operation over the reserve, commit
// and admit benchmarks). A third let a second batch go out only when a
// full batch (Max) waited, so that one batch is in flight unless it cannot
// carry the load (three interleaved runs of bench/ against the fixed two,
// Redis CPU and wall time as ratios to the per-call peer, medians): hot
// SKU 0.33× → 0.28× Redis CPU at the same wall time (1.94× → 1.91×
// faster), many SKUs 0.69× → 0.58×, Admit the same Redis CPU (0.55× →
// 0.56×) but 1.96× → 1.53× faster, and no slower behind WaitReplicas
// with the replica on the same cores. With one batch in flight Redis
// idles while this process reads a reply and builds the next batch, which
// costs an admission (little Go work each) more than a reservation. An
// adaptive limit needs a signal that the throughput of shared cores does
// not blur.
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
