package watch

import (
	"context"
	"testing"
	"time"

	"github.com/shopkit/shopkit/internal/redistest"
)

// TestBroadcastCoalesces: a watcher that has not read holds only the
// newest version, and one whose context ended receives nothing more.
func TestBroadcastCoalesces(t *testing.T) {
	var b Broadcast
	ctx, cancel := context.WithCancel(context.Background())
	w := b.Watch(ctx)
	for v := int64(1); v <= 3; v++ {
		b.Send(v)
	}
	if v := <-w; v != 3 {
		t.Fatalf("got %d, want the newest, 3", v)
	}
	cancel()
	deadline := time.Now().Add(time.Second)
	for {
		b.mu.Lock()
		n := len(b.watchers)
		b.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a watcher outlived its context")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSubscribeDeliversPublished: a version published after Subscribe
// returns arrives.
func TestSubscribeDeliversPublished(t *testing.T) {
	c := redistest.Client(t)
	channel := redistest.Prefix(t, c) + ":changed"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := Subscribe(ctx, c, channel)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, channel, "7").Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-w:
		if v != 7 {
			t.Fatalf("got %d, want 7", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no version arrived")
	}
}
