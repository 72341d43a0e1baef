// Package routing answers warehouse-network questions fast enough to run
// per order: the cheapest transfer path between two locations, the cost
// to every location, and fallback routes.
//
// # Graph
//
// Build validates locations and directed lanes (unknown locations,
// self-lanes, duplicates, negative or NaN weights are errors) and compiles
// them into an immutable Graph: locations indexed in ID order, lanes in
// compressed sparse row arrays. A WeightFunc decides what a path
// minimises: ByCost, Blend (cost plus a value per transit hour) or the
// caller's own.
//
// Live changes — a lane closed or reopened, a traffic factor on a lane, a
// location offline or back — apply with With, which returns a new snapshot
// sharing all structure but the lane weights (O(lanes) copy, no rebuild),
// leaving the old snapshot untouched for readers still using it. Network
// holds the current snapshot: Load for readers, Apply for writers, with
// versions that only increase.
//
// # Queries
//
// ShortestPath runs Dijkstra from one location to another and stops when
// the target is settled; ShortestFrom reaches every location. Both run on
// an indexed 4-ary heap with decrease-key, keep all scratch memory in a
// reusable Workspace and allocate nothing once it has grown; AppendPath
// reads the path into a caller's buffer. Ties are deterministic: equal
// distances settle in location-index order and the predecessor with the
// smaller index wins, so answers do not depend on the order lanes were
// given in. Route is the allocating convenience by location ID.
//
// KShortest returns up to k loopless paths in order of cost (Yen's
// algorithm) below a cost ceiling, for fallback routes when a lane closes.
//
// # Concurrency
//
// A Graph is immutable and safe for concurrent queries; a Workspace serves
// one query at a time.
package routing
