package logistics_test

import (
	"context"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/logistics"
)

// A box of 10¼ × 10¼ × 5¾ in weighing 1 lb 2 oz, billed by UPS's US rule
// (dimensions to the nearest inch, 139 in³/lb, whole pounds up) and by
// DHL Express's (5000 cm³/kg, half kilos up). The inches are converted
// exactly: read as whole millimetres first, DHL's figure would cross 2 kg
// and bill 2.5 kg.
func Example_imperialUnits() {
	ups := logistics.BillingRule{Units: logistics.Imperial, Divisor: 139,
		Dimensions:        logistics.Rounding{Step: decimal.NewFromInt(1), Mode: logistics.RoundHalfUp},
		DimensionalWeight: logistics.Rounding{Step: decimal.NewFromInt(1)},
		ActualWeight:      logistics.Rounding{Step: decimal.NewFromInt(1)}}
	dhl := logistics.BillingRule{Units: logistics.Metric, Divisor: 5000,
		Billable: logistics.Rounding{Step: decimal.RequireFromString("0.5")}}
	box := logistics.Measurement{Units: logistics.Imperial,
		Weight: decimal.NewFromInt(1).Add(logistics.Ounces(decimal.NewFromInt(2))),
		Length: decimal.RequireFromString("10.25"), Width: decimal.RequireFromString("10.25"), Height: decimal.RequireFromString("5.75")}
	for _, c := range []struct {
		name string
		rule logistics.BillingRule
	}{{"ups", ups}, {"dhl", dhl}} {
		b, err := c.rule.Bill(box)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: actual %s, dimensional %s, billed %s (%s), by volume %v\n", c.name, b.Actual, b.Dimensional, b.Billable, b.Units, b.ByVolume)
	}
	// Output:
	// ups: actual 2, dimensional 5, billed 5 (imperial), by volume true
	// dhl: actual 0.51029141625, dimensional 1.979915798225, billed 2 (metric), by volume true
}

// Two cartons shipped together: per-pound rates price the total billable
// weight once (22 lb by volume + 3 lb = 25 lb: 10.00 + 24 × 1.50), with a
// handling fee per carton and a pickup fee per shipment.
func Example_multiParcel() {
	rule := logistics.BillingRule{Units: logistics.Imperial, Divisor: 139,
		Dimensions:        logistics.Rounding{Step: decimal.NewFromInt(1), Mode: logistics.RoundHalfUp},
		DimensionalWeight: logistics.Rounding{Step: decimal.NewFromInt(1)},
		ActualWeight:      logistics.Rounding{Step: decimal.NewFromInt(1)}}
	table := logistics.Table{Carrier: "ups", Service: "ground", Days: 3, Billing: &rule, MultiParcel: logistics.PriceTotalWeight,
		Zones: map[string]map[string]string{"ca": {"ny": "8"}},
		Prices: map[string]logistics.Price{"8": {FirstWeight: decimal.NewFromInt(1), First: decimal.RequireFromString("10.00"),
			AdditionalWeight: decimal.NewFromInt(1), Additional: decimal.RequireFromString("1.50")}},
		ParcelSurcharge: decimal.RequireFromString("2.00"), ShipmentSurcharge: decimal.RequireFromString("5.00")}
	in := func(lb, l, w, h int64) logistics.Measurement {
		return logistics.Measurement{Units: logistics.Imperial, Weight: decimal.NewFromInt(lb),
			Length: decimal.NewFromInt(l), Width: decimal.NewFromInt(w), Height: decimal.NewFromInt(h)}
	}
	q, err := table.Rate(logistics.Shipment{Origin: "ca", Destination: "ny",
		Measurements: []logistics.Measurement{in(16, 20, 15, 10), in(1, 8, 6, 6)}})
	if err != nil {
		panic(err)
	}
	for i, p := range q.Parcels {
		fmt.Printf("carton %d: billed %s lb, surcharges %s\n", i+1, p.Billed.Billable, logistics.Money(p.Surcharges).StringFixed(2))
	}
	fmt.Printf("shipment: %s lb, freight %s, surcharges %s, total %s\n", q.Billed.Billable,
		logistics.Money(q.Freight).StringFixed(2), logistics.Money(q.Surcharges).StringFixed(2), logistics.Money(q.Total).StringFixed(2))
	// Output:
	// carton 1: billed 22 lb, surcharges 2.00
	// carton 2: billed 3 lb, surcharges 2.00
	// shipment: 25 lb, freight 46.00, surcharges 9.00, total 55.00
}

// A merged order of books, mugs and cards packed into cartons from the
// catalogue: the packing says which box each unit went in, where and which
// way up, and gives each box's outer dimensions and weight to rate.
func Example_boxPacking() {
	boxes := []logistics.Box{
		{Name: "small", InnerLengthMM: 250, InnerWidthMM: 180, InnerHeightMM: 100, TareGrams: 120},
		{Name: "medium", InnerLengthMM: 350, InnerWidthMM: 250, InnerHeightMM: 200, OuterLengthMM: 356, OuterWidthMM: 256, OuterHeightMM: 206, TareGrams: 250},
	}
	items := []logistics.Item{
		{ID: "book", LengthMM: 240, WidthMM: 170, HeightMM: 30, Grams: 600, Quantity: 2},
		{ID: "mug", LengthMM: 120, WidthMM: 90, HeightMM: 100, Grams: 350, Quantity: 3, Upright: true},
	}
	p, err := logistics.Pack(items, boxes)
	if err != nil {
		panic(err)
	}
	fmt.Print(p)
	vol, _ := logistics.Volumetric{Divisor: 6000}.VolumetricGrams(p.Boxes[0].Parcel)
	fmt.Printf("volumetric %d g against %d g actual\n", vol, p.Boxes[0].Parcel.Grams)
	// Output:
	// box 1: medium 356×256×206 mm, 2500 g, 32.5% full
	//   book at (0,0,0) as 240×170×30
	//   book at (0,0,30) as 240×170×30
	//   mug at (240,0,0) as 90×120×100
	//   mug at (240,120,0) as 90×120×100
	//   mug at (0,0,60) as 120×90×100
	// volumetric 3130 g against 2500 g actual
}

// The waybill registry on Redis: a batch retried after a restart, or run
// by two instances at once, sends each order to the carrier once. Here
// the first run loses one order to a rejected address; the retry, from a
// new registry as a restarted instance has, sends only that order.
func Example_waybillsRedis() {
	ctx := context.Background()
	srv := miniredis.NewMiniRedis()
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()
	client := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer client.Close()

	carrier := &logistics.FakeCarrier{Fail: map[string]bool{"o2": true}}
	reqs := []logistics.WaybillRequest{{OrderCode: "o1"}, {OrderCode: "o2"}, {OrderCode: "o3"}}
	for run := 1; run <= 2; run++ {
		reg, err := logistics.NewRedisRegistry(client, logistics.RegistryOptions{Prefix: "shop:waybill"})
		if err != nil {
			panic(err)
		}
		for _, r := range logistics.CreateWaybills(ctx, carrier, reg, reqs, logistics.BatchOptions{}) {
			fmt.Printf("run %d %s: %s reused=%v err=%v\n", run, r.OrderCode, r.Waybill.Number, r.Reused, r.Err != nil)
		}
	}
	fmt.Println("waybills created:", carrier.Created())
	// Output:
	// run 1 o1: FK100001 reused=false err=false
	// run 1 o2:  reused=false err=true
	// run 1 o3: FK100002 reused=false err=false
	// run 2 o1: FK100001 reused=true err=false
	// run 2 o2: FK100003 reused=false err=false
	// run 2 o3: FK100002 reused=true err=false
	// waybills created: 3
}

// The billable weight alone, for a shop that only needs that: a parcel in
// grams and millimetres on a rule that bills 8000 cm³/kg, up to 100 g.
func ExampleBillingRule_BillParcel() {
	rule := logistics.BillingRule{Units: logistics.Metric, Divisor: 8000,
		Billable: logistics.Rounding{Step: decimal.RequireFromString("0.1")}}
	b, err := rule.BillParcel(logistics.Parcel{Grams: 1234, LengthMM: 400, WidthMM: 300, HeightMM: 200})
	if err != nil {
		panic(err)
	}
	fmt.Printf("actual %s kg, dimensional %s kg, billed %s kg = %d g\n", b.Actual, b.Dimensional, b.Billable, b.Grams)
	// Output:
	// actual 1.234 kg, dimensional 3 kg, billed 3 kg = 3000 g
}
