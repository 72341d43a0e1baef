// Command logistics ships a day of orders: paid orders for the same
// recipient (written differently) merge into one parcel, every shipment is
// rated on three carriers and the cheapest chosen, valuable ones insured,
// and waybills are created in batches against a fake carrier that rejects
// a few, then retried without creating any twice.
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
	grams     int64
	value     string
	dest      string
}

var orders = []order{
	{"A1001", logistics.Recipient{Name: "Li Lei", Phone: "138 0000 1111", Address: "12 Main Street"}, 400, "59.00", "zhejiang"},
	{"A1002", logistics.Recipient{Name: "LI LEI", Phone: "+86 13800001111", Address: "１２ Main St."}, 800, "129.00", "zhejiang"},
	{"A1003", logistics.Recipient{Name: "li lei", Phone: "13800001111", Address: "12  main  street"}, 300, "35.50", "zhejiang"},
	{"A1004", logistics.Recipient{Name: "Han Meimei", Phone: "139 1111 2222", Address: "8 Harbour Road"}, 2600, "899.00", "guangdong"},
	{"A1005", logistics.Recipient{Name: "Wang Fang", Phone: "137 2222 3333", Address: "3 Lhasa Avenue"}, 1200, "210.00", "tibet"},
	{"A1006", logistics.Recipient{Name: "Zhao Lei", Phone: "136 3333 4444", Address: "77 West Road"}, 5200, "1500.00", "guangdong"},
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
	store, closeStore, err := openStore(redisAddr, clusterAddrs)
	if err != nil {
		return err
	}
	defer closeStore()

	// Merge: orders for one recipient from one shop and warehouse share a key.
	byGroup := map[string]logistics.Group{}
	dest := map[string]string{}
	value := map[string]decimal.Decimal{}
	var keys []string
	for _, o := range orders {
		key := logistics.MergeKey("shop-1", "wh-hz", o.recipient)
		g, err := store.Add(ctx, logistics.MergeOrder{Key: key, OrderID: o.code, Grams: o.grams})
		if err != nil {
			return err
		}
		if _, seen := byGroup[key]; !seen {
			keys = append(keys, key)
		}
		byGroup[key] = g
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
		s := logistics.Shipment{Parcel: logistics.Parcel{Grams: g.Grams, LengthMM: 300, WidthMM: 200, HeightMM: 150},
			Origin: "zhejiang", Destination: dest[key], Value: value[key]}
		quotes, err := rater.Shop(s, logistics.Cheapest, logistics.Constraints{})
		if err != nil {
			return err
		}
		q := quotes[0]
		fmt.Printf("  %-17s %5d g to %-9s via %-3s %s: freight %s, surcharges %s, insurance %s, total %s%s\n",
			strings.Join(codes, "+"), g.Grams, dest[key], q.Carrier, q.Service, money(q.Freight), money(q.Surcharges),
			money(q.Insurance), money(q.Total), map[bool]string{true: " (free shipping)"}[q.FreeShipping])
		reqs = append(reqs, logistics.WaybillRequest{OrderCode: g.Orders[0].ID, Service: q.Carrier + "/" + q.Service, Parcel: s.Parcel})
	}

	// Waybills: the fake carrier rejects one shipment the first time.
	carrier := &logistics.FakeCarrier{Fail: map[string]bool{reqs[len(reqs)-1].OrderCode: true}}
	registry := logistics.NewMemoryRegistry(logistics.RegistryOptions{})
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

func openStore(redisAddr, clusterAddrs string) (*logistics.Merge, func(), error) {
	client := exampleredis.Dial(redisAddr, clusterAddrs)
	if client == nil {
		return logistics.NewMemoryMerge(logistics.MergeOptions{}), func() {}, nil
	}
	prefix := fmt.Sprintf("example:merge:%d", os.Getpid())
	s, err := logistics.NewRedisMerge(client, logistics.MergeOptions{Prefix: prefix})
	if err != nil {
		return nil, nil, err
	}
	return s, func() {
		exampleredis.Close(client, "{"+prefix+":*")
	}, nil
}
