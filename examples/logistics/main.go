// Command logistics ships a day of orders: paid orders for the same
// recipient (written differently) merge into one shipment, whose items are
// packed into cartons; every shipment is rated, carton by carton, on three
// carriers and the cheapest chosen, valuable ones insured; and waybills
// are created in batches against a fake carrier that rejects a few, then
// retried without creating any twice (with -redis or -cluster, through a
// waybill registry in Redis that a restarted instance would share).
//
//	go run ./examples/logistics                  # merge windows in memory
//	go run ./examples/logistics -redis localhost:6379
//	go run ./examples/logistics -cluster 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/examples/exampleredis"
	"github.com/shopkit/shopkit/logistics"
)

type order struct {
	code      string
	recipient logistics.Recipient
	items     []logistics.Item
	value     string
	dest      string
}

// grams is what the order weighs: its items.
func (o order) grams() int64 {
	var g int64
	for _, it := range o.items {
		g += it.Grams * int64(max(it.Quantity, 1))
	}
	return g
}

// The catalogue's items, by their packed dimensions.
var (
	mug    = logistics.Item{ID: "mug", LengthMM: 120, WidthMM: 90, HeightMM: 100, Grams: 400, Upright: true}
	teaTin = logistics.Item{ID: "tea-tin", LengthMM: 80, WidthMM: 80, HeightMM: 150, Grams: 300}
	kettle = logistics.Item{ID: "kettle", LengthMM: 240, WidthMM: 180, HeightMM: 250, Grams: 1300, Upright: true}
	rug    = logistics.Item{ID: "rug", LengthMM: 600, WidthMM: 150, HeightMM: 150, Grams: 2600}
)

func qty(it logistics.Item, n int) logistics.Item { it.Quantity = n; return it }

var orders = []order{
	{"A1001", logistics.Recipient{Name: "Li Lei", Phone: "138 0000 1111", Address: "12 Main Street"}, []logistics.Item{mug}, "59.00", "zhejiang"},
	{"A1002", logistics.Recipient{Name: "LI LEI", Phone: "+86 13800001111", Address: "１２ Main St."}, []logistics.Item{qty(mug, 2)}, "129.00", "zhejiang"},
	{"A1003", logistics.Recipient{Name: "li lei", Phone: "13800001111", Address: "12  main  street"}, []logistics.Item{teaTin}, "35.50", "zhejiang"},
	{"A1004", logistics.Recipient{Name: "Han Meimei", Phone: "139 1111 2222", Address: "8 Harbour Road"}, []logistics.Item{kettle, qty(mug, 3)}, "899.00", "guangdong"},
	{"A1005", logistics.Recipient{Name: "Wang Fang", Phone: "137 2222 3333", Address: "3 Lhasa Avenue"}, []logistics.Item{qty(teaTin, 4)}, "210.00", "tibet"},
	{"A1006", logistics.Recipient{Name: "Zhao Lei", Phone: "136 3333 4444", Address: "77 West Road"}, []logistics.Item{rug, kettle, qty(mug, 2)}, "1500.00", "guangdong"},
}

// cartons is the warehouse's box catalogue.
var cartons = []logistics.Box{
	{Name: "S", InnerLengthMM: 250, InnerWidthMM: 200, InnerHeightMM: 160, OuterLengthMM: 256, OuterWidthMM: 206, OuterHeightMM: 166, TareGrams: 150},
	{Name: "M", InnerLengthMM: 400, InnerWidthMM: 300, InnerHeightMM: 260, OuterLengthMM: 406, OuterWidthMM: 306, OuterHeightMM: 266, TareGrams: 300, MaxGrams: 15000},
	{Name: "L", InnerLengthMM: 650, InnerWidthMM: 320, InnerHeightMM: 300, OuterLengthMM: 656, OuterWidthMM: 326, OuterHeightMM: 306, TareGrams: 500, MaxGrams: 20000},
}

func main() {
	redisAddr := flag.String("redis", "", "Redis address for merge windows (default: in memory)")
	clusterAddrs := flag.String("cluster", "", "comma-separated Redis Cluster seed addresses")
	flag.Bool("smoke", false, "accepted for CI; the example is already short")
	flag.Parse()
	if err := run(*redisAddr, *clusterAddrs); err != nil {
		log.Fatal(err)
	}
}

func carriers() []logistics.Table {
	d := decimal.RequireFromString
	ins := &logistics.Insurance{Floor: d("200"), RateBP: 50, MinimumPremium: d("2"), Cap: d("5000")}
	zones := map[string]map[string]string{"zhejiang": {"zhejiang": "local", "guangdong": "national", "tibet": "remote"}}
	mk := func(carrier, service string, days int, divisor int64, local, national, remote [2]string) logistics.Table {
		price := func(p [2]string) logistics.Price {
			return logistics.Price{FirstGrams: 1000, First: d(p[0]), AdditionalGrams: 1000, Additional: d(p[1])}
		}
		return logistics.Table{Carrier: carrier, Service: service, Days: days, StepGrams: 100,
			Volumetric: logistics.Volumetric{Divisor: divisor, Rounding: logistics.DimUpToCM}, Zones: zones,
			Prices:    map[string]logistics.Price{"local": price(local), "national": price(national), "remote": price(remote)},
			Insurance: ins, FreeOver: d("300")}
	}
	return []logistics.Table{
		mk("sf", "express", 1, 6000, [2]string{"13", "2"}, [2]string{"23", "13"}, [2]string{"30", "20"}),
		mk("yto", "standard", 3, 6000, [2]string{"8", "1"}, [2]string{"12", "6"}, [2]string{"20", "12"}),
		mk("jd", "standard", 2, 8000, [2]string{"10", "1.5"}, [2]string{"14", "7"}, [2]string{"22", "14"}),
	}
}

func run(redisAddr, clusterAddrs string) error {
	ctx := context.Background()
	store, registry, closeStore, err := openStore(redisAddr, clusterAddrs)
	if err != nil {
		return err
	}
	defer closeStore()

	// Merge: orders for one recipient from one shop and warehouse share a key.
	byGroup := map[string]logistics.Group{}
	dest := map[string]string{}
	value := map[string]decimal.Decimal{}
	items := map[string][]logistics.Item{}
	var keys []string
	for _, o := range orders {
		key := logistics.MergeKey("shop-1", "wh-hz", o.recipient)
		g, err := store.Add(ctx, logistics.MergeOrder{Key: key, OrderID: o.code, Grams: o.grams()})
		if err != nil {
			return err
		}
		if _, seen := byGroup[key]; !seen {
			keys = append(keys, key)
		}
		byGroup[key] = g
		items[key] = append(items[key], o.items...)
		dest[key] = o.dest
		value[key] = value[key].Add(decimal.RequireFromString(o.value))
	}
	fmt.Printf("%d orders → %d shipments after merging\n", len(orders), len(keys))

	rater, err := logistics.NewRater(carriers())
	if err != nil {
		return err
	}
	var reqs []logistics.WaybillRequest
	for _, key := range keys {
		g := byGroup[key]
		var codes []string
		for _, o := range g.Orders {
			codes = append(codes, o.ID)
		}
		// Pack the merged orders' items: the cartons' outer dimensions and
		// weights are what the carriers bill, by volume where it counts.
		packing, err := logistics.Pack(items[key], cartons)
		if err != nil {
			return err
		}
		var boxes []string
		for _, b := range packing.Boxes {
			boxes = append(boxes, b.Box.Name)
		}
		s := logistics.Shipment{Parcels: packing.Parcels(), Origin: "zhejiang", Destination: dest[key], Value: value[key]}
		quotes, err := rater.Shop(s, logistics.Cheapest, logistics.Constraints{})
		if err != nil {
			return err
		}
		q := quotes[0]
		fmt.Printf("  %-17s %5d g in %-5s to %-9s billed %5d g via %-3s %s: freight %s, surcharges %s, insurance %s, total %s%s\n",
			strings.Join(codes, "+"), g.Grams, strings.Join(boxes, "+"), dest[key], q.BillableGrams, q.Carrier, q.Service, money(q.Freight), money(q.Surcharges),
			money(q.Insurance), money(q.Total), map[bool]string{true: " (free shipping)"}[q.FreeShipping])
		reqs = append(reqs, logistics.WaybillRequest{OrderCode: g.Orders[0].ID, Service: q.Carrier + "/" + q.Service, Parcel: packing.Boxes[0].Parcel})
	}

	// Waybills: the fake carrier rejects one shipment the first time.
	carrier := &logistics.FakeCarrier{Fail: map[string]bool{reqs[len(reqs)-1].OrderCode: true}}
	for attempt := 1; attempt <= 2; attempt++ {
		res := logistics.CreateWaybills(ctx, carrier, registry, reqs, logistics.BatchOptions{ChunkSize: 2, Concurrency: 2})
		failed := 0
		for _, r := range res {
			if r.Err != nil {
				failed++
				fmt.Printf("  attempt %d: %s failed: %v\n", attempt, r.OrderCode, r.Err)
			}
		}
		fmt.Printf("waybills, attempt %d: %d created so far, %d failed\n", attempt, carrier.Created(), failed)
		if failed == 0 {
			break
		}
	}
	if carrier.Created() != len(reqs) {
		return fmt.Errorf("created %d waybills for %d shipments", carrier.Created(), len(reqs))
	}
	return nil
}

func money(minor int64) string { return logistics.Money(minor).StringFixed(2) }

// openStore returns the merge store and the waybill registry: in memory,
// or in Redis when an address is given.
func openStore(redisAddr, clusterAddrs string) (*logistics.Merge, *logistics.Registry, func(), error) {
	client := exampleredis.Dial(redisAddr, clusterAddrs)
	if client == nil {
		return logistics.NewMemoryMerge(logistics.MergeOptions{}), logistics.NewMemoryRegistry(logistics.RegistryOptions{}), func() {}, nil
	}
	prefix := fmt.Sprintf("example:merge:%d", os.Getpid())
	s, err := logistics.NewRedisMerge(client, logistics.MergeOptions{Prefix: prefix})
	if err != nil {
		return nil, nil, nil, err
	}
	reg, err := logistics.NewRedisRegistry(client, logistics.RegistryOptions{Prefix: prefix + ":waybill"})
	if err != nil {
		return nil, nil, nil, err
	}
	return s, reg, func() {
		exampleredis.Close(client, "{"+prefix+":*")
	}, nil
}
