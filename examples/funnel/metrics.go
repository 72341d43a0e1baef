package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopkit/shopkit/funnel"
)

// writeMetrics renders the funnel and the KPIs in the Prometheus text
// exposition format, from the store, without a metrics library: the
// library stays dependency-free and any scraper reads the result.
func writeMetrics(ctx context.Context, sb *strings.Builder, store *funnel.Store, from, to time.Time) error {
	rep, err := funnel.Analyze(ctx, store, funnel.Funnel{Steps: steps, Window: time.Hour},
		funnel.Query{From: from, To: to, Breakdown: funnel.Variant})
	if err != nil {
		return err
	}
	kpis, err := funnel.Measure(ctx, store, funnel.KPIQuery{From: from, To: to, Basis: funnel.Net, Breakdown: funnel.Variant})
	if err != nil {
		return err
	}
	gauge := func(name, help string) {
		fmt.Fprintf(sb, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
	}
	gauge("shop_funnel_users", "Users who reached each funnel step (one hour window).")
	for _, g := range rep.Groups {
		for _, s := range g.Steps {
			fmt.Fprintf(sb, "shop_funnel_users{variant=%s,step=%s} %d\n", label(g.Key), label(s.Event), s.Count)
		}
	}
	gauge("shop_funnel_conversion_ratio", "Users at each step over users at the first step.")
	for _, g := range rep.Groups {
		for _, s := range g.Steps {
			fmt.Fprintf(sb, "shop_funnel_conversion_ratio{variant=%s,step=%s} %g\n", label(g.Key), label(s.Event), s.Overall)
		}
	}
	gauge("shop_funnel_time_to_convert_seconds_median", "Median time from the first step to each step.")
	for _, g := range rep.Groups {
		for _, s := range g.Steps[1:] {
			fmt.Fprintf(sb, "shop_funnel_time_to_convert_seconds_median{variant=%s,step=%s} %g\n",
				label(g.Key), label(s.Event), s.TimeToConvert.Median().Seconds())
		}
	}
	gauge("shop_gmv", "GMV net of refunds, in the shop's currency.")
	for _, k := range kpis {
		fmt.Fprintf(sb, "shop_gmv{variant=%s} %s\n", label(k.Key), k.GMV.String())
	}
	gauge("shop_orders", "Paid orders.")
	for _, k := range kpis {
		fmt.Fprintf(sb, "shop_orders{variant=%s} %d\n", label(k.Key), k.Orders)
	}
	gauge("shop_arpu", "GMV per active user.")
	for _, k := range kpis {
		fmt.Fprintf(sb, "shop_arpu{variant=%s} %s\n", label(k.Key), k.ARPU(4).String())
	}
	gauge("shop_repeat_purchase_ratio", "Buyers with two or more orders over buyers.")
	for _, k := range kpis {
		fmt.Fprintf(sb, "shop_repeat_purchase_ratio{variant=%s} %g\n", label(k.Key), k.RepeatRate())
	}
	return nil
}

// label quotes a label value as the exposition format wants: backslash,
// double quote and newline escaped.
func label(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v) + `"`
}
