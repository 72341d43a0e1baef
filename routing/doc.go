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
// # Fulfilment allocation
//
// Allocate decides which locations ship an order, from stock given as
// plain numbers per location and SKU and the path cost from each location
// to the order's destination. Rules apply in order, each breaking the ties
// left by those before, as in Shopify's order routing: fewest shipments,
// most locations in the destination's region, lowest path cost, highest
// location priority, then location ID; callers append or replace Rules.
// Sets of up to MaxShipments locations are compared exhaustively, larger
// ones greedily. With Consolidate the order ships from one location and
// the plan lists the transfers of what it lacks, each along the cheapest
// path. Every plan records the rule that decided it against the best
// alternative, and insufficient stock everywhere is a *ShortfallError
// listing what is missing.
//
// # Live changes
//
// A Change is one operation (Kind) on a lane or a location: SetFactor
// (traffic: the lane's base weight × Factor), CloseLane, OpenLane,
// TakeOffline, BringOnline; LaneFactor, LaneClosed and the other helpers
// build each. A Graph keeps a lane's factor, whether it is closed and
// whether each location is offline apart, and derives a lane's weight from
// all three, so no change undoes another: a reopened lane keeps its
// factor, and a lane closed on its own stays closed while its location goes
// offline and comes back. Graph.With and Network.Apply apply changes as a
// new snapshot, all or none.
//
// # Shared changes
//
// A Log (NewMemoryLog, or NewRedisLog for many instances) records batches
// of live changes with versions and idempotent IDs (the same ID with other
// changes is ErrIDConflict); Network.Sync applies what a network has not
// seen, and Network.Follow keeps it in sync until its context ends, woken
// by the log's change notification (Redis pub/sub) with a polling
// fallback. The Redis log keeps its keys under one hash tag {<prefix>}, so
// it runs on a Cluster. Both take LogOptions: the log keeps MaxBatches
// batches whole (default 1,000) and folds older ones into a compacted base
// — the last change of each piece of live state, which applies to the same
// network — so it stays bounded while a follower from version 0 still
// reaches the current network. With WaitReplicas every Redis append waits
// for that many replicas, or returns ErrNotReplicated; LogOptions.Observer
// receives an Observation of every Append and Since.
//
// # Concurrency
//
// A Graph is immutable and safe for concurrent queries; a Workspace serves
// one query at a time.
package routing
