package main

import (
	"os"
	"syscall"
)

// crashAt names the step boundary at which the process kills itself with
// SIGKILL, as a power cut would: the crash suite (crash_test.go) sets it
// in SHOP_CRASH_AT to prove that every order still ends consistent once
// an instance restarts. Unset, crashPoint does nothing.
var crashAt = os.Getenv("SHOP_CRASH_AT")

// crashPoints are the boundaries between the saga's store calls, in the
// order a checkout, payment, refund and cancellation pass them.
var crashPoints = []string{
	"checkout:reserved", "checkout:coupon-held", "checkout:recorded",
	"pay:begun", "pay:stock-taken", "pay:coupon-committed", "pay:booked", "pay:shipped", "pay:recorded",
	"refund:decided", "refund:booked", "refund:recorded",
	"cancel:begun", "cancel:stock-released", "cancel:recorded",
}

// expiryCrashPoints are the boundaries of the expiry step, which the
// background loop runs.
var expiryCrashPoints = []string{"expire:begun", "expire:stock-released", "expire:recorded"}

func crashPoint(name string) {
	if crashAt != "" && crashAt == name {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal arrives
	}
}
