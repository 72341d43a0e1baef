package main

import (
	"errors"
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/pricing"
	"github.com/shopkit/shopkit/seckill"
)

// Handlers decode, call one shop method and encode; nothing else.

// handleHealth is liveness: the process serves. A load balancer that
// restarted the shop whenever Redis blinked would only add to an outage.
func (s *shop) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "backend": s.st.backend})
}

// handleReady is readiness: every store answers and the flash sale
// exists, so requests can succeed. It is 503 during an outage and until
// the background loop has restored what a store lost.
func (s *shop) handleReady(w http.ResponseWriter, r *http.Request) {
	err := s.st.health(r.Context())
	if err == nil {
		_, err = s.st.gate.Status(r.Context(), flashSaleID)
	}
	if err == nil {
		var done bool
		if done, err = s.st.flag(r.Context(), flagOpeningStock); err == nil && !done {
			err = errors.New("the opening stock is not received yet")
		}
	}
	if err != nil {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "backend": s.st.backend, "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "backend": s.st.backend})
}

func (s *shop) handleProducts(w http.ResponseWriter, r *http.Request) {
	items, err := s.catalogue(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.Header.Get("X-User-ID") != "" { // a visitor we know: count the view
		user, variant, err := s.identify(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.track(r.Context(), "", user, variant, "view", decimal.Zero, "")
	}
	writeJSON(w, http.StatusOK, map[string]any{"products": items})
}

// quoteView is a pricing.Quote as the API shows it.
type quoteView struct {
	Lines      []orderLine   `json:"lines"`
	Subtotal   money         `json:"subtotal"`
	Discount   money         `json:"discount"`
	Shipping   money         `json:"shipping"`
	Total      money         `json:"total"`
	Promotions []explanation `json:"promotions"`
	Search     string        `json:"search"`
}

type explanation struct {
	Promotion string `json:"promotion"`
	Applied   bool   `json:"applied"`
	Amount    money  `json:"amount"`
	Reason    string `json:"reason"`
}

func (s *shop) viewQuote(q pricing.Quote) quoteView {
	v := quoteView{Subtotal: yuan(q.Subtotal), Discount: yuan(q.Discount), Shipping: yuan(q.Shipping),
		Total: yuan(q.Total), Search: q.Search}
	for _, l := range q.Lines {
		p, _ := s.product(l.SKU)
		v.Lines = append(v.Lines, orderLine{SKU: l.SKU, Quantity: l.Quantity, UnitPrice: p.Price,
			Discount: yuan(l.Discount), Total: yuan(l.Total)})
	}
	for _, e := range q.Promotions {
		v.Promotions = append(v.Promotions, explanation{Promotion: e.Promotion, Applied: e.Applied, Amount: yuan(e.Amount), Reason: e.Reason})
	}
	return v
}

// begin identifies the user and reads the body, or answers the error.
func (s *shop) begin(w http.ResponseWriter, r *http.Request) (user, variant string, body []byte, ok bool) {
	user, variant, err := s.identify(w, r)
	if err == nil {
		body, err = readBody(w, r)
	}
	if err != nil {
		s.fail(w, r, err)
		return "", "", nil, false
	}
	return user, variant, body, true
}

func (s *shop) handleQuote(w http.ResponseWriter, r *http.Request) {
	user, variant, body, ok := s.begin(w, r)
	if !ok {
		return
	}
	var req cartRequest
	if aerr := decode(body, &req); aerr != nil {
		writeError(w, aerr)
		return
	}
	if err := req.validate(); err != nil {
		s.fail(w, r, err)
		return
	}
	q, err := s.quote(req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.track(r.Context(), "", user, variant, "cart", decimal.Zero, "")
	writeJSON(w, http.StatusOK, s.viewQuote(q))
}

func (s *shop) handleCheckout(w http.ResponseWriter, r *http.Request) {
	user, variant, body, ok := s.begin(w, r)
	if !ok {
		return
	}
	s.idempotent(w, r, user, body, func(key string) (int, []byte) {
		var req checkoutRequest
		if aerr := decode(body, &req); aerr != nil {
			return s.encodeError(r, aerr)
		}
		if err := req.validate(); err != nil {
			return s.encodeError(r, err)
		}
		o, err := s.checkout(r.Context(), user, variant, s.auth.derive("o-", user, key), req)
		if err != nil {
			return s.encodeError(r, err)
		}
		return encode(http.StatusCreated, &o)
	})
}

// withOrder runs fn with the caller's order, or answers 404.
func (s *shop) withOrder(w http.ResponseWriter, r *http.Request, fn func(user string, o orderRecord)) {
	user, _, err := s.identify(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o, err := s.order(r.Context(), user, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fn(user, o)
}

func (s *shop) handleOrder(w http.ResponseWriter, r *http.Request) {
	s.withOrder(w, r, func(_ string, o orderRecord) {
		writeJSON(w, http.StatusOK, &o)
	})
}

func (s *shop) handlePay(w http.ResponseWriter, r *http.Request) {
	s.withOrder(w, r, func(user string, o orderRecord) {
		s.idempotent(w, r, user, nil, func(string) (int, []byte) {
			o, err := s.pay(r.Context(), o.ID)
			if err != nil {
				return s.encodeError(r, err)
			}
			return encode(http.StatusOK, &o)
		})
	})
}

func (s *shop) handleRefund(w http.ResponseWriter, r *http.Request) {
	s.withOrder(w, r, func(user string, o orderRecord) {
		body, err := readBody(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.idempotent(w, r, user, body, func(key string) (int, []byte) {
			var req struct {
				Amount money `json:"amount"`
			}
			if aerr := decode(body, &req); aerr != nil {
				return s.encodeError(r, aerr)
			}
			ref, err := s.refund(r.Context(), o.ID, s.auth.derive("r-", user, key), req.Amount.Decimal)
			if err != nil {
				return s.encodeError(r, err)
			}
			return encode(http.StatusCreated, ref)
		})
	})
}

func (s *shop) handleCancel(w http.ResponseWriter, r *http.Request) {
	s.withOrder(w, r, func(user string, o orderRecord) {
		s.idempotent(w, r, user, nil, func(string) (int, []byte) {
			o, err := s.cancel(r.Context(), o.ID)
			if err != nil {
				return s.encodeError(r, err)
			}
			return encode(http.StatusOK, &o)
		})
	})
}

func (s *shop) handleFlashStatus(w http.ResponseWriter, r *http.Request) {
	st, err := s.st.gate.Status(r.Context(), flashSaleID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"sale": flashSaleID, "sku": flashSKU, "price": yuan(flashPrice),
		"units": st.Units, "remaining": st.Remaining, "held": st.Held, "paid": st.Paid})
}

// admissionView is the answer to a flash-sale try.
type admissionView struct {
	Outcome  string    `json:"outcome"`
	Order    string    `json:"order,omitempty"`
	Deadline time.Time `json:"pay_before,omitzero"`
}

func (s *shop) handleAdmit(w http.ResponseWriter, r *http.Request) {
	user, variant, err := s.identify(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.idempotent(w, r, user, nil, func(key string) (int, []byte) {
		a, err := s.admit(r.Context(), user, variant, s.auth.derive("a-", user, key))
		if err != nil {
			return s.encodeError(r, err)
		}
		if a.Outcome == seckill.SoldOut || a.Outcome == seckill.LimitReached {
			// A buyer who won already and asks again under a new key (a
			// reload, another tab) is told what they hold, not "sold out".
			id, err := s.st.orders.flashOf(r.Context(), user)
			if err != nil {
				return s.encodeError(r, err)
			}
			if id != "" {
				o, err := s.st.orders.get(r.Context(), id)
				if err != nil {
					return s.encodeError(r, err)
				}
				return encode(http.StatusOK, admissionView{Outcome: outcomeName(seckill.Admitted), Order: o.ID, Deadline: o.ExpiresAt})
			}
		}
		v := admissionView{Outcome: outcomeName(a.Outcome)}
		status := http.StatusOK
		switch a.Outcome {
		case seckill.Admitted:
			v.Order, v.Deadline = "flash-"+a.Ticket.ID, a.Ticket.Deadline
			// The queue consumer would create it too; once either way.
			if _, err := s.flashOrder(r.Context(), a.Ticket, variant); err != nil {
				return s.encodeError(r, err)
			}
			status = http.StatusCreated
		case seckill.RateLimited:
			status = http.StatusTooManyRequests
		default:
			status = http.StatusConflict
		}
		return encode(status, v)
	})
}

func outcomeName(o seckill.Outcome) string {
	switch o {
	case seckill.Admitted:
		return "admitted"
	case seckill.SoldOut:
		return "sold_out"
	case seckill.LimitReached:
		return "limit_reached"
	case seckill.NotStarted:
		return "not_started"
	case seckill.Ended:
		return "ended"
	case seckill.RateLimited:
		return "rate_limited"
	}
	return o.String()
}
