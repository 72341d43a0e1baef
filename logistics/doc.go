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
// Everything here is a pure function of its inputs and safe for
// concurrent use.
package logistics
