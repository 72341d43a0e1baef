// Package payout does the money side of a marketplace order: splitting a
// payment among the platform, providers, merchants and referrers exactly,
// reversing those shares on partial refunds without drift, and keeping the
// books in a double-entry settlement ledger.
//
// # Exact allocation
//
// Allocate splits an amount of minor units (int64 cents, fen, yen) by
// ratios so that the parts always sum to the whole. Each party first gets
// its exact share rounded down; the few units left over go to parties whose
// share had a fraction, one each, chosen by a Policy: LargestRemainder (the
// default), FirstParties or LargestRatio. So every part is within one unit
// of its exact share and a zero-ratio party gets nothing. Negative amounts
// (refunds) split like their positive counterparts, negated. Arithmetic is
// 128-bit, so any int64 amount and ratios work without overflow.
// AllocateInto writes into a caller's slice and allocates nothing for up to
// 64 parties. AllocateDecimal takes decimal.Decimal amounts and ratios
// (percentages) at a currency's minor-unit scale; AllocateFixed pays fixed
// amounts and gives one party the rest.
//
// # Fees, commissions and rebates
//
// Fee is basis points plus a fixed amount, clamped, rounded once by a
// Rounding mode. Commission applies tiers marginally (each bracket at its
// rate) or to the whole amount (the rate of the highest bracket reached); an
// amount on a boundary takes the higher tier. Rebates pays referral levels
// by rate with caps. SharingRules.Check enforces profit-sharing limits in
// the style of WeChat Pay (at most 30% of the order shared, at most 50
// receivers, positive amounts) and names the rule a plan breaks.
//
// # Refunds
//
// A Reversal tracks the refunds of one split charge and reverses every
// share cumulatively: after refunds totalling R the shares reversed are
// exactly the split of R, so once the refunds reach the charge every share
// is reversed exactly, whatever their number and order. A refund beyond
// what is left is a *RefundError.
//
// # Ledger
//
// A Ledger posts balanced transactions atomically and idempotently by ID.
// Postings are pending until the transaction's AvailableAt (settlement at
// T+N) and available after; Reverse posts a transaction's opposite once.
// Every transaction sums to zero, so all balances always sum to zero.
// A posting may take an available or pending balance away from zero only
// up to ±MaxAmount (a *BalanceLimitError otherwise; towards zero is always
// allowed): within that range every backend adds exactly, and the check
// comes before the first write, so a refused posting changes nothing.
// With LedgerOptions.GuardBalances, a posting or a reversal that would
// take an account below zero is refused too (*InsufficientFundsError,
// naming the account, its balance and the posting), unless the account
// was opened with OpenAccount and AllowNegative — the platform's clearing
// and fee accounts; funds still pending do not count until available.
// Sharing builds WeChat Pay-style profit sharing on that guard: an order's
// funds frozen net of the fee, sharing instructions, refunds, returned
// shares, a monthly cap per personal receiver and the unfreezing of the
// rest, each one idempotent, atomic posting.
// Ledger is one type over a small unexported backend: NewMemoryLedger keeps
// the books in process; NewRedisLedger keeps them in Redis with one script
// per posting, deciding availability by the server's TIME. All keys of a
// Redis ledger share the hash tag {Prefix}, so each posting, however many
// accounts it touches, runs on one Cluster node; shard by giving
// independent books (per region, per currency) their own prefix.
//
// Keys, under the tag {P}:
//
//	{P}:tx:<id>     hash  f = request fingerprint, p = postings, at = posted
//	                      ms, av = available ms, rv = ID reversed, rb = ID
//	                      of the reversal
//	{P}:b:<account> hash  a = available, p = pending
//	{P}:d:<account> zset  pending postings "<tx ID> <amount>" by available ms
//	{P}:h:<account> list  history "<tx ID> <amount> <posted ms> <available ms>",
//	                      newest first
//
// # Retention
//
// A transaction's record is kept LedgerOptions.Retention (default 400 days)
// after it is posted, to answer replays, Transaction and Reverse; then it
// is forgotten (Redis expires its key). Each account's History keeps its
// newest HistoryLength entries (default 10,000). Balances, and the pending
// entries until they settle, are kept whole.
//
// # Durability
//
// Redis replicates asynchronously, so a failover can lose postings the
// callers were told succeeded. With LedgerOptions.WaitReplicas = N every
// posting (and reversal) waits until N replicas acknowledge it (WAIT, up to
// WaitTimeout) before reporting success, or returns ErrNotReplicated: the
// posting is on the master and may or may not survive a failover, so
// replay the ID to learn its outcome. With it on, a reported posting
// survives the loss of the master when a replica that acknowledged it is
// promoted; with it off, a replication lag's worth of postings can vanish.
// The deployment recipe (replicas, min-replicas-to-write, AOF) is in the
// inventory package doc and the README.
//
// # Concurrency and errors
//
// Ledgers are safe for concurrent use; a Reversal is a value and is not.
// LedgerOptions.Observer receives an Observation of every call (its op, ID,
// error, wall time and whether it was a replay).
// Bad input returns an *InputError naming the field and the rule and writes
// nothing; backend failures are wrapped with %w.
package payout
