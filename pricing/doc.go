// Package pricing prices carts under promotion rules, exactly to the
// minor unit, and explains every decision.
//
// A RuleSet is built once from Promotions and validated (a negative
// percentage, a threshold ≤ 0, an unknown kind… is an error naming the
// promotion and the field). Kinds: PercentOff, FixedOff (per order or per
// unit), Threshold (once, or for every full multiple — 每满100减10 — with a
// cap), Tiered thresholds, BuyXGetY (cheapest or dearest units free or
// discounted; with a GetTarget, across products: buy 2 shoes, get socks
// free; MaxApplications caps it), MemberPrice for a customer tier,
// BundlePrice (any 3 for 99), ShippingOff (part or all of Cart.Shipping)
// and GiftWithPurchase (a free gift line in Quote.Gifts, per order or per
// Buy units). A Target selects lines by SKU or tag. Conditions restrict a
// promotion to customer groups, regions, channels, currencies, first
// orders, or carts with enough units of a tag.
//
// Quote applies promotions in priority order, each to the amounts left by
// those before (so a threshold is judged after item discounts). Promotions
// sharing an exclusive Group apply at most one at a time: the engine tries
// every combination of choices (up to MaxCombinations, greedily per group
// beyond) and keeps the one cheapest for the customer, saying which search
// it used. When the promotions fall into parts of the cart that none of
// them spans (groups of categories, say), each part is evaluated once per
// choice of its own group members and combinations add up their parts —
// the same answer as evaluating each combination whole, for far less
// work; a Stop promotion couples every part and turns this off. An
// Exclusive promotion stacks with nothing: it is weighed alone against
// that best combination. Stop ends the rule set after a promotion applies.
//
// Every discount is apportioned to its lines exactly by largest remainder
// (member prices stay on their own lines), no line goes below zero, and
// each line lists its share per promotion, so a partial return refunds the
// right amount. The quote lists, per promotion, what it took off and why,
// or why it was skipped (below threshold, excluded by a group, after a
// stop, no matching line).
//
// A promotion with a Coupon code applies only to a cart presenting the
// code, one with Codes to a cart presenting any of them (GenerateCodes
// makes single-use codes in bulk, unguessable: at least 40 random bits
// each); MinSpend and a validity window (Starts, Ends, judged at Cart.At)
// make any promotion conditional. A coupon's uses are held against its
// global and per-customer limits by Redemptions: Reserve at checkout,
// Commit on payment, Release on cancel, each idempotent by order ID (a
// repeat returns the redemption with Replayed set; the order ID for another
// customer is ErrIDConflict), with holds that expire after their TTL and
// return their use exactly once. Redemptions is one type over a small
// backend: NewMemoryRedemptions and NewRedisRedemptions (one Lua script per
// call, one hash tag per coupon, Cluster-safe) pass the same suite in
// pricingtest,
// including races of hundreds of shoppers for a few uses. Both take
// RedemptionsOptions: a redemption's record is forgotten Retention
// (default 90 days) after it last changed state, so a committed use can be
// released (a refund) within that time and counts for good after it; the
// use counts themselves are kept, one small record per coupon and per
// customer holding uses. With WaitReplicas every Redis write waits for
// that many replicas to acknowledge it, or returns ErrNotReplicated (see
// the README on failover).
//
// A campaign's budget is held the same way: a Promotion names its
// Campaign, an applied promotion's Explanation carries it, and the
// checkout reserves the explained Amount (HoldRequest.Amount, in minor
// units) under the campaign with CouponLimits.Budget; the store refuses
// a hold that would take the live total past the budget
// (ErrBudgetExhausted) — atomically across shops and instances on Redis
// and Cluster — and the checkout prices again with the campaign in
// Cart.Exhausted. Commit keeps the amount spent; a release or a lapsed
// hold gives it back exactly once. Usage reports Spent.
//
// A RuleSet is immutable and safe for concurrent quoting. To change rules
// while serving, Publish them to a RuleSource (NewMemoryRuleSource, or
// NewRedisRuleSource shared by every process, with pub/sub notification and
// a polling fallback) and quote through an Engine that Follows it
// (Follow blocks until its context ends; run it in a goroutine): each
// new version is validated, built and swapped in atomically, so a quote
// runs entirely on the version it started with, and an older version
// never replaces a newer one. Both sources take RuleSourceOptions: Publish
// is idempotent by the latest KeepPublishes publish IDs (default 1,000;
// older ones are forgotten), and the same ID with other promotions is
// ErrIDConflict.
//
// Every store takes an Observer in its options, which receives an Observation of
// every call: its op, ID, error, wall time and whether it was a replay.
package pricing
