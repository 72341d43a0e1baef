package funnel_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/shopkit/shopkit/funnel"
	"github.com/shopkit/shopkit/internal/redistest"
)

// TestRedisRestart stops the server between batches: ingest during the
// outage fails with a wrapped network error, never an input error or a
// partial count, and once the server is back, replaying every batch
// stores each event exactly once.
func TestRedisRestart(t *testing.T) {
	m, client := redistest.Embedded(t)
	s, err := funnel.NewRedis(client, funnel.Options{Prefix: "fault"})
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().Add(-time.Hour)
	batch := func(from int) []funnel.Event {
		var out []funnel.Event
		for i := from; i < from+300; i++ {
			out = append(out, funnel.Event{ID: "e" + strconv.Itoa(i), UserID: "u" + strconv.Itoa(i%40), Name: "view", Time: day.Add(time.Duration(i) * time.Millisecond)})
		}
		return out
	}
	if res, err := s.Ingest(context.Background(), batch(0)); err != nil || res.Stored != 300 {
		t.Fatalf("before the outage: %+v, %v", res, err)
	}
	m.Close()
	res, err := s.Ingest(context.Background(), batch(300))
	if err == nil || errors.Is(err, funnel.ErrInvalidInput) || res != (funnel.Ingested{}) {
		t.Fatalf("during the outage: %+v, %v; want a network error and no counts", res, err)
	}
	t.Logf("outage error: %v", err)
	if err := m.Restart(); err != nil {
		t.Fatal(err)
	}
	m.FlushAll() // a restarted server may also have lost its script cache and data
	var stored int
	for _, from := range []int{0, 300, 0} {
		res, err := s.Ingest(context.Background(), batch(from))
		if err != nil {
			t.Fatalf("after the restart: %v", err)
		}
		stored += res.Stored
	}
	if stored != 600 {
		t.Fatalf("stored %d after the restart, want 600 (the replay of the first batch adds nothing)", stored)
	}
	n := 0
	if err := s.Scan(context.Background(), funnel.ScanRequest{From: day.Add(-time.Hour), To: day.Add(time.Hour)}, func(_ string, evs []funnel.Event) error {
		n += len(evs)
		return nil
	}); err != nil || n != 600 {
		t.Fatalf("scan after the restart: %d events, %v", n, err)
	}
}
