package batch

import (
	"sync"
	"sync/atomic"
	"testing"
)

type call struct {
	n    int
	done chan struct{}
	out  int
}

func (c *call) Done() <-chan struct{} { return c.done }

// TestBatcherServesEveryCallOnce: 500 concurrent callers are each served
// exactly once, in batches of at most Max, with at most MaxRunners batches
// running at a time, and under contention calls share batches.
func TestBatcherServesEveryCallOnce(t *testing.T) {
	var running, maxRunning, batches, served atomic.Int64
	var b Batcher[*call]
	b.Max = 16
	b.Run = func(calls []*call) {
		if r := running.Add(1); r > maxRunning.Load() {
			maxRunning.Store(r)
		}
		defer running.Add(-1)
		if len(calls) == 0 || len(calls) > b.Max {
			t.Errorf("batch of %d", len(calls))
		}
		batches.Add(1)
		for _, c := range calls {
			c.out = c.n * 2
			served.Add(1)
			close(c.done)
		}
	}
	const callers = 500
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c := &call{n: i, done: make(chan struct{})}
			b.Submit(c)
			<-c.Done()
			if c.out != 2*i {
				t.Errorf("call %d served as %d", i, c.out)
			}
		}()
	}
	close(start)
	wg.Wait()
	if served.Load() != callers {
		t.Fatalf("served %d calls, want %d", served.Load(), callers)
	}
	if maxRunning.Load() > MaxRunners {
		t.Fatalf("%d batches ran at once, at most %d may", maxRunning.Load(), MaxRunners)
	}
	t.Logf("%d calls in %d batches", callers, batches.Load())
}

// TestLoneCallerWaitsForNobody: under light load every call is served at
// once by its own Submit, in a batch of its own.
func TestLoneCallerWaitsForNobody(t *testing.T) {
	b := &Batcher[*call]{Max: 16}
	var sizes []int
	b.Run = func(cs []*call) {
		sizes = append(sizes, len(cs))
		for _, c := range cs {
			close(c.done)
		}
	}
	for range 100 {
		c := &call{done: make(chan struct{})}
		b.Submit(c)
		select {
		case <-c.Done():
		default:
			t.Fatal("a lone call was not served by its own Submit")
		}
	}
	for _, n := range sizes {
		if n != 1 {
			t.Fatalf("batch sizes %v, want all 1", sizes)
		}
	}
}
