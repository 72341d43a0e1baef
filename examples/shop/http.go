package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopkit/shopkit/inventory"
	"github.com/shopkit/shopkit/payout"
	"github.com/shopkit/shopkit/pricing"
	"github.com/shopkit/shopkit/routing"
	"github.com/shopkit/shopkit/seckill"
)

// maxBody bounds every request body.
const maxBody = 64 << 10

// routes is the whole HTTP API.
func (s *shop) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.HandleFunc("GET /metrics", s.handleMetrics)
	mux.HandleFunc("GET /openapi.json", s.handleOpenAPI)
	mux.HandleFunc("GET /dashboard", s.handleDashboard)
	mux.HandleFunc("GET /dashboard/data", s.handleDashboardData)
	mux.HandleFunc("GET /dashboard/static/{file}", s.handleStatic)
	mux.HandleFunc("GET /products", s.handleProducts)
	mux.HandleFunc("POST /cart/quote", s.handleQuote)
	mux.HandleFunc("POST /checkout", s.handleCheckout)
	mux.HandleFunc("GET /orders/{id}", s.handleOrder)
	mux.HandleFunc("POST /orders/{id}/pay", s.handlePay)
	mux.HandleFunc("POST /orders/{id}/refunds", s.handleRefund)
	mux.HandleFunc("POST /orders/{id}/cancel", s.handleCancel)
	mux.HandleFunc("GET /flash", s.handleFlashStatus)
	mux.HandleFunc("POST /flash/admit", s.handleAdmit)
	mux.HandleFunc("POST /admin/restock", s.handleRestock)
	mux.HandleFunc("PUT /admin/products/{sku}", s.handleEditProduct)
	mux.HandleFunc("POST /admin/flash/settle", s.handleSettle)
	mux.HandleFunc("GET /admin/orders", s.handleListOrders)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// A path the API has under other methods is 405, with them.
		var allow []string
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, &apiError{status: http.StatusMethodNotAllowed, Code: "method_not_allowed",
				Message: r.URL.Path + " takes " + strings.Join(allow, ", ") + ", not " + r.Method})
			return
		}
		writeError(w, &apiError{status: http.StatusNotFound, Code: "no_such_endpoint", Message: r.Method + " " + r.URL.Path + " is not part of the API"})
	})
	return s.instrument(s.recoverPanics(s.limitPerIP(mux)))
}

// apiError is every error a client sees: a stable code to branch on, the
// field at fault when there is one, and a message for people.
type apiError struct {
	status  int
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func fieldError(field, rule string) *apiError {
	return &apiError{status: http.StatusBadRequest, Code: "invalid_request", Field: field, Message: field + " " + rule}
}

var (
	errKeyReused  = &apiError{status: http.StatusUnprocessableEntity, Code: "idempotency_key_reused", Field: "Idempotency-Key", Message: "Idempotency-Key was already used for a different request"}
	errNoKey      = &apiError{status: http.StatusBadRequest, Code: "missing_idempotency_key", Field: "Idempotency-Key", Message: "Idempotency-Key header must have 1 to 64 letters, digits, '-', '_' or '.'"}
	errNoUser     = &apiError{status: http.StatusUnauthorized, Code: "missing_user", Field: "X-User-ID", Message: "X-User-ID header is required"}
	errBadUser    = &apiError{status: http.StatusBadRequest, Code: "invalid_user", Field: "X-User-ID", Message: "X-User-ID header must have 1 to 64 letters, digits, '-', '_' or '.'"}
	errNotFound   = &apiError{status: http.StatusNotFound, Code: "not_found", Message: "no such order"}
	errBodyTooBig = &apiError{status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "request body must be at most 64 KiB"}
)

func errNotPayable(state string) *apiError {
	return &apiError{status: http.StatusConflict, Code: "order_not_payable", Message: "the order is " + state + " and cannot be paid"}
}

func errNotRefundable(state string) *apiError {
	return &apiError{status: http.StatusConflict, Code: "order_not_refundable", Message: "the order is " + state + "; only paid orders are refunded"}
}

func errNotCancellable(state string) *apiError {
	return &apiError{status: http.StatusConflict, Code: "order_not_cancellable", Message: "the order is " + state + "; refund a paid order instead"}
}

func errRefundTooLarge(left money) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, Code: "refund_exceeds_payment", Field: "amount",
		Message: "amount must be at most what is left to refund, " + left.StringFixed(scale)}
}

// toAPIError maps the packages' errors to what the client is told.
func toAPIError(err error) *apiError {
	var ae *apiError
	var short *routing.ShortfallError
	var stock *inventory.StockError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &short):
		return &apiError{status: http.StatusConflict, Code: "out_of_stock", Message: strings.TrimPrefix(short.Error(), "routing: ")}
	case errors.As(err, &stock):
		return &apiError{status: http.StatusConflict, Code: "out_of_stock", Message: stock.Error()}
	case errors.Is(err, pricing.ErrGlobalLimit), errors.Is(err, pricing.ErrCustomerLimit):
		return &apiError{status: http.StatusConflict, Code: "coupon_unavailable", Field: "coupon", Message: err.Error()}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return &apiError{status: http.StatusServiceUnavailable, Code: "unavailable", Message: "the request took too long; retry with the same Idempotency-Key"}
	case storeUnreachable(err):
		return &apiError{status: http.StatusServiceUnavailable, Code: "unavailable", Message: "a store is unreachable; retry with the same Idempotency-Key"}
	}
	return &apiError{status: http.StatusInternalServerError, Code: "internal_error", Message: "something went wrong; retry with the same Idempotency-Key"}
}

func (s *shop) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	if ae.status >= 500 {
		s.logf("%s %s (user %q): %v", r.Method, r.URL.Path, r.Header.Get("X-User-ID"), err)
	}
	writeError(w, ae)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeRaw(w, e.status, e.body())
}

// storeUnreachable reports whether err says a store could not be reached
// (as opposed to a store answering with an error): the request may
// succeed once it is back, so it is a 503, not a 500.
func storeUnreachable(err error) bool {
	var netErr net.Error
	var redisErr redis.Error
	if errors.As(err, &redisErr) {
		// A Cluster without a master for a slot, a failover under way, a
		// node loading its data or a replica refusing a write: the
		// store is there but cannot answer yet.
		for _, p := range []string{"CLUSTERDOWN ", "TRYAGAIN ", "LOADING ", "MASTERDOWN ", "READONLY "} {
			if strings.HasPrefix(redisErr.Error(), p) {
				return true
			}
		}
	}
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) ||
		errors.Is(err, inventory.ErrNotReplicated) || errors.Is(err, payout.ErrNotReplicated) ||
		errors.Is(err, seckill.ErrNotReplicated) || errors.Is(err, pricing.ErrNotReplicated)
}

// body is the error as the API sends it: {"error": {...}}.
func (e *apiError) body() []byte {
	body, _ := json.Marshal(struct {
		Error *apiError `json:"error"`
	}{e})
	return body
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1") // a store is back within seconds, or a retry waits again
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte("\n"))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, toAPIError(err))
		return
	}
	writeRaw(w, status, body)
}

// encode renders v for the idempotency table, which stores bodies.
func encode(status int, v any) (int, []byte) {
	body, err := json.Marshal(v)
	if err != nil {
		ae := toAPIError(err)
		return ae.status, ae.body()
	}
	return status, body
}

// encodeError encodes err for r's response; a server error is logged with
// the request it failed (method, path, user and key: the order IDs derive
// from the last two).
func (s *shop) encodeError(r *http.Request, err error) (int, []byte) {
	ae := toAPIError(err)
	if ae.status >= 500 {
		s.logf("%s %s (user %q, key %q): %v", r.Method, r.URL.Path, r.Header.Get("X-User-ID"), r.Header.Get("Idempotency-Key"), err)
	}
	return ae.status, ae.body()
}

// readBody reads a size-limited body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, errBodyTooBig
	}
	if err != nil {
		return nil, &apiError{status: http.StatusBadRequest, Code: "invalid_json", Message: "could not read the body"}
	}
	return body, nil
}

// decode parses a JSON body strictly: unknown fields and trailing data are
// errors that say where.
func decode(body []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return fieldError(jsonPath(body, typeErr.Field, typeErr.Value), "has the wrong type")
		}
		return &apiError{status: http.StatusBadRequest, Code: "invalid_json", Message: "body is not valid JSON for this request: " + err.Error()}
	}
	if dec.More() {
		return &apiError{status: http.StatusBadRequest, Code: "invalid_json", Message: "body has data after the JSON value"}
	}
	return nil
}

// validName accepts the user IDs and idempotency keys the API takes.
func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// identify reads the user, assigns their experiment variant and says it
// in the response.
func (s *shop) identify(w http.ResponseWriter, r *http.Request) (user, variant string, err error) {
	user, aerr := s.auth.user(r)
	if aerr != nil {
		return "", "", aerr
	}
	if variant, err = s.variant(r.Context(), user); err != nil {
		return "", "", err
	}
	w.Header().Set("X-Experiment", experiment.Key+"="+variant)
	return user, variant, nil
}

// idempotent runs fn once per user, route and Idempotency-Key; the body
// is part of the request's identity.
func (s *shop) idempotent(w http.ResponseWriter, r *http.Request, user string, body []byte, fn func(key string) (int, []byte)) {
	key := r.Header.Get("Idempotency-Key")
	if !validName(key) {
		writeError(w, errNoKey)
		return
	}
	sum := sha256.Sum256(canonicalJSON(body))
	fingerprint := r.Method + " " + r.URL.Path + " " + hex.EncodeToString(sum[:])
	s.runOnce(w, r, user+" "+r.Pattern+" "+key, fingerprint, func() (int, []byte) { return fn(key) })
}

// jsonPath turns the Go path of a type error ("cartRequest.lines.quantity":
// Go field names, embedded types included, no indexes) into the path in the
// body the validation errors use ("lines[0].quantity"): it walks the body,
// skipping names the body does not have, to the first value of the JSON
// kind the decoder complained of ("string", "number", …).
func jsonPath(body []byte, goPath, kind string) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return goPath
	}
	if p, ok := findPath(v, strings.Split(goPath, "."), kind); ok {
		return strings.TrimPrefix(p, ".")
	}
	return goPath
}

func findPath(v any, segs []string, kind string) (string, bool) {
	if len(segs) == 0 {
		return "", jsonKind(v) == kind || strings.HasPrefix(kind, jsonKind(v))
	}
	switch x := v.(type) {
	case map[string]any:
		if child, ok := x[segs[0]]; ok {
			p, ok := findPath(child, segs[1:], kind)
			return "." + segs[0] + p, ok
		}
		return findPath(v, segs[1:], kind) // a Go name, not in the body
	case []any:
		for i, e := range x {
			if p, ok := findPath(e, segs, kind); ok {
				return "[" + strconv.Itoa(i) + "]" + p, true
			}
		}
	}
	return "", false
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "null"
}

// canonicalJSON is body with its insignificant differences taken out —
// whitespace and the order of object keys — so a retry that encodes the
// same request differently is still the same request. Numbers keep their
// text. A body that is not JSON stays as it is.
func canonicalJSON(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return body
	}
	out, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		return body
	}
	return out
}

// limitPerIP refuses clients over the per-IP rate, with Retry-After.
func (s *shop) limitPerIP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
			next.ServeHTTP(w, r)
			return
		}
		// An IPv6 address has colons, which no store ID may contain.
		ip := strings.ReplaceAll(clientIP(r, s.trustedProxies), ":", "_")
		res, err := s.st.limiter.Allow(r.Context(), "ip-"+ip, s.perIP)
		if err != nil {
			// The limiter protects the shop; it must not take it down:
			// without it, requests go through.
			s.warn("limiter", "rate limiter unavailable, letting requests through: %v", err)
			next.ServeHTTP(w, r)
			return
		}
		if res.Allowed == 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(res.RetryAfter/time.Second)+1))
			writeError(w, &apiError{status: http.StatusTooManyRequests, Code: "rate_limited", Message: "too many requests from this address"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic (a bug: handlers do not panic on input)
// into a logged 500 rather than a dropped connection.
func (s *shop) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.fail(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
