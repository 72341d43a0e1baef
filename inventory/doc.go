// Package inventory keeps stock levels per SKU and location and holds stock
// for checkouts with reservations that never oversell.
//
// # Model
//
// An Item is a SKU at a location. Its Level has OnHand (units physically
// held), Reserved (units promised to held reservations) and Committed
// (units sold and not yet shipped, with Options.Shipping), and
// Backordered (units sold beyond on hand under the item's Policy, waiting
// for stock); Available is OnHand − Reserved − Committed + Backordered,
// and a store keeps 0 ≤ Reserved + Committed ≤ OnHand + Backordered at
// all times. OnHand changes by Adjust (receipts, damage, returns) and
// SetOnHand (stock counts); neither may take it below Reserved +
// Committed − Backordered.
//
// A Reservation holds every one of its lines, or none. Lines naming the same
// item are summed before they are checked, and stored merged and sorted. It
// starts Held with a deadline of now + TTL and moves exactly once:
//
//	Held ──Commit──▶ Committed   on hand and reserved both drop: sold
//	Held ──Release─▶ Released    reserved drops: stock is available again
//	Held ──deadline─▶ Expired    as Release, when nobody paid in time
//
// Extend moves a held reservation's deadline. Commit of a committed, and
// Release of a released or expired reservation, are no-ops; every other
// transition from a final state returns a *StateError (errors.Is ErrNotHeld
// and ErrCommitted, ErrReleased or ErrExpired).
//
// Expiry returns stock exactly once, whichever comes first: a touch of the
// reservation (any call naming its ID) that finds it due, a Reserve that
// meets a shortage while some hold is due (it sweeps one page, then
// retries once), Sweep, or the background sweeper (Options.SweepInterval).
// A Sweep's work is bounded (on Redis at most 20 pages of 100 index
// entries or 1,000 IDs, each page one script call and one pipeline), and
// concurrent Sweeps of one store share one run, so a shortage seen by many
// callers at once costs one sweep.
//
// Bundles and kits hold no stock of their own: Bundles maps a sellable SKU
// to the items it consumes, Expand turns bundle lines into component lines
// with the quantities multiplied through (reserve them: all together or
// not at all, like any reservation's lines), and Available says how many
// whole bundles the components cover now.
//
// # Shipping
//
// By default a sale leaves on hand at Commit. With Options.Shipping it
// stays, as Shopify's committed state does, until the warehouse ships it:
//
//	Held ──Commit──▶ Committed   reserved drops, committed rises: paid,
//	                             still on the shelf
//	Committed ──Ship───▶ …       per line, in parts: committed and on
//	                             hand drop: the units left
//	Committed ──Return─▶ …       per line, in parts: committed drops: the
//	                             order was cancelled before shipping and
//	                             its units are available again
//
// Ship and Return each carry their own ID (a parcel, a cancellation) and
// are idempotent by it; together they may take at most what the
// reservation committed at each item, and a request for more is a
// *FulfilError (errors.Is ErrNotCommitted) that writes nothing. A
// reservation that is not committed gets a *StateError with Op "ship" or
// "return". The Fulfilment they return says, per line, how many units
// shipped and returned; once all have, it is Complete and the
// reservation's record is retired like any finished one. Units that
// shipped and came back are a receipt (Adjust with ReasonReturn), not a
// Return.
//
// # Incoming stock
//
// A PurchaseOrder (Store.Expect) is stock on its way: its units show in
// Level.Incoming, and the earliest expected date among an item's open
// orders in Level.NextArrival, but they are not on hand and cannot be
// reserved. Receive books a delivery: the units leave incoming and join
// on hand, available at once. CancelIncoming takes units that will not
// come off the order. Both go per line and in parts, carry their own ID
// (a goods-received note, a short-shipment notice) and are idempotent by
// it; together they may take at most what the order brings to each item,
// and a request for more is an *IncomingError (errors.Is ErrNotIncoming)
// that writes nothing. An order with nothing open is Complete and is kept
// for Options.Retention, then forgotten; an open one is kept until it is
// complete. Units that arrive without an order are an Adjust with
// ReasonReceipt.
//
// # Backorders and pre-orders
//
// An item sells only what it has on hand until SetPolicy gives it a
// Policy: Backorder lets that many units at a time be sold beyond on
// hand, and before ReleaseAt, Preorder adds more, as PreorderIncoming adds
// the units its open purchase orders bring. A reservation short of stock
// at such an item is made anyway if the units it lacks fit the allowance
// left; they are backordered, and Reservation.Backorders lists them per
// line. The policy is read only on a shortage, so a reservation that stock
// covers costs what it did. Backorders need Options.Shipping: the units
// of a backordered sale are committed at Commit, not taken off hand.
//
// Backordered units wait for stock in the order they were sold. Every
// unit that comes free — a receipt (Adjust, SetOnHand, Receive), a hold
// released or expired, a Return — goes to the oldest backorder first, so
// an item has units available only when nothing waits, and Level
// .Backordered counts what still does. Units that wait cannot ship: a Ship
// asking for them is a *FulfilError whose Waiting says how many; a Return
// takes waiting units first, since they free nothing on hand. A release
// or expiry of a backordered hold takes its waiting units out of the
// line. A write-off may take on hand down to Reserved + Committed −
// Backordered and no lower. Lowering a policy's limits refuses new
// backorders and leaves those already sold waiting.
//
// # Idempotency
//
// Every mutation carries an ID. Replaying a reservation or adjustment
// returns the first outcome and applies nothing; Reservation.Replayed tells
// a replay. The same ID with a different request is ErrIDConflict. A
// request that fails writes nothing, so its ID can be retried: a checkout
// that was short of stock may reserve under the same ID after a restock.
// Records of finished reservations and of adjustments are kept for
// Options.Retention (default 24h) to answer replays, then forgotten (by the
// store's next calls, a few records at a time); held reservations are never
// forgotten.
//
// # Input
//
// IDs, SKUs, locations and reasons are 1–128 bytes of UTF-8 without
// whitespace, control characters, braces or colons, so they cannot forge a
// Redis key or hash tag. Quantities are int64 in 1..MaxQuantity (2^53−1, so
// that Lua's doubles hold them exactly), a reservation has at most MaxLines
// lines and a TTL of at least 1ms. Bad input gets an *InputError naming the
// field and the rule, before anything is written.
//
// # Backends
//
// A Store is one type over a small unexported backend, as database/sql is
// over its drivers: validation, error mapping, the background sweeper and
// the observer live in Store once, and NewMemory and NewRedis each supply a
// backend of a few atomic primitives.
//
// NewMemory keeps everything in process. Records are sharded by ID and every
// item has its own lock, taken in line order, so reservations of different
// items run in parallel and a hot item is locked only for its check and
// update. Time comes from Options.Now.
//
// NewRedis keeps everything in Redis, one Lua script per atomic operation, and
// decides expiry by the server's TIME. Concurrent Reserve calls are
// coalesced: while one script call is in flight the next ones queue, and the
// queue goes to Redis as one call (up to Options.MaxBatch reservations),
// each reservation in it still all-or-nothing, idempotent and applied in
// order. Under light load a batch is a single reservation, so nothing waits
// for company. Commit, Release, Extend and Reservation are coalesced the same
// way, into one transitions.lua call per batch, each call's stock changes
// summed per item. A script may only touch the keys it is given, so a
// transition needs the reservation's lines: the store remembers them for the
// reservations it made (the latest 64 Ki), which makes a Commit after a
// Reserve in the same process one round trip; any other reads the record
// first (two). Ship and Return of a reservation the process committed,
// and Receive and CancelIncoming of an order it expected, are one round
// trip the same way, but each is its own script call: they are not
// coalesced.
//
// Options.Spread spreads one store over several stock groups, each on its
// own hash tag, so that a Redis Cluster shares its keys and load among the
// masters; a reservation over several groups stays all-or-nothing through
// a home record that alone decides and holds that follow it, with a
// recovery sweep for clients that die in between. Spread's doc gives
// the protocol, what each crash point leaves, and its limits.
//
// If a call's context ends or the connection fails while a script is in
// flight, the outcome is unknown to the caller: the reservation may have
// been made. Replay the ID to learn it, or Release it.
//
// # Durability
//
// Redis replicates asynchronously: a master acknowledges a write before its
// replicas have it, so a failover (Sentinel promoting a replica, or a
// Cluster failover) can lose reservations and commits the callers were told
// succeeded, and the same units can then be sold again. With
// Options.WaitReplicas = N every write (adjustment, reservation batch,
// commit, release, extend) waits until N replicas acknowledge it (WAIT, up
// to Options.WaitTimeout) before the call reports success; if they do not,
// the call returns ErrNotReplicated: the write is on the master and may or
// may not survive a failover, so replay the ID to learn its outcome. Expiry
// needs no wait: an expiry lost in a failover only makes the hold expire
// again.
//
// What holds with WaitReplicas = N: a reported success survives the loss
// of the master as long as the promoted replica is one of the N that
// acknowledged (Sentinel promotes the most up-to-date replica). Without it,
// up to a replication lag's worth of acknowledged writes can be lost. The
// recipe: at least N replicas per master; min-replicas-to-write N and
// min-replicas-max-lag 10 on the master, so a master cut off from its
// replicas refuses writes instead of accepting ones it will lose; AOF with
// appendfsync everysec (or always) on every node, so a restarted node does
// not come back empty. WAIT makes writes durable, not linearizable: a
// client may still read a write that a failover later loses.
//
// # Redis keys and Cluster
//
// Every key of a store starts with the hash tag {Prefix} (Options.Prefix,
// default "shopkit:inventory"), so all of them live in one Cluster slot and
// every script runs there: a reservation is all-or-nothing on a Cluster
// exactly as on one server. The cost is that one store is served by one
// node. To spread load over a Cluster, give independent stock independent
// stores — one per region or warehouse group, say — each with its own
// prefix; an order whose lines span stores takes one reservation per store.
//
//	{P}:s:<sku>:<location>   hash   h = on hand, r = reserved,
//	                                c = committed, not yet shipped,
//	                                i = incoming on open purchase orders,
//	                                w = backordered, n = the latest
//	                                backorder's sequence number; the
//	                                Policy: bl = backorder limit, pl =
//	                                pre-order limit, pr = release (ms),
//	                                pi = 1 when pre-orders sell incoming
//	{P}:s:<sku>:<location>:q zset   reservations that wait for stock
//	                                there, scored by sequence (the order
//	                                sold); an entry goes once it is
//	                                filled, released or returned
//	{P}:s:<sku>:<location>:w hash   reservation ID -> units it waits for
//	{P}:res                  hash   reservation ID -> "<state>|<deadline ms>|<lines>",
//	                                state 1 held, 2 committed, 3 released,
//	                                4 expired; lines are "sku\tlocation\tqty\n"
//	{P}:fin                  zset   finished reservation IDs -> when
//	                                their records may be forgotten (ms);
//	                                a member is the space-separated IDs
//	                                one batch finished; reserve and
//	                                transition scripts forget a few
//	                                that are due
//	{P}:x                    zset   expiry index: members are the IDs
//	                                reserved together with one deadline,
//	                                space-separated, scored by that
//	                                deadline in ms; a sweep drops an entry
//	                                once none of its IDs is held and due
//	{P}:a:<id>               hash   f = request fingerprint, h, r = level
//	                                after an adjustment; expires after
//	                                Retention
//	{P}:ful                  hash   committed reservation ID -> units
//	                                shipped and returned per line,
//	                                "s1 r1 s2 r2 …" (Options.Shipping);
//	                                the entry goes when all are, and
//	                                the record is retired then
//	{P}:f:<id>               hash   f = fingerprint, o = outcome, e =
//	                                the reservation's lines of a Ship
//	                                or Return; expires after Retention
//	{P}:po:<id>              hash   purchase order: e = expected (ms),
//	                                l = lines, p = "r1 c1 r2 c2 …" units
//	                                received and cancelled per line;
//	                                expires after Retention once
//	                                nothing is open
//	{P}:in:<sku>:<location>  zset   open purchase orders bringing the
//	                                item, scored by expected date (ms)
//	{P}:r:<id>               hash   f = fingerprint, o = outcome, e =
//	                                the order's lines of a Receive or
//	                                CancelIncoming; expires after
//	                                Retention
//	{P}:fd:<id>              string a reservation's final "s1 r1 …"
//	                                once all is shipped or returned;
//	                                expires after Retention
//
// A spread store (Options.Spread) keeps these keys in each stock group,
// with P = Prefix:g<N>[.<n>], and in each group also:
//
//	{P}:home                 hash   spread reservation ID -> "<state>|<deadline
//	                                ms>|<lines>" (home.lua: state 5 is
//	                                abandoned by recovery)
//	{P}:homex                zset   held home records by deadline (ms)
//	{P}:homef                zset   finished home records -> when to
//	                                forget them (ms)
//	{P}:int                  hash   reservation ID, or order ID + ":po" ->
//	                                its pending Ship/Return/Receive/
//	                                CancelIncoming intent
//	{P}:intx                 zset   pending intents by when they began
//	{P}:ac:<id>              string an adjustment's claim on its ID;
//	                                expires after Retention
//	{P}:spo:<id>             string a purchase order's home record,
//	                                "<expected ms>|<lines>"; expires
//	                                after Retention once nothing is open
//	{P}:spox                 zset   spread orders some group may not
//	                                expect yet, by when claimed (ms); an
//	                                order leaves it once every group does
//
// Holds, sub-orders and the records of requests applied to them are
// named "<ID>:h" in the ordinary keys and fields; no caller's ID holds a
// ':', so none is ever mistaken for a caller's.
//
// # Planning
//
// EOQ, EOQBackorders, EPQ, SafetyStock, ReorderPoint and Z are pure
// functions for replenishment: how much to order and when. Their
// conventions are stated in plan.go.
//
// # Concurrency and cost
//
// Stores are safe for concurrent use. Options.Observer receives an Observation
// for every call (its op, ID, error and wall time) and for every change the
// store makes on its own (an expiry, a low-stock alert); it runs
// synchronously after the change, outside locks, and the call's own event
// comes before the changes it caused. A Memory call costs a few map operations; a Redis
// Reserve costs a share of one round trip, and so do Commit and Release of
// a reservation the same store made. See
// BENCHMARKS.md at the repository root for measured figures.
package inventory
