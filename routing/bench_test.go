package routing_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shopkit/shopkit/routing"
)

// BenchmarkAllocate plans a 10-line order over 50 warehouses in 5 regions,
// each holding a random part of the catalogue.
func BenchmarkAllocate(b *testing.B) {
	rng := rand.New(rand.NewPCG(50, 10))
	locs := []routing.Location{{ID: "customer", Region: "r0"}}
	var lanes []routing.Lane
	stock := routing.Stock{}
	for i := 0; i < 50; i++ {
		id := fmt.Sprintf("wh%02d", i)
		locs = append(locs, routing.Location{ID: id, Region: fmt.Sprintf("r%d", i%5), Priority: rng.IntN(10)})
		lanes = append(lanes, routing.Lane{From: id, To: "customer", Cost: 1 + rng.Float64()*50})
		stock[id] = map[string]int64{}
		for s := 0; s < 10; s++ {
			if rng.IntN(3) == 0 {
				stock[id][fmt.Sprintf("sku%d", s)] = int64(rng.IntN(5))
			}
		}
	}
	g, err := routing.Build(locs, lanes, nil)
	if err != nil {
		b.Fatal(err)
	}
	order := routing.Order{Destination: "customer"}
	for s := 0; s < 10; s++ {
		order.Lines = append(order.Lines, routing.OrderLine{SKU: fmt.Sprintf("sku%d", s), Quantity: 1})
	}
	if _, err := routing.Allocate(g, order, stock, routing.AllocateOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := routing.Allocate(g, order, stock, routing.AllocateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
