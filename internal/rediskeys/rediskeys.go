// Package rediskeys deletes keys by pattern on a standalone Redis or on
// every master of a Cluster. Tests and examples use it to clean up after
// themselves; it is not meant for production data.
package rediskeys

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// scanPage is how many keys one SCAN step asks for and one pipeline of
// UNLINKs deletes.
const scanPage = 500

// DeleteMatching deletes every key matching the glob pattern, scanning each
// master of a Cluster in turn, and returns the first error any node gave.
//
// Keys are unlinked one per command, pipelined a page at a time: a
// multi-key UNLINK on a Cluster node fails with CROSSSLOT as soon as two of
// its keys hash to different slots, which a pattern's matches nearly always
// do.
func DeleteMatching(ctx context.Context, c redis.UniversalClient, pattern string) error {
	del := func(ctx context.Context, node *redis.Client) error {
		var page []string
		flush := func() error {
			if len(page) == 0 {
				return nil
			}
			cmds, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range page {
					p.Unlink(ctx, k)
				}
				return nil
			})
			page = page[:0]
			if err != nil {
				return err
			}
			for _, cmd := range cmds {
				if err := cmd.Err(); err != nil {
					return err
				}
			}
			return nil
		}
		iter := node.Scan(ctx, 0, pattern, scanPage).Iterator()
		for iter.Next(ctx) {
			if page = append(page, iter.Val()); len(page) == scanPage {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		return flush()
	}
	switch c := c.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, del)
	case *redis.Client:
		return del(ctx, c)
	}
	return nil
}
