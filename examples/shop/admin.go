package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/shopkit/shopkit/inventory"
)

// The admin API: restock, edit the catalogue, settle the flash sale, list
// orders. It answers only the admin: the user "admin", whose bearer token
// the operator mints (shop -mint-token admin); under
// -insecure-user-header, for local development, X-User-ID: admin.

const adminUser = "admin"

// Markers of one-time work (see stores.flag).
const (
	flagOpeningStock = "opening-stock"
	flagSaleSettled  = "sale-settled:" + flashSaleID
)

var (
	errNotAdmin = &apiError{status: http.StatusForbidden, Code: "forbidden", Message: "only the admin may do this"}
	errSaleOpen = &apiError{status: http.StatusConflict, Code: "sale_not_over",
		Message: "the flash sale still has units to sell or tickets awaiting payment; settle it once it has ended and no ticket is held"}
)

// products returns the catalogue as edited.
func (s *shop) products() []product {
	if p := s.edited.Load(); p != nil {
		return *p
	}
	return products
}

// product finds sku in the catalogue as edited.
func (s *shop) product(sku string) (product, bool) {
	for _, p := range s.products() {
		if p.SKU == sku {
			return p, true
		}
	}
	return product{}, false
}

// refreshCatalogue applies the stored edits to the opening catalogue. Each
// instance refreshes on every background tick, so an edit made on one is
// served by all within a second.
func (s *shop) refreshCatalogue(ctx context.Context) error {
	edits, err := s.st.productEdits(ctx)
	if err != nil {
		return err
	}
	out := make([]product, len(products))
	copy(out, products)
	for i := range out {
		e, ok := edits[out[i].SKU]
		if !ok {
			continue
		}
		if e.Name != "" {
			out[i].Name = e.Name
		}
		if e.Price != nil {
			out[i].Price = *e.Price
		}
	}
	s.edited.Store(&out)
	return nil
}

// asAdmin identifies the caller and runs fn if they are the admin.
func (s *shop) asAdmin(w http.ResponseWriter, r *http.Request, fn func()) {
	user, aerr := s.auth.user(r)
	switch {
	case aerr != nil:
		writeError(w, aerr)
	case user != adminUser:
		writeError(w, errNotAdmin)
	default:
		fn()
	}
}

// restockRequest is stock arriving at a warehouse.
type restockRequest struct {
	SKU       string `json:"sku"`
	Warehouse string `json:"warehouse"`
	Quantity  int64  `json:"quantity"`
}

func (req *restockRequest) validate() error {
	if _, ok := productBySKU(req.SKU); !ok {
		return fieldError("sku", "is not a product of this shop")
	}
	known := false
	for _, wh := range warehouses {
		known = known || wh == req.Warehouse
	}
	if !known {
		return fieldError("warehouse", "must be one of wh-hangzhou, wh-guangzhou, wh-beijing")
	}
	if req.Quantity < 1 || req.Quantity > 100_000 {
		return fieldError("quantity", "must be between 1 and 100000")
	}
	return nil
}

// stockView is one product's stock in one warehouse.
type stockView struct {
	SKU       string `json:"sku"`
	Warehouse string `json:"warehouse"`
	OnHand    int64  `json:"on_hand"`
	Reserved  int64  `json:"reserved"`
	Available int64  `json:"available"`
}

func (s *shop) handleRestock(w http.ResponseWriter, r *http.Request) {
	s.asAdmin(w, r, func() {
		body, err := readBody(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.idempotent(w, r, adminUser, body, func(key string) (int, []byte) {
			var req restockRequest
			if aerr := decode(body, &req); aerr != nil {
				return s.encodeError(r, aerr)
			}
			if err := req.validate(); err != nil {
				return s.encodeError(r, err)
			}
			lv, err := s.st.stock.Adjust(r.Context(), inventory.Adjustment{ID: s.auth.derive("restock-", adminUser, key),
				SKU: req.SKU, Location: req.Warehouse, Delta: req.Quantity, Reason: inventory.ReasonReceipt})
			if err != nil {
				return s.encodeError(r, err)
			}
			return encode(http.StatusOK, stockView{SKU: lv.SKU, Warehouse: lv.Location, OnHand: lv.OnHand, Reserved: lv.Reserved, Available: lv.Available()})
		})
	})
}

func (s *shop) handleEditProduct(w http.ResponseWriter, r *http.Request) {
	s.asAdmin(w, r, func() {
		sku := r.PathValue("sku")
		if _, ok := productBySKU(sku); !ok {
			writeError(w, &apiError{status: http.StatusNotFound, Code: "not_found", Message: "no such product"})
			return
		}
		body, err := readBody(w, r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var e productEdit
		if aerr := decode(body, &e); aerr != nil {
			writeError(w, aerr)
			return
		}
		if err := validateEdit(e); err != nil {
			s.fail(w, r, err)
			return
		}
		// An edit is a PUT: sending it again stores the same thing, so it
		// needs no Idempotency-Key.
		if err := s.st.editProduct(r.Context(), sku, e); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.refreshCatalogue(r.Context()); err != nil {
			s.fail(w, r, err)
			return
		}
		p, _ := s.product(sku)
		writeJSON(w, http.StatusOK, p)
	})
}

func validateEdit(e productEdit) error {
	if n := utf8.RuneCountInString(e.Name); n > 200 {
		return fieldError("name", "must have at most 200 characters")
	}
	if rule := printableText(e.Name); rule != "" {
		return fieldError("name", rule)
	}
	if e.Price != nil {
		minor := minorOf(*e.Price)
		if minor <= 0 || minor > 100_000_000 || !e.Price.Equal(yuan(e.Price.Round(scale)).Decimal) {
			return fieldError("price", "must be a positive amount in yuan with at most 2 decimals, at most 1000000")
		}
	}
	if e.Name == "" && e.Price == nil {
		return fieldError("name", "or price must be given")
	}
	return nil
}

// settlementView is what settling the flash sale did.
type settlementView struct {
	Sale     string `json:"sale"`
	Sold     int64  `json:"sold"`
	Returned int64  `json:"returned"`
}

// settleSale ends the flash sale's hold on the inventory once nothing can
// change it (the sale has ended or sold out, and no ticket awaits
// payment): the units set aside for it are committed as sold, and the
// unsold ones received back into the warehouse. Committing first and
// receiving back second never shows more stock than there is, even for a
// moment; both steps are idempotent by the sale's ID, so a settlement
// interrupted halfway is finished by running it again. The marker it
// leaves keeps the shop from opening the sale again.
func (s *shop) settleSale(ctx context.Context) (settlementView, error) {
	st, err := s.st.gate.Status(ctx, flashSaleID)
	if err != nil {
		return settlementView{}, err
	}
	sale, err := s.openFlashSale(ctx) // the sale's definition; opening it again is a no-op
	if err != nil {
		return settlementView{}, err
	}
	if st.Held > 0 || (st.Remaining > 0 && s.now().Before(sale.End)) {
		return settlementView{}, errSaleOpen
	}
	if err := s.st.setFlag(ctx, flagSaleSettled); err != nil {
		return settlementView{}, err
	}
	r, err := s.st.stock.Reservation(ctx, "sale-"+flashSaleID)
	if err != nil {
		return settlementView{}, fmt.Errorf("the sale's units: %w", err)
	}
	unsold := r.Lines[0].Quantity - st.Paid
	src := stockForSale{stock: s.st.stock, warehouse: flashWarehse}
	if err := src.Settle(ctx, flashSaleID, flashSKU, st.Paid, max(unsold, 0)); err != nil {
		return settlementView{}, err
	}
	return settlementView{Sale: flashSaleID, Sold: st.Paid, Returned: max(unsold, 0)}, nil
}

func (s *shop) handleSettle(w http.ResponseWriter, r *http.Request) {
	s.asAdmin(w, r, func() {
		v, err := s.settleSale(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

func (s *shop) handleListOrders(w http.ResponseWriter, r *http.Request) {
	s.asAdmin(w, r, func() {
		q := r.URL.Query()
		cursor := q.Get("cursor")
		if !parseCursor(cursor) {
			writeError(w, fieldError("cursor", "must be a cursor from an earlier page"))
			return
		}
		limit := 50
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 500 {
				writeError(w, fieldError("limit", "must be between 1 and 500"))
				return
			}
			limit = n
		}
		orders, next, err := s.st.orders.list(r.Context(), cursor, limit)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if orders == nil {
			orders = []orderRecord{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"orders": orders, "next_cursor": next})
	})
}
