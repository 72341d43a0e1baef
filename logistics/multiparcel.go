package logistics

import (
	"math/big"
	"strconv"
)

// MaxParcels bounds the pieces of one shipment: carriers cap multi-piece
// shipments well below it, and it keeps every sum of a quote in int64.
const MaxParcels = 1000

// piece is one parcel of a shipment: in whole grams and millimetres, and
// as measured when the shipment gave Measurements.
type piece struct {
	parcel   Parcel
	measured *Measurement
}

// general reports whether s needs the multi-parcel path: several pieces,
// or pieces measured exactly.
func (s *Shipment) general() bool { return len(s.Parcels) > 0 || len(s.Measurements) > 0 }

// pieces validates the shipment's parcels and returns them.
func (s *Shipment) pieces() ([]piece, error) {
	switch {
	case len(s.Measurements) > 0:
		if len(s.Measurements) > MaxParcels {
			return nil, &InputError{Field: "Measurements", Rule: "must hold at most " + strconv.Itoa(MaxParcels) + " parcels"}
		}
		ps := make([]piece, len(s.Measurements))
		for i := range s.Measurements {
			m := &s.Measurements[i]
			if err := m.check("Measurements[" + strconv.Itoa(i) + "]."); err != nil {
				return nil, err
			}
			ps[i] = piece{parcel: m.parcel(), measured: m}
		}
		return ps, nil
	case len(s.Parcels) > 0:
		if len(s.Parcels) > MaxParcels {
			return nil, &InputError{Field: "Parcels", Rule: "must hold at most " + strconv.Itoa(MaxParcels) + " parcels"}
		}
		ps := make([]piece, len(s.Parcels))
		for i, p := range s.Parcels {
			if err := p.check(); err != nil {
				ie := err.(*InputError)
				return nil, &InputError{Field: "Parcels[" + strconv.Itoa(i) + "]." + ie.Field, Rule: ie.Rule}
			}
			ps[i] = piece{parcel: p}
		}
		return ps, nil
	}
	if err := s.Parcel.check(); err != nil {
		return nil, err
	}
	return []piece{{parcel: s.Parcel}}, nil
}

// rateMulti prices a shipment of one or more pieces: the general path,
// for several parcels, exact measurements or a table with a Billing rule.
func (c *compiledTable) rateMulti(s Shipment, ps []piece, value int64) (Quote, error) {
	t := c.t
	zone, ok := t.Zones[s.Origin][s.Destination]
	if !ok {
		return Quote{}, ErrNoRate
	}
	price, ok := c.prices[zone]
	if !ok {
		return Quote{}, &InputError{Field: "Prices", Rule: "must price zone " + strconv.Quote(zone)}
	}
	q := Quote{Carrier: t.Carrier, Service: t.Service, Days: t.Days, Zone: zone}
	if len(ps) > 1 {
		q.Parcels = make([]ParcelQuote, len(ps))
	}
	total := new(big.Rat) // billable weight in the rule's units, with a Billing rule
	var totalGrams int64
	var billed BillableWeight
	for i, p := range ps {
		var pq ParcelQuote
		if t.Billing != nil {
			m := p.parcel.Measurement()
			if p.measured != nil {
				m = *p.measured
			}
			pq.Billed = t.Billing.bill(m)
			pq.BillableGrams = pq.Billed.Grams
			total.Add(total, pq.Billed.exact)
			billed = addBilled(billed, pq.Billed, i == 0)
			if t.MultiParcel == PricePerParcel {
				pq.Freight = price.freightByWeight(pq.Billed.exact)
			}
		} else {
			vol, err := t.Volumetric.VolumetricGrams(p.parcel)
			if err != nil {
				return Quote{}, err
			}
			pq.VolumetricGrams = vol
			pq.BillableGrams = max(p.parcel.Grams, vol)
			if t.StepGrams > 1 {
				pq.BillableGrams = ceilDiv(pq.BillableGrams, t.StepGrams) * t.StepGrams
			}
			if t.MultiParcel == PricePerParcel {
				pq.Freight = price.freightByGrams(pq.BillableGrams)
			}
		}
		totalGrams += pq.BillableGrams
		pq.Surcharges = c.perParcel
		if t.OversizeMM > 0 && max(p.parcel.LengthMM, p.parcel.WidthMM, p.parcel.HeightMM) > t.OversizeMM {
			pq.Surcharges += c.oversize
		}
		q.VolumetricGrams += pq.VolumetricGrams
		q.BillableGrams += pq.BillableGrams
		q.Freight += pq.Freight
		q.Surcharges += pq.Surcharges
		if q.Parcels != nil {
			q.Parcels[i] = pq
		}
	}
	if t.MultiParcel == PriceTotalWeight {
		if t.Billing != nil {
			q.Freight = price.freightByWeight(total)
		} else {
			q.Freight = price.freightByGrams(totalGrams)
		}
	}
	if t.Billing != nil {
		billed.exact = total
		billed.Billable = ratDecimal(total)
		billed.Grams = q.BillableGrams
		q.Billed = &billed
	}
	if c.freeOver >= 0 && value >= c.freeOver {
		q.Freight, q.FreeShipping = 0, true
		for i := range q.Parcels {
			q.Parcels[i].Freight = 0
		}
	}
	q.Surcharges += c.remote[s.Destination] + c.perShipment
	if c.ins != nil {
		q.Insurance, _ = c.ins.premium(value)
	}
	q.Total = q.Freight + q.Surcharges + q.Insurance
	return q, nil
}

// addBilled sums billable weights parcel by parcel; ByVolume says whether
// any parcel was billed by volume.
func addBilled(sum, b BillableWeight, first bool) BillableWeight {
	if first {
		return b
	}
	sum.Actual = sum.Actual.Add(b.Actual)
	sum.Dimensional = sum.Dimensional.Add(b.Dimensional)
	sum.ByVolume = sum.ByVolume || b.ByVolume
	return sum
}

// freightByGrams is the tariff on a billable weight in grams.
func (p minorPrice) freightByGrams(grams int64) int64 {
	f := p.first
	if grams > p.firstGrams {
		f += ceilDiv(grams-p.firstGrams, p.addGrams) * p.add
	}
	return max(f, p.minimum)
}

// freightByWeight is the tariff on a billable weight in a Billing rule's
// units: F + ⌈(W − W₀)/S⌉ × A, exactly.
func (p minorPrice) freightByWeight(w *big.Rat) int64 {
	f := p.first
	if over := new(big.Rat).Sub(w, p.firstWeight); over.Sign() > 0 {
		f += ratCeil(over.Quo(over, p.addWeight)) * p.add
	}
	return max(f, p.minimum)
}
