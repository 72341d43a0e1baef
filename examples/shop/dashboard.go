package main

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"time"

	"github.com/shopkit/shopkit/abtest"
	"github.com/shopkit/shopkit/funnel"
	"github.com/shopkit/shopkit/pricing"
)

// The dashboard: GET /dashboard is a page a shop owner opens in a
// browser; GET /dashboard/data is the same numbers as JSON, which the page
// fetches every two seconds to redraw itself without reloading.
//
// The page is rendered on the server as plain tables, so it reads without
// JavaScript; with JavaScript, uPlot draws the time series. uPlot is
// vendored under static/ (MIT, 50 KB, no dependencies) and embedded, so
// the shop needs no CDN and the charts work offline. It was chosen over
// Chart.js for its size and because it draws time series, which is most of
// what this page shows; the funnel is drawn as bars in plain HTML.
//
// Both are the admin's: a bearer token for the user admin, sent as the
// Authorization header or, for a browser's address bar, as ?token= (the
// page passes it on to its data requests). Under -insecure-user-header
// they open without credentials, for local development.

//go:embed static
var staticFiles embed.FS

//go:embed dashboard.html
var dashboardHTML string

var dashboardPage = template.Must(template.New("dashboard").Funcs(template.FuncMap{
	"pct": func(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" },
	"num": func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
}).Parse(dashboardHTML))

// lowStock marks a product's warehouse stock as low: this many available
// or fewer.
const lowStock = 5

// dashboardData is everything the dashboard shows.
type dashboardData struct {
	GeneratedAt time.Time       `json:"generated_at"`
	From        time.Time       `json:"from"`
	To          time.Time       `json:"to"`
	Funnel      []funnelVariant `json:"funnel"`
	Readout     readout         `json:"readout"`
	KPIs        kpiSummary      `json:"kpis"`
	Hourly      []kpiPoint      `json:"hourly"`
	Daily       []kpiPoint      `json:"daily"`
	Flash       flashView       `json:"flash"`
	Stock       []stockRow      `json:"stock"`
	Coupons     []couponRow     `json:"coupons"`
}

type funnelVariant struct {
	Variant string       `json:"variant"`
	Steps   []funnelStep `json:"steps"`
}

type funnelStep struct {
	Event      string  `json:"event"`
	Users      int64   `json:"users"`
	Conversion float64 `json:"conversion"` // from the previous step
	Overall    float64 `json:"overall"`    // from the first step
}

// readout compares the variants' view-to-pay conversion: Welch's t-test
// and the Bayesian chance to win, from abtest. Note says why there is
// none yet.
type readout struct {
	Metric      string     `json:"metric"`
	Control     string     `json:"control"`
	Treatment   string     `json:"treatment"`
	Note        string     `json:"note,omitempty"`
	Lift        float64    `json:"lift"` // relative
	CI          [2]float64 `json:"ci"`   // Welch, 95%
	PValue      float64    `json:"p_value"`
	ChanceToWin float64    `json:"chance_to_win"`
}

type kpiSummary struct {
	GMVPlaced  money   `json:"gmv_placed"`
	GMVPaid    money   `json:"gmv_paid"`
	GMVNet     money   `json:"gmv_net"`
	Orders     int64   `json:"orders"` // paid
	AOV        money   `json:"aov"`
	ARPU       money   `json:"arpu"`
	ARPPU      money   `json:"arppu"`
	RepeatRate float64 `json:"repeat_rate"`
}

// kpiPoint is one hour's or day's figures.
type kpiPoint struct {
	Start      time.Time `json:"start"`
	GMVPlaced  money     `json:"gmv_placed"`
	GMVPaid    money     `json:"gmv_paid"`
	GMVNet     money     `json:"gmv_net"`
	Orders     int64     `json:"orders"` // paid
	AOV        money     `json:"aov"`
	ARPU       money     `json:"arpu"`
	ARPPU      money     `json:"arppu"`
	RepeatRate float64   `json:"repeat_rate"`
}

type flashView struct {
	Sale                string  `json:"sale"`
	Units               int64   `json:"units"`
	Admitted            int64   `json:"admitted"`
	Paid                int64   `json:"paid"`
	Held                int64   `json:"held"`
	Returned            int64   `json:"returned"` // admitted, then lapsed unpaid
	Remaining           int64   `json:"remaining"`
	SoldOut             bool    `json:"sold_out"`
	AdmissionsPerSecond float64 `json:"admissions_per_second"` // over the last 10 s
}

type stockRow struct {
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Warehouse string `json:"warehouse"`
	OnHand    int64  `json:"on_hand"`
	Reserved  int64  `json:"reserved"`
	Available int64  `json:"available"`
	Low       bool   `json:"low"`
}

type couponRow struct {
	Code  string `json:"code"`
	Used  int64  `json:"used"`
	Limit int64  `json:"limit"`
}

// dashboard gathers the dashboard's numbers for the week to now.
func (s *shop) dashboard(ctx context.Context) (dashboardData, error) {
	now := s.now().UTC()
	to := now.Add(time.Minute)
	d := dashboardData{GeneratedAt: now, From: to.Add(-metricsWindow), To: to}
	rep, err := funnel.Analyze(ctx, s.st.events, shopFunnel, funnel.Query{From: d.From, To: to, Breakdown: funnel.Variant})
	if err != nil {
		return d, err
	}
	for _, g := range rep.Groups {
		v := funnelVariant{Variant: g.Key}
		for _, st := range g.Steps {
			v.Steps = append(v.Steps, funnelStep{Event: st.Event, Users: st.Count, Conversion: st.Conversion, Overall: st.Overall})
		}
		d.Funnel = append(d.Funnel, v)
	}
	d.Readout = readoutOf(d.Funnel)
	if err := s.kpis(ctx, &d); err != nil {
		return d, err
	}
	if d.Flash, err = s.flashFigures(ctx); err != nil {
		return d, err
	}
	levels, err := s.levels(ctx)
	if err != nil {
		return d, err
	}
	for _, l := range levels {
		p, _ := s.product(l.SKU)
		d.Stock = append(d.Stock, stockRow{SKU: l.SKU, Name: p.Name, Warehouse: l.Location, OnHand: l.OnHand,
			Reserved: l.Reserved, Available: l.Available(), Low: l.Available() <= lowStock})
	}
	for _, code := range couponCodes() {
		// Usage counts one customer's uses beside the coupon's; the admin,
		// who buys nothing, stands in for "nobody in particular".
		u, err := s.st.coupons.Usage(ctx, pricing.UsageQuery{Coupon: code, Customer: adminUser})
		if err != nil {
			return d, err
		}
		d.Coupons = append(d.Coupons, couponRow{Code: code, Used: u.Global, Limit: coupons[code].Global})
	}
	return d, nil
}

// readoutOf compares variant B's view-to-pay conversion with A's.
func readoutOf(variants []funnelVariant) readout {
	r := readout{Metric: "view to pay conversion", Control: variantNames[0], Treatment: variantNames[1]}
	stats := map[string]abtest.Stat{}
	for _, v := range variants {
		if len(v.Steps) > 0 {
			stats[v.Variant] = abtest.Proportion(v.Steps[len(v.Steps)-1].Users, v.Steps[0].Users)
		}
	}
	control, ok1 := stats[r.Control]
	treatment, ok2 := stats[r.Treatment]
	if !ok1 || !ok2 {
		r.Note = "waiting for visitors in both variants"
		return r
	}
	t, err := abtest.TTest(control, treatment, abtest.Relative, 0.05)
	if err != nil {
		r.Note = "not enough data yet: " + err.Error()
		return r
	}
	b, err := abtest.Bayesian(control, treatment, abtest.Relative, 0.05)
	if err != nil {
		r.Note = "not enough data yet: " + err.Error()
		return r
	}
	r.Lift, r.CI, r.PValue, r.ChanceToWin = t.Estimate, t.CI, t.PValue, b.ChanceToWin
	return r
}

// kpis fills the week's KPIs and their hourly (last day) and daily series.
func (s *shop) kpis(ctx context.Context, d *dashboardData) error {
	whole := func(basis funnel.Basis) (funnel.KPIs, error) {
		ks, err := funnel.Measure(ctx, s.st.events, funnel.KPIQuery{From: d.From, To: d.To, Basis: basis})
		if err != nil || len(ks) == 0 {
			return funnel.KPIs{}, err
		}
		return ks[0], nil
	}
	placed, err := whole(funnel.Placed)
	if err != nil {
		return err
	}
	paid, err := whole(funnel.Paid)
	if err != nil {
		return err
	}
	net, err := whole(funnel.Net)
	if err != nil {
		return err
	}
	d.KPIs = kpiSummary{GMVPlaced: yuan(placed.GMV), GMVPaid: yuan(paid.GMV), GMVNet: yuan(net.GMV), Orders: paid.Orders,
		AOV: yuan(paid.AOV(scale)), ARPU: yuan(net.ARPU(scale)), ARPPU: yuan(net.ARPPU(scale)), RepeatRate: paid.RepeatRate()}
	series := func(from time.Time, interval funnel.Interval) ([]kpiPoint, error) {
		q := funnel.KPIQuery{From: from, To: d.To, Interval: interval}
		paid, err := funnel.Measure(ctx, s.st.events, q)
		if err != nil {
			return nil, err
		}
		q.Basis = funnel.Net
		net, err := funnel.Measure(ctx, s.st.events, q)
		if err != nil {
			return nil, err
		}
		q.Basis = funnel.Placed
		placed, err := funnel.Measure(ctx, s.st.events, q)
		if err != nil {
			return nil, err
		}
		byStart, paidAt, placedAt := map[time.Time]funnel.KPIs{}, map[time.Time]funnel.KPIs{}, map[time.Time]funnel.KPIs{}
		for _, k := range net {
			byStart[k.Start] = k
		}
		for _, k := range paid {
			paidAt[k.Start] = k
		}
		for _, k := range placed {
			placedAt[k.Start] = k
		}
		// Every bucket of the range, the empty ones as zeros, so a chart's
		// axis spans the range whatever sold when.
		step := time.Hour
		if interval == funnel.Daily {
			step = 24 * time.Hour
		}
		var out []kpiPoint
		for t := from; t.Before(d.To); t = t.Add(step) {
			k, n := paidAt[t], byStart[t]
			out = append(out, kpiPoint{Start: t, GMVPlaced: yuan(placedAt[t].GMV), GMVPaid: yuan(k.GMV), GMVNet: yuan(n.GMV),
				Orders: k.Orders, AOV: yuan(k.AOV(scale)), ARPU: yuan(n.ARPU(scale)), ARPPU: yuan(n.ARPPU(scale)), RepeatRate: k.RepeatRate()})
		}
		return out, nil
	}
	if d.Hourly, err = series(d.To.Add(-24*time.Hour).Truncate(time.Hour), funnel.Hourly); err != nil {
		return err
	}
	d.Daily, err = series(d.From.Truncate(24*time.Hour), funnel.Daily)
	return err
}

// flashFigures reads the sale's counters and the shop's admission counts.
func (s *shop) flashFigures(ctx context.Context) (flashView, error) {
	st, err := s.st.gate.Status(ctx, flashSaleID)
	if err != nil {
		return flashView{}, err
	}
	admitted, rate, err := s.st.admissions(ctx, s.now())
	if err != nil {
		return flashView{}, err
	}
	return flashView{Sale: flashSaleID, Units: st.Units, Admitted: admitted, Paid: st.Paid, Held: st.Held,
		Returned: max(admitted-st.Held-st.Paid, 0), Remaining: st.Remaining, SoldOut: st.Remaining == 0,
		AdmissionsPerSecond: rate}, nil
}

func couponCodes() []string {
	out := make([]string, 0, len(coupons))
	for code := range coupons {
		out = append(out, code)
	}
	return out
}

// asViewer runs fn for the admin, who may also send the token as ?token=
// (a browser's address bar sends no Authorization header).
func (s *shop) asViewer(w http.ResponseWriter, r *http.Request, fn func()) {
	if t := r.URL.Query().Get("token"); t != "" && r.Header.Get("Authorization") == "" {
		r.Header.Set("Authorization", "Bearer "+t)
	}
	if s.auth.insecureHeader && r.Header.Get("X-User-ID") == "" {
		fn() // local development: the page opens without credentials
		return
	}
	s.asAdmin(w, r, fn)
}

func (s *shop) handleDashboard(w http.ResponseWriter, r *http.Request) {
	s.asViewer(w, r, func() {
		d, err := s.dashboard(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'")
		if err := dashboardPage.Execute(w, d); err != nil {
			s.logf("render the dashboard: %v", err)
		}
	})
}

func (s *shop) handleDashboardData(w http.ResponseWriter, r *http.Request) {
	s.asViewer(w, r, func() {
		d, err := s.dashboard(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, d)
	})
}

// handleStatic serves the dashboard's script, styles and uPlot.
func (s *shop) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := "static/" + r.PathValue("file")
	if _, err := fs.Stat(staticFiles, name); err != nil {
		writeError(w, &apiError{status: http.StatusNotFound, Code: "no_such_endpoint", Message: r.URL.Path + " is not part of the API"})
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeFileFS(w, r, staticFiles, name)
}

// admissions returns how many buyers the flash sale admitted, and how many
// a second over the last 10 seconds. The counters are the shop's own
// (the gate counts units, not admissions): a total kept with the shop's
// state, and one counter per second that expires after two minutes.
func (s *stores) admissions(ctx context.Context, now time.Time) (int64, float64, error) {
	sec := now.Unix()
	if s.redis == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		var recent int64
		for t := sec - 9; t <= sec; t++ {
			recent += s.admitsAt[t]
		}
		return s.admitted, float64(recent) / 10, nil
	}
	keys := []string{s.shopKey("admitted:" + flashSaleID)}
	for t := sec - 9; t <= sec; t++ {
		keys = append(keys, s.shopKey("admits:"+flashSaleID+":"+strconv.FormatInt(t, 10)))
	}
	vals, err := s.redis.MGet(ctx, keys...).Result()
	if err != nil {
		return 0, 0, err
	}
	count := func(v any) int64 {
		str, _ := v.(string)
		n, _ := strconv.ParseInt(str, 10, 64)
		return n
	}
	var recent int64
	for _, v := range vals[1:] {
		recent += count(v)
	}
	return count(vals[0]), float64(recent) / 10, nil
}

// countAdmission counts one admission at now.
func (s *stores) countAdmission(ctx context.Context, now time.Time) error {
	sec := now.Unix()
	if s.redis == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.admitsAt == nil {
			s.admitsAt = map[int64]int64{}
		}
		s.admitted++
		s.admitsAt[sec]++
		for t := range s.admitsAt {
			if t < sec-120 {
				delete(s.admitsAt, t)
			}
		}
		return nil
	}
	perSecond := s.shopKey("admits:" + flashSaleID + ":" + strconv.FormatInt(sec, 10))
	pipe := s.redis.TxPipeline() // one slot: the keys share the shop's hash tag
	pipe.Incr(ctx, s.shopKey("admitted:"+flashSaleID))
	pipe.Incr(ctx, perSecond)
	pipe.Expire(ctx, perSecond, 2*time.Minute)
	_, err := pipe.Exec(ctx)
	return err
}
