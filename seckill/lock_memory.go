package seckill

import (
	"context"
	"sync"
	"time"
)

// NewMemoryLocker returns a Locker whose locks live in this process. now
// is its clock (nil for time.Now), so tests can expire leases without
// sleeping.
func NewMemoryLocker(opts LockerOptions) *Locker {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Locker{backend: &memoryLocks{now: now, locks: map[string]*memGrant{}, fences: map[string]int64{}}, observe: opts.Observer}
}

type memoryLocks struct {
	now func() time.Time

	mu     sync.Mutex
	locks  map[string]*memGrant
	fences map[string]int64 // last token per name; never reset
}

type memGrant struct {
	owner   string
	fence   int64
	expires time.Time
}

// held returns name's live grant, dropping an expired one.
func (m *memoryLocks) held(name string, now time.Time) *memGrant {
	g := m.locks[name]
	if g != nil && !now.Before(g.expires) {
		delete(m.locks, name)
		return nil
	}
	return g
}

func (m *memoryLocks) obtain(_ context.Context, name, owner string, ttl time.Duration) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if g := m.held(name, now); g != nil {
		if g.owner != owner {
			return 0, false, nil
		}
		g.expires = now.Add(ttl)
		return g.fence, true, nil
	}
	m.fences[name]++
	g := &memGrant{owner: owner, fence: m.fences[name], expires: now.Add(ttl)}
	m.locks[name] = g
	return g.fence, true, nil
}

func (m *memoryLocks) refresh(_ context.Context, name, owner string, ttl time.Duration) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	g := m.held(name, now)
	if g == nil || g.owner != owner {
		return 0, false, nil
	}
	g.expires = now.Add(ttl)
	return g.fence, true, nil
}

func (m *memoryLocks) release(_ context.Context, name, owner string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	g := m.held(name, m.now())
	if g == nil || g.owner != owner {
		return false, nil
	}
	delete(m.locks, name)
	return true, nil
}

func (m *memoryLocks) ttl(_ context.Context, name, owner string) (time.Duration, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	g := m.held(name, now)
	if g == nil || g.owner != owner {
		return 0, false, nil
	}
	return g.expires.Sub(now), true, nil
}
