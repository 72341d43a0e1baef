package logistics_test

import (
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/logistics"
)

// upsDaily is UPS's (and FedEx's) published US rule: dimensions to the
// nearest whole inch, halves up; cubic inches / 139; dimensional and
// actual weight up to the next whole pound.
var upsDaily = logistics.BillingRule{
	Units: logistics.Imperial, Divisor: 139,
	Dimensions:        logistics.Rounding{Step: d("1"), Mode: logistics.RoundHalfUp},
	DimensionalWeight: logistics.Rounding{Step: d("1")},
	ActualWeight:      logistics.Rounding{Step: d("1")},
}

// dhlExpress bills cm³ / 5000 and the larger weight up to the next 0.5 kg.
var dhlExpress = logistics.BillingRule{Units: logistics.Metric, Divisor: 5000, Billable: logistics.Rounding{Step: d("0.5")}}

func inches(w, l, wd, h string) logistics.Measurement {
	return logistics.Measurement{Units: logistics.Imperial, Weight: d(w), Length: d(l), Width: d(wd), Height: d(h)}
}

// TestBillCarriersWorkedExamples checks the rules against the carriers'
// published worked examples and rounding statements.
func TestBillCarriersWorkedExamples(t *testing.T) {
	retail := upsDaily
	retail.Divisor = 166
	for _, tc := range []struct {
		name                         string
		rule                         logistics.BillingRule
		m                            logistics.Measurement
		actual, dim, billable, grams string
		byVolume                     bool
	}{
		// UPS: "20 × 15 × 10 = 3,000 in³ ÷ 139 = 21.58, rounded up to 22 lb";
		// at 16 lb actual, the 22 lb dimensional weight is billed.
		{"ups 20x15x10", upsDaily, inches("16", "20", "15", "10"), "16", "22", "22", "9979.03214", true},
		// UPS domestic/retail 166: 8 × 6 × 6 = 288 in³ ÷ 166 = 1.735 lb, up to 2 lb.
		{"ups 8x6x6 retail", retail, inches("1", "8", "6", "6"), "1", "2", "2", "907.18474", true},
		// "1.00 to 1.49 will be considered 1, and 1.50 to 1.99 will be
		// considered 2": 12.5 × 10.49 × 8 is 13 × 10 × 8 = 1,040 in³ → 7.48 → 8 lb.
		{"ups half inch up", upsDaily, inches("3", "12.5", "10.49", "8"), "3", "8", "8", "3628.73896", true},
		// "Increase any fraction to the next whole pound": 5 lb 3 oz bills 6 lb.
		{"ups actual fraction", upsDaily, inches(logistics.Ounces(d("83")).String(), "10", "8", "6"), "6", "4", "6", "2721.55422", false},
		// 12 × 12 × 12 in on a metric 5000 rule: 30.48³ cm³ / 5000 =
		// 5.6633693184 kg, billed 6.0 kg.
		{"inches on dhl", dhlExpress, inches("2", "12", "12", "12"), "0.90718474", "5.6633693184", "6", "6000", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.rule.Bill(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{tc.actual, tc.dim, tc.billable}
			for i, got := range []decimal.Decimal{b.Actual, b.Dimensional, b.Billable} {
				if !got.Equal(d(want[i])) {
					t.Errorf("figure %d = %s, want %s (%+v)", i, got, want[i], b)
				}
			}
			if g := ceilGrams(tc.grams); b.Grams != g || b.ByVolume != tc.byVolume {
				t.Errorf("grams %d byVolume %v, want %d %v", b.Grams, b.ByVolume, g, tc.byVolume)
			}
		})
	}
}

func ceilGrams(s string) int64 { return d(s).Ceil().IntPart() }

// TestBillExactNotThroughMillimetres is the case whole millimetres get
// wrong: 10.25 × 10.25 × 5.75 in is 1.979915798225 kg by volume at
// 5000 cm³/kg, billed 2.0 kg; rounded up to whole millimetres first
// (261 × 261 × 147) it would be 2.0027574 kg and billed 2.5 kg.
func TestBillExactNotThroughMillimetres(t *testing.T) {
	m := inches(logistics.Ounces(d("18")).String(), "10.25", "10.25", "5.75")
	b, err := dhlExpress.Bill(m)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Dimensional.Equal(d("1.979915798225")) || !b.Billable.Equal(d("2")) || !b.Actual.Equal(d("0.51029141625")) {
		t.Fatalf("got %+v", b)
	}
	lossy, err := dhlExpress.BillParcel(logistics.Parcel{Grams: 511, LengthMM: 261, WidthMM: 261, HeightMM: 147})
	if err != nil || !lossy.Billable.Equal(d("2.5")) {
		t.Fatalf("the millimetre reading bills %v (%v); the test's premise is wrong", lossy.Billable, err)
	}
}

// TestBillUnroundedShowsMillionths: a rule that rounds nothing shows a
// non-terminating weight rounded up to a millionth and bills it exactly.
func TestBillUnroundedShowsMillionths(t *testing.T) {
	r := logistics.BillingRule{Units: logistics.Imperial, Divisor: 139}
	b, err := r.Bill(inches("1", "12", "12", "12"))
	if err != nil {
		t.Fatal(err)
	}
	// 1728 / 139 = 12.431654676…
	if !b.Dimensional.Equal(d("12.431655")) || b.Grams != 5639 { // 12.4316… lb × 453.59237 = 5638.8…
		t.Fatalf("got %+v", b)
	}
}

func TestBillInvalid(t *testing.T) {
	for _, tc := range []struct {
		rule  logistics.BillingRule
		m     logistics.Measurement
		field string
	}{
		{upsDaily, inches("-1", "1", "1", "1"), "Weight"},
		{upsDaily, inches("1", "0", "1", "1"), "Length"},
		{upsDaily, inches("1", "1", "1", "40000"), "Height"},
		{logistics.BillingRule{Divisor: -1}, inches("1", "1", "1", "1"), "Divisor"},
		{logistics.BillingRule{Billable: logistics.Rounding{Step: d("-1")}}, inches("1", "1", "1", "1"), "Billable.Step"},
		{logistics.BillingRule{Units: 7}, inches("1", "1", "1", "1"), "Units"},
	} {
		_, err := tc.rule.Bill(tc.m)
		var ie *logistics.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field || !errors.Is(err, logistics.ErrInvalidInput) {
			t.Errorf("%+v: got %v, want an InputError on %s", tc.m, err, tc.field)
		}
	}
}

// FuzzBill: any measurement either is refused as input or bills without
// panicking, at no less than its own rounded actual or dimensional weight,
// in whole grams no less than the billable weight.
func FuzzBill(f *testing.F) {
	f.Add("1.125", "10.25", "10.25", "5.75", true, int64(139))
	f.Add("0", "0.001", "1e3", "7", false, int64(5000))
	f.Fuzz(func(t *testing.T, w, l, wd, h string, imperial bool, divisor int64) {
		parse := func(s string) (decimal.Decimal, bool) {
			v, err := decimal.NewFromString(s)
			return v, err == nil && v.Exponent() > -12 && v.Exponent() < 12
		}
		var m logistics.Measurement
		var ok [4]bool
		m.Weight, ok[0] = parse(w)
		m.Length, ok[1] = parse(l)
		m.Width, ok[2] = parse(wd)
		m.Height, ok[3] = parse(h)
		if ok != [4]bool{true, true, true, true} {
			return
		}
		if imperial {
			m.Units = logistics.Imperial
		}
		rule := upsDaily
		rule.Divisor = divisor
		b, err := rule.Bill(m)
		if err != nil {
			if !errors.Is(err, logistics.ErrInvalidInput) {
				t.Fatalf("%+v: %v", m, err)
			}
			return
		}
		if b.Billable.LessThan(b.Actual) || b.Billable.LessThan(b.Dimensional) || b.Grams < 0 {
			t.Fatalf("%+v billed %+v", m, b)
		}
	})
}
