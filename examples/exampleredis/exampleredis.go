// Package exampleredis opens the Redis that an example's -redis and
// -cluster flags name, so that each example's main reads as the domain
// walk-through it is. It is a public package, so an example copied out of
// this repository still builds.
package exampleredis

import (
	"context"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/shopkit/shopkit/internal/rediskeys"
)

// Dial returns a Cluster client for clusterAddrs (comma-separated seeds)
// if set, else a client for redisAddr if set, else nil: the example then
// runs on the in-memory backend.
func Dial(redisAddr, clusterAddrs string) redis.UniversalClient {
	switch {
	case clusterAddrs != "":
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(clusterAddrs, ",")})
	case redisAddr != "":
		return redis.NewClient(&redis.Options{Addr: redisAddr})
	}
	return nil
}

// Close deletes the example's keys (those matching any of patterns) and
// closes client.
func Close(client redis.UniversalClient, patterns ...string) {
	for _, p := range patterns {
		_ = rediskeys.DeleteMatching(context.Background(), client, p)
	}
	_ = client.Close()
}
