package logistics_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/logistics"
)

var d = decimal.RequireFromString

func TestVolumetric(t *testing.T) {
	tests := []struct {
		name string
		rule logistics.Volumetric
		p    logistics.Parcel
		want int64
	}{
		// 40 × 30 × 20 cm = 24,000 cm³: /5000 = 4.8 kg, /6000 = 4 kg.
		{"express /5000", logistics.Volumetric{Divisor: 5000}, logistics.Parcel{LengthMM: 400, WidthMM: 300, HeightMM: 200}, 4800},
		{"domestic /6000", logistics.Volumetric{Divisor: 6000}, logistics.Parcel{LengthMM: 400, WidthMM: 300, HeightMM: 200}, 4000},
		// 30.1 × 20.1 × 10.1 cm rounded up to 31 × 21 × 11 = 7,161 cm³ / 5000
		// = 1.4322 kg → 1,433 g; exact: 6,110,601 mm³ / 5000 = 1,222.12 → 1,223 g.
		{"dimensions up to cm", logistics.Volumetric{Divisor: 5000, Rounding: logistics.DimUpToCM}, logistics.Parcel{LengthMM: 301, WidthMM: 201, HeightMM: 101}, 1433},
		{"dimensions exact", logistics.Volumetric{Divisor: 5000}, logistics.Parcel{LengthMM: 301, WidthMM: 201, HeightMM: 101}, 1223},
		// 10 × 10 × 10 in = 1,000 in³ / 139 = 7.1942 lb × 453.59237 g
		// = 3,263.25 g → 3,264 g (254 mm is exactly 10 in).
		{"imperial /139", logistics.Volumetric{Divisor: 139, Imperial: true}, logistics.Parcel{LengthMM: 254, WidthMM: 254, HeightMM: 254}, 3264},
		// 255 mm rounds up to 11 in: 1,331 in³ / 166 = 8.018 lb → 3,637 g.
		{"imperial /166, up to inch", logistics.Volumetric{Divisor: 166, Imperial: true, Rounding: logistics.DimUpToInch}, logistics.Parcel{LengthMM: 255, WidthMM: 255, HeightMM: 255}, 3637},
	}
	for _, tt := range tests {
		got, err := tt.rule.VolumetricGrams(tt.p)
		if err != nil || got != tt.want {
			t.Errorf("%s: %d g, %v; want %d g", tt.name, got, err, tt.want)
		}
	}
}

// table is a domestic courier: first kg ¥12, each further started kg ¥2
// within the province, ¥18 + ¥5 across; /6000 volumetric; remote Tibet +¥10.
func table() logistics.Table {
	return logistics.Table{
		Carrier: "yto", Service: "standard", Days: 3, StepGrams: 1,
		Volumetric: logistics.Volumetric{Divisor: 6000},
		Zones: map[string]map[string]string{
			"zhejiang": {"zhejiang": "local", "guangdong": "national", "tibet": "national"},
		},
		Prices: map[string]logistics.Price{
			"local":    {FirstGrams: 1000, First: d("12"), AdditionalGrams: 1000, Additional: d("2")},
			"national": {FirstGrams: 1000, First: d("18"), AdditionalGrams: 1000, Additional: d("5"), Minimum: d("20")},
		},
		RemoteSurcharge: map[string]decimal.Decimal{"tibet": d("10")},
		OversizeMM:      1000, OversizeSurcharge: d("30"),
		FreeOver: d("199"),
	}
}

func TestRate(t *testing.T) {
	tb := table()
	small := logistics.Parcel{LengthMM: 200, WidthMM: 150, HeightMM: 100} // 500 g volumetric at /6000
	tests := []struct {
		name     string
		s        logistics.Shipment
		billable int64
		total    string
	}{
		// 0.4 + 0.8 + 0.3 kg = 1,500 g, billed as 2 started kg: 12 + 1 × 2.
		{"the float-sum trap", logistics.Shipment{Parcel: logistics.Parcel{Grams: 400 + 800 + 300, LengthMM: 200, WidthMM: 150, HeightMM: 100}, Origin: "zhejiang", Destination: "zhejiang"}, 1500, "14"},
		{"first weight only", logistics.Shipment{Parcel: logistics.Parcel{Grams: 1000, LengthMM: 200, WidthMM: 150, HeightMM: 100}, Origin: "zhejiang", Destination: "zhejiang"}, 1000, "12"},
		// Volumetric beats actual: 60 × 40 × 30 cm / 6000 = 12 kg → 12 + 11 × 2.
		{"volumetric", logistics.Shipment{Parcel: logistics.Parcel{Grams: 2000, LengthMM: 600, WidthMM: 400, HeightMM: 300}, Origin: "zhejiang", Destination: "zhejiang"}, 12000, "34"},
		// National minimum: 18 for 1 kg, raised to the minimum 20.
		{"minimum charge", logistics.Shipment{Parcel: logistics.Parcel{Grams: 800, LengthMM: 200, WidthMM: 150, HeightMM: 100}, Origin: "zhejiang", Destination: "guangdong"}, 800, "20"},
		// Tibet: 18 + 2 × 5 = 28, at least 20, + 10 remote.
		{"remote surcharge", logistics.Shipment{Parcel: logistics.Parcel{Grams: 2500, LengthMM: 200, WidthMM: 150, HeightMM: 100}, Origin: "zhejiang", Destination: "tibet"}, 2500, "38"},
		// A 1.2 m side: 12 + 30 oversize (volumetric 1200×100×100/6000 = 2 kg → +2).
		{"oversize", logistics.Shipment{Parcel: logistics.Parcel{Grams: 900, LengthMM: 1200, WidthMM: 100, HeightMM: 100}, Origin: "zhejiang", Destination: "zhejiang"}, 2000, "44"},
		{"free shipping over 199", logistics.Shipment{Parcel: logistics.Parcel{Grams: 1000, LengthMM: 200, WidthMM: 150, HeightMM: 100}, Origin: "zhejiang", Destination: "zhejiang", Value: d("199")}, 1000, "0"},
	}
	_ = small
	for _, tt := range tests {
		q, err := tb.Rate(tt.s)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if q.BillableGrams != tt.billable || !logistics.Money(q.Total).Equal(d(tt.total)) {
			t.Errorf("%s: billable %d, total %d cents; want %d, %s", tt.name, q.BillableGrams, q.Total, tt.billable, tt.total)
		}
	}
	if _, err := tb.Rate(logistics.Shipment{Parcel: small, Origin: "zhejiang", Destination: "mars"}); !errors.Is(err, logistics.ErrNoRate) {
		t.Fatalf("unknown route: err = %v", err)
	}
	if _, err := tb.Rate(logistics.Shipment{Parcel: logistics.Parcel{Grams: 1}, Origin: "zhejiang", Destination: "zhejiang"}); !errors.Is(err, logistics.ErrInvalidInput) {
		t.Fatalf("no dimensions: err = %v", err)
	}
}

func TestShop(t *testing.T) {
	cheap := table()
	fast := table()
	fast.Carrier, fast.Service, fast.Days = "sf", "express", 1
	fast.Prices = map[string]logistics.Price{"local": {FirstGrams: 1000, First: d("13"), AdditionalGrams: 1000, Additional: d("3")}}
	fast.FreeOver = decimal.Zero
	tie := table()
	tie.Carrier = "best" // same price and days as "yto": the tie goes by carrier name
	s := logistics.Shipment{Parcel: logistics.Parcel{Grams: 1500, LengthMM: 200, WidthMM: 150, HeightMM: 100}, Origin: "zhejiang", Destination: "zhejiang"}
	tables := []logistics.Table{cheap, fast, tie}

	q, err := logistics.Shop(tables, s, logistics.Cheapest, logistics.Constraints{})
	if err != nil || q[0].Carrier != "best" || q[1].Carrier != "yto" || q[2].Carrier != "sf" {
		t.Fatalf("cheapest: %v, %v", carriers(q), err)
	}
	q, _ = logistics.Shop(tables, s, logistics.Fastest, logistics.Constraints{})
	if q[0].Carrier != "sf" {
		t.Fatalf("fastest: %v", carriers(q))
	}
	// sf costs 16 in 1 day, yto 14 in 3: at ¥1 a day yto wins (17 vs 17 →
	// tie on score, cheaper total first), at ¥2 a day sf wins (18 vs 20).
	q, _ = logistics.Shop(tables, s, logistics.BestValue, logistics.Constraints{DayValue: d("2")})
	if q[0].Carrier != "sf" {
		t.Fatalf("best value at 2/day: %v", carriers(q))
	}
	q, _ = logistics.Shop(tables, s, logistics.BestValue, logistics.Constraints{DayValue: d("1")})
	if q[0].Carrier != "best" {
		t.Fatalf("best value at 1/day: %v", carriers(q))
	}
	q, _ = logistics.Shop(tables, s, logistics.Cheapest, logistics.Constraints{MaxDays: 2})
	if len(q) != 1 || q[0].Carrier != "sf" {
		t.Fatalf("max 2 days: %v", carriers(q))
	}
	if _, err := logistics.Shop(tables, s, logistics.Cheapest, logistics.Constraints{Exclude: []string{"sf", "yto", "best"}}); !errors.Is(err, logistics.ErrNoRate) {
		t.Fatalf("all excluded: err = %v", err)
	}
}

func carriers(q []logistics.Quote) []string {
	var out []string
	for _, x := range q {
		out = append(out, x.Carrier)
	}
	return out
}

func TestInsurance(t *testing.T) {
	ins := logistics.Insurance{Floor: d("100"), RateBP: 50, MinimumPremium: d("1"), Cap: d("5000")}
	tests := []struct{ declared, premium, insured string }{
		{"99.99", "0", "0"},            // below the floor: none
		{"100", "1", "100"},            // 0.5% of 100 = 0.50, raised to the minimum 1
		{"1000", "5", "1000"},          // 0.5% of 1,000
		{"1234.56", "6.18", "1234.56"}, // 6.1728 rounded up to the cent
		{"9000", "25", "5000"},         // capped at 5,000
	}
	for _, tt := range tests {
		p, i, err := ins.Premium(d(tt.declared))
		if err != nil || !p.Equal(d(tt.premium)) || !i.Equal(d(tt.insured)) {
			t.Errorf("Premium(%s) = %s, %s, %v; want %s, %s", tt.declared, p, i, err, tt.premium, tt.insured)
		}
	}
	// A declared value is money: whole cents, not negative.
	for _, bad := range []string{"-1", "100.005"} {
		var ie *logistics.InputError
		if _, _, err := ins.Premium(d(bad)); !errors.As(err, &ie) || ie.Field != "Value" {
			t.Errorf("Premium(%s): err = %v, want an InputError on Value", bad, err)
		}
	}
}

// TestRateMonotone: a heavier parcel never costs less.
func TestRateMonotone(t *testing.T) {
	tb := table()
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 2000; i++ {
		g := rng.Int64N(50000)
		s := logistics.Shipment{Parcel: logistics.Parcel{Grams: g, LengthMM: 100 + rng.Int64N(900), WidthMM: 100, HeightMM: 100}, Origin: "zhejiang", Destination: "guangdong"}
		a, err := tb.Rate(s)
		if err != nil {
			t.Fatal(err)
		}
		s.Parcel.Grams += 1 + rng.Int64N(3000)
		b, _ := tb.Rate(s)
		if b.Total < a.Total {
			t.Fatalf("%d g costs %d, %d g costs %d", g, a.Total, s.Parcel.Grams, b.Total)
		}
	}
}

func FuzzRate(f *testing.F) {
	f.Add(int64(1500), int64(200), int64(150), int64(100), int64(6000))
	f.Add(int64(-1), int64(0), int64(5), int64(1e7), int64(0))
	f.Fuzz(func(t *testing.T, g, l, w, h, divisor int64) {
		tb := table()
		tb.Volumetric.Divisor = divisor
		q, err := tb.Rate(logistics.Shipment{Parcel: logistics.Parcel{Grams: g, LengthMM: l, WidthMM: w, HeightMM: h}, Origin: "zhejiang", Destination: "zhejiang"})
		if err != nil {
			if !errors.Is(err, logistics.ErrInvalidInput) {
				t.Fatal(err)
			}
			return
		}
		if q.Total < 0 || q.BillableGrams < g {
			t.Fatalf("%+v", q)
		}
	})
}
