package minor

import (
	"math"
	"testing"

	"github.com/shopspring/decimal"
)

func TestFromDecimal(t *testing.T) {
	tests := []struct {
		give        string
		scale       int32
		want        int64
		whole, fits bool
	}{
		{"12.34", 2, 1234, true, true},
		{"-12.34", 2, -1234, true, true},
		{"12.3", 2, 1230, true, true},
		{"12.345", 2, 0, false, true}, // a fraction of a cent
		{"12.340", 2, 1234, true, true},
		{"0", 6, 0, true, true},
		{"92233720368547758.07", 2, math.MaxInt64, true, true},
		{"92233720368547758.08", 2, 0, true, false},
		{"-92233720368547758.08", 2, math.MinInt64, true, true},
		{"1e-3", 3, 1, true, true},
	}
	for _, tt := range tests {
		m, whole, fits := FromDecimal(decimal.RequireFromString(tt.give), tt.scale)
		if m != tt.want || whole != tt.whole || fits != tt.fits {
			t.Errorf("FromDecimal(%s, %d) = %d, %v, %v; want %d, %v, %v", tt.give, tt.scale, m, whole, fits, tt.want, tt.whole, tt.fits)
		}
	}
}

// FuzzRoundTrip: a whole amount that fits converts back to itself.
func FuzzRoundTrip(f *testing.F) {
	f.Add(int64(1234), int32(2))
	f.Add(int64(math.MinInt64), int32(0))
	f.Fuzz(func(t *testing.T, m int64, scale int32) {
		scale = scale & 15
		v := ToDecimal(m, scale)
		got, whole, fits := FromDecimal(v, scale)
		if !whole || !fits || got != m {
			t.Fatalf("%d at scale %d: %s gives %d, %v, %v", m, scale, v, got, whole, fits)
		}
	})
}
