package funnel

import (
	"context"
	"sort"
	"strconv"
	"time"

	"github.com/shopkit/shopkit/internal/keyspace"
)

// RetentionMode says what "retained in period k" means.
type RetentionMode int

// The retention modes.
const (
	// NDay counts a user in period k when they returned in period k
	// itself (Amplitude's and Mixpanel's N-day retention).
	NDay RetentionMode = iota
	// Unbounded counts a user in period k when they returned in period k
	// or any later period of the report ("on or after").
	Unbounded
)

// MaxRetentionPeriods bounds RetentionQuery.Periods.
const MaxRetentionPeriods = 400

// RetentionQuery asks how many users came back, by cohort.
type RetentionQuery struct {
	// StartEvent puts a user in the cohort of the period of their first
	// such event in [From, To); empty means their first event of any
	// name.
	StartEvent string
	// ReturnEvent is what counts as coming back; empty means any event.
	ReturnEvent string
	// From (inclusive) and To (exclusive) bound the cohort events.
	From, To time.Time
	// Period is Daily (the default when Whole) or Hourly, in Location.
	Period   Interval
	Location *time.Location
	// Periods is how many periods after the cohort's to report: 1 to
	// MaxRetentionPeriods. Events up to that many periods after To are
	// read.
	Periods int
	Mode    RetentionMode
	// Breakdown groups cohorts by the cohort event's value.
	Breakdown Dimension
	// Users, if set, counts only these users (from CohortUsers).
	Users *Users
}

// Cohort is the users who started in one period (and breakdown value),
// and how many of them came back in each period after.
type Cohort struct {
	Start time.Time // the cohort period's start
	Key   string    // the breakdown value; "" without a Breakdown
	Users int64
	// Retained[k] is how many came back in period k after the cohort's
	// (or by then, with Unbounded); Retained[0] is Users.
	Retained []int64
}

// Rate returns Retained[k] / Users; zero for an empty cohort.
func (c Cohort) Rate(k int) float64 { return ratio(c.Retained[k], c.Users) }

func (q *RetentionQuery) validate() error {
	for _, n := range []struct{ field, name string }{{"StartEvent", q.StartEvent}, {"ReturnEvent", q.ReturnEvent}} {
		if n.name != "" {
			if rule := keyspace.CheckID(n.name); rule != "" {
				return &InputError{Field: n.field, Rule: rule}
			}
		}
	}
	switch {
	case q.From.IsZero() || !q.To.After(q.From):
		return &InputError{Field: "To", Rule: "must be after From"}
	case q.Period != Whole && q.Period != Daily && q.Period != Hourly:
		return &InputError{Field: "Period", Rule: "must be Daily or Hourly"}
	case q.Periods < 1 || q.Periods > MaxRetentionPeriods:
		return &InputError{Field: "Periods", Rule: "must be 1.." + strconv.Itoa(MaxRetentionPeriods)}
	case q.Mode != NDay && q.Mode != Unbounded:
		return &InputError{Field: "Mode", Rule: "must be NDay or Unbounded"}
	case !q.Breakdown.valid():
		return &InputError{Field: "Breakdown", Rule: "must be a known Dimension"}
	}
	return nil
}

// periodIndex numbers calendar periods in loc: days since the epoch's
// local date, or hours since the epoch (hours are the same everywhere but
// for offsets that are not whole hours, which Truncate in loc handles).
func periodIndex(t time.Time, p Interval, loc *time.Location) int64 {
	t = t.In(loc)
	if p == Hourly {
		y, m, d := t.Date()
		day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
		return day*24 + int64(t.Hour())
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// periodStart is the start, in loc, of the period numbered i.
func periodStart(i int64, p Interval, loc *time.Location) time.Time {
	if p == Hourly {
		day := time.Unix((i/24)*86400, 0).UTC()
		return time.Date(day.Year(), day.Month(), day.Day(), int(i%24), 0, 0, 0, loc)
	}
	day := time.Unix(i*86400, 0).UTC()
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
}

// Retention reports, per cohort of users who started in a period of
// [From, To), how many came back in each of the Periods periods after,
// counting each user once per period. It reads the store once, from From
// to Periods periods after To; a store's retention bounds how far back
// cohorts can go.
func Retention(ctx context.Context, s *Store, q RetentionQuery) ([]Cohort, error) {
	if err := q.validate(); err != nil {
		return nil, err
	}
	if q.Period == Whole {
		q.Period = Daily
	}
	loc := q.Location
	if loc == nil {
		loc = time.UTC
	}
	span := 24 * time.Hour
	if q.Period == Hourly {
		span = time.Hour
	}
	// One period more than asked, so a period that a change of offset
	// lengthens is still read whole.
	until := q.To.Add(time.Duration(q.Periods+1) * span)
	var names []string
	if q.StartEvent != "" && q.ReturnEvent != "" {
		names = []string{q.StartEvent, q.ReturnEvent}
	}
	type cohortKey struct {
		period int64
		key    string
	}
	cohorts := map[cohortKey]*Cohort{}
	returned := make([]bool, q.Periods+1)
	err := s.Scan(ctx, ScanRequest{Names: names, From: q.From, To: until}, func(user string, events []Event) error {
		if !q.Users.Contains(user) {
			return nil
		}
		start := -1
		for i := range events {
			e := &events[i]
			if (q.StartEvent == "" || e.Name == q.StartEvent) && !e.Time.Before(q.From) && e.Time.Before(q.To) {
				start = i
				break
			}
		}
		if start < 0 {
			return nil
		}
		first := &events[start]
		p0 := periodIndex(first.Time, q.Period, loc)
		ck := cohortKey{period: p0, key: q.Breakdown.Of(first)}
		c := cohorts[ck]
		if c == nil {
			c = &Cohort{Start: periodStart(p0, q.Period, loc), Key: ck.key, Retained: make([]int64, q.Periods+1)}
			cohorts[ck] = c
		}
		c.Users++
		clear(returned)
		for i := start + 1; i < len(events); i++ {
			e := &events[i]
			if q.ReturnEvent != "" && e.Name != q.ReturnEvent {
				continue
			}
			if k := periodIndex(e.Time, q.Period, loc) - p0; k >= 1 && k <= int64(q.Periods) {
				returned[k] = true
			}
		}
		c.Retained[0]++
		later := false
		for k := q.Periods; k >= 1; k-- {
			later = later || returned[k]
			if returned[k] || (q.Mode == Unbounded && later) {
				c.Retained[k]++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Cohort, 0, len(cohorts))
	for _, c := range cohorts {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// TrendsQuery asks how often an event happened, per period.
type TrendsQuery struct {
	Event string
	// From (inclusive) and To (exclusive) bound the events' times.
	From, To  time.Time
	Interval  Interval // Whole, Hourly or Daily, in Location
	Location  *time.Location
	Breakdown Dimension // group by each event's own value
	// Users, if set, counts only these users (from CohortUsers).
	Users *Users
}

// TrendPoint is one period's (and breakdown value's) count of the event
// and of the distinct users who did it.
type TrendPoint struct {
	Start   time.Time // the period's start; zero with Whole
	Key     string
	Count   int64
	Uniques int64
}

// Trends counts the event, and the users who did it, per period and
// breakdown value, in order of period then value. Periods without the
// event are left out.
func Trends(ctx context.Context, s *Store, q TrendsQuery) ([]TrendPoint, error) {
	if rule := keyspace.CheckID(q.Event); rule != "" {
		return nil, &InputError{Field: "Event", Rule: rule}
	}
	switch {
	case q.From.IsZero() || !q.To.After(q.From):
		return nil, &InputError{Field: "To", Rule: "must be after From"}
	case q.Interval != Whole && q.Interval != Daily && q.Interval != Hourly:
		return nil, &InputError{Field: "Interval", Rule: "must be Whole, Hourly or Daily"}
	case !q.Breakdown.valid():
		return nil, &InputError{Field: "Breakdown", Rule: "must be a known Dimension"}
	}
	grouper := Query{Breakdown: q.Breakdown, Interval: q.Interval, Location: q.Location}
	points := map[groupKey]*TrendPoint{}
	seen := map[groupKey]bool{}
	err := s.Scan(ctx, ScanRequest{Names: []string{q.Event}, From: q.From, To: q.To}, func(user string, events []Event) error {
		if !q.Users.Contains(user) {
			return nil
		}
		clear(seen)
		for i := range events {
			e := &events[i]
			k := grouper.group(e.Time.UnixMicro(), q.Breakdown.Of(e))
			p := points[k]
			if p == nil {
				p = &TrendPoint{Key: k.key}
				if q.Interval != Whole {
					p.Start = time.Unix(k.bucket, 0).In(grouper.location())
				}
				points[k] = p
			}
			p.Count++
			if !seen[k] {
				seen[k] = true
				p.Uniques++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]TrendPoint, 0, len(points))
	for _, p := range points {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}
