package inventory

import (
	"slices"
	"strings"
	"testing"
)

// FuzzLinesCodec: a reservation record's lines read back as written, and
// no stored text, however malformed, makes the reader panic; what it
// accepts writes back to text that reads the same.
func FuzzLinesCodec(f *testing.F) {
	f.Add("sku-1", "wh1", int64(3), "apple\twh1\t2\npear\twh2\t1\n")
	f.Add("a", "b", int64(-1), "x\ty\t+7\n")
	f.Add("", "", int64(0), "broken\t1\n")
	f.Fuzz(func(t *testing.T, sku, loc string, qty int64, stored string) {
		if !strings.ContainsAny(sku+loc, "\t\n") {
			lines := []Line{{SKU: sku, Location: loc, Quantity: qty}, {SKU: loc, Location: sku, Quantity: -qty}}
			got, err := decodeLines(encodeLines(lines))
			if err != nil || !slices.Equal(got, lines) {
				t.Fatalf("decode(encode(%v)) = %v, %v", lines, got, err)
			}
		}
		got, err := decodeLines(stored)
		if err != nil {
			return
		}
		again, err := decodeLines(encodeLines(got))
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("%q read as %v, which writes back as %v, %v", stored, got, again, err)
		}
		_, _ = parseInts(stored)
	})
}
