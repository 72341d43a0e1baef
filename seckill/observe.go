package seckill

import (
	"strconv"
	"time"
)

// Observer receives an Observation of every call on a Gate, Limiter,
// Locker or FencedStore whose options set it. It runs synchronously after the call and
// must not block for long; feed a metrics library or a log from it.
type Observer func(Observation)

// Op names the call an Observation reports.
type Op uint8

// The calls an Observer sees.
const (
	OpOpen    Op = iota + 1 // Gate.Open (and OpenFrom)
	OpAdmit                 // Gate.Admit
	OpPay                   // Gate.Pay
	OpSweep                 // Gate.Sweep
	OpStatus                // Gate.Status
	OpConsume               // Gate.Consume
	OpAck                   // Gate.Ack
	OpAllow                 // Limiter.Allow, AllowN and AllowAtMost
	OpObtain                // Locker.Obtain
	OpRelease               // Lock.Release
	OpWrite                 // FencedStore.Write
	OpReset                 // Limiter.Reset
	OpCancel                // Gate.Cancel
	OpExtend                // Gate.Extend
)

var opNames = [...]string{"", "open", "admit", "pay", "sweep", "status", "consume", "ack", "allow", "obtain", "release", "write", "reset", "cancel", "extend"}

// String returns the op's name, as metric labels want it.
func (o Op) String() string {
	if o != 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// Observation is one call, as an Observer sees it.
type Observation struct {
	Op Op
	// ID is the call's request, ticket, sale, limiter key or lock name.
	ID string
	// Err is the call's error; nil on success.
	Err error
	// Took is the call's wall time.
	Took time.Duration
	// Replayed is true when Admit found the request already answered.
	Replayed bool
	// Admission is what Admit answered (its Outcome: admitted, sold out,
	// over the user's limit, rate limited, not open).
	Admission Admission
	// Allowed is how many units Allow granted.
	Allowed int
	// Expired is how many tickets a Sweep expired.
	Expired int
}

// startTimer returns when a call started, or the zero time when nobody
// observes (so an unobserved call reads no clock).
func startTimer(o Observer) time.Time {
	if o == nil {
		return time.Time{}
	}
	return time.Now()
}

func since(start time.Time) time.Duration {
	if start.IsZero() {
		return 0
	}
	return time.Since(start)
}

func (g *Gate) report(o Observation) {
	if g.observe != nil {
		g.observe(o)
	}
}
