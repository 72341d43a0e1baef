package inventory

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/shopkit/shopkit/internal/opscript"
)

var (
	//go:embed lua/policy.lua
	policyLua    string
	policyScript = opscript.NewIdempotent(policyLua)
)

func (s *redisBackend) setPolicy(ctx context.Context, p Policy) error {
	var release int64
	if !p.ReleaseAt.IsZero() {
		release = p.ReleaseAt.UnixMilli()
	}
	incoming := 0
	if p.PreorderIncoming {
		incoming = 1
	}
	if _, err := s.run(ctx, policyScript, []string{s.stockKey(p.SKU, p.Location)}, p.Backorder, p.Preorder, release, incoming); err != nil {
		return fmt.Errorf("inventory: set policy of %s at %s: %w", p.SKU, p.Location, err)
	}
	return nil
}

// waitingLines turns the units of each line that wait for stock, as a
// script reports them, into Reservation.Backorders.
func waitingLines(lines []Line, waiting []int64) []Line {
	var out []Line
	for i, w := range waiting {
		if w > 0 && i < len(lines) {
			out = append(out, Line{SKU: lines[i].SKU, Location: lines[i].Location, Quantity: w})
		}
	}
	return out
}
