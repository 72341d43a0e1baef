package routing_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shopkit/shopkit/routing"
)

// network: customers in the east zone are served by an east warehouse
// (path cost 5), a forward store (2) and a west warehouse (20, through the
// hub); west and east warehouses exchange stock through the hub.
func network(t *testing.T) *routing.Graph {
	t.Helper()
	g, err := routing.Build([]routing.Location{
		{ID: "cust-east", Region: "east"},
		{ID: "wh-east", Region: "east", Priority: 1},
		{ID: "fwd-east", Region: "east", Priority: 0},
		{ID: "wh-west", Region: "west", Priority: 5},
		{ID: "hub", Region: "central"},
	}, []routing.Lane{
		{From: "wh-east", To: "cust-east", Cost: 5},
		{From: "fwd-east", To: "cust-east", Cost: 2},
		{From: "wh-west", To: "hub", Cost: 8},
		{From: "hub", To: "cust-east", Cost: 12},
		{From: "hub", To: "wh-east", Cost: 3},
		{From: "wh-east", To: "hub", Cost: 3},
		{From: "hub", To: "wh-west", Cost: 8},
		{From: "fwd-east", To: "wh-east", Cost: 1},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func shipments(p routing.Plan) string {
	var parts []string
	for _, s := range p.Shipments {
		var lines []string
		for _, l := range s.Lines {
			lines = append(lines, fmt.Sprintf("%s×%d", l.SKU, l.Quantity))
		}
		parts = append(parts, s.From+"["+strings.Join(lines, ",")+"]")
	}
	return strings.Join(parts, " ")
}

func TestAllocateRules(t *testing.T) {
	g := network(t)
	order := routing.Order{Destination: "cust-east", Lines: []routing.OrderLine{{SKU: "mug", Quantity: 2}, {SKU: "tee", Quantity: 1}}}
	tests := []struct {
		name  string
		stock routing.Stock
		opts  routing.AllocateOptions
		want  string
		rule  string
	}{
		{"one location beats two", routing.Stock{
			"fwd-east": {"mug": 2}, "wh-east": {"tee": 1}, "wh-west": {"mug": 2, "tee": 1},
		}, routing.AllocateOptions{}, "wh-west[mug×2,tee×1]", "fewest shipments"},
		{"region beats cost", routing.Stock{
			"wh-east": {"mug": 2, "tee": 1}, "wh-west": {"mug": 2, "tee": 1},
		}, routing.AllocateOptions{}, "wh-east[mug×2,tee×1]", "destination region"},
		{"cost within the region", routing.Stock{
			"wh-east": {"mug": 2, "tee": 1}, "fwd-east": {"mug": 5, "tee": 5},
		}, routing.AllocateOptions{}, "fwd-east[mug×2,tee×1]", "lowest path cost"},
		{"split when no one location can", routing.Stock{
			"fwd-east": {"mug": 2}, "wh-east": {"tee": 1},
		}, routing.AllocateOptions{}, "fwd-east[mug×2] wh-east[tee×1]", "fewest shipments"},
		{"a custom rule first", routing.Stock{
			"wh-east": {"mug": 2, "tee": 1}, "fwd-east": {"mug": 5, "tee": 5},
		}, routing.AllocateOptions{Rules: append([]routing.Rule{{Name: "avoid stores", Compare: func(a, b *routing.Candidate) int {
			return strings.Count(strings.Join(a.Locations, ","), "fwd") - strings.Count(strings.Join(b.Locations, ","), "fwd")
		}}}, routing.DefaultRules()...)}, "wh-east[mug×2,tee×1]", "avoid stores"},
	}
	for _, tt := range tests {
		p, err := routing.Allocate(g, order, tt.stock, tt.opts)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := shipments(p); got != tt.want {
			t.Errorf("%s: shipments %s, want %s (decisions %+v)", tt.name, got, tt.want, p.Decisions)
		}
		if len(p.Decisions) == 0 || p.Decisions[0].Rule != tt.rule {
			t.Errorf("%s: decided by %+v, want %q", tt.name, p.Decisions, tt.rule)
		}
	}
}

func TestAllocatePriorityAndPaths(t *testing.T) {
	// Two east warehouses at equal cost: priority decides.
	g, err := routing.Build([]routing.Location{
		{ID: "dest", Region: "r"}, {ID: "a", Region: "r", Priority: 1}, {ID: "b", Region: "r", Priority: 9},
	}, []routing.Lane{{From: "a", To: "dest", Cost: 4}, {From: "b", To: "dest", Cost: 4}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := routing.Allocate(g, routing.Order{Destination: "dest", Lines: []routing.OrderLine{{SKU: "x", Quantity: 1}}},
		routing.Stock{"a": {"x": 1}, "b": {"x": 1}}, routing.AllocateOptions{})
	if err != nil || shipments(p) != "b[x×1]" || p.Decisions[0].Rule != "location priority" {
		t.Fatalf("plan %s, %+v, %v", shipments(p), p.Decisions, err)
	}
	if s := p.Shipments[0]; s.Path.Cost != 4 || strings.Join(s.Path.Locations, ">") != "b>dest" {
		t.Fatalf("shipment path %+v", s.Path)
	}
}

func TestAllocateConsolidate(t *testing.T) {
	g := network(t)
	order := routing.Order{Destination: "cust-east", Lines: []routing.OrderLine{{SKU: "mug", Quantity: 3}}}
	// One mug each at wh-east and fwd-east, five at wh-west. fwd-east is
	// the cheapest to ship from but no lane leads into it, so it cannot
	// gather the order; wh-east can (in region, path cost 5), pulling one
	// mug from fwd-east (transfer cost 1) and one from wh-west through the
	// hub (cost 8 + 3 = 11).
	p, err := routing.Allocate(g, order, routing.Stock{"wh-east": {"mug": 1}, "fwd-east": {"mug": 1}, "wh-west": {"mug": 5}},
		routing.AllocateOptions{Consolidate: true})
	if err != nil {
		t.Fatal(err)
	}
	if shipments(p) != "wh-east[mug×3]" {
		t.Fatalf("shipments %s", shipments(p))
	}
	var got []string
	for _, tr := range p.Transfers {
		got = append(got, fmt.Sprintf("%s>%s %s×%d via %s cost %g", tr.From, tr.To, tr.SKU, tr.Quantity, strings.Join(tr.Path.Locations, ">"), tr.Path.Cost))
	}
	want := []string{"fwd-east>wh-east mug×1 via fwd-east>wh-east cost 1", "wh-west>wh-east mug×1 via wh-west>hub>wh-east cost 11"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("transfers %v, want %v", got, want)
	}
}

func TestAllocateShortfall(t *testing.T) {
	g := network(t)
	_, err := routing.Allocate(g, routing.Order{Destination: "cust-east", Lines: []routing.OrderLine{{SKU: "mug", Quantity: 5}, {SKU: "tee", Quantity: 1}, {SKU: "cap", Quantity: 2}}},
		routing.Stock{"wh-east": {"mug": 2, "tee": 1}, "wh-west": {"mug": 1}}, routing.AllocateOptions{})
	var se *routing.ShortfallError
	if !errors.As(err, &se) || !errors.Is(err, routing.ErrInsufficientStock) || se.Missing["mug"] != 2 || se.Missing["cap"] != 2 || len(se.Missing) != 2 {
		t.Fatalf("err = %v, want mug short 2 and cap short 2", err)
	}
	for _, bad := range []struct {
		order routing.Order
		stock routing.Stock
		field string
	}{
		{routing.Order{Destination: "nowhere", Lines: []routing.OrderLine{{SKU: "x", Quantity: 1}}}, nil, "Destination"},
		{routing.Order{Destination: "cust-east"}, nil, "Lines"},
		{routing.Order{Destination: "cust-east", Lines: []routing.OrderLine{{SKU: "x", Quantity: 0}}}, nil, "Lines[0].Quantity"},
		{routing.Order{Destination: "cust-east", Lines: []routing.OrderLine{{SKU: "x", Quantity: 1}}}, routing.Stock{"mars": {"x": 1}}, "Stock"},
	} {
		var ie *routing.InputError
		if _, err := routing.Allocate(g, bad.order, bad.stock, routing.AllocateOptions{}); !errors.As(err, &ie) || ie.Field != bad.field {
			t.Errorf("err = %v, want InputError on %s", err, bad.field)
		}
	}
}
