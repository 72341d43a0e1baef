package logistics_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shopkit/shopkit/logistics"
)

var cartons = []logistics.Box{
	{Name: "S", InnerLengthMM: 150, InnerWidthMM: 150, InnerHeightMM: 150, TareGrams: 100},
	{Name: "M", InnerLengthMM: 200, InnerWidthMM: 200, InnerHeightMM: 200, OuterLengthMM: 206, OuterWidthMM: 206, OuterHeightMM: 206, TareGrams: 200},
	{Name: "L", InnerLengthMM: 400, InnerWidthMM: 300, InnerHeightMM: 300, TareGrams: 450},
}

// TestPackShrinksToSmallestBox: eight 100 mm cubes fill the M carton
// exactly; the heuristic opens L and shrinks it to M.
func TestPackShrinksToSmallestBox(t *testing.T) {
	p, err := logistics.Pack([]logistics.Item{{ID: "cube", LengthMM: 100, WidthMM: 100, HeightMM: 100, Grams: 250, Quantity: 8}}, cartons)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Boxes) != 1 || p.Boxes[0].Box.Name != "M" || p.Boxes[0].FillPermille != 1000 || len(p.Boxes[0].Items) != 8 {
		t.Fatalf("got\n%s", p)
	}
	if got := p.Boxes[0].Parcel; got != (logistics.Parcel{Grams: 2200, LengthMM: 206, WidthMM: 206, HeightMM: 206}) {
		t.Fatalf("parcel %+v: want the outer dimensions and 8 × 250 + 200 g", got)
	}
	checkPacking(t, []logistics.Item{{ID: "cube", LengthMM: 100, WidthMM: 100, HeightMM: 100, Grams: 250, Quantity: 8}}, p)
}

// TestPackRotates: a rod longer than the box is wide stands up; an
// upright rod may not, so it fits nowhere.
func TestPackRotates(t *testing.T) {
	tall := []logistics.Box{{Name: "tube", InnerLengthMM: 60, InnerWidthMM: 60, InnerHeightMM: 310}}
	rod := logistics.Item{ID: "rod", LengthMM: 300, WidthMM: 50, HeightMM: 50, Grams: 80}
	p, err := logistics.Pack([]logistics.Item{rod}, tall)
	if err != nil {
		t.Fatal(err)
	}
	if pl := p.Boxes[0].Items[0]; pl.HeightMM != 300 {
		t.Fatalf("placed %+v; want it standing", pl)
	}
	rod.Upright = true
	if _, err := logistics.Pack([]logistics.Item{rod}, tall); !errors.Is(err, logistics.ErrDoesNotFit) {
		t.Fatalf("upright rod: %v, want ErrDoesNotFit", err)
	}
}

// TestPackWeightCap: three 4 kg items in boxes that carry 10 kg with the
// tare take two boxes.
func TestPackWeightCap(t *testing.T) {
	boxes := []logistics.Box{{Name: "crate", InnerLengthMM: 500, InnerWidthMM: 500, InnerHeightMM: 500, TareGrams: 500, MaxGrams: 10000}}
	items := []logistics.Item{{ID: "anvil", LengthMM: 100, WidthMM: 100, HeightMM: 100, Grams: 4000, Quantity: 3}}
	p, err := logistics.Pack(items, boxes)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Boxes) != 2 || p.Boxes[0].Parcel.Grams != 8500 || p.Boxes[1].Parcel.Grams != 4500 {
		t.Fatalf("got\n%s", p)
	}
	checkPacking(t, items, p)
}

// TestPackRandom packs random orders into a random catalogue and checks
// the packing's invariants: every unit placed once, inside its box's
// inner dimensions, clear of the others, upright units upright, weights
// within the caps, and the parcel's weight the tare plus the contents.
func TestPackRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for round := range 300 {
		var boxes []logistics.Box
		for i := range 1 + r.IntN(4) {
			boxes = append(boxes, logistics.Box{Name: fmt.Sprint("b", i),
				InnerLengthMM: 100 + r.Int64N(400), InnerWidthMM: 100 + r.Int64N(400), InnerHeightMM: 100 + r.Int64N(400),
				TareGrams: r.Int64N(500), MaxGrams: []int64{0, 20000}[r.IntN(2)]})
		}
		var items []logistics.Item
		for i := range 1 + r.IntN(12) {
			items = append(items, logistics.Item{ID: fmt.Sprint("i", i),
				LengthMM: 10 + r.Int64N(120), WidthMM: 10 + r.Int64N(120), HeightMM: 10 + r.Int64N(120),
				Grams: r.Int64N(3000), Quantity: r.IntN(4), Upright: r.IntN(4) == 0})
		}
		p, err := logistics.Pack(items, boxes)
		if errors.Is(err, logistics.ErrDoesNotFit) {
			continue
		}
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		checkPacking(t, items, p)
	}
}

func checkPacking(t *testing.T, items []logistics.Item, p logistics.Packing) {
	t.Helper()
	want := map[string]int{}
	byID := map[string]logistics.Item{}
	for _, it := range items {
		want[it.ID] += max(it.Quantity, 1)
		byID[it.ID] = it
	}
	for bi, pb := range p.Boxes {
		var grams int64
		for i, a := range pb.Items {
			it := byID[a.ItemID]
			want[a.ItemID]--
			grams += it.Grams
			got := [3]int64{a.LengthMM, a.WidthMM, a.HeightMM}
			if !samePermutation(got, [3]int64{it.LengthMM, it.WidthMM, it.HeightMM}) || (it.Upright && a.HeightMM != it.HeightMM) {
				t.Fatalf("box %d: %s placed as %v", bi, a.ItemID, got)
			}
			if a.X < 0 || a.Y < 0 || a.Z < 0 || a.X+a.LengthMM > pb.Box.InnerLengthMM || a.Y+a.WidthMM > pb.Box.InnerWidthMM || a.Z+a.HeightMM > pb.Box.InnerHeightMM {
				t.Fatalf("box %d (%+v): %+v sticks out", bi, pb.Box, a)
			}
			for _, b := range pb.Items[:i] {
				if a.X < b.X+b.LengthMM && b.X < a.X+a.LengthMM && a.Y < b.Y+b.WidthMM && b.Y < a.Y+a.WidthMM && a.Z < b.Z+b.HeightMM && b.Z < a.Z+a.HeightMM {
					t.Fatalf("box %d: %+v overlaps %+v", bi, a, b)
				}
			}
		}
		if pb.Parcel.Grams != grams+pb.Box.TareGrams || (pb.Box.MaxGrams > 0 && pb.Parcel.Grams > pb.Box.MaxGrams) {
			t.Fatalf("box %d weighs %d (contents %d, box %+v)", bi, pb.Parcel.Grams, grams, pb.Box)
		}
	}
	for id, n := range want {
		if n != 0 {
			t.Fatalf("%s: %d units unaccounted for", id, n)
		}
	}
}

func samePermutation(a, b [3]int64) bool {
	for _, p := range [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}} {
		if a[0] == b[p[0]] && a[1] == b[p[1]] && a[2] == b[p[2]] {
			return true
		}
	}
	return false
}

func TestPackInvalid(t *testing.T) {
	ok := logistics.Item{ID: "a", LengthMM: 1, WidthMM: 1, HeightMM: 1}
	for _, tc := range []struct {
		items []logistics.Item
		boxes []logistics.Box
		field string
	}{
		{nil, cartons, "Items"},
		{[]logistics.Item{ok}, nil, "Boxes"},
		{[]logistics.Item{{LengthMM: 1, WidthMM: 1, HeightMM: 1}}, cartons, "Items[0].ID"},
		{[]logistics.Item{ok, {ID: "b", WidthMM: 1, HeightMM: 1}}, cartons, "Items[1].Dimensions"},
		{[]logistics.Item{{ID: "a", LengthMM: 1, WidthMM: 1, HeightMM: 1, Grams: -1}}, cartons, "Items[0].Grams"},
		{[]logistics.Item{{ID: "a", LengthMM: 1, WidthMM: 1, HeightMM: 1, Quantity: logistics.MaxPackUnits + 1}}, cartons, "Items"},
		{[]logistics.Item{ok}, []logistics.Box{{Name: "x", InnerLengthMM: 1, InnerWidthMM: 1, InnerHeightMM: 1, TareGrams: 10, MaxGrams: 5}}, "Boxes[0].MaxGrams"},
	} {
		_, err := logistics.Pack(tc.items, tc.boxes)
		var ie *logistics.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("got %v, want an InputError on %s", err, tc.field)
		}
	}
}

// BenchmarkPack packs a 40-unit order of mixed sizes.
func BenchmarkPack(b *testing.B) {
	items := []logistics.Item{
		{ID: "book", LengthMM: 240, WidthMM: 170, HeightMM: 30, Grams: 600, Quantity: 10},
		{ID: "mug", LengthMM: 120, WidthMM: 90, HeightMM: 100, Grams: 350, Quantity: 12, Upright: true},
		{ID: "card", LengthMM: 150, WidthMM: 100, HeightMM: 5, Grams: 20, Quantity: 18},
	}
	for b.Loop() {
		if _, err := logistics.Pack(items, cartons); err != nil {
			b.Fatal(err)
		}
	}
}
