package pricing

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/shopkit/shopkit/internal/minor"
	"github.com/shopspring/decimal"
)

// cartState is a cart in minor units during one evaluation.
type cartState struct {
	unit   []int64 // unit price after member prices
	qty    []int64
	amount []int64 // current line amount (after discounts so far)
	// shipping is the shipping charge left; baseShipping what it was.
	shipping, baseShipping int64
	// applied logs every share of a discount, in the order given; one
	// flat log keeps cloning the state for each combination cheap.
	applied []share
	record  bool // whether to log shares: only the winning evaluation does
	// scratch space for apportion, sized to the cart once and shared by
	// every clone: the evaluations of one quote run one after another.
	shares  []int64
	weights []int64
	units   []unitGroup
}

// unitGroup is a line's units at one unit price, for BuyXGetY.
type unitGroup struct{ price, n int64 }

// share is one promotion's part of one line's discount, in minor units.
type share struct {
	line, plan int32 // the line, and the promotion's plan index
	amount     int64
}

func newState(cart Cart) (*cartState, error) {
	if cart.Scale < 0 || cart.Scale > maxScale {
		return nil, &InputError{Field: "Scale", Rule: "must be in 0..6"}
	}
	if len(cart.Lines) == 0 {
		return nil, &InputError{Field: "Lines", Rule: "must not be empty"}
	}
	n := len(cart.Lines)
	s := &cartState{unit: make([]int64, 0, n), qty: make([]int64, 0, n), amount: make([]int64, 0, n)}
	ship, err := toMinor(cart.Shipping, cart.Scale)
	if err != nil {
		return nil, &InputError{Field: "Shipping", Rule: err.Error()}
	}
	s.shipping, s.baseShipping = ship, ship
	var sum int64
	for i, l := range cart.Lines {
		field := func(name string) string { return "Lines[" + strconv.Itoa(i) + "]" + name }
		if l.SKU == "" {
			return nil, &InputError{Field: field(".SKU"), Rule: "must not be empty"}
		}
		if l.Quantity <= 0 || l.Quantity > 1e9 {
			return nil, &InputError{Field: field(".Quantity"), Rule: "must be in 1..10^9"}
		}
		u, err := toMinor(l.UnitPrice, cart.Scale)
		if err != nil {
			return nil, &InputError{Field: field(".UnitPrice"), Rule: err.Error()}
		}
		if u > math.MaxInt64/l.Quantity/4 {
			return nil, &InputError{Field: field(""), Rule: "subtotal must fit in int64 minor units"}
		}
		s.unit = append(s.unit, u)
		s.qty = append(s.qty, l.Quantity)
		s.amount = append(s.amount, u*l.Quantity)
		if sum += u * l.Quantity; sum > math.MaxInt64/4 {
			return nil, &InputError{Field: "Lines", Rule: "cart subtotal must fit in int64 minor units"}
		}
	}
	s.shares, s.weights, s.units = make([]int64, n), make([]int64, n), make([]unitGroup, 0, n)
	return s, nil
}

// toMinor converts a price to minor units of scale: non-negative, whole
// at that scale, and at most a quarter of int64, which keeps every sum of a
// quote in int64.
func toMinor(v decimal.Decimal, scale int32) (int64, error) {
	m, whole, fits := minor.FromDecimal(v, scale)
	if !whole || !fits || m < 0 || m > math.MaxInt64/4 {
		return 0, fmt.Errorf("must be a non-negative amount with at most %d decimals", scale)
	}
	return m, nil
}

func (s *cartState) clone() *cartState {
	// unit and qty never change during an evaluation: they are shared.
	return &cartState{unit: s.unit, qty: s.qty, amount: slices.Clone(s.amount), applied: slices.Clone(s.applied),
		shipping: s.shipping, baseShipping: s.baseShipping,
		shares: s.shares, weights: s.weights, units: s.units}
}

// resetTo makes s the state base is, reusing s's storage.
func (s *cartState) resetTo(base *cartState) {
	s.amount = append(s.amount[:0], base.amount...)
	s.applied = append(s.applied[:0], base.applied...)
	s.shipping, s.baseShipping = base.shipping, base.baseShipping
}
