package logistics

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ErrDoesNotFit means an item fits in no box of the catalogue, in any
// orientation it allows, or is heavier than every box may carry.
var ErrDoesNotFit = errors.New("logistics: item fits in no box")

// MaxPackUnits bounds the units (items × quantities) one Pack call places:
// the heuristic is cubic in the units per box.
const MaxPackUnits = 2000

// Item is a thing to pack, in whole millimetres and grams.
type Item struct {
	ID                          string
	LengthMM, WidthMM, HeightMM int64
	Grams                       int64
	// Quantity is how many identical units to pack; 0 means 1.
	Quantity int
	// Upright keeps the item's height vertical ("this side up"): it may
	// only turn about the vertical axis.
	Upright bool
}

// Box is a carton in the catalogue.
type Box struct {
	Name string
	// Inner dimensions: what fits inside.
	InnerLengthMM, InnerWidthMM, InnerHeightMM int64
	// Outer dimensions: what the carrier measures. Zero means the inner
	// dimensions.
	OuterLengthMM, OuterWidthMM, OuterHeightMM int64
	// TareGrams is the empty box's weight.
	TareGrams int64
	// MaxGrams caps the packed box's weight, tare included; 0 for no cap.
	MaxGrams int64
}

// Placement is one unit in a packed box: its corner nearest the box's
// origin (X along the length, Y along the width, Z up from the floor)
// and its extent as placed, after rotation.
type Placement struct {
	ItemID                      string
	X, Y, Z                     int64
	LengthMM, WidthMM, HeightMM int64
}

// PackedBox is one box of a packing, ready to rate: Parcel has the box's
// outer dimensions and its weight with the tare.
type PackedBox struct {
	Box    Box
	Items  []Placement
	Parcel Parcel
	// FillPermille is the share of the inner volume the items fill, in
	// thousandths.
	FillPermille int64
}

// Packing is the result of Pack: boxes in the order they were opened.
type Packing struct {
	Boxes []PackedBox
}

// Parcels returns the packed boxes as parcels, for a multi-parcel
// Shipment.
func (p Packing) Parcels() []Parcel {
	out := make([]Parcel, len(p.Boxes))
	for i, b := range p.Boxes {
		out[i] = b.Parcel
	}
	return out
}

// String explains the packing: each box, its weight, how full it is, and
// where each unit sits and which way it turned.
func (p Packing) String() string {
	var b strings.Builder
	for i, pb := range p.Boxes {
		fmt.Fprintf(&b, "box %d: %s %d×%d×%d mm, %d g, %d.%d%% full\n", i+1, pb.Box.Name,
			pb.Parcel.LengthMM, pb.Parcel.WidthMM, pb.Parcel.HeightMM, pb.Parcel.Grams, pb.FillPermille/10, pb.FillPermille%10)
		for _, it := range pb.Items {
			fmt.Fprintf(&b, "  %s at (%d,%d,%d) as %d×%d×%d\n", it.ItemID, it.X, it.Y, it.Z, it.LengthMM, it.WidthMM, it.HeightMM)
		}
	}
	return b.String()
}

// unit is one unit to place.
type unit struct {
	id      string
	dims    [3]int64 // length, width, height
	grams   int64
	upright bool
}

func (u unit) volume() int64 { return u.dims[0] * u.dims[1] * u.dims[2] }

// orientations returns the unit's distinct orientations: all six turns,
// or the two about the vertical axis when it must stay upright.
func (u unit) orientations() [][3]int64 {
	l, w, h := u.dims[0], u.dims[1], u.dims[2]
	all := [][3]int64{{l, w, h}, {w, l, h}}
	if !u.upright {
		all = append(all, [3]int64{l, h, w}, [3]int64{h, l, w}, [3]int64{w, h, l}, [3]int64{h, w, l})
	}
	out := all[:0]
	for _, o := range all {
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// openBox is a box being filled, with its extreme points: the corners
// where the next unit may go.
type openBox struct {
	box    Box
	placed []Placement
	grams  int64 // contents
	points [][3]int64
	units  []unit // as given, in placement order: shrink repacks them
}

// Pack chooses boxes from the catalogue for the items and places every
// unit, by first fit decreasing over extreme points: units by volume,
// largest first, each into the first open box where it fits, at the
// extreme point and in the orientation that keep its top lowest; a unit
// that fits no open box opens the largest box type it fits.
// Then each box is shrunk to the smallest type its units repack into. A
// unit rests on the floor or on another unit's top at its corner; support
// under the rest of its base is not checked.
//
// The result is deterministic for its input. Pack returns ErrDoesNotFit
// (wrapped, naming the item) when a unit fits no box, and an *InputError
// for bad dimensions, weights or quantities.
func Pack(items []Item, boxes []Box) (Packing, error) {
	units, err := packUnits(items)
	if err != nil {
		return Packing{}, err
	}
	if len(boxes) == 0 {
		return Packing{}, &InputError{Field: "Boxes", Rule: "must not be empty"}
	}
	for i := range boxes {
		if err := boxes[i].check("Boxes[" + strconv.Itoa(i) + "]."); err != nil {
			return Packing{}, err
		}
	}
	// Box types from the smallest inner volume; ties by name.
	byVolume := slices.Clone(boxes)
	slices.SortStableFunc(byVolume, func(a, b Box) int {
		if c := cmp.Compare(a.innerVolume(), b.innerVolume()); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	var open []*openBox
	for _, u := range units {
		placed := false
		for _, ob := range open {
			if ob.place(u) {
				placed = true
				break
			}
		}
		if placed {
			continue
		}
		var ob *openBox
		for i := len(byVolume) - 1; i >= 0; i-- {
			if cand := newOpenBox(byVolume[i]); cand.place(u) {
				ob = cand
				break
			}
		}
		if ob == nil {
			return Packing{}, fmt.Errorf("%w: %s (%d×%d×%d mm, %d g)", ErrDoesNotFit, u.id, u.dims[0], u.dims[1], u.dims[2], u.grams)
		}
		open = append(open, ob)
	}
	out := Packing{Boxes: make([]PackedBox, len(open))}
	for i, ob := range open {
		out.Boxes[i] = shrink(ob, byVolume).result()
	}
	return out, nil
}

// packUnits validates the items and expands them into units, largest
// volume first (then longest side, then ID, for a deterministic order).
func packUnits(items []Item) ([]unit, error) {
	var units []unit
	for i, it := range items {
		f := "Items[" + strconv.Itoa(i) + "]."
		switch {
		case it.ID == "":
			return nil, &InputError{Field: f + "ID", Rule: "must not be empty"}
		case it.LengthMM <= 0 || it.WidthMM <= 0 || it.HeightMM <= 0:
			return nil, &InputError{Field: f + "Dimensions", Rule: "must be > 0"}
		case it.LengthMM > 1e5 || it.WidthMM > 1e5 || it.HeightMM > 1e5:
			return nil, &InputError{Field: f + "Dimensions", Rule: "must be at most 100 m"}
		case it.Grams < 0 || it.Grams > 1e7:
			return nil, &InputError{Field: f + "Grams", Rule: "must be in 0..10^7"}
		case it.Quantity < 0:
			return nil, &InputError{Field: f + "Quantity", Rule: "must be >= 0"}
		}
		n := max(it.Quantity, 1)
		if len(units)+n > MaxPackUnits {
			return nil, &InputError{Field: "Items", Rule: "must hold at most " + strconv.Itoa(MaxPackUnits) + " units"}
		}
		u := unit{id: it.ID, dims: [3]int64{it.LengthMM, it.WidthMM, it.HeightMM}, grams: it.Grams, upright: it.Upright}
		for range n {
			units = append(units, u)
		}
	}
	if len(units) == 0 {
		return nil, &InputError{Field: "Items", Rule: "must not be empty"}
	}
	slices.SortStableFunc(units, func(a, b unit) int {
		if c := cmp.Compare(b.volume(), a.volume()); c != 0 {
			return c
		}
		if c := cmp.Compare(max(b.dims[0], b.dims[1], b.dims[2]), max(a.dims[0], a.dims[1], a.dims[2])); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return units, nil
}

func (b *Box) check(f string) error {
	switch {
	case b.Name == "":
		return &InputError{Field: f + "Name", Rule: "must not be empty"}
	case b.InnerLengthMM <= 0 || b.InnerWidthMM <= 0 || b.InnerHeightMM <= 0:
		return &InputError{Field: f + "Inner dimensions", Rule: "must be > 0"}
	case b.InnerLengthMM > 1e5 || b.InnerWidthMM > 1e5 || b.InnerHeightMM > 1e5:
		return &InputError{Field: f + "Inner dimensions", Rule: "must be at most 100 m"}
	case b.OuterLengthMM < 0 || b.OuterWidthMM < 0 || b.OuterHeightMM < 0:
		return &InputError{Field: f + "Outer dimensions", Rule: "must be >= 0"}
	case b.OuterLengthMM > 1e5 || b.OuterWidthMM > 1e5 || b.OuterHeightMM > 1e5:
		return &InputError{Field: f + "Outer dimensions", Rule: "must be at most 100 m"}
	case b.TareGrams < 0 || b.TareGrams > 1e7:
		return &InputError{Field: f + "TareGrams", Rule: "must be in 0..10^7"}
	case b.MaxGrams < 0 || (b.MaxGrams > 0 && b.MaxGrams < b.TareGrams):
		return &InputError{Field: f + "MaxGrams", Rule: "must be 0 (no cap) or at least TareGrams"}
	}
	return nil
}

func (b *Box) innerVolume() int64 { return b.InnerLengthMM * b.InnerWidthMM * b.InnerHeightMM }

func newOpenBox(b Box) *openBox {
	return &openBox{box: b, points: [][3]int64{{0, 0, 0}}}
}

// place puts u where it fits best, and reports whether it fitted: of
// every extreme point and orientation that fits, the one whose top is
// lowest (a book lies flat on another rather than standing beside it),
// then the lowest, nearest point.
func (ob *openBox) place(u unit) bool {
	if ob.box.MaxGrams > 0 && ob.box.TareGrams+ob.grams+u.grams > ob.box.MaxGrams {
		return false
	}
	best, bestPoint := -1, 0
	var bestO [3]int64
	for pi, p := range ob.points {
		for _, o := range u.orientations() {
			if !ob.fits(p, o) {
				continue
			}
			// Points are sorted lowest first, so the first fit of a given
			// top height is also the lowest, nearest one.
			if best < 0 || p[2]+o[2] < ob.points[best][2]+bestO[2] {
				best, bestPoint, bestO = pi, pi, o
			}
		}
	}
	if best < 0 {
		return false
	}
	p := ob.points[bestPoint]
	ob.placed = append(ob.placed, Placement{ItemID: u.id, X: p[0], Y: p[1], Z: p[2], LengthMM: bestO[0], WidthMM: bestO[1], HeightMM: bestO[2]})
	ob.grams += u.grams
	ob.units = append(ob.units, u)
	ob.points = slices.Delete(ob.points, bestPoint, bestPoint+1)
	ob.addPoints(p, bestO)
	return true
}

// fits reports whether a unit of extent o fits at p: inside the box and
// clear of every placed unit.
func (ob *openBox) fits(p, o [3]int64) bool {
	if p[0]+o[0] > ob.box.InnerLengthMM || p[1]+o[1] > ob.box.InnerWidthMM || p[2]+o[2] > ob.box.InnerHeightMM {
		return false
	}
	for _, q := range ob.placed {
		if p[0] < q.X+q.LengthMM && q.X < p[0]+o[0] &&
			p[1] < q.Y+q.WidthMM && q.Y < p[1]+o[1] &&
			p[2] < q.Z+q.HeightMM && q.Z < p[2]+o[2] {
			return false
		}
	}
	return true
}

// addPoints adds the three extreme points a unit at p of extent o makes —
// beyond its length, beyond its width, and on its top — the first two
// dropped to the highest surface beneath them, so no unit hangs in the
// air at its corner. Points stay sorted lowest first, then nearest the
// back wall, then the side wall.
func (ob *openBox) addPoints(p, o [3]int64) {
	for _, np := range [][3]int64{{p[0] + o[0], p[1], p[2]}, {p[0], p[1] + o[1], p[2]}, {p[0], p[1], p[2] + o[2]}} {
		if np[0] >= ob.box.InnerLengthMM || np[1] >= ob.box.InnerWidthMM || np[2] >= ob.box.InnerHeightMM {
			continue
		}
		if np[2] > 0 && np[2] == p[2] {
			np[2] = ob.surfaceBelow(np)
		}
		if !slices.Contains(ob.points, np) {
			ob.points = append(ob.points, np)
		}
	}
	slices.SortFunc(ob.points, func(a, b [3]int64) int {
		if c := cmp.Compare(a[2], b[2]); c != 0 {
			return c
		}
		if c := cmp.Compare(a[1], b[1]); c != 0 {
			return c
		}
		return cmp.Compare(a[0], b[0])
	})
}

// surfaceBelow returns the height of the highest top of a placed unit
// under the point (x, y), at or below its z; 0 for the floor.
func (ob *openBox) surfaceBelow(pt [3]int64) int64 {
	var z int64
	for _, q := range ob.placed {
		top := q.Z + q.HeightMM
		if top <= pt[2] && top > z && pt[0] >= q.X && pt[0] < q.X+q.LengthMM && pt[1] >= q.Y && pt[1] < q.Y+q.WidthMM {
			z = top
		}
	}
	return z
}

// shrink repacks ob's units into the smallest box type that takes them
// all, if one is smaller than ob's.
func shrink(ob *openBox, byVolume []Box) *openBox {
	for _, b := range byVolume {
		if b.innerVolume() >= ob.box.innerVolume() {
			break
		}
		cand := newOpenBox(b)
		ok := true
		for _, u := range ob.units {
			if ok = cand.place(u); !ok {
				break
			}
		}
		if ok {
			return cand
		}
	}
	return ob
}

func (ob *openBox) result() PackedBox {
	b := ob.box
	outer := [3]int64{b.OuterLengthMM, b.OuterWidthMM, b.OuterHeightMM}
	if outer[0] == 0 {
		outer[0] = b.InnerLengthMM
	}
	if outer[1] == 0 {
		outer[1] = b.InnerWidthMM
	}
	if outer[2] == 0 {
		outer[2] = b.InnerHeightMM
	}
	var filled int64
	for _, pl := range ob.placed {
		filled += pl.LengthMM * pl.WidthMM * pl.HeightMM
	}
	return PackedBox{Box: b, Items: slices.Clone(ob.placed),
		Parcel:       Parcel{Grams: b.TareGrams + ob.grams, LengthMM: outer[0], WidthMM: outer[1], HeightMM: outer[2]},
		FillPermille: filled * 1000 / b.innerVolume()}
}
