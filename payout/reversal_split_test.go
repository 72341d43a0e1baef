package payout_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/shopkit/shopkit/payout"
)

// TestRefundSplitNeverOverReverses mixes targeted and proportional refunds
// at random until the charge is refunded: no share's total reversal is
// ever below zero or beyond what it received, and at the end every share
// is reversed exactly. (A single proportional part may be −1 before any
// split: the Alabama paradox Reversal documents.)
func TestRefundSplitNeverOverReverses(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 500 {
		shares := make([]int64, 1+r.IntN(5))
		var charge int64
		for i := range shares {
			shares[i] = r.Int64N(1000)
			charge += shares[i]
		}
		if charge == 0 {
			continue
		}
		rev, err := payout.NewReversal(charge, shares)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]int64, len(shares))
		for rev.Refunded() < charge {
			var parts []int64
			if r.IntN(2) == 0 {
				split := make([]int64, len(shares))
				for i := range split {
					split[i] = r.Int64N(shares[i] - got[i] + 1)
				}
				parts, err = rev.RefundSplit(split)
				if errors.Is(err, payout.ErrInvalidInput) { // all zero
					continue
				}
			} else {
				parts, err = rev.Refund(1 + r.Int64N(charge-rev.Refunded()))
			}
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			for i, p := range parts {
				got[i] += p
				if got[i] < 0 || got[i] > shares[i] {
					t.Fatalf("round %d: share %d reversed %d of %d (part %d)", round, i, got[i], shares[i], p)
				}
			}
		}
		for i := range shares {
			if got[i] != shares[i] {
				t.Fatalf("round %d: share %d reversed %d of %d at the end", round, i, got[i], shares[i])
			}
		}
	}
}

func TestRefundSplitRefusals(t *testing.T) {
	rev, _ := payout.NewReversal(100, []int64{70, 30})
	var re *payout.RefundError
	if _, err := rev.RefundSplit([]int64{0, 31}); !errors.As(err, &re) || re.Share != 1 || re.Left != 30 {
		t.Fatalf("part beyond its share: %v", err)
	}
	if _, err := rev.RefundSplit([]int64{1}); !errors.Is(err, payout.ErrInvalidInput) {
		t.Fatalf("wrong length: %v", err)
	}
	if _, err := rev.RefundSplit([]int64{-1, 2}); !errors.Is(err, payout.ErrInvalidInput) {
		t.Fatalf("negative part: %v", err)
	}
	if rev.Refunded() != 0 {
		t.Fatalf("a refused split changed the books: %d", rev.Refunded())
	}
	if _, err := rev.Refund(101); !errors.As(err, &re) || re.Share != -1 {
		t.Fatalf("refund beyond the charge: %v", err)
	}
}
