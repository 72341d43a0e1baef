package funnel_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/funnel"
)

// Events stored in Redis (here an embedded miniredis) and a funnel over
// them: of 3 viewers 2 carted and 1 paid; a replayed batch stores nothing.
func ExampleNewRedis() {
	ctx := context.Background()
	srv := miniredis.NewMiniRedis()
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()

	store, err := funnel.NewRedis(client, funnel.Options{Prefix: "shop:funnel", Shards: 2})
	if err != nil {
		panic(err)
	}
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	var events []funnel.Event
	add := func(user, name string, minute int) {
		events = append(events, funnel.Event{ID: fmt.Sprint(user, "-", name), UserID: user, Name: name, Time: t0.Add(time.Duration(minute) * time.Minute)})
	}
	add("ann", "view", 0)
	add("ann", "cart", 1)
	add("ann", "pay", 2)
	add("bob", "view", 0)
	add("bob", "cart", 5)
	add("cy", "view", 3)
	for range 2 {
		res, err := store.Ingest(ctx, events)
		if err != nil {
			panic(err)
		}
		fmt.Printf("stored %d, duplicates %d\n", res.Stored, res.Duplicates)
	}
	rep, err := funnel.Analyze(ctx, store, funnel.Funnel{Steps: []funnel.Step{{Event: "view"}, {Event: "cart"}, {Event: "pay"}}},
		funnel.Query{From: t0.Add(-time.Minute), To: t0.Add(time.Hour)})
	if err != nil {
		panic(err)
	}
	for _, s := range rep.Groups[0].Steps {
		fmt.Println(s.Event, s.Count)
	}
	// Output:
	// stored 6, duplicates 0
	// stored 0, duplicates 6
	// view 3
	// cart 2
	// pay 1
}
