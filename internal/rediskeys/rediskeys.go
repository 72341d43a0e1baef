// Package rediskeys deletes keys by pattern on a standalone Redis or on
// every master of a Cluster. Tests and examples use it to clean up after
// themselves; it is not meant for production data.
package rediskeys

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// DeleteMatching deletes every key matching the glob pattern, scanning each
// master of a Cluster in turn. Errors are returned from the first node that
// fails; deletion is best effort.
func DeleteMatching(ctx context.Context, c redis.UniversalClient, pattern string) error {
	del := func(ctx context.Context, node *redis.Client) error {
		var batch []string
		iter := node.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == 500 {
				if err := node.Unlink(ctx, batch...).Err(); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			if err := node.Unlink(ctx, batch...).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	switch c := c.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, del)
	case *redis.Client:
		return del(ctx, c)
	}
	return nil
}
