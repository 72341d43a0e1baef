package pricing

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Engine quotes with the current rule set and swaps in new versions
// atomically: a quote runs entirely on the version it started with.
type Engine struct {
	current atomic.Pointer[versionedRules]
}

type versionedRules struct {
	version int64
	rules   *RuleSet
}

// Swap installs rules as version, unless a version at least as new is
// already installed; it reports whether it did.
func (e *Engine) Swap(version int64, rules *RuleSet) bool {
	next := &versionedRules{version, rules}
	for {
		cur := e.current.Load()
		if cur != nil && cur.version >= version {
			return false
		}
		if e.current.CompareAndSwap(cur, next) {
			return true
		}
	}
}

// Version is the installed version, 0 before the first.
func (e *Engine) Version() int64 {
	if cur := e.current.Load(); cur != nil {
		return cur.version
	}
	return 0
}

// Quote prices cart with the installed rule set and reports its version.
func (e *Engine) Quote(cart Cart) (Quote, int64, error) {
	cur := e.current.Load()
	if cur == nil {
		return Quote{}, 0, ErrNoRules
	}
	q, err := cur.rules.Quote(cart)
	return q, cur.version, err
}

// Reload loads the source's current version and installs it.
func (e *Engine) Reload(ctx context.Context, src *RuleSource) error {
	v, promos, err := src.Load(ctx)
	if err != nil {
		return err
	}
	if v <= e.Version() {
		return nil
	}
	rs, err := NewRuleSet(promos)
	if err != nil {
		return fmt.Errorf("pricing: rule set version %d: %w", v, err)
	}
	e.Swap(v, rs)
	return nil
}

// DefaultFollowPoll is how often Follow reloads when FollowOptions.Poll is
// not set, in case a change notification was lost.
const DefaultFollowPoll = 30 * time.Second

// FollowOptions configure Engine.Follow. The zero value means the
// documented defaults.
type FollowOptions struct {
	// Poll is how often Follow reloads besides on every change
	// notification, in case one was lost. Default DefaultFollowPoll.
	Poll time.Duration
	// OnError receives the errors of reloads after the first; the engine
	// keeps the version it has. Default: dropped.
	OnError func(error)
}

// Follow keeps the engine on the source's latest version until ctx ends,
// as http.Server.Serve serves until it is shut down: it subscribes to
// changes and loads once, returning at once if either fails; then it
// reloads on every change notification and every opts.Poll, and returns
// nil when ctx ends. Run it in its own goroutine.
func (e *Engine) Follow(ctx context.Context, src *RuleSource, opts FollowOptions) error {
	changed, err := src.Changed(ctx)
	if err != nil {
		return err
	}
	if err := e.Reload(ctx, src); err != nil && !errors.Is(err, ErrNoRules) {
		return err
	}
	poll := opts.Poll
	if poll <= 0 {
		poll = DefaultFollowPoll
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-tick.C:
		}
		if err := e.Reload(ctx, src); err != nil && !errors.Is(err, ErrNoRules) && opts.OnError != nil && ctx.Err() == nil {
			opts.OnError(err)
		}
	}
}
