package routing_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/routing"
	"github.com/shopkit/shopkit/routing/routingtest"
)

func TestMemoryLog(t *testing.T) {
	routingtest.Run(t, func(t *testing.T) *routing.Log { return routing.NewMemoryLog(routing.LogOptions{}) })
}

func newRedisLog(client redis.UniversalClient) routingtest.NewLog {
	return func(t *testing.T) *routing.Log {
		l, err := routing.NewRedisLog(client, routing.LogOptions{Prefix: redistest.Prefix(t, client)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		return l
	}
}

func TestRedisLog(t *testing.T) {
	routingtest.Run(t, newRedisLog(redistest.Client(t)))
}

func TestRedisClusterLog(t *testing.T) {
	routingtest.Run(t, newRedisLog(redistest.Cluster(t)))
}

// TestRedisResentLog runs the suite over a client that runs every script
// twice, as go-redis does when it resends a call whose reply timed out:
// every outcome the suite checks must survive the resend.
func TestRedisResentLog(t *testing.T) {
	routingtest.Run(t, newRedisLog(redistest.Resending(t, redistest.Client(t))))
}
