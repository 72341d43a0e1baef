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
	return &Locker{backend: &memoryLocks{now: now, locks: map[string]*memGrant{}, readers: map[string]map[string]*memGrant{},
		fences: map[string]int64{}}, observe: opts.Observer}
}

type memoryLocks struct {
	now func() time.Time

	mu      sync.Mutex
	locks   map[string]*memGrant
	readers map[string]map[string]*memGrant // name → owner → shared grant
	fences  map[string]int64                // last token per name; never reset
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
	if m.liveReaders(name, now) > 0 {
		return 0, false, nil
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

// liveReaders counts name's live shared grants, dropping expired ones.
func (m *memoryLocks) liveReaders(name string, now time.Time) int {
	rs := m.readers[name]
	for owner, g := range rs {
		if !now.Before(g.expires) {
			delete(rs, owner)
		}
	}
	if len(rs) == 0 {
		delete(m.readers, name)
	}
	return len(rs)
}

// reader returns owner's live shared grant of name, or nil.
func (m *memoryLocks) reader(name, owner string, now time.Time) *memGrant {
	m.liveReaders(name, now)
	return m.readers[name][owner]
}

func (m *memoryLocks) obtainShared(_ context.Context, name, owner string, ttl time.Duration) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if g := m.reader(name, owner, now); g != nil {
		g.expires = now.Add(ttl)
		return g.fence, true, nil
	}
	if m.held(name, now) != nil {
		return 0, false, nil
	}
	m.fences[name]++
	if m.readers[name] == nil {
		m.readers[name] = map[string]*memGrant{}
	}
	g := &memGrant{owner: owner, fence: m.fences[name], expires: now.Add(ttl)}
	m.readers[name][owner] = g
	return g.fence, true, nil
}

func (m *memoryLocks) refreshShared(_ context.Context, name, owner string, ttl time.Duration) (int64, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	g := m.reader(name, owner, now)
	if g == nil {
		return 0, false, nil
	}
	g.expires = now.Add(ttl)
	return g.fence, true, nil
}

func (m *memoryLocks) releaseShared(_ context.Context, name, owner string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.reader(name, owner, m.now()) == nil {
		return false, nil
	}
	delete(m.readers[name], owner)
	if len(m.readers[name]) == 0 {
		delete(m.readers, name)
	}
	return true, nil
}

func (m *memoryLocks) ttlShared(_ context.Context, name, owner string) (time.Duration, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	g := m.reader(name, owner, now)
	if g == nil {
		return 0, false, nil
	}
	return g.expires.Sub(now), true, nil
}
