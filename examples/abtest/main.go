// Command abtest runs a simulated checkout experiment end to end: 100,000
// users are bucketed 40/60 into control and a new checkout button, each
// converts with a known probability (10% in control, 11% with the new
// button: a 10% lift), and the results are read the way an analyst would:
// the sample-ratio-mismatch check, a frequentist t-test and a Bayesian
// reading of the relative lift.
//
//	go run ./examples/abtest                    # sticky assignments in memory
//	go run ./examples/abtest -redis localhost:6379
//	go run ./examples/abtest -cluster 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"github.com/shopkit/shopkit/abtest"
	"github.com/shopkit/shopkit/examples/exampleredis"
)

func main() {
	redisAddr := flag.String("redis", "", "Redis address for sticky assignments (default: in memory)")
	clusterAddrs := flag.String("cluster", "", "comma-separated Redis Cluster seed addresses")
	users := flag.Int("users", 100000, "simulated users")
	smoke := flag.Bool("smoke", false, "a short run for CI")
	flag.Parse()
	if *smoke {
		*users = 5000
	}
	if err := run(*redisAddr, *clusterAddrs, *users); err != nil {
		log.Fatal(err)
	}
}

var conversionRate = []float64{0.10, 0.11} // control, treatment: a 10% lift

func run(redisAddr, clusterAddrs string, users int) error {
	ctx := context.Background()
	store, closeStore, err := open(redisAddr, clusterAddrs)
	if err != nil {
		return err
	}
	defer closeStore()

	exp, err := abtest.Compile(abtest.Experiment{
		Key: "checkout-button", Variations: 2, Weights: []float64{0.4, 0.6}, HashVersion: 2,
	})
	if err != nil {
		return err
	}
	exposures := 0
	assigner := abtest.Assigner{OnExposure: func(abtest.Exposure) { exposures++ }}

	rng := rand.New(rand.NewPCG(2026, 11))
	counts := make([]int64, 2)
	conversions := make([]int64, 2)
	start := time.Now()
	for i := 0; i < users; i++ {
		r, err := assigner.AssignSticky(ctx, exp, abtest.Attributes{"id": "user-" + strconv.Itoa(i)}, store)
		if err != nil {
			return err
		}
		if !r.InExperiment {
			continue
		}
		counts[r.Variation]++
		if rng.Float64() < conversionRate[r.Variation] {
			conversions[r.Variation]++
		}
	}
	elapsed := time.Since(start)
	fmt.Printf("assigned %d users in %v (%d exposures logged)\n", users, elapsed.Round(time.Millisecond), exposures)
	for v, name := range []string{"control", "new button"} {
		fmt.Printf("  %-10s %6d users, %5d conversions (%.2f%%)\n", name, counts[v], conversions[v],
			100*float64(conversions[v])/float64(counts[v]))
	}

	srm, err := abtest.SRM(counts, []float64{0.4, 0.6}, abtest.SRMOptions{})
	if err != nil {
		return err
	}
	fmt.Printf("SRM check: chi-square %.3f, p = %.4f → %s\n", srm.ChiSquare, srm.PValue, verdict(srm.Mismatch))

	control := abtest.Proportion(conversions[0], counts[0])
	treatment := abtest.Proportion(conversions[1], counts[1])
	freq, err := abtest.TTest(control, treatment, abtest.Relative, 0.05)
	if err != nil {
		return err
	}
	fmt.Printf("frequentist: lift %+.2f%%, 95%% CI [%+.2f%%, %+.2f%%], p = %.4f\n",
		100*freq.Estimate, 100*freq.CI[0], 100*freq.CI[1], freq.PValue)
	bayes, err := abtest.Bayesian(control, treatment, abtest.Relative, 0.05)
	if err != nil {
		return err
	}
	fmt.Printf("bayesian:    chance to win %.1f%%, 95%% credible [%+.2f%%, %+.2f%%], risk of shipping %.3f%%\n",
		100*bayes.ChanceToWin, 100*bayes.CI[0], 100*bayes.CI[1], 100*bayes.Risk[1])

	// Sticky assignments: a second pass after a weight change gives every
	// user the variation they had.
	changed, err := abtest.Compile(abtest.Experiment{
		Key: "checkout-button", Variations: 2, Weights: []float64{0.1, 0.9}, HashVersion: 2,
	})
	if err != nil {
		return err
	}
	for i := 0; i < min(users, 1000); i++ {
		attrs := abtest.Attributes{"id": "user-" + strconv.Itoa(i)}
		before := assigner.Assign(exp, attrs)
		after, err := assigner.AssignSticky(ctx, changed, attrs, store)
		if err != nil {
			return err
		}
		if after.Variation != before.Variation {
			return fmt.Errorf("user %d moved from %d to %d after the weights changed", i, before.Variation, after.Variation)
		}
	}
	fmt.Println("sticky: after reweighting to 10/90, the first 1,000 users kept their variations")
	return nil
}

func verdict(mismatch bool) string {
	if mismatch {
		return "MISMATCH: do not trust these results"
	}
	return "split matches the weights"
}

func open(redisAddr, clusterAddrs string) (*abtest.Sticky, func(), error) {
	client := exampleredis.Dial(redisAddr, clusterAddrs)
	if client == nil {
		s := abtest.NewMemorySticky(abtest.StickyOptions{})
		return s, func() { _ = s.Close() }, nil
	}
	prefix := fmt.Sprintf("example:abtest:%d", os.Getpid())
	s, err := abtest.NewRedisSticky(client, abtest.StickyOptions{Prefix: prefix})
	if err != nil {
		return nil, nil, err
	}
	return s, func() {
		_ = s.Close()
		exampleredis.Close(client, "{"+prefix+":*")
	}, nil
}
