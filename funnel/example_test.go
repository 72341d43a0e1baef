package funnel_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/funnel"
)

func Example() {
	ctx := context.Background()
	store := funnel.NewMemory(funnel.Options{})
	at := time.Now().UTC().Truncate(time.Hour).Add(-5 * time.Hour)
	ev := func(id, user, name string, minutes int, variant string) funnel.Event {
		return funnel.Event{ID: id, UserID: user, Name: name, Variant: variant,
			Time: at.Add(time.Duration(minutes) * time.Minute)}
	}
	pay := ev("e7", "ann", "pay", 9, "B")
	pay.OrderID, pay.Amount = "o1", decimal.RequireFromString("59.90")
	_, _ = store.Ingest(ctx, []funnel.Event{
		ev("e1", "ann", "view", 0, "B"), ev("e2", "ann", "cart", 4, "B"), pay,
		ev("e3", "bob", "view", 0, "A"), ev("e4", "bob", "cart", 2, "A"),
		ev("e5", "cy", "view", 1, "B"),
	})

	f := funnel.Funnel{Steps: []funnel.Step{{Event: "view"}, {Event: "cart"}, {Event: "pay"}}, Window: time.Hour}
	rep, _ := funnel.Analyze(ctx, store, f, funnel.Query{From: at, To: at.Add(time.Hour), Breakdown: funnel.Variant})
	for _, g := range rep.Groups {
		fmt.Printf("variant %s:", g.Key)
		for _, s := range g.Steps {
			fmt.Printf(" %s %d (%.0f%%)", s.Event, s.Count, 100*s.Overall)
		}
		fmt.Println()
	}
	k, _ := funnel.Measure(ctx, store, funnel.KPIQuery{From: at, To: at.Add(time.Hour)})
	fmt.Println("GMV", k[0].GMV, "ARPU", k[0].ARPU(2), "buyers", k[0].Buyers, "of", k[0].ActiveUsers)
	// Output:
	// variant A: view 1 (100%) cart 1 (100%) pay 0 (0%)
	// variant B: view 2 (100%) cart 1 (50%) pay 1 (50%)
	// GMV 59.9 ARPU 19.97 buyers 1 of 3
}
