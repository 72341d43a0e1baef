// The dashboard's live part: every two seconds it fetches /dashboard/data
// and redraws the numbers and the charts in place. Without JavaScript the
// page still shows the numbers the server rendered.
(function () {
  "use strict";
  var token = new URLSearchParams(location.search).get("token");
  var charts = {};
  var state = { data: null, charts: charts, updates: 0, error: null };
  window.dashboard = state;

  function pct(f) { return (100 * f).toFixed(1) + "%"; }
  function money(s) { return Number(s).toFixed(2); }
  function setText(sel, text) {
    var el = document.querySelector(sel);
    if (el) { el.textContent = text; }
  }
  function cell(text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    return td;
  }
  function rows(tbodyID, items, build) {
    var tbody = document.getElementById(tbodyID);
    var fresh = document.createElement("tbody");
    fresh.id = tbodyID;
    items.forEach(function (it) { fresh.appendChild(build(it)); });
    tbody.replaceWith(fresh);
  }

  function draw(id, opts, data) {
    var el = document.getElementById(id);
    if (!charts[id]) {
      opts.width = Math.max(320, Math.min(560, el.parentElement.clientWidth || 560));
      opts.height = 220;
      charts[id] = new uPlot(opts, data, el);
    } else {
      charts[id].setData(data);
    }
  }

  function series(points, fields) {
    var out = [points.map(function (p) { return Date.parse(p.start) / 1000; })];
    fields.forEach(function (f) {
      out.push(points.map(function (p) { return Number(p[f]); }));
    });
    return out;
  }

  function render(d) {
    setText("#generated", d.generated_at.replace("T", " ").replace(/\.\d+/, "").replace("Z", " UTC"));
    ["gmv_placed", "gmv_paid", "gmv_net", "aov", "arpu", "arppu"].forEach(function (k) {
      setText('[data-kpi="' + k + '"]', money(d.kpis[k]));
    });
    setText('[data-kpi="orders"]', String(d.kpis.orders));
    setText('[data-kpi="repeat_rate"]', pct(d.kpis.repeat_rate));

    var f = d.flash;
    ["units", "admitted", "paid", "held", "returned", "remaining"].forEach(function (k) {
      setText('[data-flash="' + k + '"]', String(f[k]));
    });
    setText('[data-flash="admissions_per_second"]', f.admissions_per_second.toFixed(2));
    setText('[data-flash="sold_out"]', f.sold_out ? "sold out" : "selling");

    var steps = [];
    (d.funnel || []).forEach(function (v) {
      v.steps.forEach(function (s) { steps.push({ variant: v.variant, s: s }); });
    });
    rows("funnel-rows", steps, function (x) {
      var tr = document.createElement("tr");
      tr.dataset.variant = x.variant;
      tr.dataset.step = x.s.event;
      tr.append(cell(x.variant), cell(x.s.event), cell(String(x.s.users), "users"), cell(pct(x.s.conversion)), cell(pct(x.s.overall)));
      var bar = document.createElement("div");
      bar.className = "bar variant-" + x.variant;
      bar.style.width = pct(x.s.overall);
      var td = cell("", "barcell");
      td.appendChild(bar);
      tr.appendChild(td);
      return tr;
    });
    var r = d.readout, p = document.getElementById("readout");
    p.textContent = r.metric + ", " + r.treatment + " against " + r.control + ": " + (r.note ? r.note :
      "lift " + pct(r.lift) + " (95% CI " + pct(r.ci[0]) + " to " + pct(r.ci[1]) + "), Welch p = " +
      r.p_value.toFixed(2) + ", chance to win " + pct(r.chance_to_win));

    rows("stock-rows", d.stock, function (s) {
      var tr = document.createElement("tr");
      tr.dataset.sku = s.sku;
      tr.dataset.warehouse = s.warehouse;
      if (s.low) { tr.className = "low"; }
      tr.append(cell(s.name), cell(s.warehouse), cell(String(s.on_hand)), cell(String(s.reserved)),
        cell(s.available + (s.low ? " (low)" : ""), "available"));
      return tr;
    });
    rows("coupon-rows", d.coupons, function (c) {
      var tr = document.createElement("tr");
      tr.dataset.coupon = c.code;
      tr.append(cell(c.code), cell(String(c.used), "used"), cell(String(c.limit)));
      return tr;
    });

    [["hourly-rows", d.hourly, 13, ":00"], ["daily-rows", d.daily, 10, ""]].forEach(function (t) {
      rows(t[0], t[1] || [], function (p) {
        var tr = document.createElement("tr");
        tr.append(cell(p.start.slice(0, t[2]).replace("T", " ") + t[3]), cell(money(p.gmv_placed)), cell(money(p.gmv_paid)),
          cell(money(p.gmv_net)), cell(String(p.orders)), cell(money(p.aov)), cell(money(p.arpu)), cell(money(p.arppu)),
          cell(pct(p.repeat_rate)));
        return tr;
      });
    });

    var axes = [{}, { label: "yuan" }, { side: 1, label: "orders", scale: "orders", grid: { show: false } }];
    draw("chart-hourly", {
      scales: { x: { time: true }, orders: {} },
      series: [{}, { label: "GMV paid", stroke: "#4a7ebb", width: 2 }, { label: "orders", stroke: "#d9822b", scale: "orders", width: 2 }],
      axes: axes
    }, series(d.hourly || [], ["gmv_paid", "orders"]));
    draw("chart-daily", {
      scales: { x: { time: true } },
      series: [{}, { label: "GMV paid", stroke: "#4a7ebb", width: 2 }, { label: "GMV net", stroke: "#2e8b57", width: 2 }],
      axes: [{}, { label: "yuan" }]
    }, series(d.daily || [], ["gmv_paid", "gmv_net"]));
  }

  function refresh() {
    var headers = token ? { Authorization: "Bearer " + token } : {};
    fetch("/dashboard/data", { headers: headers, cache: "no-store" })
      .then(function (res) {
        if (!res.ok) { throw new Error("dashboard data: HTTP " + res.status); }
        return res.json();
      })
      .then(function (d) {
        state.data = d;
        render(d);
        state.updates++;
        state.error = null;
        document.body.dataset.generated = d.generated_at;
        setText("#live", "(live: refreshes every 2 s)");
      })
      .catch(function (err) {
        state.error = String(err);
        setText("#live", "(not refreshing: " + err.message + ")");
      })
      .finally(function () { setTimeout(refresh, 2000); });
  }
  refresh();
})();
