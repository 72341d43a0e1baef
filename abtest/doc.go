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
// mode; stopped status. An experiment may carry a targeting Condition
// (below), checked after filters and namespace. AssignUser takes a User
// as GrowthBook's SDKs see one — attributes as JSON values, saved groups
// and the request's URL, whose query string may force a variation — and
// passes the run cases of GrowthBook's SDK suite.
//
// # Feature flags
//
// CompileFeatures compiles a GrowthBook features payload, and
// Assigner.EvalFeature evaluates a feature for a User as GrowthBook's SDKs
// do: rules in order — prerequisites on other features (gating or
// skipping, cycles broken), filters, force rules with a condition and a
// coverage or hash range, experiment rules assigned as AssignUser assigns
// (passthrough variations fall through, as holdouts need) — then the
// default value. Exposures go to OnExposure (a force rule's "tracks"
// too, as GrowthBook's tracking callback), and every evaluation to
// OnFeatureUsage. It passes the suite's feature cases except the
// contextual-bandit ones: those rules are skipped, since GrowthBook's
// backend decides them. Experiments outside features may name
// Prerequisites, read from Assigner.Features.
//
// # Targeting conditions
//
// CompileCondition compiles GrowthBook's targeting language — $eq … $gte,
// $in/$nin/$ini/$nini, $all/$alli, $size, $elemMatch, $exists, $type,
// $regex/$regexi, $not/$and/$or/$nor, version comparisons ($veq, $vgt, …),
// nested paths and saved groups ($inGroup/$notInGroup on legacy lists,
// $savedGroup references to typed list, condition and remote entries) —
// once, into a
// Condition that evaluates a user's attributes (JSON values) without
// allocating. It passes every evalCondition case of GrowthBook's SDK
// suite (testdata/growthbook). LoadPayload reads the SDK endpoint's
// payload (features and saved groups, encrypted or not), Decrypt opens an
// encrypted string and
// QueryStringOverride reads a variation forced by a URL, as the SDKs do.
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
// # Sticky assignments
//
// A Sticky store keeps each user's assignments (GrowthBook's sticky
// bucketing) so that a user keeps a variation when an experiment's weights
// or coverage change. It is one type over a small backend:
// NewMemorySticky and NewRedisSticky both take StickyOptions: a user's
// document expires TTL (default 90 days) after the save that last stored a
// variation in it; with WaitReplicas every Redis save waits for that many
// replicas, or returns ErrNotReplicated. StickyOptions.Observer receives an
// Observation for every Load and Save. (Options.OnExposure is not an observer
// but GrowthBook's tracking callback: it reports who saw which variation,
// for analysis.)
//
// # Statistics
//
// SRM checks a traffic split against the weights with Pearson's chi-square
// test (default threshold p < 0.001). The tests read a Statistic per
// variation: a Stat (a mean; Proportion for a conversion rate, whose
// variance is p(1 − p) as in gbstats), a Ratio (revenue per order and
// other ratio metrics, by the delta method as gbstats' RatioStatistic), or
// the AdjustedStats CUPED returns (θ pooled over both arms, a relative
// effect taken against the control's unadjusted mean, as gbstats does).
// TTest is Welch's two-sided t-test on the relative effect (delta method,
// the default) or the absolute one; SequentialTest gives gbstats'
// always-valid interval and p-value, safe to look at every day; Bayesian
// reads the same effect through a Gaussian posterior: chance to win,
// credible interval and the expected loss of each choice. Each matches
// gbstats' published test values to 5 decimals. Power and MDE plan an
// experiment as GrowthBook's power calculator does, fixed-horizon or
// sequential. Inputs are sufficient statistics (counts, sums, sums of
// squares and products) and bad ones (n < 2, NaN, negative counts,
// weights not summing to 1) are errors, never NaN
// results. The distributions (normal, Student t, chi-square) are computed
// here from the incomplete beta and gamma functions, accurate to about
// 1e-12.
//
// # Cost
//
// Assign does not allocate. Its time is mostly the hash: FNV-1a is a serial
// multiply per UTF-16 unit, about a nanosecond per character of the user's
// ID. The seed's share is prepared when an experiment is compiled (an ASCII
// seed costs one multiply and a table look-up, whatever its length); an
// attribute map lookup and a short range scan add little.
//
// # Concurrency
//
// Compiled experiments are immutable and an Assigner's fields must not
// change once in use; both are safe for concurrent use.
package abtest
