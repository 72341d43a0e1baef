package chaos

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// checkLinearizable records the history of 5 paced clients, each making
// ops calls chosen by next and run by call (with a 1 s deadline, as a
// request handler has), while px resets connections and then delays
// replies past the read timeout; then it checks the history against model
// with porcupine and reports the figures under name. A call that failed
// has output unknown and may take effect at any later time.
func checkLinearizable(t *testing.T, px *proxy, name string, model porcupine.Model, ops int,
	next func(rng *rand.Rand) any, call func(ctx context.Context, input any) string) {
	ctx := context.Background()
	start := time.Now()
	var mu sync.Mutex
	var history []porcupine.Operation
	var wg sync.WaitGroup
	for c := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), uint64(start.UnixNano())))
			for range ops {
				// Paced, so that the history spans the faults.
				time.Sleep(time.Duration(10+rng.IntN(20)) * time.Millisecond)
				in := next(rng)
				callCtx, cancel := context.WithTimeout(ctx, time.Second)
				begin := time.Since(start).Nanoseconds()
				out := call(callCtx, in)
				end := time.Since(start).Nanoseconds()
				cancel()
				if out == unknown {
					end = math.MaxInt64
				}
				mu.Lock()
				history = append(history, porcupine.Operation{ClientId: c, Input: in, Call: begin, Output: out, Return: end})
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	px.toxic(t, "reset", `{"type":"reset_peer","stream":"upstream","attributes":{"timeout":0}}`, 200*time.Millisecond)
	px.toxic(t, "slow", `{"type":"latency","stream":"downstream","attributes":{"latency":3500}}`, time.Second)
	wg.Wait()
	res := porcupine.CheckOperationsTimeout(model, history, time.Minute)
	unknowns := 0
	for _, op := range history {
		if op.Output == unknown {
			unknowns++
		}
	}
	line := fmt.Sprintf("chaos: %s linearizability: %d operations (%d unknown outcomes) from 5 clients through resets and latency: %s", name, len(history), unknowns, res)
	t.Log(line)
	report(line)
	if res != porcupine.Ok {
		t.Fatalf("history is not linearizable against the model (%s)", res)
	}
}
