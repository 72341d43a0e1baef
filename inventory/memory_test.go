package inventory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopkit/shopkit/inventory"
	"github.com/shopkit/shopkit/inventory/inventorytest"
)

func TestMemory(t *testing.T) {
	inventorytest.Run(t, func(t *testing.T, opts inventory.Options) *inventory.Store {
		s := inventory.NewMemory(opts)
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// TestMemoryReserveAllocations: a one-line reservation allocates only its
// copy of the lines (the record goes in a chunk, its line on the stack).
//
// Regression: the line went through a slice the record table could
// store, which moved it to the heap on every reservation.
func TestMemoryReserveAllocations(t *testing.T) {
	s := inventory.NewMemory(inventory.Options{})
	ctx := context.Background()
	if _, err := s.Adjust(ctx, inventory.Adjustment{ID: "in", SKU: "sku", Location: "wh", Delta: 1 << 40, Reason: inventory.ReasonReceipt}); err != nil {
		t.Fatal(err)
	}
	const runs = 2000
	ids := make([]string, runs+1)
	for i := range ids {
		ids[i] = fmt.Sprint("r", i)
	}
	lines := []inventory.Line{{SKU: "sku", Location: "wh", Quantity: 1}}
	next := 0
	allocs := testing.AllocsPerRun(runs, func() {
		if _, err := s.Reserve(ctx, inventory.Request{ID: ids[next], Lines: lines, TTL: time.Hour}); err != nil {
			t.Fatal(err)
		}
		next++
	})
	if allocs > 1 {
		t.Fatalf("a one-line Reserve allocates %v times, want 1", allocs)
	}
}
