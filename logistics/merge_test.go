package logistics_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/redistest"
	"github.com/shopkit/shopkit/logistics"
	"github.com/shopkit/shopkit/logistics/logisticstest"
)

func TestMemoryMerge(t *testing.T) {
	logisticstest.Run(t, func(t *testing.T, window time.Duration) logistics.MergeStore {
		return logistics.NewMemoryMerge(window, nil)
	})
}

func newRedisMerge(client redis.UniversalClient) logisticstest.NewStore {
	return func(t *testing.T, window time.Duration) logistics.MergeStore {
		s, err := logistics.NewRedisMerge(client, redistest.Prefix(t, client), window)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestRedisMerge(t *testing.T) {
	logisticstest.Run(t, newRedisMerge(redistest.Client(t)))
}

func TestRedisClusterMerge(t *testing.T) {
	logisticstest.Run(t, newRedisMerge(redistest.Cluster(t)))
}

func TestNormalize(t *testing.T) {
	tests := []struct{ give, want string }{
		{"  12  Main   Street ", "12 main st"},
		{"１２　ＭＡＩＮ　ＳＴ．", "12 main st"},
		{"Apartment 5, Floor 3", "apt 5 fl 3"},
		{"北京市，朝阳区", "北京市 朝阳区"},
	}
	for _, tt := range tests {
		if got := logistics.NormalizeText(tt.give); got != tt.want {
			t.Errorf("NormalizeText(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
	for _, p := range []string{"+86 138-0000-1111", "138 0000 1111", "１３８００００１１１１"} {
		if got := logistics.NormalizePhone(p); got != "13800001111" {
			t.Errorf("NormalizePhone(%q) = %q", p, got)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add("１２　ＭＡＩＮ　ＳＴ．")
	f.Add("\xff\x00 ,，")
	f.Fuzz(func(t *testing.T, s string) {
		n := logistics.NormalizeText(s)
		if logistics.NormalizeText(n) != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, logistics.NormalizeText(n))
		}
	})
}

// TestRedisResentMerge runs the suite over a client that runs every script
// twice, as go-redis does when it resends a call whose reply timed out:
// every outcome the suite checks must survive the resend.
func TestRedisResentMerge(t *testing.T) {
	logisticstest.Run(t, newRedisMerge(redistest.Resending(t, redistest.Client(t))))
}
