// Command funnel simulates a week of shop traffic for an experiment with
// two variants — B's product page makes more visitors add to cart — and
// reads it back: the five-step funnel per variant, the lift in paid
// conversion with its p-value, daily conversion, and the commerce KPIs
// (GMV net of refunds, AOV, ARPU, ARPPU, repeat-purchase rate). With
// -listen it also serves the same figures in Prometheus text format at
// /metrics, computed from the store on every scrape.
//
//	go run ./examples/funnel                        # events in memory
//	go run ./examples/funnel -listen 127.0.0.1:9464 # then curl 127.0.0.1:9464/metrics
//	go run ./examples/funnel -redis localhost:6379
//	go run ./examples/funnel -cluster 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/abtest"
	"github.com/shopkit/shopkit/examples/exampleredis"
	"github.com/shopkit/shopkit/funnel"
)

var steps = []funnel.Step{{Event: "view"}, {Event: "click"}, {Event: "cart"}, {Event: "order"}, {Event: "pay"}}

// The simulated behaviour: the chance of going on from each step to the
// next, per variant. B's only difference is at the cart: 40% → 48%.
var goOn = map[string][4]float64{
	"A": {0.60, 0.40, 0.55, 0.90},
	"B": {0.60, 0.48, 0.55, 0.90},
}

func main() {
	redisAddr := flag.String("redis", "", "Redis address for the event store (default: in memory)")
	clusterAddrs := flag.String("cluster", "", "comma-separated Redis Cluster seed addresses")
	listen := flag.String("listen", "", "serve /metrics in Prometheus text format on this address")
	smoke := flag.Bool("smoke", false, "simulate fewer users, for CI")
	flag.Parse()
	users := 20_000
	if *smoke {
		users = 2_000
	}
	if err := run(*redisAddr, *clusterAddrs, *listen, users); err != nil {
		log.Fatal(err)
	}
}

func run(redisAddr, clusterAddrs, listen string, users int) error {
	ctx := context.Background()
	store, closeStore, err := openStore(redisAddr, clusterAddrs)
	if err != nil {
		return err
	}
	defer closeStore()

	// The last seven whole UTC days.
	to := time.Now().UTC().Truncate(24 * time.Hour)
	from := to.Add(-7 * 24 * time.Hour)
	events := simulate(rand.New(rand.NewSource(1)), users, from)
	start := time.Now()
	var stored int
	for i := 0; i < len(events); i += 1000 {
		res, err := store.Ingest(ctx, events[i:min(i+1000, len(events))])
		if err != nil {
			return err
		}
		stored += res.Stored
	}
	elapsed := time.Since(start)
	fmt.Printf("ingested %d events from %d users in %v (%.0f events/s)\n",
		stored, users, elapsed.Round(time.Millisecond), float64(stored)/elapsed.Seconds())
	// Replaying a batch (a client retry) stores nothing twice.
	if res, err := store.Ingest(ctx, events[:1000]); err != nil || res.Duplicates != 1000 {
		return fmt.Errorf("replayed batch: %+v, %v", res, err)
	}

	week := funnel.Query{From: from, To: to, Breakdown: funnel.Variant}
	shop := funnel.Funnel{Steps: steps, Window: time.Hour}
	rep, err := funnel.Analyze(ctx, store, shop, week)
	if err != nil {
		return err
	}
	fmt.Println("\nfunnel, one hour window, unique users per variant:")
	for _, g := range rep.Groups {
		fmt.Printf("  variant %s\n", g.Key)
		for i, s := range g.Steps {
			fmt.Printf("    %-6s %6d  %5.1f%% of previous  %5.1f%% overall", s.Event, s.Count, 100*s.Conversion, 100*s.Overall)
			if i > 0 {
				fmt.Printf("  median %v from view", s.TimeToConvert.Median().Round(time.Second))
			}
			fmt.Println()
		}
	}
	if err := compare(rep); err != nil {
		return err
	}

	daily := funnel.Query{From: from, To: to, Interval: funnel.Daily}
	byDay, err := funnel.Analyze(ctx, store, shop, daily)
	if err != nil {
		return err
	}
	fmt.Println("\npaid conversion per day:")
	for _, g := range byDay.Groups {
		fmt.Printf("  %s  %5d entered  %5.2f%% paid\n", g.Start.Format("Mon 02 Jan"), g.Steps[0].Count, 100*g.Steps[4].Overall)
	}

	kpis, err := funnel.Measure(ctx, store, funnel.KPIQuery{From: from, To: to, Basis: funnel.Net, Breakdown: funnel.Variant})
	if err != nil {
		return err
	}
	fmt.Println("\nKPIs, GMV net of refunds:")
	for _, k := range kpis {
		fmt.Printf("  variant %s  GMV %s  refunds %s  orders %d  AOV %s  ARPU %s  ARPPU %s  repeat %.1f%%\n",
			k.Key, k.GMV.StringFixed(2), k.Refunds.StringFixed(2), k.Orders, k.AOV(2).StringFixed(2),
			k.ARPU(2).StringFixed(2), k.ARPPU(2).StringFixed(2), 100*k.RepeatRate())
	}

	if listen == "" {
		var sb strings.Builder
		if err := writeMetrics(ctx, &sb, store, from, to); err != nil {
			return err
		}
		lines := strings.SplitAfter(sb.String(), "\n")
		fmt.Printf("\nthe first lines of /metrics (serve them with -listen):\n%s", strings.Join(lines[:min(8, len(lines))], ""))
		return nil
	}
	return serve(ctx, listen, store, from, to)
}

// compare reads the experiment: paid conversion of the users who entered,
// B against A, with Welch's t-test from the abtest package.
func compare(rep *funnel.Report) error {
	stats := map[string]abtest.Stat{}
	for _, g := range rep.Groups {
		stats[g.Key] = abtest.Proportion(g.Steps[len(g.Steps)-1].Count, g.Steps[0].Count)
	}
	res, err := abtest.TTest(stats["A"], stats["B"], abtest.Relative, 0.05)
	if err != nil {
		return err
	}
	fmt.Printf("\npaid conversion, B vs A: %+.1f%% (95%% CI %+.1f%% to %+.1f%%), p = %.4f; simulated: +20%%\n",
		100*res.Estimate, 100*res.CI[0], 100*res.CI[1], res.PValue)
	return nil
}

// simulate returns a week of events: each user, in one variant and one
// channel, has one to three sessions that walk down the funnel by the
// goOn odds; a paid order is refunded one time in twenty.
func simulate(r *rand.Rand, users int, from time.Time) []funnel.Event {
	var out []funnel.Event
	n := 0
	add := func(e funnel.Event) {
		n++
		e.ID = "ev-" + strconv.Itoa(n)
		out = append(out, e)
	}
	channels := []string{"app", "web", "mini"}
	for u := 0; u < users; u++ {
		user := "user-" + strconv.Itoa(u)
		variant := []string{"A", "B"}[r.Intn(2)]
		channel := channels[r.Intn(len(channels))]
		for s, sessions := 0, 1+r.Intn(3); s < sessions; s++ {
			at := from.Add(time.Duration(r.Int63n(int64(7*24*time.Hour - 2*time.Hour))))
			sku := "sku-" + strconv.Itoa(r.Intn(40))
			base := funnel.Event{UserID: user, Variant: variant, Channel: channel, SKU: sku}
			for step := range steps {
				e := base
				e.Name, e.Time = steps[step].Event, at
				if step >= 3 {
					e.OrderID = user + "-" + strconv.Itoa(s)
					e.Amount = decimal.New(int64(1990+r.Intn(48000)), -2)
				}
				add(e)
				if step == len(steps)-1 {
					if r.Intn(20) == 0 {
						refund := e
						refund.Name, refund.Time = "refund", at.Add(time.Hour)
						add(refund)
					}
					break
				}
				if r.Float64() >= goOn[variant][step] {
					break
				}
				at = at.Add(time.Duration(10+r.Intn(300)) * time.Second)
			}
		}
	}
	return out
}

func openStore(redisAddr, clusterAddrs string) (*funnel.Store, func(), error) {
	client := exampleredis.Dial(redisAddr, clusterAddrs)
	if client == nil {
		return funnel.NewMemory(funnel.Options{}), func() {}, nil
	}
	prefix := fmt.Sprintf("example:funnel:%d", os.Getpid())
	s, err := funnel.NewRedis(client, funnel.Options{Prefix: prefix, HyperLogLog: true})
	if err != nil {
		return nil, nil, err
	}
	return s, func() { exampleredis.Close(client, "{"+prefix+":*") }, nil
}

// serve answers /metrics until SIGINT, then shuts down gracefully.
func serve(ctx context.Context, addr string, store *funnel.Store, from, to time.Time) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		var sb strings.Builder
		if err := writeMetrics(r.Context(), &sb, store, from, to); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write([]byte(sb.String()))
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Printf("\nserving http://%s/metrics (Ctrl-C to stop)\n", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
