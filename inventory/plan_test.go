package inventory_test

import (
	"errors"
	"math"
	"testing"

	"github.com/shopkit/shopkit/inventory"
)

// within checks a relative error of at most 1e-9.
func within(t *testing.T, name string, got, want float64) {
	t.Helper()
	if got == want {
		return
	}
	if math.Abs(got-want) > 1e-9*math.Abs(want) {
		t.Errorf("%s = %.17g, want %.17g", name, got, want)
	}
}

// Snyder & Shen, Fundamentals of Supply Chain Theory, Example 3.1, as in
// stockpyl's eoq tests: K = 8, h = 0.225, λ = 1300.
func TestEOQ(t *testing.T) {
	q, c, err := inventory.EOQ(8, 0.225, 1300)
	if err != nil {
		t.Fatal(err)
	}
	within(t, "Q*", q, 304.0467800264368) // √(2·8·1300/0.225) = √92444.44…
	within(t, "g*", c, 68.41052550594829) // √(2·8·1300·0.225) = √4680
}

// Snyder & Shen Example 3.8 (stockpyl economic_order_quantity_with_backorders):
// the same data with p = 5.
func TestEOQBackorders(t *testing.T) {
	q, x, c, err := inventory.EOQBackorders(8, 0.225, 5, 1300)
	if err != nil {
		t.Fatal(err)
	}
	within(t, "Q*", q, 310.81255515896464) // √(2·8·1300·5.225/(0.225·5))
	within(t, "x*", x, 0.0430622009569378) // 0.225/5.225
	within(t, "g*", c, 66.92136355097325)  // √(2·8·1300·0.225·5/5.225)
}

// The EOQ data with production at P = 1700: ρ = 1300/1700, 1 − ρ = 4/17.
func TestEPQ(t *testing.T) {
	q, c, err := inventory.EPQ(8, 0.225, 1300, 1700)
	if err != nil {
		t.Fatal(err)
	}
	within(t, "Q*", q, 626.8084945889684)  // √(20800/(0.225·4/17)) = √392888.88…
	within(t, "g*", c, 33.183979125298336) // √(20800·0.225·4/17) = √1101.17…
	// As P grows without bound, EPQ tends to EOQ.
	qe, _, _ := inventory.EOQ(8, 0.225, 1300)
	qp, _, _ := inventory.EPQ(8, 0.225, 1300, 1e15)
	within(t, "EPQ(P→∞)", qp, qe)
}

// Quantiles of the standard normal distribution, as printed in every z
// table (and by Python's statistics.NormalDist().inv_cdf).
func TestZ(t *testing.T) {
	tests := []struct {
		give, want float64
	}{
		{0.5, 0},
		{0.9, 1.2815515655446008},
		{0.95, 1.6448536269514715},
		{0.99, 2.3263478740408408},
		{0.999, 3.090232306167813},
		{0.05, -1.6448536269514715},
	}
	for _, tt := range tests {
		got, err := inventory.Z(tt.give)
		if err != nil {
			t.Fatal(err)
		}
		if tt.want == 0 {
			if math.Abs(got) > 1e-15 {
				t.Errorf("Z(%v) = %v, want 0", tt.give, got)
			}
			continue
		}
		within(t, "Z", got, tt.want)
	}
}

// Daily demand N(50, 10²), lead time 4 days, 95% cycle service level:
// SS = 1.6448536269514715·10·√4; with σ_L = 1 day,
// SS = 1.6448536269514715·√(4·10² + 50²·1²) = 1.64485…·√2900.
func TestSafetyStockAndReorderPoint(t *testing.T) {
	d := inventory.Demand{Mean: 50, StdDev: 10}
	ss, err := inventory.SafetyStock(0.95, d, inventory.LeadTime{Mean: 4})
	if err != nil {
		t.Fatal(err)
	}
	within(t, "SS fixed lead time", ss, 32.89707253902943)
	rop, err := inventory.ReorderPoint(0.95, d, inventory.LeadTime{Mean: 4})
	if err != nil {
		t.Fatal(err)
	}
	within(t, "ROP", rop, 232.89707253902944)
	ss, err = inventory.SafetyStock(0.95, d, inventory.LeadTime{Mean: 4, StdDev: 1})
	if err != nil {
		t.Fatal(err)
	}
	within(t, "SS variable lead time", ss, 88.5780786474661)
}

func TestPlanInvalid(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name      string
		give      func() error
		wantField string
	}{
		{"EOQ K=0", func() error { _, _, err := inventory.EOQ(0, 1, 1); return err }, "FixedCost"},
		{"EOQ h<0", func() error { _, _, err := inventory.EOQ(1, -1, 1); return err }, "HoldingCost"},
		{"EOQ D=NaN", func() error { _, _, err := inventory.EOQ(1, 1, nan); return err }, "DemandRate"},
		{"EOQ D=Inf", func() error { _, _, err := inventory.EOQ(1, 1, inf); return err }, "DemandRate"},
		{"EOQ overflow", func() error { _, _, err := inventory.EOQ(1e308, 1e-308, 1e308); return err }, "inputs"},
		{"EOQB p=0", func() error { _, _, _, err := inventory.EOQBackorders(1, 1, 0, 1); return err }, "StockoutCost"},
		{"EPQ P=D", func() error { _, _, err := inventory.EPQ(1, 1, 5, 5); return err }, "ProductionRate"},
		{"EPQ P<D", func() error { _, _, err := inventory.EPQ(1, 1, 5, 4); return err }, "ProductionRate"},
		{"Z 0", func() error { _, err := inventory.Z(0); return err }, "ServiceLevel"},
		{"Z 1", func() error { _, err := inventory.Z(1); return err }, "ServiceLevel"},
		{"Z NaN", func() error { _, err := inventory.Z(nan); return err }, "ServiceLevel"},
		{"SS mean 0", func() error {
			_, err := inventory.SafetyStock(0.9, inventory.Demand{}, inventory.LeadTime{Mean: 1})
			return err
		}, "Demand.Mean"},
		{"SS sd<0", func() error {
			_, err := inventory.SafetyStock(0.9, inventory.Demand{Mean: 1, StdDev: -1}, inventory.LeadTime{Mean: 1})
			return err
		}, "Demand.StdDev"},
		{"ROP lead 0", func() error {
			_, err := inventory.ReorderPoint(0.9, inventory.Demand{Mean: 1}, inventory.LeadTime{})
			return err
		}, "LeadTime.Mean"},
		{"ROP lead sd Inf", func() error {
			_, err := inventory.ReorderPoint(0.9, inventory.Demand{Mean: 1}, inventory.LeadTime{Mean: 1, StdDev: inf})
			return err
		}, "LeadTime.StdDev"},
	}
	for _, tt := range tests {
		err := tt.give()
		var ie *inventory.InputError
		if !errors.As(err, &ie) || !errors.Is(err, inventory.ErrInvalidInput) || ie.Field != tt.wantField {
			t.Errorf("%s: err = %v, want InputError on %s", tt.name, err, tt.wantField)
		}
	}
}

// FuzzPlan: any input gives either an error or finite, non-negative results.
func FuzzPlan(f *testing.F) {
	f.Add(8.0, 0.225, 1300.0, 1700.0, 5.0, 0.95)
	f.Add(0.0, -1.0, math.NaN(), math.Inf(1), 0.0, 1.0)
	f.Add(1e308, 1e-308, 1e308, 1e308, 1e-300, 0.5)
	f.Fuzz(func(t *testing.T, k, h, d, p, s, level float64) {
		check := func(name string, err error, vals ...float64) {
			if err != nil {
				if !errors.Is(err, inventory.ErrInvalidInput) {
					t.Fatalf("%s: error %v is not ErrInvalidInput", name, err)
				}
				return
			}
			for _, v := range vals {
				if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					t.Fatalf("%s(%v, %v, %v, %v, %v, %v) returned %v", name, k, h, d, p, s, level, vals)
				}
			}
		}
		q, c, err := inventory.EOQ(k, h, d)
		check("EOQ", err, q, c)
		q, x, c, err := inventory.EOQBackorders(k, h, s, d)
		check("EOQBackorders", err, q, x, c)
		q, c, err = inventory.EPQ(k, h, d, p)
		check("EPQ", err, q, c)
		ss, err := inventory.SafetyStock(level, inventory.Demand{Mean: d, StdDev: h}, inventory.LeadTime{Mean: k, StdDev: s})
		if err == nil && level < 0.5 {
			ss = -ss // below 50% service the safety stock is negative by design
		}
		check("SafetyStock", err, ss)
		if _, err := inventory.Z(level); err != nil && !errors.Is(err, inventory.ErrInvalidInput) {
			t.Fatal(err)
		}
	})
}
