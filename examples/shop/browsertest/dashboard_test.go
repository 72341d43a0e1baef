package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"
)

func TestDashboardMemory(t *testing.T) { runDashboard(t, nil) }

func TestDashboardRedis(t *testing.T) {
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but REDIS_ADDR is not set")
		}
		t.Skip("REDIS_ADDR not set")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "dashboard-test:" + hex.EncodeToString(b[:])
	t.Cleanup(func() { deleteKeys(t, addr, prefix) })
	runDashboard(t, []string{"-redis", addr, "-prefix", prefix})
}

// deleteKeys removes what the shop stored under prefix.
func deleteKeys(t *testing.T, addr, prefix string) {
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, "*"+prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		_ = c.Del(ctx, iter.Val()).Err()
	}
	if err := iter.Err(); err != nil {
		t.Errorf("delete the shop's keys: %v", err)
	}
}

// dashboardData is the part of /dashboard/data the test compares.
type dashboardData struct {
	Funnel []struct {
		Variant string `json:"variant"`
		Steps   []struct {
			Event string `json:"event"`
			Users int64  `json:"users"`
		} `json:"steps"`
	} `json:"funnel"`
	KPIs   map[string]any `json:"kpis"`
	Hourly []kpiPoint     `json:"hourly"`
	Daily  []kpiPoint     `json:"daily"`
	Flash  map[string]any `json:"flash"`
	Stock  []struct {
		SKU       string `json:"sku"`
		Warehouse string `json:"warehouse"`
		Available int64  `json:"available"`
		Low       bool   `json:"low"`
	} `json:"stock"`
	Coupons []struct {
		Code string `json:"code"`
		Used int64  `json:"used"`
	} `json:"coupons"`
}

type kpiPoint struct {
	Start      time.Time `json:"start"`
	GMVPlaced  string    `json:"gmv_placed"`
	GMVPaid    string    `json:"gmv_paid"`
	GMVNet     string    `json:"gmv_net"`
	Orders     int64     `json:"orders"`
	AOV        string    `json:"aov"`
	ARPU       string    `json:"arpu"`
	ARPPU      string    `json:"arppu"`
	RepeatRate float64   `json:"repeat_rate"`
}

// shown is what the page displays, read from its DOM and its charts.
type shown struct {
	KPIs    map[string]string `json:"kpis"`
	Flash   map[string]string `json:"flash"`
	Funnel  map[string]string `json:"funnel"`  // "variant/step" → users
	Stock   map[string]string `json:"stock"`   // "sku@warehouse" → available cell
	Coupons map[string]string `json:"coupons"` // code → used
	Hourly  [][]float64       `json:"hourly"`  // uPlot's data: x, GMV paid, orders
	// HourlyRows are the cells of the per-hour table.
	HourlyRows [][]string          `json:"hourlyRows"`
	Daily      [][]float64         `json:"daily"` // x, GMV paid, GMV net
	Legend     map[string][]string `json:"legend"`
	Updates    int                 `json:"updates"`
	Same       bool                `json:"same"` // the document was not reloaded
}

const readPage = `(() => {
  const text = sel => Object.fromEntries([...document.querySelectorAll(sel)].map(e => [Object.values(e.dataset)[0], e.textContent.trim()]));
  const rows = (sel, key, val) => Object.fromEntries([...document.querySelectorAll(sel)].map(r => [key(r), r.querySelector(val).textContent.trim()]));
  const c = window.dashboard.charts;
  return {
    kpis: text("[data-kpi]"), flash: text("[data-flash]"),
    funnel: rows("#funnel-rows tr", r => r.dataset.variant + "/" + r.dataset.step, ".users"),
    stock: rows("#stock-rows tr", r => r.dataset.sku + "@" + r.dataset.warehouse, ".available"),
    coupons: rows("#coupon-rows tr", r => r.dataset.coupon, ".used"),
    hourlyRows: [...document.querySelectorAll("#hourly-rows tr")].map(r => [...r.cells].map(c => c.textContent.trim())),
    hourly: c["chart-hourly"].data, daily: c["chart-daily"].data,
    legend: Object.fromEntries(Object.entries(c).map(([k, u]) => [k, u.series.map(s => s.label || "")])),
    updates: window.dashboard.updates, same: window.sameDocument === true,
  };
})()`

func runDashboard(t *testing.T, args []string) {
	browser := chromium(t)
	base := startShop(t, args)
	traffic(t, base, "a", 9)

	alloc, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.WindowSize(1280, 1600))...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/dashboard"),
		chromedp.Poll[chromedp.Void](`window.dashboard && window.dashboard.updates >= 1 && !!window.dashboard.charts["chart-daily"]`,
			chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Evaluate[chromedp.Void](`window.sameDocument = true`),
	); err != nil {
		t.Fatalf("open the dashboard: %v", err)
	}
	page, err := chromedp.Run(ctx, chromedp.Evaluate[shown](readPage))
	if err != nil {
		t.Fatal(err)
	}
	data := fetchData(t, base)
	compare(t, page, data)
	compareMetrics(t, base, data)

	// Live: more sales appear without a reload.
	traffic(t, base, "b", 3)
	data = fetchData(t, base)
	want := fmt.Sprint(data.KPIs["orders"])
	if err := chromedp.Do(ctx,
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-kpi="orders"]').textContent.trim() === `+strconv.Quote(want),
			chromedp.WithPollingTimeout(20*time.Second)),
	); err != nil {
		t.Fatalf("the page never showed %s paid orders without a reload: %v", want, err)
	}
	if page, err = chromedp.Run(ctx, chromedp.Evaluate[shown](readPage)); err != nil {
		t.Fatal(err)
	}
	if !page.Same {
		t.Fatal("the page reloaded to show new numbers")
	}
	compare(t, page, fetchData(t, base))

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := os.Getenv("DASHBOARD_SCREENSHOT")
	if out == "" {
		out = filepath.Join(t.TempDir(), "dashboard.png")
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(png))

	// Without JavaScript the numbers are there, as tables.
	noJS, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if _, err := chromedp.Call(noJS, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(noJS, chromedp.Navigate(base+"/dashboard")); err != nil {
		t.Fatal(err)
	}
	html, err := chromedp.Run(noJS, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatal(err)
	}
	data = fetchData(t, base)
	if !strings.Contains(html, "static: reload for new numbers") {
		t.Error("scripts ran in the page with JavaScript disabled")
	}
	for _, want := range []string{
		`data-kpi="orders">` + fmt.Sprint(data.KPIs["orders"]) + `<`,
		`data-kpi="gmv_paid">` + fmt.Sprint(data.KPIs["gmv_paid"]) + `<`,
		`data-flash="admitted">` + fmt.Sprint(data.Flash["admitted"]) + `<`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page without JavaScript lacks %s", want)
		}
	}
}

// compare checks every figure the page shows against the data endpoint.
func compare(t *testing.T, page shown, d dashboardData) {
	t.Helper()
	for _, k := range []string{"gmv_placed", "gmv_paid", "gmv_net", "aov", "arpu", "arppu"} {
		if page.KPIs[k] != d.KPIs[k] {
			t.Errorf("KPI %s: page %q, data %v", k, page.KPIs[k], d.KPIs[k])
		}
	}
	if page.KPIs["orders"] != fmt.Sprint(d.KPIs["orders"]) {
		t.Errorf("paid orders: page %q, data %v", page.KPIs["orders"], d.KPIs["orders"])
	}
	if want := strconv.FormatFloat(100*d.KPIs["repeat_rate"].(float64), 'f', 1, 64) + "%"; page.KPIs["repeat_rate"] != want {
		t.Errorf("repeat rate: page %q, want %q", page.KPIs["repeat_rate"], want)
	}
	for _, k := range []string{"units", "admitted", "paid", "held", "returned", "remaining"} {
		if page.Flash[k] != fmt.Sprint(d.Flash[k]) {
			t.Errorf("flash %s: page %q, data %v", k, page.Flash[k], d.Flash[k])
		}
	}
	steps := 0
	for _, v := range d.Funnel {
		for _, s := range v.Steps {
			steps++
			if got := page.Funnel[v.Variant+"/"+s.Event]; got != fmt.Sprint(s.Users) {
				t.Errorf("funnel %s/%s: page %q, data %d", v.Variant, s.Event, got, s.Users)
			}
		}
	}
	if steps == 0 || len(page.Funnel) != steps {
		t.Errorf("funnel rows: page %d, data %d", len(page.Funnel), steps)
	}
	for _, s := range d.Stock {
		want := fmt.Sprint(s.Available)
		if s.Low {
			want += " (low)"
		}
		if got := page.Stock[s.SKU+"@"+s.Warehouse]; got != want {
			t.Errorf("stock %s at %s: page %q, want %q", s.SKU, s.Warehouse, got, want)
		}
	}
	for _, c := range d.Coupons {
		if got := page.Coupons[c.Code]; got != fmt.Sprint(c.Used) {
			t.Errorf("coupon %s used: page %q, data %d", c.Code, got, c.Used)
		}
	}
	chart(t, "hourly", page.Hourly, d.Hourly, func(p kpiPoint) []float64 { return []float64{num(t, p.GMVPaid), float64(p.Orders)} })
	chart(t, "daily", page.Daily, d.Daily, func(p kpiPoint) []float64 { return []float64{num(t, p.GMVPaid), num(t, p.GMVNet)} })
	if len(page.HourlyRows) != len(d.Hourly) {
		t.Errorf("per-hour table: %d rows, data %d", len(page.HourlyRows), len(d.Hourly))
	} else {
		for i, p := range d.Hourly {
			want := []string{p.Start.Format("2006-01-02 15:00"), p.GMVPlaced, p.GMVPaid, p.GMVNet, fmt.Sprint(p.Orders), p.AOV, p.ARPU, p.ARPPU,
				strconv.FormatFloat(100*p.RepeatRate, 'f', 1, 64) + "%"}
			if fmt.Sprint(page.HourlyRows[i]) != fmt.Sprint(want) {
				t.Errorf("per-hour row %d: page %v, data %v", i, page.HourlyRows[i], want)
			}
		}
	}
	if fmt.Sprint(page.Legend["chart-hourly"]) != "[Time GMV paid orders]" {
		t.Errorf("hourly chart series: %v", page.Legend["chart-hourly"])
	}
}

// chart checks a uPlot chart's data against the points it draws.
func chart(t *testing.T, name string, drawn [][]float64, points []kpiPoint, values func(kpiPoint) []float64) {
	t.Helper()
	if len(drawn) != 3 || len(drawn[0]) != len(points) || len(points) == 0 {
		t.Errorf("%s chart: %d series of %d points, data has %d points", name, len(drawn), len(drawn[0]), len(points))
		return
	}
	for i, p := range points {
		if drawn[0][i] != float64(p.Start.Unix()) {
			t.Errorf("%s chart point %d at %v, data at %v", name, i, drawn[0][i], p.Start.Unix())
		}
		for j, v := range values(p) {
			if math.Abs(drawn[j+1][i]-v) > 1e-9 {
				t.Errorf("%s chart series %d point %d: drawn %v, data %v", name, j+1, i, drawn[j+1][i], v)
			}
		}
	}
}

// compareMetrics checks the data against /metrics: net GMV and paid
// orders summed over the variants.
func compareMetrics(t *testing.T, base string, d dashboardData) {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(res.Body)
	sum := func(metric string) float64 {
		var total float64
		for _, m := range regexp.MustCompile(`(?m)^`+metric+`\{[^}]*\} (\S+)$`).FindAllStringSubmatch(string(text), -1) {
			v, _ := strconv.ParseFloat(m[1], 64)
			total += v
		}
		return total
	}
	if got, want := sum("shop_gmv_yuan"), num(t, d.KPIs["gmv_net"].(string)); math.Abs(got-want) > 0.001 {
		t.Errorf("/metrics net GMV %v, dashboard %v", got, want)
	}
	if got, want := sum("shop_paid_orders"), d.KPIs["orders"].(float64); got != want {
		t.Errorf("/metrics paid orders %v, dashboard %v", got, want)
	}
}

func num(t *testing.T, s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return v
}

func fetchData(t *testing.T, base string) dashboardData {
	t.Helper()
	res, err := http.Get(base + "/dashboard/data")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var d dashboardData
	if res.StatusCode != 200 || json.NewDecoder(res.Body).Decode(&d) != nil {
		t.Fatalf("GET /dashboard/data: %d", res.StatusCode)
	}
	return d
}

// traffic sends n visitors through the shop: every one views and quotes;
// two in three check out, and half of those pay, with a coupon (the first
// of them also refunds 10.00); every third wins the flash sale and pays.
func traffic(t *testing.T, base, tag string, n int) {
	t.Helper()
	call := func(method, path, user, key string, body any, want int) map[string]any {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("X-User-ID", user)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %v", method, path, res.StatusCode, want, out)
		}
		return out
	}
	lines := []map[string]any{{"sku": "tea-longjing", "quantity": 1}, {"sku": "cup-celadon", "quantity": 2}}
	for i := range n {
		user := fmt.Sprintf("%s%d", tag, i)
		call("GET", "/products", user, "", nil, 200)
		call("POST", "/cart/quote", user, "", map[string]any{"lines": lines}, 200)
		if i%3 != 2 {
			cart := map[string]any{"lines": lines, "zone": "east",
				"recipient": map[string]string{"name": "Ann Li", "phone": "138", "address": "12 Main Street"}}
			if i%3 == 0 {
				cart["coupon"] = "WELCOME20"
			}
			o := call("POST", "/checkout", user, "co", cart, 201)
			if i%3 == 0 {
				id := o["id"].(string)
				call("POST", "/orders/"+id+"/pay", user, "pay", nil, 200)
				if i == 0 {
					call("POST", "/orders/"+id+"/refunds", user, "r", map[string]string{"amount": "10.00"}, 201)
				}
			}
		}
		if i%3 == 1 {
			a := call("POST", "/flash/admit", user, "f", nil, 201)
			call("POST", "/orders/"+a["order"].(string)+"/pay", user, "fp", nil, 200)
		}
	}
}

// chromium finds the browser.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium: install Debian's chromium package")
	}
	t.Skip("no Chromium installed")
	return ""
}

// startShop builds the shop and runs it with -insecure-user-header on a
// free port, returning its URL.
func startShop(t *testing.T, args []string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shop")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the shop: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, append([]string{"-insecure-user-header", "-listen", "127.0.0.1:0", "-ip-rate", "1000", "-ip-burst", "1000"}, args...)...)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("shop log:\n%s", logs.String())
		}
	})
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "shop on "); ok {
				urls <- strings.Fields(rest)[0]
			}
		}
	}()
	select {
	case u := <-urls:
		return u
	case <-time.After(30 * time.Second):
		t.Fatalf("the shop did not start:\n%s", logs.String())
	}
	return ""
}
