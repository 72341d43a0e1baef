package main

import (
	"encoding/json"
	"fmt"

	"github.com/shopspring/decimal"
)

// money is an amount in yuan that travels as a JSON string with exactly
// two decimals ("168.00"): exact, unlike a JSON number, and the same form
// whatever the arithmetic left behind.
type money struct{ decimal.Decimal }

func yuan(d decimal.Decimal) money { return money{d} }

// MarshalJSON implements json.Marshaler.
func (m money) MarshalJSON() ([]byte, error) {
	return []byte(`"` + m.StringFixed(scale) + `"`), nil
}

// UnmarshalJSON implements json.Unmarshaler: a string, as money is sent.
func (m *money) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("amounts are strings such as \"12.50\"")
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return fmt.Errorf("%q is not an amount", s)
	}
	m.Decimal = d
	return nil
}
