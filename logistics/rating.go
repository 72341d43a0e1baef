package logistics

import (
	"cmp"
	"errors"
	"math/big"
	"slices"
	"strconv"

	"github.com/shopkit/shopkit/internal/minor"
	"github.com/shopspring/decimal"
)

// Errors callers branch on.
var (
	// ErrInvalidInput is matched by every *InputError.
	ErrInvalidInput = errors.New("logistics: invalid input")
	// ErrNoRate means no table rates the shipment (no zone for the route,
	// or every carrier was excluded by the constraints).
	ErrNoRate = errors.New("logistics: no rate for this shipment")
)

// InputError reports input that breaks a rule.
type InputError struct {
	Field string
	Rule  string
}

// Error implements error.
func (e *InputError) Error() string { return "logistics: " + e.Field + " " + e.Rule }

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// Parcel is measured in whole grams and millimetres: weights add exactly,
// so 0.4 + 0.8 + 0.3 kg is 1,500 g, never 1.4999999 kg.
type Parcel struct {
	Grams                       int64
	LengthMM, WidthMM, HeightMM int64
}

// DimRounding says how each dimension is rounded before the volume.
type DimRounding int

const (
	// DimExact uses the dimensions as measured.
	DimExact DimRounding = iota
	// DimUpToCM rounds each dimension up to a whole centimetre.
	DimUpToCM
	// DimUpToInch rounds each dimension up to a whole inch (25.4 mm).
	DimUpToInch
)

// Volumetric is a carrier's volumetric (dimensional) weight rule.
type Volumetric struct {
	// Divisor is cm³ per kg for metric carriers (5000 for most express
	// couriers, 6000 for many domestic services) or in³ per lb for
	// imperial ones (139 for UPS/FedEx daily rates, 166 for retail).
	Divisor int64
	// Imperial says Divisor is in³ per lb.
	Imperial bool
	Rounding DimRounding
}

// VolumetricGrams returns the parcel's volumetric weight in grams, rounded
// up to the gram, computed exactly. Metric: L×W×H in mm³ / Divisor is
// grams (cm³/divisor = kg). Imperial: in³/Divisor pounds at 453.59237 g.
func (v Volumetric) VolumetricGrams(p Parcel) (int64, error) {
	if v.Divisor <= 0 {
		return 0, &InputError{Field: "Divisor", Rule: "must be > 0"}
	}
	if err := p.check(); err != nil {
		return 0, err
	}
	dims := []int64{p.LengthMM, p.WidthMM, p.HeightMM}
	if !v.Imperial && v.Rounding != DimUpToInch {
		// Integer fast path: dimensions ≤ 10^6 mm, so the volume fits int64.
		vol := int64(1)
		for _, d := range dims {
			if v.Rounding == DimUpToCM {
				d = ceilDiv(d, 10) * 10
			}
			vol *= d
		}
		return ceilDiv(vol, v.Divisor), nil
	}
	vol := new(big.Rat).SetInt64(1)
	for _, d := range dims {
		var x *big.Rat
		switch v.Rounding {
		case DimUpToCM:
			x = big.NewRat(ceilDiv(d, 10)*10, 1)
		case DimUpToInch:
			x = big.NewRat(ceilDiv(d*10, 254)*254, 10) // whole inches, in mm
		default:
			x = big.NewRat(d, 1)
		}
		vol.Mul(vol, x)
	}
	var grams *big.Rat
	if v.Imperial {
		// mm³ → in³: / 25.4³; in³ / divisor = lb; lb × 453.59237 = g.
		inch3 := new(big.Rat).Quo(vol, new(big.Rat).SetFrac64(16387064, 1000))
		lb := inch3.Quo(inch3, big.NewRat(v.Divisor, 1))
		grams = lb.Mul(lb, big.NewRat(45359237, 100000))
	} else {
		grams = vol.Quo(vol, big.NewRat(v.Divisor, 1))
	}
	return ratCeil(grams), nil
}

func (p Parcel) check() error {
	switch {
	case p.Grams < 0 || p.Grams > 1e9:
		return &InputError{Field: "Grams", Rule: "must be in 0..10^9"}
	case p.LengthMM <= 0 || p.WidthMM <= 0 || p.HeightMM <= 0:
		return &InputError{Field: "Dimensions", Rule: "must be > 0"}
	case p.LengthMM > 1e6 || p.WidthMM > 1e6 || p.HeightMM > 1e6:
		return &InputError{Field: "Dimensions", Rule: "must be at most 1 km"}
	}
	return nil
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

func ratCeil(r *big.Rat) int64 {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Int64()
}

// Price is a zone's tariff: First for the first FirstGrams, then
// Additional per started AdditionalGrams: fee = F + ⌈(W − W₀)/S⌉ × A, at
// least Minimum.
//
// On a table with a Billing rule the weights are in the rule's units
// instead: FirstWeight and AdditionalWeight (1 and 1 for a per-pound
// tariff, 0.5 and 0.5 for a per-half-kilo one), and FirstGrams and
// AdditionalGrams are ignored.
type Price struct {
	FirstGrams      int64
	First           decimal.Decimal
	AdditionalGrams int64
	Additional      decimal.Decimal
	Minimum         decimal.Decimal

	FirstWeight, AdditionalWeight decimal.Decimal
}

// Table is one carrier service's rate table.
type Table struct {
	Carrier, Service string
	Days             int // transit days
	Volumetric       Volumetric
	// StepGrams rounds the billable weight up to a multiple (e.g. 500 or
	// 1000); 0 or 1 leaves it in grams.
	StepGrams int64
	// Zones maps origin region → destination region → zone.
	Zones map[string]map[string]string
	// Prices per zone.
	Prices map[string]Price
	// RemoteSurcharge adds to shipments to these destination regions.
	RemoteSurcharge map[string]decimal.Decimal
	// OversizeMM is the longest side beyond which OversizeSurcharge is
	// added; 0 for none.
	OversizeMM        int64
	OversizeSurcharge decimal.Decimal
	// FreeOver ships free when the order value reaches it; zero for never.
	FreeOver decimal.Decimal
	// Insurance, if set, prices cover for the declared value.
	Insurance *Insurance

	// Billing, if set, decides the billable weight instead of Volumetric
	// and StepGrams: exactly, in the carrier's units, with its rounding;
	// Prices then step by FirstWeight and AdditionalWeight.
	Billing *BillingRule
	// MultiParcel says how a shipment of several parcels is priced.
	MultiParcel MultiParcelRule
	// ParcelSurcharge is added per parcel (a handling fee per piece);
	// ShipmentSurcharge once per shipment. Oversize is per parcel; the
	// remote surcharge, free freight and insurance are per shipment.
	ParcelSurcharge, ShipmentSurcharge decimal.Decimal
}

// MultiParcelRule says how a table prices a shipment of several parcels.
type MultiParcelRule uint8

const (
	// PricePerParcel prices each parcel on the tariff (each at least the
	// minimum) and adds the freights: most parcel carriers.
	PricePerParcel MultiParcelRule = iota
	// PriceTotalWeight adds the parcels' billable weights and prices the
	// total once, as UPS and FedEx rate multi-package shipments ("total
	// the billable weight of all packages in the shipment").
	PriceTotalWeight
)

// Shipment is what to rate: one Parcel, or the pieces of a multi-parcel
// shipment in Parcels, or the pieces measured exactly in Measurements.
type Shipment struct {
	Parcel Parcel
	// Parcels, when not empty, are the shipment's pieces (at most
	// MaxParcels) and Parcel is ignored.
	Parcels []Parcel
	// Measurements, when not empty, are the pieces as measured in
	// kilograms and centimetres or pounds and inches, and take precedence
	// over Parcel and Parcels. A table with a Billing rule bills them
	// exactly; one without reads each rounded up to the gram and the
	// millimetre.
	Measurements []Measurement
	Origin       string
	Destination  string
	// Value is the order value (for free shipping) and the declared value
	// (for insurance).
	Value decimal.Decimal
}

// Quote is one service's price for a shipment, itemised in minor units
// (cents, fen): exact integers on the hot path; Money converts one back to
// a decimal amount.
type Quote struct {
	Carrier, Service string
	Days             int
	Zone             string
	VolumetricGrams  int64
	BillableGrams    int64
	Freight          int64
	Surcharges       int64
	Insurance        int64
	Total            int64 // what the shop pays
	FreeShipping     bool
	// Billed is the billable weight under the table's Billing rule, summed
	// over the parcels; nil on a table without one.
	Billed *BillableWeight
	// Parcels itemises a shipment of more than one parcel, in order; nil
	// for one parcel.
	Parcels []ParcelQuote
}

// ParcelQuote is one parcel of a multi-parcel quote. Freight is the
// parcel's own under PricePerParcel and zero under PriceTotalWeight,
// which prices the shipment's total weight once.
type ParcelQuote struct {
	VolumetricGrams int64
	BillableGrams   int64
	Billed          BillableWeight
	Freight         int64
	Surcharges      int64 // oversize and the per-parcel surcharge
}

// Money converts minor units (cents) to a decimal amount.
func Money(cents int64) decimal.Decimal { return minor.ToDecimal(cents, 2) }

// toMinor converts a price to cents, refusing fractions of a cent and
// amounts beyond 10^15 cents, which keeps every sum of a quote in int64.
func toMinor(field string, v decimal.Decimal) (int64, error) {
	c, whole, fits := minor.FromDecimal(v, 2)
	if !whole || !fits || c < 0 || c > 1e15 {
		return 0, &InputError{Field: field, Rule: "must be a non-negative amount in whole cents"}
	}
	return c, nil
}

// Rate prices s on table t: billable weight = max(actual, volumetric)
// rounded up to the step; freight = F + ⌈(W − W₀)/S⌉ × A, at least the
// minimum; plus remote and oversize surcharges and insurance; free freight
// over the threshold.
func (t *Table) Rate(s Shipment) (Quote, error) {
	var ps []piece
	var vol int64
	var err error
	if s.general() || t.Billing != nil {
		ps, err = s.pieces()
	} else {
		vol, err = t.Volumetric.VolumetricGrams(s.Parcel)
	}
	if err != nil {
		return Quote{}, err
	}
	ct, err := t.compile()
	if err != nil {
		return Quote{}, err
	}
	value, err := toMinor("Value", s.Value)
	if err != nil {
		return Quote{}, err
	}
	if ps != nil {
		return ct.rateMulti(s, ps, value)
	}
	return ct.rate(s, vol, value)
}

// compiledTable is a Table with its money in cents.
type compiledTable struct {
	t                      *Table
	prices                 map[string]minorPrice
	remote                 map[string]int64
	oversize               int64
	perParcel, perShipment int64
	freeOver               int64 // −1: never
	ins                    *minorInsurance
}

type minorPrice struct {
	firstGrams, first, addGrams, add, minimum int64
	firstWeight, addWeight                    *big.Rat // on a table with a Billing rule
}

type minorInsurance struct {
	floor, minimum, cap, bp int64
}

func (t *Table) compile() (*compiledTable, error) {
	c := &compiledTable{t: t, prices: make(map[string]minorPrice, len(t.Prices)), freeOver: -1}
	for zone, p := range t.Prices {
		mp := minorPrice{firstGrams: p.FirstGrams, addGrams: p.AdditionalGrams}
		if t.Billing != nil {
			if p.FirstWeight.Sign() < 0 || p.AdditionalWeight.Sign() <= 0 {
				return nil, &InputError{Field: "Prices[" + zone + "]", Rule: "must have FirstWeight >= 0 and AdditionalWeight > 0 on a table with a Billing rule"}
			}
			mp.firstWeight, mp.addWeight = p.FirstWeight.Rat(), p.AdditionalWeight.Rat()
		} else if p.FirstGrams <= 0 || p.AdditionalGrams <= 0 {
			return nil, &InputError{Field: "Prices[" + zone + "]", Rule: "must have FirstGrams and AdditionalGrams > 0"}
		}
		var err error
		if mp.first, err = toMinor("Prices["+zone+"].First", p.First); err != nil {
			return nil, err
		}
		if mp.add, err = toMinor("Prices["+zone+"].Additional", p.Additional); err != nil {
			return nil, err
		}
		if mp.minimum, err = toMinor("Prices["+zone+"].Minimum", p.Minimum); err != nil {
			return nil, err
		}
		c.prices[zone] = mp
	}
	if len(t.RemoteSurcharge) > 0 {
		c.remote = make(map[string]int64, len(t.RemoteSurcharge))
		for dest, v := range t.RemoteSurcharge {
			m, err := toMinor("RemoteSurcharge["+dest+"]", v)
			if err != nil {
				return nil, err
			}
			c.remote[dest] = m
		}
	}
	var err error
	if c.oversize, err = toMinor("OversizeSurcharge", t.OversizeSurcharge); err != nil {
		return nil, err
	}
	if c.perParcel, err = toMinor("ParcelSurcharge", t.ParcelSurcharge); err != nil {
		return nil, err
	}
	if c.perShipment, err = toMinor("ShipmentSurcharge", t.ShipmentSurcharge); err != nil {
		return nil, err
	}
	if t.Billing != nil {
		if err := t.Billing.check("Billing."); err != nil {
			return nil, err
		}
	}
	if t.MultiParcel > PriceTotalWeight {
		return nil, &InputError{Field: "MultiParcel", Rule: "must be PricePerParcel or PriceTotalWeight"}
	}
	if !t.FreeOver.IsZero() {
		if c.freeOver, err = toMinor("FreeOver", t.FreeOver); err != nil {
			return nil, err
		}
	}
	if i := t.Insurance; i != nil {
		if c.ins, err = i.compile("Insurance."); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *compiledTable) rate(s Shipment, vol, value int64) (Quote, error) {
	t := c.t
	zone, ok := t.Zones[s.Origin][s.Destination]
	if !ok {
		return Quote{}, ErrNoRate
	}
	price, ok := c.prices[zone]
	if !ok {
		return Quote{}, &InputError{Field: "Prices", Rule: "must price zone " + strconv.Quote(zone)}
	}
	billable := max(s.Parcel.Grams, vol)
	if t.StepGrams > 1 {
		billable = ceilDiv(billable, t.StepGrams) * t.StepGrams
	}
	freight := price.freightByGrams(billable)
	q := Quote{Carrier: t.Carrier, Service: t.Service, Days: t.Days, Zone: zone, VolumetricGrams: vol,
		BillableGrams: billable, Freight: freight}
	if c.freeOver >= 0 && value >= c.freeOver {
		q.Freight, q.FreeShipping = 0, true
	}
	q.Surcharges += c.remote[s.Destination] + c.perParcel + c.perShipment
	if t.OversizeMM > 0 && max(s.Parcel.LengthMM, s.Parcel.WidthMM, s.Parcel.HeightMM) > t.OversizeMM {
		q.Surcharges += c.oversize
	}
	if c.ins != nil {
		q.Insurance, _ = c.ins.premium(value)
	}
	q.Total = q.Freight + q.Surcharges + q.Insurance
	return q, nil
}

// premium returns the premium and the insured value, in cents, for a
// declared value in cents: nothing below the floor; above it the rate on
// the insured value (capped), rounded up to the cent, at least the
// minimum. Insurance.Premium and every rated quote use it.
func (i *minorInsurance) premium(value int64) (premium, insured int64) {
	if value == 0 || value < i.floor {
		return 0, 0
	}
	insured = value
	if i.cap > 0 {
		insured = min(insured, i.cap)
	}
	return max(ceilDiv(insured*i.bp, 10000), i.minimum), insured
}

// compile checks the insurance terms and converts them to cents; field
// prefixes the names of the fields in errors.
func (i *Insurance) compile(field string) (*minorInsurance, error) {
	if i.RateBP < 0 || i.RateBP > 10000 {
		return nil, &InputError{Field: field + "RateBP", Rule: "must be in 0..10000"}
	}
	mi := &minorInsurance{bp: i.RateBP}
	var err error
	if mi.floor, err = toMinor(field+"Floor", i.Floor); err != nil {
		return nil, err
	}
	if mi.minimum, err = toMinor(field+"MinimumPremium", i.MinimumPremium); err != nil {
		return nil, err
	}
	if mi.cap, err = toMinor(field+"Cap", i.Cap); err != nil {
		return nil, err
	}
	return mi, nil
}

// Policy chooses among quotes.
type Policy int

const (
	// Cheapest minimises the total.
	Cheapest Policy = iota
	// Fastest minimises transit days.
	Fastest
	// BestValue minimises total + DayValue × days: what a day in transit
	// is worth to the shop, stated in money.
	BestValue
)

// Constraints narrow rate shopping.
type Constraints struct {
	MaxDays  int      // 0: any
	Exclude  []string // carriers not to use
	DayValue decimal.Decimal
}

// Rater holds tables compiled for rating: money in cents, checked once.
// It is immutable and safe for concurrent use.
type Rater struct {
	tables []*compiledTable
}

// NewRater validates and compiles tables (prices must be whole cents).
func NewRater(tables []Table) (*Rater, error) {
	r := &Rater{tables: make([]*compiledTable, len(tables))}
	for i := range tables {
		c, err := tables[i].compile()
		if err != nil {
			return nil, err
		}
		r.tables[i] = c
	}
	return r, nil
}

// Shop compiles tables and shops s on them; see Rater.Shop. Compile once
// with NewRater when rating many shipments.
func Shop(tables []Table, s Shipment, p Policy, c Constraints) ([]Quote, error) {
	r, err := NewRater(tables)
	if err != nil {
		return nil, err
	}
	return r.Shop(s, p, c)
}

// Shop rates s on every table and returns all quotes, best first by
// policy; ties go by total, then days, then carrier, then service. Tables
// that cannot rate the route are skipped; an error rating a parcel is
// returned.
func (r *Rater) Shop(s Shipment, p Policy, c Constraints) ([]Quote, error) {
	value, err := toMinor("Value", s.Value)
	if err != nil {
		return nil, err
	}
	quotes := make([]Quote, 0, len(r.tables))
	vols := map[Volumetric]int64{} // tables often share a rule
	var ps []piece                 // a multi-parcel or measured shipment's pieces, once
	if s.general() {
		if ps, err = s.pieces(); err != nil {
			return nil, err
		}
	}
	for _, ct := range r.tables {
		t := ct.t
		if slices.Contains(c.Exclude, t.Carrier) || (c.MaxDays > 0 && t.Days > c.MaxDays) {
			continue
		}
		if ps != nil || t.Billing != nil {
			if ps == nil {
				if ps, err = s.pieces(); err != nil {
					return nil, err
				}
			}
			q, err := ct.rateMulti(s, ps, value)
			if errors.Is(err, ErrNoRate) {
				continue
			}
			if err != nil {
				return nil, err
			}
			quotes = append(quotes, q)
			continue
		}
		vol, ok := vols[t.Volumetric]
		if !ok {
			var err error
			if vol, err = t.Volumetric.VolumetricGrams(s.Parcel); err != nil {
				return nil, err
			}
			vols[t.Volumetric] = vol
		}
		q, err := ct.rate(s, vol, value)
		if errors.Is(err, ErrNoRate) {
			continue
		}
		if err != nil {
			return nil, err
		}
		quotes = append(quotes, q)
	}
	if len(quotes) == 0 {
		return nil, ErrNoRate
	}
	dayValue, err := toMinor("DayValue", c.DayValue)
	if err != nil {
		return nil, err
	}
	// Sort small keys, not whole quotes: scores computed once per quote.
	type key struct {
		score, total int64
		days, idx    int
	}
	keys := make([]key, len(quotes))
	for i, q := range quotes {
		k := key{score: q.Total, total: q.Total, days: q.Days, idx: i}
		switch p {
		case Fastest:
			k.score = int64(q.Days)
		case BestValue:
			k.score = q.Total + dayValue*int64(q.Days)
		}
		keys[i] = k
	}
	slices.SortStableFunc(keys, func(x, y key) int {
		if c := cmp.Compare(x.score, y.score); c != 0 {
			return c
		}
		if c := cmp.Compare(x.total, y.total); c != 0 {
			return c
		}
		if c := cmp.Compare(x.days, y.days); c != 0 {
			return c
		}
		a, b := &quotes[x.idx], &quotes[y.idx]
		if c := cmp.Compare(a.Carrier, b.Carrier); c != 0 {
			return c
		}
		return cmp.Compare(a.Service, b.Service)
	})
	// Apply the order in place, cycle by cycle: no second slice of quotes.
	for i := range keys {
		if keys[i].idx < 0 {
			continue
		}
		tmp, j := quotes[i], i
		for {
			k := keys[j].idx
			keys[j].idx = -1
			if k == i {
				quotes[j] = tmp
				break
			}
			quotes[j] = quotes[k]
			j = k
		}
	}
	return quotes, nil
}

// Insurance prices cover by declared value: nothing below Floor; above
// it, RateBP basis points of the insured value (capped at Cap), at least
// MinimumPremium, rounded up to the cent.
type Insurance struct {
	Floor          decimal.Decimal
	RateBP         int64
	MinimumPremium decimal.Decimal
	Cap            decimal.Decimal // zero: no cap
}

// Premium returns the premium and the value insured for a declared value,
// in whole cents (a fraction of a cent is an *InputError), computed as a
// rated quote computes it.
func (i *Insurance) Premium(declared decimal.Decimal) (premium, insured decimal.Decimal, err error) {
	mi, err := i.compile("")
	if err != nil {
		return decimal.Zero, decimal.Zero, err
	}
	value, err := toMinor("Value", declared)
	if err != nil {
		return decimal.Zero, decimal.Zero, err
	}
	p, ins := mi.premium(value)
	return Money(p), Money(ins), nil
}
