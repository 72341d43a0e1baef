package logistics_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/logistics"
)

// Two services from Hangzhou to Beijing (zone 2). A 2,300 g parcel of
// 30×20×10 cm weighs 6,000 cm³ / 6,000 = 1,000 g by volume, so it is
// billed at its 2,300 g: on "express" 12.00 for the first 1,000 g plus ⌈1,300/500⌉ = 3 steps of
// 3.00: 21.00; on "economy" 8.00 plus ⌈1,300/1,000⌉ = 2 steps of 2.50:
// 13.00, two days slower. The cheapest comes first.
func Example() {
	zones := map[string]map[string]string{"hangzhou": {"beijing": "2"}}
	tables := []logistics.Table{
		{Carrier: "sf", Service: "express", Days: 1, Zones: zones, Volumetric: logistics.Volumetric{Divisor: 6000}, Prices: map[string]logistics.Price{
			"2": {FirstGrams: 1000, First: decimal.RequireFromString("12.00"), AdditionalGrams: 500, Additional: decimal.RequireFromString("3.00")}}},
		{Carrier: "yto", Service: "economy", Days: 3, Zones: zones, Volumetric: logistics.Volumetric{Divisor: 6000}, Prices: map[string]logistics.Price{
			"2": {FirstGrams: 1000, First: decimal.RequireFromString("8.00"), AdditionalGrams: 1000, Additional: decimal.RequireFromString("2.50")}}},
	}
	quotes, err := logistics.Shop(tables, logistics.Shipment{Parcel: logistics.Parcel{Grams: 2300, LengthMM: 300, WidthMM: 200, HeightMM: 100},
		Origin: "hangzhou", Destination: "beijing"}, logistics.Cheapest, logistics.Constraints{})
	if err != nil {
		panic(err)
	}
	for _, q := range quotes {
		fmt.Printf("%s %s: %s in %d day(s), billed %d g\n", q.Carrier, q.Service, logistics.Money(q.Total).StringFixed(2), q.Days, q.BillableGrams)
	}
	// Output:
	// yto economy: 13.00 in 3 day(s), billed 2300 g
	// sf express: 21.00 in 1 day(s), billed 2300 g
}

// Orders for one recipient within the merge window ship as one parcel
// (here the groups live in an embedded miniredis); the same order added
// again changes nothing, and with another weight it is a conflict.
func ExampleNewRedisMerge() {
	ctx := context.Background()
	srv := miniredis.NewMiniRedis()
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()

	merges, err := logistics.NewRedisMerge(client, logistics.MergeOptions{Prefix: "shop:merge"})
	if err != nil {
		panic(err)
	}
	key := logistics.MergeKey("shop", "hangzhou", logistics.Recipient{Name: "Li Lei", Phone: "138 0000 1111", Address: "12 Main Street"})
	same := logistics.MergeKey("shop", "hangzhou", logistics.Recipient{Name: "LI LEI", Phone: "+86 13800001111", Address: "12 main st."})
	for _, o := range []logistics.MergeOrder{{Key: key, OrderID: "o1", Grams: 400}, {Key: same, OrderID: "o2", Grams: 800}, {Key: key, OrderID: "o1", Grams: 400}} {
		g, err := merges.Add(ctx, o)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: %d order(s), %d g, replayed %v\n", o.OrderID, len(g.Orders), g.Grams, g.Replayed)
	}
	_, err = merges.Add(ctx, logistics.MergeOrder{Key: key, OrderID: "o1", Grams: 500})
	fmt.Println("o1 at 500 g:", errors.Is(err, logistics.ErrIDConflict))
	// Output:
	// o1: 1 order(s), 400 g, replayed false
	// o2: 2 order(s), 1200 g, replayed false
	// o1: 2 order(s), 1200 g, replayed true
	// o1 at 500 g: true
}
