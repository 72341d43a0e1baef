package inventory

import (
	"context"
	"math"
	"sort"
	"strconv"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// Component is one item a bundle consumes per unit sold.
type Component struct {
	SKU      string
	Quantity int64 // units per bundle, > 0
}

// Bundles maps a sellable bundle or kit SKU to the items it consumes: a
// gift set of a mug and two coasters is {"gift-set": {{"mug", 1},
// {"coaster", 2}}}. A bundle holds no stock of its own; it is reserved,
// committed and released as its components, all together or not at all,
// since a reservation's lines are. Components are taken at the bundle
// line's location. A Bundles value is read-only once built and safe for
// concurrent use.
type Bundles map[string][]Component

// Check validates the bundles: IDs that are valid SKUs, at least one
// component, positive quantities, no component listed twice, and no
// bundle among components (kits do not nest).
func (b Bundles) Check() error {
	skus := make([]string, 0, len(b))
	for sku := range b {
		skus = append(skus, sku)
	}
	sort.Strings(skus) // report the first bad bundle in a stable order
	for _, sku := range skus {
		f := "Bundles[" + sku + "]"
		if rule := keyspace.CheckID(sku); rule != "" {
			return &InputError{Field: f, Rule: rule}
		}
		comps := b[sku]
		if len(comps) == 0 {
			return &InputError{Field: f, Rule: "must have a component"}
		}
		seen := map[string]bool{}
		for i, c := range comps {
			cf := f + ".Components[" + strconv.Itoa(i) + "]"
			if rule := keyspace.CheckID(c.SKU); rule != "" {
				return &InputError{Field: cf + ".SKU", Rule: rule}
			}
			if _, nested := b[c.SKU]; nested {
				return &InputError{Field: cf + ".SKU", Rule: "must not be a bundle"}
			}
			if seen[c.SKU] {
				return &InputError{Field: cf + ".SKU", Rule: "must be listed once"}
			}
			seen[c.SKU] = true
			if c.Quantity <= 0 || c.Quantity > MaxQuantity {
				return &InputError{Field: cf + ".Quantity", Rule: "must be in 1.." + strconv.FormatInt(MaxQuantity, 10)}
			}
		}
	}
	return nil
}

// Expand returns lines with every bundle line replaced by its components,
// quantities multiplied through (3 gift sets are 3 mugs and 6 coasters);
// other lines are kept. Reserve the result: the components are held all
// together or not at all, and a shortage names the component that is
// short. A product beyond MaxQuantity is an *InputError.
func (b Bundles) Expand(lines []Line) ([]Line, error) {
	out := make([]Line, 0, len(lines))
	for i, l := range lines {
		comps, ok := b[l.SKU]
		if !ok {
			out = append(out, l)
			continue
		}
		for _, c := range comps {
			if l.Quantity > 0 && c.Quantity > MaxQuantity/l.Quantity {
				return nil, &InputError{Field: "Lines[" + strconv.Itoa(i) + "].Quantity", Rule: "times the bundle's components must be at most " + strconv.FormatInt(MaxQuantity, 10)}
			}
			out = append(out, Line{SKU: c.SKU, Location: l.Location, Quantity: l.Quantity * c.Quantity})
		}
	}
	return out, nil
}

// Available returns how many of a bundle can be reserved at a location
// now: the fewest whole bundles any component's available stock covers.
// An SKU that is not a bundle reports its own available stock.
func (b Bundles) Available(ctx context.Context, s *Store, sku, location string) (int64, error) {
	comps, ok := b[sku]
	if !ok {
		comps = []Component{{SKU: sku, Quantity: 1}}
	}
	items := make([]Item, len(comps))
	for i, c := range comps {
		items[i] = Item{SKU: c.SKU, Location: location}
	}
	levels, err := s.Levels(ctx, items...)
	if err != nil {
		return 0, err
	}
	n := int64(math.MaxInt64)
	for i, l := range levels {
		n = min(n, max(l.Available(), 0)/comps[i].Quantity)
	}
	return n, nil
}
