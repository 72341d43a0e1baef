package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// session is what -smoke runs against the server: the same walk through
// a checkout as the README's curl session, checking each answer.
func session(base string, out io.Writer) error {
	c := client{base: base}
	var health map[string]string
	if err := c.do("GET", "/healthz", "", "", nil, 200, &health); err != nil {
		return err
	}
	var cat struct {
		Products []catalogueItem `json:"products"`
	}
	if err := c.do("GET", "/products", "ann", "", nil, 200, &cat); err != nil {
		return err
	}
	fmt.Fprintf(out, "health %s; %d products, %d Longjing in Hangzhou\n", health["status"], len(cat.Products), cat.Products[0].Available["wh-hangzhou"])

	cart := map[string]any{"lines": []map[string]any{{"sku": "tea-longjing", "quantity": 2}, {"sku": "cup-celadon", "quantity": 1}}, "coupon": "WELCOME20"}
	var q quoteView
	if err := c.do("POST", "/cart/quote", "ann", "", cart, 200, &q); err != nil {
		return err
	}
	fmt.Fprintf(out, "quote: subtotal %s, discount %s, shipping %s, total %s\n", q.Subtotal.StringFixed(2), q.Discount.StringFixed(2), q.Shipping.StringFixed(2), q.Total.StringFixed(2))

	checkout := map[string]any{"lines": cart["lines"], "coupon": "WELCOME20", "zone": "south",
		"recipient": map[string]string{"name": "Ann Li", "phone": "13800001111", "address": "8 Harbour Road"}}
	var o, again orderRecord
	if err := c.do("POST", "/checkout", "ann", "checkout-1", checkout, 201, &o); err != nil {
		return err
	}
	if err := c.do("POST", "/checkout", "ann", "checkout-1", checkout, 201, &again); err != nil {
		return err
	}
	if again.ID != o.ID {
		return fmt.Errorf("a replayed checkout made order %s after %s", again.ID, o.ID)
	}
	fmt.Fprintf(out, "order %s: %s, total %s, from %s\n", o.ID, o.State, o.Total.StringFixed(2), warehousesOf(o))

	if err := c.do("POST", "/orders/"+o.ID+"/pay", "ann", "pay-1", nil, 200, &o); err != nil {
		return err
	}
	fmt.Fprintf(out, "paid: commission %s, processor %s, merchant %s; parcel by %s %s for %s\n",
		o.Payment.Commission.StringFixed(2), o.Payment.Fee.StringFixed(2), o.Payment.Merchant.StringFixed(2),
		o.Parcels[0].Carrier, o.Parcels[0].Service, o.Parcels[0].Freight.StringFixed(2))

	for i, amount := range []string{"50.00", "30.00"} {
		var r refund
		if err := c.do("POST", "/orders/"+o.ID+"/refunds", "ann", fmt.Sprintf("refund-%d", i+1), map[string]string{"amount": amount}, 201, &r); err != nil {
			return err
		}
		fmt.Fprintf(out, "refund %s: commission −%s, processor −%s, merchant −%s\n", amount,
			r.Commission.StringFixed(2), r.Fee.StringFixed(2), r.Merchant.StringFixed(2))
	}

	var adm admissionView
	if err := c.do("POST", "/flash/admit", "bob", "flash-1", nil, 201, &adm); err != nil {
		return err
	}
	var flash orderRecord
	if err := c.do("POST", "/orders/"+adm.Order+"/pay", "bob", "pay-1", nil, 200, &flash); err != nil {
		return err
	}
	first := adm.Order
	if err := c.do("POST", "/flash/admit", "bob", "flash-2", nil, 200, &adm); err != nil {
		return err
	}
	if adm.Order != first {
		return fmt.Errorf("a second try returned order %s, want bob's %s", adm.Order, first)
	}
	fmt.Fprintf(out, "flash sale: bob paid %s for a teapot; a second try returns his order %s\n", flash.Total.StringFixed(2), adm.Order)

	var bad struct {
		Error apiError `json:"error"`
	}
	if err := c.do("POST", "/checkout", "ann", "checkout-2", map[string]any{"lines": []map[string]any{{"sku": "tea-longjing", "quantity": 0}}}, 400, &bad); err != nil {
		return err
	}
	fmt.Fprintf(out, "a bad checkout: %s (%s)\n", bad.Error.Code, bad.Error.Message)

	metrics, err := c.text("/metrics")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, "shop_funnel_users") || strings.HasPrefix(line, "shop_gmv_yuan") {
			fmt.Fprintln(out, "metrics:", line)
		}
	}
	return nil
}

func warehousesOf(o orderRecord) string {
	var w []string
	for _, f := range o.Fulfilment {
		w = append(w, f.Warehouse)
	}
	return strings.Join(w, ", ")
}

// client calls the shop's API as a user.
type client struct{ base string }

// send makes one request; body is nil, a string sent as is, or a value
// sent as JSON.
func (c client) send(method, path, user, key string, body any) (int, http.Header, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return 0, nil, nil, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, nil, err
	}
	if user != "" {
		req.Header.Set("X-User-ID", user)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b, err
}

// do sends a request, wants the status and decodes the answer into into.
func (c client) do(method, path, user, key string, body any, want int, into any) error {
	status, _, b, err := c.send(method, path, user, key, body)
	if err != nil {
		return err
	}
	if status != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", method, path, status, want, b)
	}
	if into != nil {
		return json.Unmarshal(b, into)
	}
	return nil
}

func (c client) text(path string) (string, error) {
	res, err := http.Get(c.base + path)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), err
}
