package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/shopkit/shopkit/funnel"
)

// metricsWindow is the period /metrics reports on.
const metricsWindow = 7 * 24 * time.Hour

var shopFunnel = funnel.Funnel{
	Steps:  []funnel.Step{{Event: "view"}, {Event: "cart"}, {Event: funnel.DefaultOrderEvent}, {Event: funnel.DefaultPayEvent}},
	Window: 24 * time.Hour,
}

// handleMetrics serves the funnel and the KPIs of the last week per
// experiment variant in the Prometheus text format, computed from the
// event store on each scrape (no metrics library needed).
func (s *shop) handleMetrics(w http.ResponseWriter, r *http.Request) {
	to := s.now().Add(time.Minute)
	from := to.Add(-metricsWindow)
	rep, err := funnel.Analyze(r.Context(), s.st.events, shopFunnel, funnel.Query{From: from, To: to, Breakdown: funnel.Variant})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	kpis, err := funnel.Measure(r.Context(), s.st.events, funnel.KPIQuery{From: from, To: to, Basis: funnel.Net, Breakdown: funnel.Variant})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var b strings.Builder
	metric := func(name, help string) { fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name) }
	metric("shop_funnel_users", "Users who reached each step of view, cart, order, pay in the last 7 days.")
	for _, g := range rep.Groups {
		for _, st := range g.Steps {
			fmt.Fprintf(&b, "shop_funnel_users{variant=%q,step=%q} %d\n", g.Key, st.Event, st.Count)
		}
	}
	metric("shop_funnel_median_seconds", "Median time from a view to each later step.")
	for _, g := range rep.Groups {
		for _, st := range g.Steps[1:] {
			fmt.Fprintf(&b, "shop_funnel_median_seconds{variant=%q,step=%q} %g\n", g.Key, st.Event, st.TimeToConvert.Median().Seconds())
		}
	}
	metric("shop_gmv_yuan", "GMV of paid orders net of refunds in the last 7 days.")
	for _, k := range kpis {
		fmt.Fprintf(&b, "shop_gmv_yuan{variant=%q} %s\n", k.Key, k.GMV.StringFixed(scale))
	}
	metric("shop_paid_orders", "Paid orders in the last 7 days.")
	for _, k := range kpis {
		fmt.Fprintf(&b, "shop_paid_orders{variant=%q} %d\n", k.Key, k.Orders)
	}
	metric("shop_arpu_yuan", "Net GMV per active user in the last 7 days.")
	for _, k := range kpis {
		fmt.Fprintf(&b, "shop_arpu_yuan{variant=%q} %s\n", k.Key, k.ARPU(scale).StringFixed(scale))
	}
	metric("shop_repeat_purchase_ratio", "Buyers with two or more paid orders over buyers.")
	for _, k := range kpis {
		fmt.Fprintf(&b, "shop_repeat_purchase_ratio{variant=%q} %g\n", k.Key, k.RepeatRate())
	}
	s.telemetry.write(&b)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}
