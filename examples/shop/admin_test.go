package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shopkit/shopkit/inventory"
)

// testAdmin: the admin endpoints answer only the admin; a restock is
// idempotent by its key; a price edit reaches every instance; orders list
// in pages; the flash sale settles once nothing can change it.
func testAdmin(t *testing.T, h *harness) {
	for _, r := range []struct{ method, path string }{
		{"POST", "/admin/restock"}, {"PUT", "/admin/products/tea-puer"}, {"POST", "/admin/flash/settle"}, {"GET", "/admin/orders"},
	} {
		if res := h.call(r.method, r.path, "ann", "k", map[string]any{}); res.status != 403 || res.errorCode(t) != "forbidden" {
			t.Fatalf("%s %s as a customer: %d %s", r.method, r.path, res.status, res.body)
		}
	}

	before := h.available("tea-puer", "wh-beijing")
	restock := map[string]any{"sku": "tea-puer", "warehouse": "wh-beijing", "quantity": 12}
	var lv stockView
	h.call("POST", "/admin/restock", adminUser, "rs-1", restock).must(t, 200, &lv)
	h.call("POST", "/admin/restock", adminUser, "rs-1", restock).must(t, 200, &lv)
	if got := h.available("tea-puer", "wh-beijing"); got != before+12 || lv.Available != before+12 {
		t.Fatalf("available after one restock sent twice: %d (answer %d), want %d", got, lv.Available, before+12)
	}
	if res := h.call("POST", "/admin/restock", adminUser, "rs-2", map[string]any{"sku": "tea-puer", "warehouse": "wh-mars", "quantity": 1}); res.status != 400 {
		t.Fatalf("restock to an unknown warehouse: %d %s", res.status, res.body)
	}

	other := newHarness(t, h.shop.st, time.Minute)
	var p product
	h.call("PUT", "/admin/products/tea-puer", adminUser, "", map[string]any{"price": "199.50"}).must(t, 200, &p)
	if p.Price.StringFixed(2) != "199.50" {
		t.Fatalf("edited price: %s", p.Price.StringFixed(2))
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ := other.shop.product("tea-puer")
		if got.Price.StringFixed(2) == "199.50" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other instance never served the edited price")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if res := h.call("PUT", "/admin/products/tea-puer", adminUser, "", map[string]any{"price": "-1"}); res.status != 400 {
		t.Fatalf("a negative price: %d %s", res.status, res.body)
	}

	var ids []string
	for i := range 3 {
		ids = append(ids, h.checkout(fmt.Sprintf("lister-%d", i), "co").ID)
	}
	var page struct {
		Orders []orderRecord `json:"orders"`
		Next   string        `json:"next_cursor"`
	}
	var listed []string
	for cursor := ""; ; cursor = page.Next {
		page.Orders, page.Next = nil, ""
		h.call("GET", "/admin/orders?limit=2&cursor="+cursor, adminUser, "", nil).must(t, 200, &page)
		for _, o := range page.Orders {
			listed = append(listed, o.ID)
		}
		if page.Next == "" {
			break
		}
	}
	if fmt.Sprint(listed) != fmt.Sprint(ids) {
		t.Fatalf("listed %v, want %v", listed, ids)
	}
	if res := h.call("GET", "/admin/orders?cursor=nonsense", adminUser, "", nil); res.status != 400 {
		t.Fatalf("a forged cursor: %d %s", res.status, res.body)
	}

	// The sale has units left and a week to run: it cannot settle.
	if res := h.call("POST", "/admin/flash/settle", adminUser, "", nil); res.status != 409 || res.errorCode(t) != "sale_not_over" {
		t.Fatalf("settling an open sale: %d %s", res.status, res.body)
	}
	for i := range flashUnits {
		user := fmt.Sprintf("fan-%d", i)
		var a admissionView
		h.call("POST", "/flash/admit", user, "a", nil).must(t, 201, &a)
		h.call("POST", "/orders/"+a.Order+"/pay", user, "p", nil).must(t, 200, nil)
	}
	var settled settlementView
	h.call("POST", "/admin/flash/settle", adminUser, "", nil).must(t, 200, &settled)
	h.call("POST", "/admin/flash/settle", adminUser, "", nil).must(t, 200, &settled)
	if settled.Sold != flashUnits || settled.Returned != 0 {
		t.Fatalf("settlement: %+v", settled)
	}
	lvs, err := h.shop.st.stock.Levels(context.Background(), inventory.Item{SKU: flashSKU, Location: flashWarehse})
	if err != nil {
		t.Fatal(err)
	}
	if want := openingStock[flashWarehse][flashSKU] - flashUnits; lvs[0].OnHand != want || lvs[0].Reserved != 0 {
		t.Fatalf("teapots after the settled sale: on hand %d, reserved %d; want %d, 0", lvs[0].OnHand, lvs[0].Reserved, want)
	}
}

// testSettleAfterEnd: a sale that ended with units unsold returns them to
// the warehouse, once.
func testSettleAfterEnd(t *testing.T, h *harness) {
	var a admissionView
	h.call("POST", "/flash/admit", "only-buyer", "a", nil).must(t, 201, &a)
	h.call("POST", "/orders/"+a.Order+"/pay", "only-buyer", "p", nil).must(t, 200, nil)
	later := time.Now().Add(8 * 24 * time.Hour) // past the week-long sale
	h.shop.now = func() time.Time { return later }
	var settled settlementView
	h.call("POST", "/admin/flash/settle", adminUser, "", nil).must(t, 200, &settled)
	h.call("POST", "/admin/flash/settle", adminUser, "", nil).must(t, 200, &settled)
	if settled.Sold != 1 || settled.Returned != flashUnits-1 {
		t.Fatalf("settlement: %+v", settled)
	}
	lvs, err := h.shop.st.stock.Levels(context.Background(), inventory.Item{SKU: flashSKU, Location: flashWarehse})
	if err != nil {
		t.Fatal(err)
	}
	if want := openingStock[flashWarehse][flashSKU] - 1; lvs[0].OnHand != want || lvs[0].Reserved != 0 {
		t.Fatalf("teapots after the settled sale: on hand %d, reserved %d; want %d, 0", lvs[0].OnHand, lvs[0].Reserved, want)
	}
}
