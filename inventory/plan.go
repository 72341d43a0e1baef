package inventory

import (
	"math"
)

// Replenishment planning: pure functions on float64, since their inputs are
// rates and costs, not counts. Round the quantities they return to whole
// units (or pack sizes) before ordering.
//
// Conventions, as in Snyder & Shen, "Fundamentals of Supply Chain Theory",
// and the stockpyl library:
//   - Demand and lead time share one time unit (the period): demand is units
//     per period, lead time is in periods, holding cost is per unit per
//     period. Costs returned are per period.
//   - Lead-time demand is normal with mean μL and variance Lσ² + μ²σ_L²
//     (demand i.i.d. per period, lead time independent of demand).
//   - A service level is the type-1 (cycle) service level: the probability
//     of no stockout in a replenishment cycle.

// EOQ is the economic order quantity: the order size that minimises the
// fixed ordering cost plus the holding cost per period, Q* = √(2KD/h), and
// that minimal cost, √(2KDh).
//
// fixedCost is K, the cost per order; holdingCost is h, per unit per period;
// demandRate is D, units per period.
func EOQ(fixedCost, holdingCost, demandRate float64) (quantity, cost float64, err error) {
	if err := positive("FixedCost", fixedCost); err != nil {
		return 0, 0, err
	}
	if err := positive("HoldingCost", holdingCost); err != nil {
		return 0, 0, err
	}
	if err := positive("DemandRate", demandRate); err != nil {
		return 0, 0, err
	}
	return finite2(math.Sqrt(2*fixedCost*demandRate/holdingCost), math.Sqrt(2*fixedCost*demandRate*holdingCost))
}

// EOQBackorders is the EOQ with planned backorders at stockoutCost p per
// unit per period short: Q* = √(2KD(h+p)/(hp)); the optimal fraction of
// demand backordered, h/(h+p); and the minimal cost per period,
// √(2KDhp/(h+p)).
func EOQBackorders(fixedCost, holdingCost, stockoutCost, demandRate float64) (quantity, backorderFraction, cost float64, err error) {
	if err := positive("FixedCost", fixedCost); err != nil {
		return 0, 0, 0, err
	}
	if err := positive("HoldingCost", holdingCost); err != nil {
		return 0, 0, 0, err
	}
	if err := positive("StockoutCost", stockoutCost); err != nil {
		return 0, 0, 0, err
	}
	if err := positive("DemandRate", demandRate); err != nil {
		return 0, 0, 0, err
	}
	k, h, p, d := fixedCost, holdingCost, stockoutCost, demandRate
	q, c, err := finite2(math.Sqrt(2*k*d*(h+p)/(h*p)), math.Sqrt(2*k*d*h*p/(h+p)))
	if err != nil {
		return 0, 0, 0, err
	}
	return q, h / (h + p), c, nil
}

// EPQ is the economic production quantity, for stock that arrives at
// productionRate P rather than all at once: Q* = √(2KD/(h(1−D/P))), with
// minimal cost per period √(2KDh(1−D/P)). P must exceed D.
func EPQ(fixedCost, holdingCost, demandRate, productionRate float64) (quantity, cost float64, err error) {
	if err := positive("FixedCost", fixedCost); err != nil {
		return 0, 0, err
	}
	if err := positive("HoldingCost", holdingCost); err != nil {
		return 0, 0, err
	}
	if err := positive("DemandRate", demandRate); err != nil {
		return 0, 0, err
	}
	if err := positive("ProductionRate", productionRate); err != nil {
		return 0, 0, err
	}
	if productionRate <= demandRate {
		return 0, 0, &InputError{Field: "ProductionRate", Rule: "must be greater than DemandRate"}
	}
	rho := 1 - demandRate/productionRate
	return finite2(math.Sqrt(2*fixedCost*demandRate/(holdingCost*rho)), math.Sqrt(2*fixedCost*demandRate*holdingCost*rho))
}

// Z returns the standard normal quantile for a cycle service level α in
// (0, 1): the z with Φ(z) = α, computed as √2·erfinv(2α−1).
func Z(serviceLevel float64) (float64, error) {
	if math.IsNaN(serviceLevel) || serviceLevel <= 0 || serviceLevel >= 1 {
		return 0, &InputError{Field: "ServiceLevel", Rule: "must be in (0, 1)"}
	}
	return math.Sqrt2 * math.Erfinv(2*serviceLevel-1), nil
}

// Demand describes demand per period.
type Demand struct {
	Mean   float64 // units per period; > 0
	StdDev float64 // ≥ 0
}

// LeadTime describes the replenishment lead time, in periods.
type LeadTime struct {
	Mean   float64 // > 0
	StdDev float64 // ≥ 0; 0 for a fixed lead time
}

// SafetyStock is the stock held against variability during the lead time
// for a cycle service level: z·√(L·σ² + μ²·σ_L²). With a fixed lead time
// (σ_L = 0) this is the familiar z·σ·√L.
func SafetyStock(serviceLevel float64, d Demand, lt LeadTime) (float64, error) {
	z, err := Z(serviceLevel)
	if err != nil {
		return 0, err
	}
	if err := checkDemand(d, lt); err != nil {
		return 0, err
	}
	ss, _, err := finite2(z*math.Sqrt(lt.Mean*d.StdDev*d.StdDev+d.Mean*d.Mean*lt.StdDev*lt.StdDev), 0)
	return ss, err
}

// ReorderPoint is the inventory position at which to order: expected
// lead-time demand μ·L plus SafetyStock.
func ReorderPoint(serviceLevel float64, d Demand, lt LeadTime) (float64, error) {
	ss, err := SafetyStock(serviceLevel, d, lt)
	if err != nil {
		return 0, err
	}
	rop, _, err := finite2(d.Mean*lt.Mean+ss, 0)
	return rop, err
}

func checkDemand(d Demand, lt LeadTime) error {
	if err := positive("Demand.Mean", d.Mean); err != nil {
		return err
	}
	if err := nonNegative("Demand.StdDev", d.StdDev); err != nil {
		return err
	}
	if err := positive("LeadTime.Mean", lt.Mean); err != nil {
		return err
	}
	return nonNegative("LeadTime.StdDev", lt.StdDev)
}

func positive(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return &InputError{Field: field, Rule: "must be a finite number > 0"}
	}
	return nil
}

func nonNegative(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return &InputError{Field: field, Rule: "must be a finite number ≥ 0"}
	}
	return nil
}

// finite2 returns a and b, or an error if either over- or underflowed to a
// value that is not a finite number (inputs near the float64 limits).
func finite2(a, b float64) (float64, float64, error) {
	if math.IsNaN(a) || math.IsInf(a, 0) || math.IsNaN(b) || math.IsInf(b, 0) {
		return 0, 0, &InputError{Field: "inputs", Rule: "must not overflow float64 in the result"}
	}
	return a, b, nil
}
