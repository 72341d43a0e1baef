// Package watch delivers "a new version exists" to the followers of a
// versioned source (pricing's rule sources, routing's change logs): in
// process through a Broadcast, over Redis through pub/sub. A follower
// reloads the latest version on a signal, so a signal may stand for
// several versions: each watcher holds at most one, the newest.
package watch

import (
	"context"
	"strconv"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Broadcast hands each version sent to every current watcher. The zero
// value is ready to use; it is safe for concurrent use.
type Broadcast struct {
	mu       sync.Mutex
	watchers map[chan int64]struct{}
}

// Watch returns a channel that receives the versions sent after it
// returns, coalesced, until ctx ends.
func (b *Broadcast) Watch(ctx context.Context) <-chan int64 {
	w := make(chan int64, 1)
	b.mu.Lock()
	if b.watchers == nil {
		b.watchers = map[chan int64]struct{}{}
	}
	b.watchers[w] = struct{}{}
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		delete(b.watchers, w)
		b.mu.Unlock()
	}()
	return w
}

// Send hands v to every watcher.
func (b *Broadcast) Send(v int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for w := range b.watchers {
		offer(w, v)
	}
}

// offer puts v on a one-slot channel, replacing an unread older version.
func offer(w chan int64, v int64) {
	for {
		select {
		case w <- v:
			return
		default:
			select {
			case <-w:
			default:
			}
		}
	}
}

// Subscriber is the part of go-redis Subscribe needs.
type Subscriber interface {
	Subscribe(ctx context.Context, channels ...string) *redis.PubSub
}

// Subscribe returns a channel that receives the versions published on
// channel (as decimal text), coalesced, until ctx ends. It returns once
// the subscription is in place, so a version published after it returns
// is not missed.
func Subscribe(ctx context.Context, client Subscriber, channel string) (<-chan int64, error) {
	ps := client.Subscribe(ctx, channel)
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, err
	}
	w := make(chan int64, 1)
	go func() {
		defer ps.Close()
		msgs := ps.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				if v, err := strconv.ParseInt(m.Payload, 10, 64); err == nil {
					offer(w, v)
				}
			}
		}
	}()
	return w, nil
}
