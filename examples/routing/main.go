// Command routing plans orders on a national warehouse network: three
// regional warehouses, a dozen forward warehouses and customer zones. It
// allocates a batch of orders and prints each plan with the rule that
// decided it, then closes a lane through the shared change log (as an
// operator would during a storm), lets the network pick the change up, and
// re-plans the order that used it. Each order is planned against the stock
// as given; a service would reserve what a plan takes (see inventory).
//
//	go run ./examples/routing                   # change log in memory
//	go run ./examples/routing -redis localhost:6379
//	go run ./examples/routing -cluster 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/shopkit/shopkit/examples/exampleredis"
	"github.com/shopkit/shopkit/routing"
)

func main() {
	redisAddr := flag.String("redis", "", "Redis address for the shared change log (default: in memory)")
	clusterAddrs := flag.String("cluster", "", "comma-separated Redis Cluster seed addresses")
	orders := flag.Int("orders", 8, "orders to plan")
	flag.Bool("smoke", false, "accepted for CI; the example is already short")
	flag.Parse()
	if err := run(*redisAddr, *clusterAddrs, *orders); err != nil {
		log.Fatal(err)
	}
}

var regions = []string{"north", "east", "south"}

// buildNetwork makes the graph: each region has a regional warehouse
// (RDC), four forward warehouses (FDC) and a customer zone; RDCs link to
// each other and to every FDC of their region; every warehouse reaches its
// region's customers, and RDCs reach every customer zone at a higher cost.
func buildNetwork() (*routing.Graph, error) {
	var locs []routing.Location
	var lanes []routing.Lane
	for ri, r := range regions {
		rdc := "rdc-" + r
		locs = append(locs, routing.Location{ID: rdc, Region: r, Priority: 5}, routing.Location{ID: "zone-" + r, Region: r})
		for f := 1; f <= 4; f++ {
			fdc := fmt.Sprintf("fdc-%s-%d", r, f)
			locs = append(locs, routing.Location{ID: fdc, Region: r, Priority: 1})
			lanes = append(lanes,
				routing.Lane{From: rdc, To: fdc, Cost: float64(3 + f), Hours: 6},
				routing.Lane{From: fdc, To: "zone-" + r, Cost: float64(2 + f%3), Hours: 4})
		}
		lanes = append(lanes, routing.Lane{From: rdc, To: "zone-" + r, Cost: 9, Hours: 12})
		for oi, o := range regions {
			if oi != ri {
				lanes = append(lanes,
					routing.Lane{From: rdc, To: "rdc-" + o, Cost: 20, Hours: 24},
					routing.Lane{From: rdc, To: "zone-" + o, Cost: 30, Hours: 36})
			}
		}
	}
	// Cost plus 0.5 per hour in transit.
	return routing.Build(locs, lanes, routing.Blend(0.5))
}

func run(redisAddr, clusterAddrs string, n int) error {
	ctx := context.Background()
	g, err := buildNetwork()
	if err != nil {
		return err
	}
	changes, closeLog, err := openLog(redisAddr, clusterAddrs)
	if err != nil {
		return err
	}
	defer closeLog()
	network := routing.NewNetwork(g)
	// Follow blocks until its context ends: run it beside the work, and
	// wait for it on the way out.
	followCtx, stopFollowing := context.WithCancel(ctx)
	followed := make(chan error, 1)
	go func() {
		followed <- network.Follow(followCtx, changes, routing.FollowOptions{Poll: 100 * time.Millisecond, OnError: func(err error) { log.Print(err) }})
	}()
	defer func() {
		stopFollowing()
		if err := <-followed; err != nil {
			log.Print(err)
		}
	}()

	rng := rand.New(rand.NewPCG(11, 23))
	stock := routing.Stock{}
	for _, l := range locations(g) {
		if strings.HasPrefix(l, "zone-") {
			continue
		}
		stock[l] = map[string]int64{"kettle": int64(rng.IntN(4)), "toaster": int64(rng.IntN(3)), "mixer": int64(rng.IntN(2))}
	}
	skus := []string{"kettle", "toaster", "mixer"}
	var batch []routing.Order
	for i := 0; i < n; i++ {
		o := routing.Order{Destination: "zone-" + regions[i%len(regions)]}
		for _, s := range skus[:1+rng.IntN(3)] {
			o.Lines = append(o.Lines, routing.OrderLine{SKU: s, Quantity: int64(1 + rng.IntN(2))})
		}
		batch = append(batch, o)
	}

	var planned []routing.Plan
	for i, o := range batch {
		p, err := routing.Allocate(network.Load(), o, stock, routing.AllocateOptions{})
		if err != nil {
			fmt.Printf("order %d to %s: %v\n", i+1, o.Destination, err)
			planned = append(planned, routing.Plan{})
			continue
		}
		planned = append(planned, p)
		printPlan(i+1, o, p)
	}

	// Close the first lane the first shipment travels, through the log.
	var closed routing.Change
	for i, p := range planned {
		if len(p.Shipments) == 0 || len(p.Shipments[0].Path.Locations) < 2 {
			continue
		}
		path := p.Shipments[0].Path.Locations
		closed = routing.LaneClosed(path[0], path[1])
		fmt.Printf("\nclosing lane %s→%s (used by order %d)\n", closed.From, closed.To, i+1)
		if _, err := changes.Append(ctx, "storm-1", []routing.Change{closed}); err != nil {
			return err
		}
		deadline := time.Now().Add(5 * time.Second)
		for network.Load().Version() == g.Version() {
			if time.Now().After(deadline) {
				return fmt.Errorf("the network did not pick up the closure")
			}
			time.Sleep(5 * time.Millisecond)
		}
		p2, err := routing.Allocate(network.Load(), batch[i], stock, routing.AllocateOptions{})
		if err != nil {
			fmt.Printf("re-plan of order %d: %v\n", i+1, err)
			return nil
		}
		printPlan(i+1, batch[i], p2)
		for _, s := range p2.Shipments {
			for j := 0; j+1 < len(s.Path.Locations); j++ {
				if s.Path.Locations[j] == closed.From && s.Path.Locations[j+1] == closed.To {
					return fmt.Errorf("the re-plan still uses the closed lane")
				}
			}
		}
		fmt.Println("re-planned around the closed lane")
		return nil
	}
	return nil
}

func printPlan(n int, o routing.Order, p routing.Plan) {
	var lines []string
	for _, l := range o.Lines {
		lines = append(lines, fmt.Sprintf("%d×%s", l.Quantity, l.SKU))
	}
	fmt.Printf("order %d to %s (%s):\n", n, o.Destination, strings.Join(lines, ", "))
	for _, s := range p.Shipments {
		var sl []string
		for _, l := range s.Lines {
			sl = append(sl, fmt.Sprintf("%d×%s", l.Quantity, l.SKU))
		}
		fmt.Printf("  ship %s from %s via %s (cost %.1f)\n", strings.Join(sl, ", "), s.From, strings.Join(s.Path.Locations, "→"), s.Path.Cost)
	}
	for _, d := range p.Decisions {
		fmt.Printf("  decided by %q: %s\n", d.Rule, d.Detail)
	}
}

func locations(g *routing.Graph) []string {
	out := make([]string, g.Len())
	for i := range out {
		out[i] = g.ID(i)
	}
	return out
}

func openLog(redisAddr, clusterAddrs string) (*routing.Log, func(), error) {
	client := exampleredis.Dial(redisAddr, clusterAddrs)
	if client == nil {
		l := routing.NewMemoryLog(routing.LogOptions{})
		return l, func() { _ = l.Close() }, nil
	}
	prefix := fmt.Sprintf("example:routing:%d", os.Getpid())
	l, err := routing.NewRedisLog(client, routing.LogOptions{Prefix: prefix})
	if err != nil {
		return nil, nil, err
	}
	return l, func() {
		_ = l.Close()
		exampleredis.Close(client, "{"+prefix+"}*")
	}, nil
}
