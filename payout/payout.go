package payout

import (
	"errors"
	"fmt"
)

// Errors callers branch on. Typed errors below match them with errors.Is.
var (
	// ErrInvalidInput is matched by every *InputError.
	ErrInvalidInput = errors.New("payout: invalid input")
	// ErrSharingRule is matched by every *SharingError: a profit-sharing plan
	// breaks one of the SharingRules.
	ErrSharingRule = errors.New("payout: profit-sharing rule broken")
	// ErrOverRefund means a refund exceeds what is left of the charge.
	ErrOverRefund = errors.New("payout: refund exceeds what is left")
	// ErrNotFound means no transaction has the given ID.
	ErrNotFound = errors.New("payout: transaction not found")
	// ErrIDConflict means an ID was reused for a different transaction.
	ErrIDConflict = errors.New("payout: ID already used for a different transaction")
	// ErrClosed is returned by calls on a ledger after Close.
	ErrClosed = errors.New("payout: ledger closed")
	// ErrNotReplicated means a Redis posting was applied by the master but
	// fewer than LedgerOptions.WaitReplicas replicas acknowledged it within
	// WaitTimeout, so a failover now could lose it: the outcome is unknown.
	// Replay the same ID to learn it (the replay waits again).
	ErrNotReplicated = errors.New("payout: posting not acknowledged by enough replicas; outcome unknown, replay the ID")
	// ErrBalanceLimit is matched by every *BalanceLimitError.
	ErrBalanceLimit = errors.New("payout: balance limit exceeded")
	// ErrInsufficientFunds is matched by every *InsufficientFundsError.
	ErrInsufficientFunds = errors.New("payout: insufficient funds")
)

// InsufficientFundsError reports a posting (or a reversal's posting) that
// would take a guarded account below zero: LedgerOptions.GuardBalances is
// on and the account was not opened with AllowNegative. Nothing was
// written. Balance is what the account had in the balance the posting
// lands in (available, or pending for a posting not yet available).
type InsufficientFundsError struct {
	TransactionID string
	Account       string
	Balance       int64
	Amount        int64
}

func (e *InsufficientFundsError) Error() string {
	return fmt.Sprintf("payout: transaction %s would take %s below zero (balance %d, posting %d)", e.TransactionID, e.Account, e.Balance, e.Amount)
}

// Is reports whether target is ErrInsufficientFunds.
func (e *InsufficientFundsError) Is(target error) bool { return target == ErrInsufficientFunds }

// BalanceLimitError reports a posting that would take an account's
// available or pending balance further from zero than ±MaxAmount. Nothing
// was written. Balances stay within that range so that every backend adds
// them exactly (Lua numbers are exact up to 2^53) and none can overflow.
type BalanceLimitError struct {
	TransactionID string
	Account       string
}

func (e *BalanceLimitError) Error() string {
	return "payout: transaction " + e.TransactionID + " would take the balance of " + e.Account + " beyond ±(2^53-1)"
}

// Is reports whether target is ErrBalanceLimit.
func (e *BalanceLimitError) Is(target error) bool { return target == ErrBalanceLimit }

// exceedsLimit reports whether adding amount (non-zero, within ±MaxAmount)
// to a balance takes it away from zero and beyond ±MaxAmount. A posting
// towards zero is always allowed, so an account can always be settled.
// Written so that nothing overflows for any int64 balance.
func exceedsLimit(balance, amount int64) bool {
	if amount > 0 {
		return balance >= 0 && balance > MaxAmount-amount
	}
	return balance <= 0 && balance < -MaxAmount-amount
}

// InputError reports input that breaks a rule. Nothing was written.
type InputError struct {
	Field string // the offending field, e.g. "Ratios[2]"
	Rule  string // the rule it breaks, e.g. "must be ≥ 0"
}

// Error implements error.
func (e *InputError) Error() string { return "payout: " + e.Field + " " + e.Rule }

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// RefundError reports a refund larger than what is left to refund: of the
// charge, or (RefundSplit) of one share.
type RefundError struct {
	Requested int64 // the refund (or the share's part) asked for, in minor units
	Left      int64 // what was left of the charge (or of the share)
	// Share is the share whose part exceeded what is left of it, or -1
	// when the refund exceeded what is left of the charge.
	Share int
}

// Error implements error.
func (e *RefundError) Error() string {
	if e.Share >= 0 {
		return fmt.Sprintf("payout: refund of %d from share %d exceeds the %d left of it", e.Requested, e.Share, e.Left)
	}
	return fmt.Sprintf("payout: refund of %d exceeds the %d left", e.Requested, e.Left)
}

// Is makes errors.Is(err, ErrOverRefund) true.
func (e *RefundError) Is(target error) bool { return target == ErrOverRefund }
