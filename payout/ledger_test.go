package payout_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/payout"
	"github.com/shopkit/shopkit/payout/payouttest"
)

func TestMemoryLedger(t *testing.T) {
	payouttest.Run(t, func(t *testing.T, opts payout.LedgerOptions) *payout.Ledger {
		l := payout.NewMemoryLedger(opts)
		t.Cleanup(func() { _ = l.Close() })
		return l
	})
}

func newRedisLedger(client redis.UniversalClient) payouttest.NewLedger {
	return func(t *testing.T, opts payout.LedgerOptions) *payout.Ledger {
		opts.Prefix = redistest.Prefix(t, client)
		l, err := payout.NewRedisLedger(client, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		return l
	}
}

func TestRedisLedger(t *testing.T) {
	payouttest.Run(t, newRedisLedger(redistest.Client(t)))
}

func TestRedisClusterLedger(t *testing.T) {
	payouttest.Run(t, newRedisLedger(redistest.Cluster(t)))
}

// TestRedisResentLedger runs the suite over a client that runs every script
// twice, as go-redis does when it resends a call whose reply timed out:
// every outcome the suite checks must survive the resend.
func TestRedisResentLedger(t *testing.T) {
	payouttest.Run(t, newRedisLedger(redistest.Resending(t, redistest.Client(t))))
}
