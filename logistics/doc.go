// Package logistics prices parcels the way carriers bill them, exact to
// the gram and the cent, and shops across carriers.
//
// Parcels are whole grams and millimetres, so weights add exactly (0.4 +
// 0.8 + 0.3 kg is 1,500 g). Volumetric weight follows the carrier's rule:
// a divisor in cm³/kg (5000, 6000) or in³/lb (139, 166), dimensions taken
// as measured or rounded up to the centimetre or inch, computed exactly
// and rounded up to the gram. The billable weight is the larger of actual
// and volumetric, rounded up to the carrier's step.
//
// A Table prices one carrier service: zones from origin and destination
// regions, first weight plus a price per started additional step
// (fee = F + ⌈(W − W₀)/S⌉ × A) with a minimum, remote-area and oversize
// surcharges, free freight above an order value, and optional Insurance by
// declared value (none below a floor, basis points with a minimum premium,
// a cap). Money is decimal.Decimal; totals are rounded to the cent.
//
// # Imperial units and carriers' rounding
//
// A Measurement states a parcel exactly as the scale and tape read it, in
// kilograms and centimetres or pounds and inches (decimals: 10.25 in, or
// 2 lb 5 oz via Ounces), and conversions between the systems are exact
// (an inch is 25.4 mm, a pound 453.59237 g), so nothing is lost to whole
// millimetres before the carrier rounds. A BillingRule states how a
// carrier bills, in its own units: the divisor, how each dimension is
// rounded (UPS and FedEx: to the nearest inch, halves up), how the
// dimensional and the actual weight are rounded (UPS and FedEx: up to the
// next whole pound), and how the billable weight is (DHL Express: up to
// the next 0.5 kg; many couriers: 0.1 kg). BillingRule.Bill is the
// billable weight alone; a Table with a Billing rule prices by it, its
// tariff stepping in the rule's units (Price.FirstWeight,
// AdditionalWeight).
//
// # Multi-parcel shipments
//
// A Shipment of several Parcels (or Measurements) is priced per parcel
// and summed (PricePerParcel) or on the total billable weight
// (PriceTotalWeight, as UPS and FedEx rate multi-package shipments), with
// a surcharge per parcel and one per shipment; oversize is per parcel,
// remote-area, free freight and insurance per shipment, and the quote
// itemises each parcel.
//
// # Box packing
//
// Pack chooses cartons from a catalogue for a set of items and places
// every unit: first fit decreasing over extreme points, six rotations (two
// for an item that must stay upright), weight caps, and each box shrunk to
// the smallest carton its units repack into. The Packing explains itself
// (which box, where, which way up) and gives each box as a Parcel with
// outer dimensions and weight, so merged orders are rated by volume, not
// only by summed grams.
//
// Shop rates a shipment on every table and orders the quotes by policy:
// Cheapest, Fastest or BestValue (total plus a stated value per transit
// day), within constraints (maximum days, excluded carriers); ties go by
// total, days, carrier and service, so the choice is deterministic.
//
// # Merging orders
//
// MergeKey identifies orders that may ship as one parcel: same shop and
// warehouse, same recipient once name, phone and address are normalised
// (whitespace, case, full-width characters, common abbreviations, the +86
// prefix). A Merge store groups paid orders per key within a window
// (default 15 minutes from the group's first order): weights add, the
// caller re-rates the merged parcel, and an edited or cancelled order
// leaves its group. Joining is atomic under concurrent arrivals and
// idempotent by order ID (the same order with another weight is
// ErrIDConflict). Merge is one type over a small backend: NewMemoryMerge
// and NewRedisMerge (one hash tag per recipient, window by the server's
// TIME) pass one conformance suite. Both take MergeOptions: a group is
// forgotten Retention (default 7 days) after it
// closes, with its members, and a recipient's Redis keys expire together
// that long after its newest group closes. With WaitReplicas every Redis
// write waits for that many replicas, or returns ErrNotReplicated, and
// MergeOptions.Observer receives an Observation of every call.
//
// # Waybills
//
// CreateWaybills sends requests to a Carrier in chunks with bounded
// concurrency and returns a result per request; a WaybillRegistry keeps
// the waybills per order code so a retried batch sends only what failed.
// A Registry from NewMemoryRegistry keeps them in the process; from
// NewRedisRegistry on Redis or Redis Cluster, so a batch is idempotent across restarts and instances:
// each order code is claimed (with a lease) before it is sent, so two
// instances running one batch never both ask the carrier, and the first
// waybill recorded for an order stays — a later duplicate is cancelled
// with the carrier. Waybills are kept RegistryOptions.Retention (default
// 180 days).
// FakeCarrier refuses a second waybill for an order code, which makes
// idempotency bugs loud in tests and examples.
//
// Rating functions are pure; stores, the registry and the fake carrier are
// safe for concurrent use.
package logistics
