// Package funnel records what users do and answers, exactly, how many of
// them went from one step to the next — view, click, add to cart, order,
// pay — and what the shop earned: GMV, order count, AOV, ARPU, ARPPU and
// the repeat-purchase rate, broken down by experiment variant, channel,
// region or SKU and bucketed by hour or day.
//
// # Events and stores
//
// An Event is a user ID, a name, a time, an optional amount, order ID and
// a few dimensions, any other properties (Props: up to MaxProps, text or
// numbers as decimal text), and the caller's event ID, which makes ingest
// idempotent: an ID already stored for the same UTC day is a duplicate.
// A Store ingests batches (validated whole before anything is written)
// and hands events back per user, in time order. Store is one type over a
// small backend: NewMemory keeps the events in process, NewRedis in Redis
// or a Redis Cluster. Both pass one
// conformance suite (package funneltest) whose cases are the funnel
// semantics below, because the answers are computed by one pure evaluator
// (Analyze, Measure) over whatever the store hands back.
//
// Options.Observer receives an Observation of every call (for Ingest: how
// many events were stored, duplicates and expired, and the error), for
// metrics, without a metrics library in the package.
//
// Times are kept to the microsecond. Events are kept for Options.Retention
// (default 90 days) after the end of their UTC day; older ones are
// counted as expired on ingest and not stored.
//
// # Funnels
//
// A Funnel is up to 32 ordered steps (event names) and a conversion
// window (default 24 hours). An attempt enters at an event of the first
// step — of any step in AnyOrder — and later steps count while they fall
// within the window of the entry (an event exactly at the window's end
// counts). Events that are neither steps nor exclusions are ignored.
//
//   - Ordered: each next step is the earliest later event with the next
//     step's name; other events may come in between (view, view, cart, pay
//     converts). Earliest matching is optimal: no other choice of events
//     reaches further.
//   - Strict: each next step must be the user's very next step event;
//     any other step event in between ends the attempt where it stands
//     (view, view, cart ends the first attempt at view — and the second
//     view enters anew).
//   - AnyOrder: reaching step k means having done k+1 distinct steps in
//     the window, in any order.
//
// Counting: Uniques counts each user once, at the furthest step any of
// their attempts entered in the query's range reached (the earliest such
// attempt supplies the times): Amplitude's "earliest-longest" path, and
// the furthest level of ClickHouse's windowFunnel, on which PostHog's
// funnels are built. UniquesFirstEntry is Mixpanel's classic default:
// only the user's first entry in the range counts, and a later entry
// does not restart its window. UniquesReentry is Mixpanel's Optimized
// Re-entry: as Uniques, but the counted attempt starts at the most recent
// first-step event before its second step. Totals counts every attempt; a user
// re-enters only after the attempt in progress converted, timed out or
// was dropped — a first-step event during an attempt is not an entry
// (with Hold, per held value: an attempt for one SKU does not block
// entering for another).
//
// A Step may count several event names (AnyOf: "viewed or searched"),
// and filter its events by their properties (Where: Eq, NotEq, In,
// Contains, and Lt/Le/Gt/Ge on numbers); an event that matches no step
// nor exclusion is not a funnel event (it does not break a Strict
// attempt). Exclusions filter too, and a funnel may hold, and a query
// break down by, any property (HoldProperty, BreakdownProperty).
//
// An Optional step (Ordered funnels, not the first or last) may be
// skipped: later steps count with or without it, and it counts the
// attempts that did it on a path to their furthest step before the
// attempt ended, so it may count fewer than the step after it.
//
// A Step may have a window of its own (Within): it must come at most that
// long after the previous step as well as within the funnel's window.
// With step windows an Ordered attempt is searched rather than matched
// greedily (a later cart may meet the payment's window where the first
// does not); each step's time is the earliest it became reachable.
//
// Breakdown groups attempts by the value of their entry event (first
// touch), of their furthest step (LastTouch) or of a chosen step
// (AtStep), per Query.Attribution.
//
// Exclusions drop an attempt when the excluded event happens after the
// attempt reached step From and before it reached step To; a dropped
// attempt counts at no step (other attempts of the user still may). Hold
// keeps a property constant: only events with the entry's value (the
// same SKU) are visible to an attempt, in Strict order too.
//
// Events at the same microsecond are taken in step order and then by ID,
// so a view and an add-to-cart logged in one instant convert, and every
// backend and ingest order gives the same answer.
//
// A Query counts the attempts that entered in [From, To); their later
// steps may fall up to a window after To, and events from a window before
// From are read so that an attempt in progress at From blocks re-entry as
// it would have. Breakdown groups attempts by their entry event's value
// of a dimension (with Uniques, a user counts once per value); Interval
// buckets them by entry time, by the hour or day in Query.Location (UTC
// by default). Each step reports its count, the conversion from the
// previous step and from the first, and the times to convert from entry
// (Durations: median and percentiles interpolated between ranks).
//
// # Retention and trends
//
// Retention groups users into cohorts by the period (day or hour, in a
// location) of their first StartEvent in [From, To) — their first event
// of any name without one — and counts, for each of Periods periods
// after, the users who came back with ReturnEvent (any event without
// one): in that very period (NDay) or in it or later (Unbounded), each
// user once per period, with a breakdown by the cohort event's value.
// Trends counts an event and the distinct users who did it per period
// and breakdown value. Both read the store with one Scan, on every
// backend alike.
//
// CohortUsers returns the users who did (or did not) do an event in a
// range; set the result as the Users of a Query, RetentionQuery, KPIQuery
// or TrendsQuery to count those users alone.
//
// # KPIs
//
// Measure reads every event in [From, To) and reports per bucket and
// breakdown value (each event's own time and value):
//
//   - Orders: events of the basis's name — OrderEvent ("order") for
//     Placed, PayEvent ("pay") for Paid (the default) and Net — counted
//     once per user and order ID, by the earliest; an event without an
//     order ID is an order of its own.
//   - GMV: the orders' amounts; with Net, less the RefundEvent ("refund")
//     amounts of the same group, which are also reported as Refunds. GMV
//     is exact (decimal.Decimal) and can go negative with Net when a
//     bucket's refunds exceed its payments.
//   - AOV = GMV / Orders; ARPU = GMV / ActiveUsers (users with any event);
//     ARPPU = GMV / Buyers (users with an order); repeat-purchase rate =
//     RepeatBuyers (users with two or more orders) / Buyers. The averages
//     are rounded half away from zero to the places the caller asks for.
//
// # Approximate unique counts
//
// With Options.HyperLogLog, a Redis store also adds each event's user to
// a HyperLogLog per shard, day and event name, and Uniques with
// approximate set answers from them: about 12 KB per counter, a standard
// error of 0.81%, covering the whole UTC days the range touches. Memory
// always counts exactly. Exact counts read the events.
//
// # Redis layout
//
// Users are spread over Options.Shards (default 16) hash tags by FNV-1a of
// their ID, so each user's events share a slot and a Cluster spreads the
// shards over its nodes. For shard s and UTC day D (YYYYMMDD):
//
//	{prefix:s}:d:D:e:NAME   list of the day's events named NAME, in arrival order
//	{prefix:s}:d:D:ids      set of the day's event IDs (idempotency)
//	{prefix:s}:d:D:n        set of the day's event names
//	{prefix:s}:d:D:u:NAME   HyperLogLog of the day's users for NAME (optional)
//
// A stored event is its ID, user, time (unix µs), amount, order ID,
// variant, channel, region and SKU joined by the unit separator (0x1F),
// which no ID or dimension may contain. Ingest groups a batch by shard
// and sends one script call per shard (at most 512 events each) in one
// pipeline; each call is atomic, deduplicates by ID, decides expiry by
// the server's TIME and sets every key it writes to expire at the end of
// its day plus the retention. A query reads only the days its range
// touches and only the names its funnel uses, one shard at a time.
//
// A Memory store keeps each UTC day's events in pointer-free records with
// their strings in a byte arena and its IDs in a hash-keyed set, so the
// garbage collector has nothing to scan however many events it holds; it
// numbers event names and holds at most MaxMemoryNames of them.
//
// Stores are safe for concurrent use. Analyze and Measure hold the whole
// answer in memory: per group, counts and one duration per converted user
// or entry.
package funnel
