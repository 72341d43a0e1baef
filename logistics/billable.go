package logistics

import (
	"math/big"
	"strconv"

	"github.com/shopspring/decimal"
)

// Units is the system a measurement or a carrier's rule is stated in.
type Units uint8

const (
	// Metric is kilograms and centimetres.
	Metric Units = iota
	// Imperial is pounds and inches.
	Imperial
)

// String returns "metric" or "imperial".
func (u Units) String() string {
	switch u {
	case Metric:
		return "metric"
	case Imperial:
		return "imperial"
	}
	return "Units(" + strconv.Itoa(int(u)) + ")"
}

// weightUnit and lengthUnit are the units' sizes in grams and millimetres:
// a pound is 453.59237 g and an inch 25.4 mm, both exact by definition.
func (u Units) weightUnit() *big.Rat {
	if u == Imperial {
		return big.NewRat(45359237, 100000)
	}
	return big.NewRat(1000, 1)
}

func (u Units) lengthUnit() *big.Rat {
	if u == Imperial {
		return big.NewRat(254, 10)
	}
	return big.NewRat(10, 1)
}

// Measurement is a parcel as the scale and the tape read it, exactly:
// Weight in kilograms (Metric) or pounds (Imperial), dimensions in
// centimetres or inches. Decimals keep every reading exact — 10.25 in, or
// 2 lb 5 oz as 2.3125 lb (see Ounces) — and conversions between the
// systems are exact too, so nothing is lost to whole millimetres or grams
// before the carrier's own rounding.
type Measurement struct {
	Units                 Units
	Weight                decimal.Decimal
	Length, Width, Height decimal.Decimal
}

// Ounces returns oz ounces in pounds, exactly (an ounce is 1/16 lb).
func Ounces(oz decimal.Decimal) decimal.Decimal {
	return oz.Div(decimal.NewFromInt(16)) // 1/16 = 0.0625: a terminating decimal, so Div is exact
}

// Measurement returns the parcel in metric units: kilograms and
// centimetres, exactly.
func (p Parcel) Measurement() Measurement {
	return Measurement{Units: Metric, Weight: decimal.New(p.Grams, -3),
		Length: decimal.New(p.LengthMM, -1), Width: decimal.New(p.WidthMM, -1), Height: decimal.New(p.HeightMM, -1)}
}

// check validates a measurement: non-negative weight, positive
// dimensions, and bounds that match Parcel's (10^9 g, 1 km).
func (m Measurement) check(field string) error {
	if m.Units > Imperial {
		return &InputError{Field: field + "Units", Rule: "must be Metric or Imperial"}
	}
	g := m.grams()
	if m.Weight.Sign() < 0 || g.Cmp(big.NewRat(1e9, 1)) > 0 {
		return &InputError{Field: field + "Weight", Rule: "must be between 0 and 1,000 t"}
	}
	for _, d := range []struct {
		name string
		v    decimal.Decimal
	}{{"Length", m.Length}, {"Width", m.Width}, {"Height", m.Height}} {
		if d.v.Sign() <= 0 {
			return &InputError{Field: field + d.name, Rule: "must be > 0"}
		}
		mm := new(big.Rat).Mul(d.v.Rat(), m.Units.lengthUnit())
		if mm.Cmp(big.NewRat(1e6, 1)) > 0 {
			return &InputError{Field: field + d.name, Rule: "must be at most 1 km"}
		}
	}
	return nil
}

// grams returns the weight in grams, exactly.
func (m Measurement) grams() *big.Rat { return new(big.Rat).Mul(m.Weight.Rat(), m.Units.weightUnit()) }

// parcel converts the measurement to whole grams and millimetres, each
// rounded up: the conservative reading for a table without a Billing rule.
func (m Measurement) parcel() Parcel {
	mm := func(v decimal.Decimal) int64 { return ratCeil(new(big.Rat).Mul(v.Rat(), m.Units.lengthUnit())) }
	return Parcel{Grams: ratCeil(m.grams()), LengthMM: mm(m.Length), WidthMM: mm(m.Width), HeightMM: mm(m.Height)}
}

// RoundMode says which way a Rounding goes.
type RoundMode uint8

const (
	// RoundUp takes any fraction of a step to the next whole step: "increase
	// any fraction to the next whole pound".
	RoundUp RoundMode = iota
	// RoundHalfUp takes a value to the nearest step, halves up: UPS and
	// FedEx count 1.00–1.49 in as 1 and 1.50–1.99 in as 2.
	RoundHalfUp
)

// Rounding rounds a quantity to a multiple of Step (in the rule's units:
// 1 for a whole pound or inch, 0.5 for half a kilogram, 0.1 for 100 g). A
// zero Step leaves the quantity as it is, rounded up to a millionth of a
// unit when it does not terminate.
type Rounding struct {
	Step decimal.Decimal
	Mode RoundMode
}

func (r Rounding) check(field string) error {
	if r.Step.Sign() < 0 {
		return &InputError{Field: field + ".Step", Rule: "must be >= 0"}
	}
	if r.Mode > RoundHalfUp {
		return &InputError{Field: field + ".Mode", Rule: "must be RoundUp or RoundHalfUp"}
	}
	return nil
}

// apply rounds x (≥ 0) to the rule: a whole number of steps, or x itself
// when Step is zero.
func (r Rounding) apply(x *big.Rat) *big.Rat {
	if r.Step.Sign() == 0 {
		return x
	}
	step := r.Step.Rat()
	steps := new(big.Rat).Quo(x, step)
	var n *big.Int
	if r.Mode == RoundHalfUp {
		// ⌊steps + ½⌋ = ⌊(2·num + den) / (2·den)⌋
		n = new(big.Int).Quo(new(big.Int).Add(new(big.Int).Lsh(steps.Num(), 1), steps.Denom()),
			new(big.Int).Lsh(steps.Denom(), 1))
	} else {
		n = ratCeilBig(steps)
	}
	return new(big.Rat).Mul(new(big.Rat).SetInt(n), step)
}

// ratDecimal returns x as a decimal: exactly when x terminates (its
// denominator has no prime factor but 2 and 5), else rounded up to a
// millionth.
func ratDecimal(x *big.Rat) decimal.Decimal {
	den := new(big.Int).Set(x.Denom())
	var twos, fives int32
	for den.Bit(0) == 0 {
		den.Rsh(den, 1)
		twos++
	}
	five, q, m := big.NewInt(5), new(big.Int), new(big.Int)
	for {
		if q.QuoRem(den, five, m); m.Sign() != 0 {
			break
		}
		den.Set(q)
		fives++
	}
	if den.Cmp(big.NewInt(1)) == 0 {
		exp := max(twos, fives)
		scaled := new(big.Rat).Mul(x, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil)))
		return decimal.NewFromBigInt(scaled.Num(), -exp)
	}
	return decimal.NewFromBigInt(ratCeilBig(new(big.Rat).Mul(x, big.NewRat(1e6, 1))), -6)
}

func ratCeilBig(r *big.Rat) *big.Int {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

// BillingRule is a carrier's billable-weight rule, stated in the units the
// carrier bills in:
//
//   - UPS and FedEx (US daily rates): Imperial, Divisor 139 in³/lb,
//     Dimensions to the nearest whole inch (RoundHalfUp, step 1),
//     DimensionalWeight and ActualWeight up to the next whole pound.
//   - DHL Express: Metric, Divisor 5000 cm³/kg, Billable up to the next
//     0.5 kg.
//   - Many domestic couriers: Metric, Divisor 6000 or 8000, Billable up to
//     the next 0.1 kg.
//
// Measurements in the other system are converted exactly before the
// carrier's rounding.
type BillingRule struct {
	Units Units
	// Divisor is cm³ per kg (Metric) or in³ per lb (Imperial); 0 means the
	// carrier bills actual weight only.
	Divisor           int64
	Dimensions        Rounding // each dimension, before the volume
	DimensionalWeight Rounding // volume / Divisor
	ActualWeight      Rounding // the scale's reading
	Billable          Rounding // the larger of the two
}

// BillableWeight is a parcel's weight as a carrier bills it, in the
// rule's units, each figure after the rule's rounding. A figure the rule
// leaves unrounded that does not terminate as a decimal (1,728 / 139) is
// shown rounded up to a millionth; Grams and the tariff use it exactly.
type BillableWeight struct {
	Units       Units
	Actual      decimal.Decimal
	Dimensional decimal.Decimal // zero when the rule has no Divisor
	Billable    decimal.Decimal
	// ByVolume is true when the dimensional weight decided the billable
	// weight (it exceeded the actual weight).
	ByVolume bool
	// Grams is Billable in grams, rounded up to the gram.
	Grams int64

	exact *big.Rat // Billable before display: tariffs step on it
}

func (r BillingRule) check(field string) error {
	if r.Units > Imperial {
		return &InputError{Field: field + "Units", Rule: "must be Metric or Imperial"}
	}
	if r.Divisor < 0 {
		return &InputError{Field: field + "Divisor", Rule: "must be >= 0"}
	}
	for _, x := range []struct {
		name string
		r    Rounding
	}{{"Dimensions", r.Dimensions}, {"DimensionalWeight", r.DimensionalWeight}, {"ActualWeight", r.ActualWeight}, {"Billable", r.Billable}} {
		if err := x.r.check(field + x.name); err != nil {
			return err
		}
	}
	return nil
}

// Bill returns m's billable weight under the rule: each dimension
// converted to the rule's units and rounded, the volume divided by the
// divisor and rounded, the actual weight converted and rounded, the larger
// of the two rounded again. Every step is exact arithmetic; the only
// rounding is the carrier's.
func (r BillingRule) Bill(m Measurement) (BillableWeight, error) {
	if err := r.check(""); err != nil {
		return BillableWeight{}, err
	}
	if err := m.check(""); err != nil {
		return BillableWeight{}, err
	}
	return r.bill(m), nil
}

// BillParcel is Bill for a parcel in grams and millimetres.
func (r BillingRule) BillParcel(p Parcel) (BillableWeight, error) {
	if err := p.check(); err != nil {
		return BillableWeight{}, err
	}
	return r.Bill(p.Measurement())
}

// bill computes on validated input.
func (r BillingRule) bill(m Measurement) BillableWeight {
	// factor converts the measurement's units to the rule's.
	wf := new(big.Rat).Quo(m.Units.weightUnit(), r.Units.weightUnit())
	lf := new(big.Rat).Quo(m.Units.lengthUnit(), r.Units.lengthUnit())
	out := BillableWeight{Units: r.Units}
	actual := r.ActualWeight.apply(new(big.Rat).Mul(m.Weight.Rat(), wf))
	billable := actual
	if r.Divisor > 0 {
		vol := big.NewRat(1, 1)
		for _, d := range []decimal.Decimal{m.Length, m.Width, m.Height} {
			vol.Mul(vol, r.Dimensions.apply(new(big.Rat).Mul(d.Rat(), lf)))
		}
		dim := r.DimensionalWeight.apply(vol.Quo(vol, big.NewRat(r.Divisor, 1)))
		out.Dimensional = ratDecimal(dim)
		if dim.Cmp(billable) > 0 {
			billable, out.ByVolume = dim, true
		}
	}
	billable = r.Billable.apply(billable)
	out.Actual, out.Billable = ratDecimal(actual), ratDecimal(billable)
	out.Grams = ratCeil(new(big.Rat).Mul(billable, r.Units.weightUnit()))
	out.exact = billable
	return out
}
