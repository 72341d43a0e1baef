package logistics_test

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/logistics"
)

// BenchmarkShop rates one parcel across 10 carriers × 5 services.
func BenchmarkShop(b *testing.B) {
	var tables []logistics.Table
	for c := 0; c < 10; c++ {
		for s := 0; s < 5; s++ {
			t := table()
			t.Carrier, t.Service, t.Days = fmt.Sprintf("carrier%d", c), fmt.Sprintf("svc%d", s), 1+s
			t.Prices = map[string]logistics.Price{"local": {FirstGrams: 1000, First: decimal.NewFromInt(int64(10 + c + s)), AdditionalGrams: 500, Additional: decimal.NewFromInt(int64(1 + s))}}
			t.Insurance = &logistics.Insurance{Floor: decimal.NewFromInt(100), RateBP: 30, MinimumPremium: decimal.NewFromInt(1)}
			tables = append(tables, t)
		}
	}
	s := logistics.Shipment{Parcel: logistics.Parcel{Grams: 2300, LengthMM: 350, WidthMM: 250, HeightMM: 120}, Origin: "zhejiang", Destination: "zhejiang", Value: decimal.NewFromInt(150)}
	r, err := logistics.NewRater(tables)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Shop(s, logistics.Cheapest, logistics.Constraints{}); err != nil {
			b.Fatal(err)
		}
	}
}
