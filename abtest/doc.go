// Package abtest assigns users to experiment variations exactly as
// GrowthBook's SDKs do, fast enough for every request.
//
// # Assignment
//
// An Experiment is compiled once (Compile validates it and works out its
// bucket ranges) and then assigned by an Assigner, which holds the
// request-independent settings: forced variations, QA mode, an exposure
// hook. Assign follows GrowthBook's evaluation order: context-forced
// variation; draft status; hash attribute (default "id") with a fallback
// attribute; filters, or else a namespace; bucket ranges from weights and
// coverage (or explicit ranges); the experiment's own forced variation; QA
// mode; stopped status. Targeting conditions are the caller's: call Assign
// for users the experiment targets.
//
// Hashing is GrowthBook's: FNV-1a 32 over the UTF-16 code units of the
// strings, as JavaScript's charCodeAt sees them, version 1 (value+seed,
// mod 1000) or version 2 (the decimal of fnv(seed+value) hashed again, mod
// 10000). A user of the GrowthBook JavaScript or Go SDK and a user of this
// package with the same experiment get the same variation; the tests run
// GrowthBook's published cross-SDK cases.
//
// Bad weights fall back to equal weights and coverage is clamped, as in
// every GrowthBook SDK, so an experiment definition exported from
// GrowthBook behaves the same here. Definitions that no SDK could run (no
// key, fewer than two variations, an unknown hash version) are errors.
//
// # Cost
//
// Assign does not allocate. Its time is mostly the hash: FNV-1a is a serial
// multiply per UTF-16 unit of value and seed, a few nanoseconds per
// character; an attribute map lookup and a short range scan add little.
//
// # Concurrency
//
// Compiled experiments are immutable and an Assigner's fields must not
// change once in use; both are safe for concurrent use.
package abtest
