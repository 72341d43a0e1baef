package inventory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shopkit/shopkit/inventory"
)

// FuzzReserveInput: any request either reserves or fails with a typed error;
// nothing panics, and a rejected request leaves the levels as they were.
func FuzzReserveInput(f *testing.F) {
	f.Add("r1", "apple", "wh1", int64(1), int64(2), int64(60_000))
	f.Add("", "a{b}", "w:h", int64(0), int64(-1), int64(0))
	f.Add("x}{y", "apple", "wh1", int64(inventory.MaxQuantity), int64(inventory.MaxQuantity), int64(1))
	f.Add("r\n", "\xff", "wh1", int64(-5), int64(3), int64(-1))
	f.Fuzz(func(t *testing.T, id, sku, loc string, q1, q2, ttlMillis int64) {
		ctx := context.Background()
		s := inventory.NewMemory(inventory.Options{})
		defer s.Close()
		if _, err := s.SetOnHand(ctx, inventory.Count{ID: "init", SKU: "apple", Location: "wh1", OnHand: 10, Reason: inventory.ReasonCount}); err != nil {
			t.Fatal(err)
		}
		r, err := s.Reserve(ctx, inventory.Request{ID: id, TTL: time.Duration(ttlMillis) * time.Millisecond, Lines: []inventory.Line{
			{SKU: sku, Location: loc, Quantity: q1}, {SKU: "apple", Location: "wh1", Quantity: q2},
		}})
		lv, lerr := s.Levels(ctx, inventory.Item{SKU: "apple", Location: "wh1"})
		if lerr != nil {
			t.Fatal(lerr)
		}
		switch {
		case err == nil:
			if strings.ContainsAny(id+sku+loc, "{}: \t\n") || q1 <= 0 || q2 <= 0 {
				t.Fatalf("accepted invalid request %q %q %q %d %d", id, sku, loc, q1, q2)
			}
			var want int64
			for _, l := range r.Lines {
				if l.SKU == "apple" && l.Location == "wh1" {
					want = l.Quantity
				}
			}
			if lv[0].Reserved != want {
				t.Fatalf("reserved %d, want %d", lv[0].Reserved, want)
			}
		case errors.Is(err, inventory.ErrInvalidInput), errors.Is(err, inventory.ErrInsufficientStock):
			if lv[0].Reserved != 0 || lv[0].OnHand != 10 {
				t.Fatalf("rejected request changed the level: %+v (%v)", lv[0], err)
			}
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}
