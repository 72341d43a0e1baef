package funnel_test

import (
	"math/rand"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/funnel"
	"github.com/shopkit/shopkit/internal/redistest"
)

var benchDay = time.Now().UTC().Truncate(24 * time.Hour).Add(-8 * 24 * time.Hour)

var benchSteps = []string{"view", "click", "cart", "order", "pay"}

// traffic returns n events of a week's shop traffic: users with sessions
// that walk part of the way down view → click → cart → order → pay, with
// other events mixed in.
func traffic(n int, seed int64) []funnel.Event {
	r := rand.New(rand.NewSource(seed))
	users := max(1, n/20)
	out := make([]funnel.Event, 0, n)
	for len(out) < n {
		u := "user-" + strconv.Itoa(r.Intn(users))
		at := benchDay.Add(time.Duration(r.Int63n(int64(7 * 24 * time.Hour))))
		variant := []string{"A", "B"}[r.Intn(2)]
		for step := 0; step < len(benchSteps) && len(out) < n; step++ {
			e := funnel.Event{ID: "e" + strconv.Itoa(len(out)), UserID: u, Name: benchSteps[step],
				Time: at, Variant: variant, Channel: "app", SKU: "sku-" + strconv.Itoa(r.Intn(50))}
			if step >= 3 {
				e.OrderID = "o" + strconv.Itoa(len(out))
				e.Amount = decimal.New(int64(1000+r.Intn(50000)), -2)
			}
			out = append(out, e)
			if r.Intn(4) == 0 && len(out) < n { // browsing in between
				out = append(out, funnel.Event{ID: "e" + strconv.Itoa(len(out)), UserID: u, Name: "search", Time: at.Add(time.Second)})
			}
			if r.Intn(3) == 0 {
				break
			}
			at = at.Add(time.Duration(r.Intn(600)) * time.Second)
		}
	}
	// Live traffic arrives in time order.
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

const ingestBatch = 1000

func benchIngest(b *testing.B, s *funnel.Store) {
	events := traffic(ingestBatch*64, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		off := (i % 64) * ingestBatch
		batch := events[off : off+ingestBatch]
		if i >= 64 { // the next week: fresh IDs, later times
			b.StopTimer()
			batch = append([]funnel.Event(nil), batch...)
			for j := range batch {
				batch[j].ID += "-" + strconv.Itoa(i)
				batch[j].Time = batch[j].Time.Add(time.Duration(i/64) * 7 * 24 * time.Hour)
			}
			b.StartTimer()
		}
		if _, err := s.Ingest(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*ingestBatch)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkIngest stores batches of 1,000 events.
func BenchmarkIngest(b *testing.B) {
	b.Run("Memory", func(b *testing.B) { benchIngest(b, funnel.NewMemory(funnel.Options{})) })
	b.Run("Redis", func(b *testing.B) {
		benchIngest(b, redisStore(b, redistest.Client(b), funnel.Options{}))
	})
	b.Run("RedisCluster", func(b *testing.B) {
		benchIngest(b, redisStore(b, redistest.Cluster(b), funnel.Options{}))
	})
}

// BenchmarkFunnel5Steps evaluates a five-step funnel over a week of one
// million events, broken down by variant.
func BenchmarkFunnel5Steps(b *testing.B) {
	events := traffic(1_000_000, 2)
	f := funnel.Funnel{Steps: steps(benchSteps...), Window: time.Hour}
	q := funnel.Query{From: benchDay, To: benchDay.Add(7 * 24 * time.Hour), Breakdown: funnel.Variant}
	run := func(b *testing.B, s *funnel.Store) {
		for i := 0; i < len(events); i += 10_000 {
			if _, err := s.Ingest(ctx, events[i:min(i+10_000, len(events))]); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := funnel.Analyze(ctx, s, f, q); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	}
	b.Run("Memory", func(b *testing.B) { run(b, funnel.NewMemory(funnel.Options{})) })
	b.Run("Redis", func(b *testing.B) { run(b, redisStore(b, redistest.Client(b), funnel.Options{})) })
}

func steps(names ...string) []funnel.Step {
	out := make([]funnel.Step, len(names))
	for i, n := range names {
		out[i] = funnel.Step{Event: n}
	}
	return out
}

// BenchmarkAnalyzeScale analyses a five-step funnel over stores of
// growing size, reporting the cost per stored event: a store that scales
// linearly keeps ns/event flat.
func BenchmarkAnalyzeScale(b *testing.B) {
	f := funnel.Funnel{Steps: steps(benchSteps...), Window: time.Hour}
	q := funnel.Query{From: benchDay, To: benchDay.Add(7 * 24 * time.Hour), Breakdown: funnel.Variant}
	sizes := []struct {
		name string
		n    int
	}{{"1e5", 100_000}, {"1e6", 1_000_000}, {"3e6", 3_000_000}}
	run := func(b *testing.B, s *funnel.Store, n int) {
		events := traffic(n, 3)
		for i := 0; i < len(events); i += 10_000 {
			if _, err := s.Ingest(ctx, events[i:min(i+10_000, len(events))]); err != nil {
				b.Fatal(err)
			}
		}
		events = nil
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := funnel.Analyze(ctx, s, f, q); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/event")
	}
	for _, size := range sizes {
		b.Run("memory/"+size.name, func(b *testing.B) {
			run(b, funnel.NewMemory(funnel.Options{Now: func() time.Time { return benchDay.Add(8 * 24 * time.Hour) }}), size.n)
		})
	}
	for _, size := range sizes[:2] {
		b.Run("redis/"+size.name, func(b *testing.B) {
			if testing.Short() {
				b.Skip("short")
			}
			run(b, redisStore(b, redistest.Client(b), funnel.Options{}), size.n)
		})
	}
}
