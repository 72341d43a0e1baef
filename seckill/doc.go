// Package seckill runs flash sales: an admission gate over pre-warmed
// stock, GCRA rate limiting and distributed locks with fencing tokens, each
// with an in-memory and a Redis backend that pass one conformance suite
// (package seckilltest).
//
// # Gate
//
// A Gate holds sales (Open: SKU, units, window, per-buyer limit, time to
// pay). Admit is one atomic step per request: it checks the window, the
// stock and the buyer's limit, takes the units, records the buyer and the
// request, and issues a Ticket to pay within PayWithin (in Redis the
// ticket also goes onto the sale's order-queue stream; concurrent
// admissions to one sale share one script call, each still atomic and
// applied in arrival order). Outcomes are
// Admitted, SoldOut, LimitReached, NotStarted, Ended and RateLimited (with
// GateOptions.Limiter). Replaying a request ID returns its first outcome,
// except "not started" and "sold out", which are not remembered: a buyer
// who clicked early, or found the sale sold out, may retry the same
// request and be admitted once the sale opens or stock returns. Pay marks
// a ticket paid; Sweep returns the units of unpaid tickets past their
// deadline, exactly once, to the sale and to the buyer's quota, and
// reopens a sold-out sale. Remaining + Held + Paid = Units, except that
// Status may read Remaining low by units moving between buckets.
// Consume reads admitted tickets from the sale's order queue for a
// consumer group (a Redis stream, reclaiming tickets whose consumer died
// before Ack), so order-creating workers see every ticket at least once.
//
// Once a sale sells out, the Gate answers SoldOut without running an
// admission: it reads only the request's record (a map lookup in memory,
// one HGET in Redis, no allocation on Memory), so a replayed request still
// gets its first outcome — the ticket a buyer won before its reply was
// lost — while new requests are turned away cheaply. Redis gates sharing
// a prefix tell each other over pub/sub when a sale sells out or reopens.
// A gate trusts its own sold-out flag for GateOptions.SoldOutRecheck (1 s
// by default) and then asks the backend again, so a reopen announcement
// lost to a dropped connection shuts a sale for at most that long.
// Sale S lives under the hash tag "<prefix>{S}", so one sale's keys share
// a slot and sales spread over a Cluster. Every key of a sale expires
// GateOptions.Retention (default 7 days) after the sale's End plus its
// PayWithin, and a Memory gate drops the sale then too; the sale is
// unknown afterwards. A sale too hot for one node sets
// Sale.Buckets: its stock is split over buckets "<prefix>{S}",
// "<prefix>{S:1}", … on different slots; each buyer is served by one
// bucket (a hash of the user ID, so the per-buyer limit stays exact), and
// a bucket that runs dry takes half of another's remaining stock before it
// answers sold out. Moving stock is take-then-give across nodes: either
// side that fails is repeated under its operation ID for up to ten
// seconds, so a Redis restart or failover in between loses nothing; a crash of the gate's own
// process in between loses the units in transit to the sale, and never
// sells them twice.
//
// # Durability
//
// Redis replicates asynchronously, so a failover can lose admissions the
// buyers were told succeeded, and their units are then sold again. With
// GateOptions.WaitReplicas = N every write of a Redis gate (open,
// admission batches, payment, stock moves between buckets) waits until N
// replicas acknowledge it (WAIT, up to WaitTimeout) before reporting
// success, or returns ErrNotReplicated: the write is on the master and may
// or may not survive a failover, so replay the request to learn its
// outcome. Expiry does not wait: one lost in a failover only makes the
// ticket expire again. The deployment recipe (replicas,
// min-replicas-to-write, AOF) is in the inventory package doc and the
// README. Lockers, limiters and fences take the same option
// (LockerOptions, LimiterOptions, FenceOptions): without it a failover can
// hand a lock to a second holder and take the fencing counter back. The
// constructors took a clock or a prefix as positional arguments before;
// the options structs carry them now.
//
// # Locks
//
// A Locker grants named locks for a lease (TTL). Obtain retries a busy lock
// as its RetryStrategy says (NoRetry, LinearBackoff, ExponentialBackoff
// with jitter), always bounded by the context; Refresh extends the lease,
// Release frees it, TTL reports what is left, and KeepAlive runs a
// watchdog that refreshes the lease and cancels a context the moment the
// lock is lost. ErrNotObtained, ErrNotHeld and the context's own error
// tell the three failures apart.
//
// A lease can always run out under a holder that stalls (a long GC pause,
// a slow disk), and then two holders believe they hold the lock. Every
// grant therefore carries a fencing token, larger than any earlier grant
// of the same name; a resource that remembers the largest token it has
// accepted refuses the stale holder's late write. Fence is that check for
// any resource of your own; a FencedStore keeps values behind it, in
// memory (NewMemoryFencedStore) or in Redis (NewRedisFencedStore, the check
// and the write in one script).
//
// A lock may also be held shared: ObtainShared grants any number of
// readers while no writer holds it, and Obtain waits until every reader's
// lease is released or has run out. Readers' and writers' tokens come from
// one rising sequence, so a reader that stalls past a writer is fenced
// off as a stale writer is. Readers arriving while others read are let in
// (no writer preference); bound a writer's wait with its retry strategy
// and context.
//
// In Redis, lock N is "<prefix>{N}:lock" (value "<owner>|<token>"), its
// shared grants "<prefix>{N}:readers" (owner → lease end and token,
// expiring with the longest lease) and its token counter
// "<prefix>{N}:fence", one hash tag per lock: the three share a Cluster
// slot and different locks spread over the Cluster. The counter never
// expires, so tokens never go backwards.
//
// # Rate limiting
//
// A Limiter applies GCRA, the generic cell rate algorithm (as
// go-redis/redis_rate does): a Limit of Rate events per Period, fractional
// rates allowed, with Burst events at once. Each key stores one
// theoretical arrival time; AllowN admits n events or none and reports
// what remains, when to retry and when the burst is full again; Peek
// consumes nothing. The Redis limiter decides by the server's TIME and
// each key expires once it is back to a full burst, so idle keys cost
// nothing. Key K is "<prefix>{K}"; the Gate's per-buyer limit uses
// "<prefix>{S:U}" for sale S and user U.
//
// # The shape of the package
//
// Gate, Locker, Limiter and FencedStore are each one type over a small
// backend: NewMemoryX(XOptions) keeps state in process (time from
// XOptions.Now) and NewRedisX(client, XOptions) in Redis (keys under
// XOptions.Prefix, time from the server). Calls that name several IDs
// take a request struct (AdmitRequest, TicketRef, ConsumeRequest,
// AckRequest, FencedWrite). Errors callers branch on share the module's
// kinds: ErrUnknownSale and ErrUnknownTicket match ErrNotFound,
// ErrSaleConflict and ErrRequestConflict match ErrIDConflict. Each options
// struct takes an Observer, which receives an Observation of every call:
// its op, ID, error and wall time, and for Admit the admission.
//
// Gates, Lockers, Limiters and FencedStores are safe for concurrent use; a
// Lock's methods are too.
package seckill
