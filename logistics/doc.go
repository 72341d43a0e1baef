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
// FakeCarrier refuses a second waybill for an order code, which makes
// idempotency bugs loud in tests and examples.
//
// Rating functions are pure; stores, the registry and the fake carrier are
// safe for concurrent use.
package logistics
