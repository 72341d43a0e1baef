package main

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Operational metrics, kept in process (each instance reports its own, as
// Prometheus expects): requests and their latency per route and status,
// and calls and errors per store operation, fed by the packages'
// observers. /metrics serves them beside the business numbers.

// latencyBuckets are the histogram's upper bounds in seconds.
var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

type routeKey struct{ route, code string }

type histogram struct {
	counts []uint64 // per bucket, not cumulative; the last is +Inf
	sum    float64
	n      uint64
}

func (h *histogram) observe(seconds float64) {
	if h.counts == nil {
		h.counts = make([]uint64, len(latencyBuckets)+1)
	}
	i := sort.SearchFloat64s(latencyBuckets, seconds)
	h.counts[i]++
	h.sum += seconds
	h.n++
}

type storeKey struct{ store, op string }

// telemetry holds the operational metrics of one process.
type telemetry struct {
	mu       sync.Mutex
	requests map[routeKey]uint64
	latency  map[string]*histogram // by route
	calls    map[storeKey]uint64
	errors   map[storeKey]uint64
}

func newTelemetry() *telemetry {
	return &telemetry{requests: map[routeKey]uint64{}, latency: map[string]*histogram{},
		calls: map[storeKey]uint64{}, errors: map[storeKey]uint64{}}
}

// storeCall counts one store operation and, if err is set, its error. A
// business answer (out of stock, limit reached) is an error to the store
// but an answer to the shop; both are counted, so a rate of either shows.
func (t *telemetry) storeCall(store, op string, err error) {
	k := storeKey{store, op}
	t.mu.Lock()
	t.calls[k]++
	if err != nil {
		t.errors[k]++
	}
	t.mu.Unlock()
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// instrument counts every request by route pattern (not path: order IDs
// would make a series per order) and status, and times it.
func (s *shop) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern // set by the mux on this request
		if route == "" || route == "/" {
			route = "other"
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		t := s.telemetry
		t.mu.Lock()
		t.requests[routeKey{route, strconv.Itoa(sw.status)}]++
		h := t.latency[route]
		if h == nil {
			h = &histogram{}
			t.latency[route] = h
		}
		h.observe(time.Since(start).Seconds())
		t.mu.Unlock()
	})
}

// write renders the metrics in the Prometheus text format.
func (t *telemetry) write(b *strings.Builder) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(b, "# HELP shop_http_requests_total Requests answered, by route and status.\n# TYPE shop_http_requests_total counter\n")
	reqs := make([]routeKey, 0, len(t.requests))
	for k := range t.requests {
		reqs = append(reqs, k)
	}
	sort.Slice(reqs, func(i, j int) bool {
		return reqs[i].route < reqs[j].route || reqs[i].route == reqs[j].route && reqs[i].code < reqs[j].code
	})
	for _, k := range reqs {
		fmt.Fprintf(b, "shop_http_requests_total{route=%q,code=%q} %d\n", k.route, k.code, t.requests[k])
	}
	fmt.Fprintf(b, "# HELP shop_http_request_seconds Time to answer a request, by route.\n# TYPE shop_http_request_seconds histogram\n")
	routes := make([]string, 0, len(t.latency))
	for r := range t.latency {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	for _, r := range routes {
		h := t.latency[r]
		var cum uint64
		for i, le := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(b, "shop_http_request_seconds_bucket{route=%q,le=\"%g\"} %d\n", r, le, cum)
		}
		fmt.Fprintf(b, "shop_http_request_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", r, h.n)
		fmt.Fprintf(b, "shop_http_request_seconds_sum{route=%q} %g\nshop_http_request_seconds_count{route=%q} %d\n", r, h.sum, r, h.n)
	}
	for _, m := range []struct {
		name, help string
		v          map[storeKey]uint64
	}{
		{"shop_store_calls_total", "Store operations, by store and operation.", t.calls},
		{"shop_store_errors_total", "Store operations that returned an error, by store and operation.", t.errors},
	} {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s counter\n", m.name, m.help, m.name)
		keys := make([]storeKey, 0, len(m.v))
		for k := range m.v {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			return keys[i].store < keys[j].store || keys[i].store == keys[j].store && keys[i].op < keys[j].op
		})
		for _, k := range keys {
			fmt.Fprintf(b, "%s{store=%q,op=%q} %d\n", m.name, k.store, k.op, m.v[k])
		}
	}
}

// adminRoutes is what the admin listener serves: the profiler and the
// metrics, away from the public API (bind it to a private address).
func (s *shop) adminRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	return mux
}
