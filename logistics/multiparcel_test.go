package logistics_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/logistics"
)

// upsTable prices per pound: 10.00 for the first pound, 1.50 per
// additional pound, a 2.00 handling fee per package and 5.00 per shipment.
func upsTable(mode logistics.MultiParcelRule) logistics.Table {
	rule := upsDaily
	return logistics.Table{Carrier: "ups", Service: "ground", Days: 3, Billing: &rule, MultiParcel: mode,
		Zones:           map[string]map[string]string{"us": {"us": "2"}},
		Prices:          map[string]logistics.Price{"2": {FirstWeight: d("1"), First: d("10.00"), AdditionalWeight: d("1"), Additional: d("1.50")}},
		ParcelSurcharge: d("2.00"), ShipmentSurcharge: d("5.00"),
	}
}

// TestMultiParcel rates two packages — 20×15×10 in at 16 lb (22 lb by
// volume) and 8×6×6 in at 1 lb (288/139 = 2.07 → 3 lb) — both ways: the
// total billable weight of 25 lb priced once (10.00 + 24 × 1.50 = 46.00)
// or each package priced alone (41.50 + 13.00 = 54.50), plus 2 × 2.00
// per package and 5.00 per shipment.
func TestMultiParcel(t *testing.T) {
	s := logistics.Shipment{Origin: "us", Destination: "us", Measurements: []logistics.Measurement{
		inches("16", "20", "15", "10"), inches("1", "8", "6", "6")}}
	for _, tc := range []struct {
		mode           logistics.MultiParcelRule
		freight, total int64
		parcelFreight  [2]int64
	}{
		{logistics.PriceTotalWeight, 4600, 5500, [2]int64{0, 0}},
		{logistics.PricePerParcel, 5450, 6350, [2]int64{4150, 1300}},
	} {
		tab := upsTable(tc.mode)
		q, err := tab.Rate(s)
		if err != nil {
			t.Fatal(err)
		}
		if q.Freight != tc.freight || q.Surcharges != 900 || q.Total != tc.total || !q.Billed.Billable.Equal(d("25")) {
			t.Errorf("mode %d: freight %d surcharges %d total %d billed %v", tc.mode, q.Freight, q.Surcharges, q.Total, q.Billed.Billable)
		}
		if len(q.Parcels) != 2 || q.Parcels[0].Freight != tc.parcelFreight[0] || q.Parcels[1].Freight != tc.parcelFreight[1] ||
			!q.Parcels[0].Billed.Billable.Equal(d("22")) || !q.Parcels[1].Billed.Billable.Equal(d("3")) || q.Parcels[1].Surcharges != 200 {
			t.Errorf("mode %d: parcels %+v", tc.mode, q.Parcels)
		}
		// BillableGrams adds the parcels' whole grams.
		if q.BillableGrams != q.Parcels[0].BillableGrams+q.Parcels[1].BillableGrams {
			t.Errorf("billable grams %d", q.BillableGrams)
		}
	}
}

// TestMultiParcelGramTables: a gram-tariff table prices Parcels per piece,
// with the oversize surcharge on the long piece only and the remote
// surcharge and free freight once per shipment.
func TestMultiParcelGramTables(t *testing.T) {
	tab := table()
	tab.OversizeMM, tab.OversizeSurcharge = 1000, d("15.00")
	tab.RemoteSurcharge = map[string]decimal.Decimal{"zhejiang": d("3.00")}
	one := logistics.Parcel{Grams: 2300, LengthMM: 350, WidthMM: 250, HeightMM: 120}
	long := logistics.Parcel{Grams: 500, LengthMM: 1200, WidthMM: 100, HeightMM: 100}
	s := logistics.Shipment{Parcels: []logistics.Parcel{one, long}, Origin: "zhejiang", Destination: "zhejiang"}
	q, err := tab.Rate(s)
	if err != nil {
		t.Fatal(err)
	}
	alone := func(p logistics.Parcel) logistics.Quote {
		t.Helper()
		q, err := tab.Rate(logistics.Shipment{Parcel: p, Origin: "zhejiang", Destination: "zhejiang"})
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	a, b := alone(one), alone(long)
	if q.Freight != a.Freight+b.Freight || q.Surcharges != 1500+300 || q.Parcels[1].Surcharges != 1500 || q.Parcels[0].Surcharges != 0 {
		t.Fatalf("got %+v; alone %+v and %+v", q, a, b)
	}
	if q.VolumetricGrams != a.VolumetricGrams+b.VolumetricGrams {
		t.Fatalf("volumetric %d", q.VolumetricGrams)
	}
	s.Value = d("1000")
	tab.FreeOver = d("500")
	q, err = tab.Rate(s)
	if err != nil || q.Freight != 0 || !q.FreeShipping || q.Parcels[0].Freight != 0 {
		t.Fatalf("free freight: %+v %v", q, err)
	}
}

// TestShopMixesTables: Shop rates measured pieces on a Billing table and
// on a gram table side by side.
func TestShopMixesTables(t *testing.T) {
	gram := logistics.Table{Carrier: "local", Service: "std", Days: 2, Volumetric: logistics.Volumetric{Divisor: 6000},
		Zones:  map[string]map[string]string{"us": {"us": "1"}},
		Prices: map[string]logistics.Price{"1": {FirstGrams: 1000, First: d("8.00"), AdditionalGrams: 1000, Additional: d("2.00")}}}
	s := logistics.Shipment{Origin: "us", Destination: "us", Measurements: []logistics.Measurement{inches("16", "20", "15", "10")}}
	quotes, err := logistics.Shop([]logistics.Table{upsTable(logistics.PriceTotalWeight), gram}, s, logistics.Cheapest, logistics.Constraints{})
	if err != nil || len(quotes) != 2 {
		t.Fatalf("%v %v", quotes, err)
	}
	for _, q := range quotes {
		if q.Carrier == "ups" && (q.Total != 4150+200+500 || q.Parcels != nil) {
			t.Errorf("ups %+v", q)
		}
		// 20×15×10 in = 50.8×38.1×25.4 cm, read up to whole mm (508×381×254)
		// = 49,161,432 mm³ / 6000 = 8,194 g by volume: 8.00 + 8 × 2.00.
		if q.Carrier == "local" && (q.BillableGrams != 8194 || q.Total != 2400) {
			t.Errorf("local %+v", q)
		}
	}
}

func TestMultiParcelInvalid(t *testing.T) {
	tab := upsTable(logistics.PricePerParcel)
	var ie *logistics.InputError
	_, err := tab.Rate(logistics.Shipment{Origin: "us", Destination: "us", Parcels: []logistics.Parcel{{Grams: 1, LengthMM: 1, WidthMM: 1, HeightMM: 1}, {Grams: 1}}})
	if !errors.As(err, &ie) || ie.Field != "Parcels[1].Dimensions" {
		t.Errorf("got %v", err)
	}
	_, err = tab.Rate(logistics.Shipment{Origin: "us", Destination: "us", Parcels: make([]logistics.Parcel, logistics.MaxParcels+1)})
	if !errors.As(err, &ie) || ie.Field != "Parcels" {
		t.Errorf("got %v", err)
	}
	bad := upsTable(logistics.PricePerParcel)
	bad.Prices = map[string]logistics.Price{"2": {FirstGrams: 1000, AdditionalGrams: 1000}}
	_, err = bad.Rate(logistics.Shipment{Origin: "us", Destination: "us", Parcel: logistics.Parcel{Grams: 1, LengthMM: 1, WidthMM: 1, HeightMM: 1}})
	if !errors.As(err, &ie) || ie.Field != "Prices[2]" {
		t.Errorf("a Billing table with gram prices: got %v", err)
	}
}
