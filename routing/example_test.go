package routing_test

import (
	"context"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/routing"
)

// twoWarehouses: two warehouses and a customer zone. The east warehouse is
// nearer (cost 4) than the west one (cost 9).
func twoWarehouses() *routing.Graph {
	g, err := routing.Build(
		[]routing.Location{{ID: "east", Region: "east"}, {ID: "west", Region: "west"}, {ID: "zone-east", Region: "east"}},
		[]routing.Lane{{From: "east", To: "zone-east", Cost: 4}, {From: "west", To: "zone-east", Cost: 9}},
		nil)
	if err != nil {
		panic(err)
	}
	return g
}

// Allocate ships from as few locations as can fill the order, then from
// the destination's region, then by path cost, and says which rule
// decided: east is nearer, but only west can ship both kettles at once.
func Example() {
	g := twoWarehouses()
	stock := routing.Stock{"east": {"kettle": 1}, "west": {"kettle": 5}}
	order := routing.Order{Destination: "zone-east", Lines: []routing.OrderLine{{SKU: "kettle", Quantity: 2}}}
	plan, err := routing.Allocate(g, order, stock, routing.AllocateOptions{})
	if err != nil {
		panic(err)
	}
	for _, s := range plan.Shipments {
		fmt.Printf("ship %d×%s from %s via %v (cost %g)\n", s.Lines[0].Quantity, s.Lines[0].SKU, s.From, s.Path.Locations, s.Path.Cost)
	}
	fmt.Printf("%s: %s\n", plan.Decisions[0].Rule, plan.Decisions[0].Detail)
	// Output:
	// ship 2×kettle from west via [west zone-east] (cost 9)
	// fewest shipments: only west can ship everything in 1 shipment(s)
}

// Live changes go through a shared log (here in an embedded miniredis);
// every instance's Network applies them in the same order.
func ExampleNewRedisLog() {
	ctx := context.Background()
	srv := miniredis.NewMiniRedis()
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()

	log, err := routing.NewRedisLog(client, routing.LogOptions{Prefix: "shop:routing"})
	if err != nil {
		panic(err)
	}
	defer log.Close()
	n := routing.NewNetwork(twoWarehouses())

	// A storm closes the east lane; the same batch appended twice is
	// recorded once.
	for range 2 {
		v, err := log.Append(ctx, "storm-1", []routing.Change{routing.LaneClosed("east", "zone-east")})
		if err != nil {
			panic(err)
		}
		fmt.Println("version", v)
	}
	if err := n.Sync(ctx, log); err != nil {
		panic(err)
	}
	p, _ := n.Load().Route("east", "zone-east")
	fmt.Println("east reaches the zone:", p.Locations != nil)
	p, _ = n.Load().Route("west", "zone-east")
	fmt.Println("west:", p.Locations, p.Cost)
	// Output:
	// version 1
	// version 1
	// east reaches the zone: false
	// west: [west zone-east] 9
}
