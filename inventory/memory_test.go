package inventory_test

import (
	"testing"

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
