package funnel

import (
	"context"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// CohortQuery defines a cohort of users by what they did in a range.
type CohortQuery struct {
	// Event is what the users did.
	Event string
	// From (inclusive) and To (exclusive) bound the events looked at.
	From, To time.Time
	// Not makes it the users who did not: those with some event in the
	// range but none named Event.
	Not bool
}

// Users is a set of user IDs: a cohort. Set it as the Users of a Query,
// RetentionQuery, KPIQuery or TrendsQuery to count those users alone. A
// Users is read-only once made and safe for concurrent use.
type Users struct {
	ids map[string]struct{}
}

// NewUsers returns the set of ids.
func NewUsers(ids ...string) *Users {
	u := &Users{ids: make(map[string]struct{}, len(ids))}
	for _, id := range ids {
		u.ids[id] = struct{}{}
	}
	return u
}

// Contains reports whether id is in the set; a nil set contains every
// user, so an unset filter lets everyone through.
func (u *Users) Contains(id string) bool {
	if u == nil {
		return true
	}
	_, ok := u.ids[id]
	return ok
}

// Len returns how many users the set holds.
func (u *Users) Len() int { return len(u.ids) }

// CohortUsers returns the users who did (or, with Not, did not) do q.Event in
// [From, To), reading the store once.
func CohortUsers(ctx context.Context, s *Store, q CohortQuery) (*Users, error) {
	if rule := keyspace.CheckID(q.Event); rule != "" {
		return nil, &InputError{Field: "Event", Rule: rule}
	}
	if q.From.IsZero() || !q.To.After(q.From) {
		return nil, &InputError{Field: "To", Rule: "must be after From"}
	}
	var names []string
	if !q.Not {
		names = []string{q.Event}
	}
	u := NewUsers()
	err := s.Scan(ctx, ScanRequest{Names: names, From: q.From, To: q.To}, func(user string, events []Event) error {
		did := false
		for i := range events {
			if events[i].Name == q.Event {
				did = true
				break
			}
		}
		if did != q.Not {
			u.ids[user] = struct{}{}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}
