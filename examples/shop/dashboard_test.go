package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// testDashboard: the dashboard's numbers follow the sales, its page and
// data are the admin's (a token in the header or ?token=), and under
// -insecure-user-header they open without credentials.
func testDashboard(t *testing.T, h *harness) {
	o := h.checkout("ann", "co-1")
	h.call("POST", "/orders/"+o.ID+"/pay", "ann", "pay-1", nil).must(t, 200, nil)
	h.call("POST", "/orders/"+o.ID+"/refunds", "ann", "r-1", map[string]string{"amount": "11.40"}).must(t, 201, nil)
	var a admissionView
	h.call("POST", "/flash/admit", "bo", "f-1", nil).must(t, 201, &a)

	var d dashboardData
	h.call("GET", "/dashboard/data", "", "", nil).must(t, 200, &d) // no credentials: -insecure-user-header
	if d.KPIs.Orders != 1 || d.KPIs.GMVPaid.StringFixed(2) != "311.40" || d.KPIs.GMVNet.StringFixed(2) != "300.00" ||
		d.KPIs.GMVPlaced.StringFixed(2) != "510.40" {
		t.Fatalf("KPIs: %+v", d.KPIs)
	}
	if d.Flash.Admitted != 1 || d.Flash.Held != 1 || d.Flash.Remaining != flashUnits-1 {
		t.Fatalf("flash figures: %+v", d.Flash)
	}
	if len(d.Hourly) != 25 || len(d.Daily) != 8 {
		t.Fatalf("series of %d hours and %d days, want every hour of the last day and every day of the week", len(d.Hourly), len(d.Daily))
	}
	if last := d.Hourly[len(d.Hourly)-1]; last.Orders != 1 || last.GMVNet.StringFixed(2) != "300.00" {
		t.Fatalf("this hour: %+v", last)
	}
	if len(d.Coupons) != 1 || d.Coupons[0].Used != 1 {
		t.Fatalf("coupons: %+v", d.Coupons)
	}
	low := 0
	for _, s := range d.Stock {
		if s.Low != (s.Available <= lowStock) {
			t.Fatalf("low-stock mark of %+v", s)
		}
		if s.Low {
			low++
		}
	}
	if low == 0 {
		t.Fatal("no low-stock mark, though some warehouses open with 5")
	}
	res := h.call("GET", "/dashboard", "", "", nil)
	if res.status != 200 || !strings.Contains(string(res.body), `data-kpi="gmv_net">300.00<`) {
		t.Fatalf("the page: %d", res.status)
	}
	if res := h.call("GET", "/dashboard/static/uPlot.iife.min.js", "", "", nil); res.status != 200 || len(res.body) < 40_000 {
		t.Fatalf("uPlot: %d, %d bytes", res.status, len(res.body))
	}

	// With tokens: the admin's, by header or query; nobody else's.
	h.shop.auth.insecureHeader = false
	admin := h.shop.auth.mint(adminUser, time.Hour)
	if res := h.call("GET", "/dashboard/data", "", "", nil); res.status != 401 {
		t.Fatalf("the data without a token: %d", res.status)
	}
	for _, tc := range []struct {
		url, header string
		want        int
	}{
		{"/dashboard/data", "Bearer " + admin, 200},
		{"/dashboard?token=" + admin, "", 200},
		{"/dashboard/data", "Bearer " + h.shop.auth.mint("ann", time.Hour), 403},
	} {
		req, _ := http.NewRequest("GET", h.url+tc.url, nil)
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s with %q: %d, want %d", tc.url, tc.header, res.StatusCode, tc.want)
		}
	}
}
