package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// metrics counts calls by package, op and outcome and keeps a latency
// histogram per package and op, and writes both in the Prometheus text
// exposition format. It is safe for concurrent use: observers run on the
// callers' goroutines.
type metrics struct {
	mu    sync.Mutex
	calls map[callKey]uint64
	lat   map[[2]string]*histogram
}

type callKey struct{ pkg, op, outcome string }

// latencyBuckets are the histogram's upper bounds, in seconds: from a
// memory call (microseconds) to a slow Redis round trip.
var latencyBuckets = []float64{0.00001, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5}

type histogram struct {
	counts []uint64 // per bucket, then +Inf
	sum    float64
	n      uint64
}

func newMetrics() *metrics {
	return &metrics{calls: map[callKey]uint64{}, lat: map[[2]string]*histogram{}}
}

// observe records one call of pkg's op, its outcome label and its wall
// time. Every package's Observation carries what this needs: its Op (with
// String), Err and Took.
func (m *metrics) observe(pkg, op, outcome string, took time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[callKey{pkg, op, outcome}]++
	h := m.lat[[2]string{pkg, op}]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets)+1)}
		m.lat[[2]string{pkg, op}] = h
	}
	s := took.Seconds()
	i, _ := slices.BinarySearch(latencyBuckets, s)
	h.counts[i]++
	h.sum += s
	h.n++
}

// outcome labels err by the first of kinds it matches (errors.Is), so the
// label keeps few values whatever IDs the messages carry: "ok" for nil,
// the kind's message without its package prefix ("insufficient_stock"
// for inventory.ErrInsufficientStock), "canceled", or "error".
func outcome(err error, kinds ...error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	for _, k := range kinds {
		if errors.Is(err, k) {
			_, msg, _ := strings.Cut(k.Error(), ": ")
			return strings.ReplaceAll(msg, " ", "_")
		}
	}
	return "error"
}

// WriteTo writes the metrics in the Prometheus text format, sorted so the
// output is stable.
func (m *metrics) WriteTo(w io.Writer) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	b.WriteString("# HELP shopkit_calls_total Calls on shopkit stores by package, op and outcome.\n# TYPE shopkit_calls_total counter\n")
	keys := make([]callKey, 0, len(m.calls))
	for k := range m.calls {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b callKey) int {
		return strings.Compare(a.pkg+"\x00"+a.op+"\x00"+a.outcome, b.pkg+"\x00"+b.op+"\x00"+b.outcome)
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "shopkit_calls_total{package=%q,op=%q,outcome=%q} %d\n", k.pkg, k.op, k.outcome, m.calls[k])
	}
	b.WriteString("# HELP shopkit_call_seconds Wall time of calls on shopkit stores.\n# TYPE shopkit_call_seconds histogram\n")
	ops := make([][2]string, 0, len(m.lat))
	for k := range m.lat {
		ops = append(ops, k)
	}
	slices.SortFunc(ops, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	for _, k := range ops {
		h := m.lat[k]
		var cum uint64
		for i, c := range h.counts {
			cum += c
			le := "+Inf"
			if i < len(latencyBuckets) {
				le = fmt.Sprint(latencyBuckets[i])
			}
			fmt.Fprintf(&b, "shopkit_call_seconds_bucket{package=%q,op=%q,le=%q} %d\n", k[0], k[1], le, cum)
		}
		fmt.Fprintf(&b, "shopkit_call_seconds_sum{package=%q,op=%q} %g\n", k[0], k[1], math.Round(h.sum*1e9)/1e9)
		fmt.Fprintf(&b, "shopkit_call_seconds_count{package=%q,op=%q} %d\n", k[0], k[1], h.n)
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// Handler serves the metrics, for a service's /metrics.
func (m *metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = m.WriteTo(w)
	})
}
