// happysim-rx debugger page: plain JS over the server's /api/op (requests) and /ws (pushes).
// Everything several pages must agree on (breakpoints, charts, speed, selection) lives on
// the server and arrives as "shared" pushes; this page only draws it.
"use strict";
(function () {
  // The server has exchanged the URL's token for an HttpOnly cookie: drop it from the URL
  // (and so from the history and from every link the page makes).
  if (new URLSearchParams(location.search).has("token")) history.replaceState(null, "", location.pathname);

  const MAX_POINTS = 1000;   // per chart unless the server says (its charts' max_points)
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null) continue;
      if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const k of kids) if (k != null) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return e;
  };
  const fmt = (v, d = 4) => v == null ? "–" : (typeof v === "number" ?
    (Number.isInteger(v) ? String(v) : Number(v.toPrecision(d)).toString()) : String(v));
  const pct = (v) => v == null ? "–" : (100 * v).toFixed(1) + " %";
  const EPS = (x) => 1e-9 * Math.max(1, Math.abs(x));

  const dbg = window.dbg = { status: {}, charts: new Map(), markers: [], catalog: null, plotData: (rows, window) => plotData(rows, window),
    shared: { breakpoints: [], charts: [], speed: null, selection: {} }, queues: null,
    gauges: [], zoom: null, wsMessages: 0, locked: false };

  // ---- requests, and their messages next to the control that made them -------------------
  async function op(req, where, okText) {
    let resp;
    try {
      const r = await fetch("api/op", { method: "POST", body: JSON.stringify(req), credentials: "same-origin",
        headers: { "Content-Type": "application/json" } });
      if (r.status === 403) { locked(); return { ok: false, error: { kind: "state", message: "wrong or missing token" } }; }
      resp = await r.json();
    } catch (e) {
      resp = { ok: false, error: { kind: "network", message: "the debugger does not answer (" + e.message + ")" } };
    }
    if (where) report(where, resp, okText);
    return resp;
  }
  function report(where, resp, okText) {
    const m = $("msg-" + where);
    if (!m) return;
    if (!resp.ok) {
      const e = resp.error || {};
      m.textContent = (e.kind ? e.kind + ": " : "") + (e.message || "request failed") + (e.valid ? " (valid: " + e.valid.slice(0, 8).join(", ") + ")" : "");
      m.className = "msg err";
    } else {  // a success replaces the control's error, and fades
      const text = typeof okText === "function" ? okText(resp) : (okText || "");
      m.textContent = text;
      m.className = "msg ok";
      clearTimeout(m._fade);
      m._fade = setTimeout(() => { if (m.textContent === text && m.classList.contains("ok")) { m.textContent = ""; m.className = "msg"; } }, 4000);
    }
  }
  function clearErrors(...where) {
    for (const w of where) { const m = $("msg-" + w); if (m && m.classList.contains("err")) { m.textContent = ""; m.className = "msg"; } }
  }
  function exportUrl(format, query, name) {  // no token: the cookie authenticates downloads
    const p = new URLSearchParams({ format, name: name || format });
    if (query) p.set("query", JSON.stringify(query));
    return "api/export?" + p.toString();
  }
  function locked() {  // the server does not know this page (restarted: a new token)
    if (dbg.locked) return;
    dbg.locked = true;
    if (dbg.ws) dbg.ws.close();
    document.body.replaceChildren(el("main", { class: "locked" }, el("h1", {}, "Wrong or missing token"),
      el("p", {}, "This debugger no longer accepts this page (it was restarted, or the token is wrong). Open the URL it printed.")));
  }

  // ---- status ------------------------------------------------------------------------------
  function showStatus(s) {
    const before = dbg.status.mode;
    dbg.status = s;
    const mode = $("status-mode");
    mode.textContent = s.mode; mode.className = "mode " + s.mode;
    $("status-time").textContent = fmt(s.sim_time, 7);
    $("status-events").textContent = s.events_processed ?? 0;
    $("status-rate").textContent = s.events_per_s == null ? "–" : Math.round(s.events_per_s);
    $("status-speed").textContent = s.speed == null ? "max" : `${fmt(s.speed)} sim-s/s`;
    $("status-paused-by").textContent = s.paused_by ? "paused by " + s.paused_by :
      s.mode === "complete" ? "complete (" + (s.stop_reason || "") + ")" :
      s.fault ? "model fault: " + s.fault : "";
    const le = s.last_event;
    $("last-event").textContent = le ? eventText(le) :
      (s.events_processed ? "not kept by a full-speed run (Step shows each event)" : "–");
    showStepped(s.stepped || []);
    showNext(s);
    for (const li of $("bp-list").children) li.classList.toggle("fired", s.fired_breakpoint != null && li.dataset.id == s.fired_breakpoint);
    if (before !== s.mode) clearErrors("run", "step", "until");
    $("btn-run").textContent = s.mode === "paused" ? "Resume" : "Run";
    scheduleRedraw();
  }
  const eventText = (e) => `${fmt(e.time, 9)}  ${e.event_type} → ${e.target}` + (e.request_id != null ? `  #${e.request_id}` : "");
  function showStepped(events) {
    $("stepped-head").textContent = events.length ? `stepped: the ${events.length} event(s) of the last step` : "stepped: –";
    const ol = $("stepped-events"); ol.replaceChildren();
    for (const e of events) ol.append(requestItem(e, eventText(e)));
  }
  function requestItem(e, text) {
    const li = el("li", { "data-request": e.request_id }, text);
    if (e.request_id != null) { li.classList.add("link"); li.onclick = () => select({ trace_id: e.request_id }); }
    return li;
  }
  function showNext(s) {
    const ne = $("next-events"); ne.replaceChildren();
    for (const e of s.next_events || []) ne.append(requestItem(e, eventText(e)));
    const at = s.next_events_at, stale = s.mode === "running" && at != null && at < s.sim_time;
    $("next-at").textContent = at == null ? "" : stale ? `(read at t=${fmt(at, 7)}; running, refreshed every 0.5-1 s)` : `(at t=${fmt(at, 7)})`;
    ne.classList.toggle("stale", stale);
    $("next-at").classList.toggle("stale", stale);
  }

  // ---- the queueing view ---------------------------------------------------------------------
  const STAT_ROWS = [["utilization", "utilization", pct], ["queue_length", "queue length", (v, u) => `${fmt(v)} ${u.queue_depth || ""}`],
    ["in_service", "in service", (v, u) => `${fmt(v)} ${u.in_flight || ""}`], ["throughput", "throughput", (v) => `${fmt(v, 3)} /s`],
    ["arrival_rate", "arrivals", (v) => `${fmt(v, 3)} /s`], ["rate", "generated", (v) => `${fmt(v, 3)} /s`],
    ["drop_rate", "dropped", (v) => `${fmt(v, 3)} /s`], ["latency_p50", "latency p50", (v) => `${fmt(v, 3)} s`],
    ["latency_p99", "latency p99", (v) => `${fmt(v, 3)} s`]];
  const SHOWN = new Set(["queue_depth", "in_flight", "utilization", "completed", "arrivals", "generated", "dropped", "latency"]);
  const PARAMS = [["concurrency", "concurrency"], ["capacity", "capacity"], ["service_time", "service"], ["rate", "rate"]];
  function showQueues(q) {
    if (!q || !q.entities) return;
    dbg.queues = q;
    const box = $("queues"); box.replaceChildren();
    q.entities.forEach((e, i) => {
      if (i > 0) {
        const prev = q.entities[i - 1].name;
        const edge = (q.edges || []).find((x) => x.from === prev && x.to === e.name);
        const wired = (q.entities[i - 1].downstream || []).includes(e.name);
        box.append(el("div", { class: "arrow" + (edge || wired ? "" : " loose") }, edge || wired ? "↓" : "·", edge && edge.requests != null ? ` ${edge.requests} requests` + (q.topology === "catalog" ? "" : " in the last 60 s") : ""));
      }
      const u = e.units || {}, st = e.stats || {};
      const card = el("div", { class: "node station-" + e.role, "data-entity": e.name, "data-role": e.role },
        el("div", { class: "head" }, el("b", {}, e.name), el("span", { class: "role" }, e.role), el("span", { class: "type" }, e.type || "")));
      const param = (v) => typeof v !== "object" ? fmt(v) :
        [v.distribution, v.mean != null ? `mean ${fmt(v.mean)} s` : null].filter((x) => x != null).join(", ");
      const params = PARAMS.filter(([k]) => e[k] != null).map(([k, label]) => `${label} ${param(e[k])}`);
      if (params.length) card.append(el("div", { class: "params" }, params.join(" · ")));
      const tbl = el("div", { class: "stats" });
      for (const [k, label, f] of STAT_ROWS) if (k in st) tbl.append(el("div", { class: "g stat", "data-stat": k }, el("span", {}, label), el("span", {}, st[k] == null ? "–" : f(st[k], u))));
      card.append(tbl);
      for (const g of dbg.gauges.filter((x) => x.entity === e.name && !SHOWN.has(x.name)))
        card.append(el("div", { class: "g" }, el("span", {}, g.name + (g.kind === "counter" ? " (rate)" : "")),
          el("span", {}, fmt(g.value, 3) + " " + (g.kind === "counter" ? (g.unit ? g.unit + "/s" : "/s") : (g.unit || "")))));
      if (e.waiting_total != null) {
        card.append(el("div", { class: "sub" }, `waiting: ${e.waiting_total}` + (e.waiting_total > e.waiting.length ? ` (the ${e.waiting.length} oldest)` : "")));
        const ul = el("ul", { class: "list mono waiting" });
        for (const w of e.waiting)
          ul.append(el("li", { class: "link", "data-trace": w.id, onclick: () => select({ trace_id: w.id }) },
            el("span", {}, `#${w.id}`), el("span", {}, `waiting ${fmt(w.waited_s, 3)} s`)));
        card.append(ul);
      }
      box.append(card);
    });
    const det = $("detectors"); det.replaceChildren();
    for (const d of q.detectors || []) {
      const card = el("div", { class: "node detector", "data-entity": d.name }, el("b", {}, d.name));
      for (const g of dbg.gauges.filter((x) => x.entity === d.name)) card.append(el("div", { class: "g" }, el("span", {}, g.name), el("span", {}, fmt(g.value, 3))));
      det.append(card);
    }
    if (!(q.detectors || []).length) det.append(el("div", { class: "sub" }, "none"));
    $("queues-note").textContent = `in flow order (${q.topology === "catalog" ? "the model's topology" : "from wiring and spans"}); rates over the last ${fmt(q.recent_s, 3)} s, at t=${fmt(q.time, 7)}`;
  }

  // ---- catalog & breakpoints ----------------------------------------------------------------------
  const seriesMeta = (entity, name) => ((dbg.catalog && dbg.catalog.metrics) || []).find((m) => m.source === entity && m.name === name) || {};
  async function refreshCatalog() {
    const c = await op({ op: "catalog" });
    if (!c.ok) return;
    dbg.catalog = c.catalog;
    for (const sel of [$("chart-series"), $("bp-series")]) {
      const keep = sel.value; sel.replaceChildren();
      for (const m of c.catalog.metrics) sel.append(el("option", { value: `${m.source}|${m.name}` }, `${m.source}.${m.name} (${m.kind || "?"}${m.unit ? ", " + m.unit : ""})`));
      if (keep) sel.value = keep;
    }
    const q = $("query-input");
    if (!q.value && c.catalog.metrics.length) {  // a query that works on this model
      const m = c.catalog.metrics.find((x) => x.kind === "gauge") || c.catalog.metrics[0];
      const aggs = m.kind === "gauge" ? ["mean", "max"] : m.kind === "counter" ? ["count", "rate"] : ["p50", "p99"];
      q.value = JSON.stringify({ kind: "metrics", name: m.name, entity: m.source, window: 10, aggregates: aggs });
    }
  }
  function showBreakpoints(bps) {
    const ul = $("bp-list"); ul.replaceChildren();
    for (const bp of bps) {
      const li = el("li", { "data-id": bp.id }, el("span", {}, `#${bp.id} ${bp.description}` + (bp.hits ? ` (hits ${bp.hits})` : "")),
        el("button", { class: "bp-remove", title: "remove", onclick: () => op({ op: "remove_breakpoint", id: bp.id }, "bp", `removed #${bp.id}`) }, "✕"));
      if (dbg.status.fired_breakpoint === bp.id) li.classList.add("fired");
      ul.append(li);
    }
    if (!bps.length) ul.append(el("li", { class: "sub none" }, "none"));
  }
  function showBpFields() {
    const kind = $("bp-kind").value;
    for (const s of $("bp-form").querySelectorAll("span:not(.msg)")) s.classList.toggle("on", s.classList.contains("kind-" + kind));
  }
  async function addBreakpoint(ev) {
    ev.preventDefault();
    const kind = $("bp-kind").value, req = { op: "add_breakpoint" };
    const num = (id) => { const v = $(id).value; return v === "" ? null : Number(v); };
    if (kind === "metric" || kind === "anomaly") {
      const [source, name] = ($("bp-series").value || "|").split("|");
      if (kind === "metric") {
        req.metric = { source, name, operator: $("bp-op").value, threshold: num("bp-threshold") };
        if (num("bp-for")) req.metric.for_s = num("bp-for");
      } else {
        req.anomaly = { source, metric: name };  // a level-shift detector on the series
        if (num("bp-confirm") != null) req.anomaly.confirm_after = num("bp-confirm");
      }
    } else if (kind === "time") req.time = num("bp-time");
    else req.event_type = $("bp-event-type").value;
    await op(req, "bp", (r) => `added #${r.breakpoint.id}`);
  }

  // ---- shared state ------------------------------------------------------------------------------
  function applyShared(sh) {
    const before = dbg.shared.selection || {};
    dbg.shared = sh;
    showBreakpoints(sh.breakpoints || []);
    const sel = $("speed"), want = sh.speed == null ? "max" : String(sh.speed);
    if (![...sel.options].some((o) => o.value === want)) sel.append(el("option", { value: want }, `${want} sim-s/s`));
    sel.value = want;
    const ids = new Set((sh.charts || []).map((c) => c.id));
    for (const c of sh.charts || []) if (!dbg.charts.has(c.id)) addChartView(c);
    for (const [id, v] of [...dbg.charts]) if (!ids.has(id)) { v.plot.destroy(); v.box.remove(); dbg.charts.delete(id); }
    const s = sh.selection || {};
    if (JSON.stringify(s.window) !== JSON.stringify(before.window) && s.window) listRequests(s.window[0], s.window[1]);
    if (s.trace_id !== before.trace_id) { if (s.trace_id != null) openTrace(s.trace_id); else $("trace-view").replaceChildren(); }
    if (!s.window) { $("trace-list").replaceChildren(); }
  }
  const select = (what) => op({ op: "select", ...what }, "trace");

  // ---- charts: honest windows on one simulated-time axis -------------------------------------------
  function chartLabels(c) {
    const m = seriesMeta(c.entity, c.name), unit = m.unit || "";
    const yunit = c.aggregate === "rate" ? `${unit || "events"}/s` : c.aggregate === "count" ? "observations" : unit;
    const how = c.aggregate === "mean" ? (m.kind === "gauge" ? "time-weighted mean" : "mean") :
      c.aggregate === "rate" ? "rate per second" : c.aggregate === "last" ? "last value" : c.aggregate === "count" ? "count" : c.aggregate;
    const what = `${c.entity} ${c.name.replace(/_/g, " ")}`;
    const per = c.aggregate === "rate" ? `, in ${fmt(c.window)} s windows` : ` per ${fmt(c.window)} s`;
    return { title: `${what} (${yunit || "no unit"}), ${how}${per}`, y: `${c.aggregate}` + (yunit ? ` (${yunit})` : "") };
  }
  function addChartView(c) {
    if (dbg.charts.has(c.id)) return;
    const labels = chartLabels(c);
    const box = el("div", { class: "chart", "data-id": c.id, "data-npoints": 0 });
    const tag = el("span", { class: "mode-tag" }, "live");
    const cur = el("span", { class: "cursor-value mono" }, "");
    const csv = el("a", { class: "button btn-csv", download: "" }, "CSV");
    const json = el("a", { class: "button btn-json", download: "" }, "JSON");
    const rm = el("button", { title: "remove (from every page)", onclick: () => op({ op: "chart_remove", id: c.id }, "chart") }, "✕");
    box.append(el("div", { class: "head" }, el("span", { class: "title" }, labels.title), cur, tag, csv, json, rm));
    const plotDiv = el("div"); box.append(plotDiv);
    $("charts").append(box);
    const view = { c, box, tag, csv, json, rows: [], history: null, max: c.max_points || MAX_POINTS };
    const opts = {
      width: Math.max(300, $("charts").clientWidth - 10), height: 190,
      scales: { x: { time: false, range: () => xRange() }, y: { range: () => yRange(view) } },
      series: [{ label: "t (s)" }, { label: c.aggregate, stroke: "#2c6bed", width: 1.5, spanGaps: false }],
      axes: [{ label: "simulated time (s)" }, { label: labels.y, size: 60 }],
      legend: { show: false },
      cursor: { sync: { key: "simtime" }, drag: { x: true, y: false, setScale: false } },
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 3) return;
          const a = u.posToVal(u.select.left, "x"), b = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, width: 0 }, false);
          zoomAll(Math.max(0, a), b);
        }],
        draw: [(u) => drawOverlay(u, view)],
        setCursor: [(u) => {  // the window under the cursor (synced across charts): its range and value
          const left = u.cursor.left;
          const x = left == null || left < 0 ? null : u.posToVal(left, "x");
          const row = x == null ? null : rowsOf(view).find((r) => r[0] <= x && x < r[1]);
          cur.textContent = row ? `[${fmt(row[0], 7)}, ${fmt(row[1], 7)}) s: ${fmt(row[2])}` : "";
        }],
      },
    };
    view.plot = new uPlot(opts, [[], []], plotDiv);
    view.plot.over.addEventListener("click", () => {
      const left = view.plot.cursor.left;
      if (left == null || left < 0) return;
      const x = view.plot.posToVal(left, "x");
      const row = rowsOf(view).find((r) => r[0] <= x && x < r[1]);
      if (row) select({ window: [row[0], row[1]], chart: c.id });
    });
    dbg.charts.set(c.id, view);
    if (c.points) addPoints(c.id, c.points, true);
    updateLinks(view);
  }
  const rowsOf = (view) => view.history ? view.history.rows : view.rows;
  function xRange() {
    let lo = Infinity, hi = dbg.status.sim_time || 0;
    if (dbg.zoom) { lo = dbg.zoom.a; hi = dbg.zoom.b; }
    else for (const v of dbg.charts.values()) if (v.rows.length) { lo = Math.min(lo, v.rows[0][0]); hi = Math.max(hi, v.rows[v.rows.length - 1][1]); }
    if (!isFinite(lo)) lo = 0;
    if (!isFinite(hi)) hi = lo + 1;
    // never narrower than float resolution allows ticks on (a degenerate range stalls axes)
    const least = Math.max(1e-6, 1e-9 * Math.abs(lo));
    return [lo, hi - lo >= least ? hi : lo + Math.max(least, 1)];
  }
  // The plotted line: a point per window at its start; where windows are missing, a null
  // at the last window's end, so no line is drawn across the gap. Rows wider than the
  // chart's window (a streaming store's coarser rollups) are not on the line: each is
  // drawn flat across its whole range in a shaded band (drawOverlay).
  const isCoarse = (r, window) => window != null && r[1] - r[0] > window * 1.001 + 1e-9;
  function plotData(rows, window) {
    const xs = [], ys = [];
    let prevEnd = null;
    for (const r of rows) {
      const [s, e, v] = r;
      if (prevEnd != null && s > prevEnd + EPS(s)) { xs.push(prevEnd); ys.push(null); }
      xs.push(s); ys.push(isCoarse(r, window) ? null : v); prevEnd = e;
    }
    return [xs, ys];
  }
  function yRange(view) {  // every value shown, the coarse ones too
    let lo = Infinity, hi = -Infinity;
    for (const r of rowsOf(view)) if (typeof r[2] === "number") { lo = Math.min(lo, r[2]); hi = Math.max(hi, r[2]); }
    if (!isFinite(lo)) return [0, 1];
    if (lo === hi) return [lo - Math.max(1, Math.abs(lo)) * 0.1, hi + Math.max(1, Math.abs(hi)) * 0.1];
    const pad = (hi - lo) * 0.05;
    return [lo >= 0 && lo - pad < 0 ? 0 : lo - pad, hi + pad];
  }
  function mergeRows(view, pts, replace) {
    if (replace) view.rows = [];
    const rows = view.rows;
    if (pts.length) {  // newer rows supersede the kept rows they overlap (snapped edges)
      const first = pts[0][0];
      while (rows.length && rows[rows.length - 1][1] > first + EPS(first)) rows.pop();
    }
    for (const p of pts) if (!rows.length || p[0] > rows[rows.length - 1][0]) rows.push(p);
    if (rows.length > view.max) rows.splice(0, rows.length - view.max);  // bounded, as on the server
  }
  function addPoints(id, pts, replace) {
    const view = dbg.charts.get(id);
    if (!view) return;
    mergeRows(view, pts, replace);
    const b = view.box.dataset, rows = view.rows;
    b.npoints = rows.length;
    b.last = rows.length ? rows[rows.length - 1][0] : "";
    b.coarse = rows.filter((r) => r[1] - r[0] > view.c.window * 1.001 + 1e-9).length;
    if (!view.history) updateLinks(view);
    scheduleRedraw();
  }
  let redrawPending = false;
  function scheduleRedraw() {
    if (redrawPending) return;
    redrawPending = true;
    requestAnimationFrame(() => { redrawPending = false; for (const v of dbg.charts.values()) redraw(v); });
  }
  function redraw(view) {
    const data = plotData(rowsOf(view), view.history ? view.history.window : view.c.window);
    view.plotted = data;
    view.plot.setData(data);
  }
  function chartSpec(view) {
    if (view.history) return view.history.spec;
    const c = view.c, rows = view.rows;
    return { kind: "metrics", name: c.name, entity: c.entity, start: rows.length ? rows[0][0] : 0,
      end: rows.length ? rows[rows.length - 1][1] : 0, window: c.window, aggregates: [c.aggregate] };
  }
  function updateLinks(view) {
    const spec = chartSpec(view), name = `${view.c.entity}.${view.c.name}.${view.c.aggregate}`;
    view.csv.href = exportUrl("csv", spec, name); view.json.href = exportUrl("json", spec, name);
    view.box.dataset.query = JSON.stringify(spec);
  }
  async function zoomAll(a, b) {
    if (!(b > a)) return;
    dbg.zoom = { a, b };
    $("axis-mode").textContent = `history [${fmt(a)}, ${fmt(b)}) s`;
    await Promise.all([...dbg.charts.values()].map(async (view) => {
      const window = Math.max(view.c.window / 100, (b - a) / 200);
      const r = await op({ op: "chart_query", id: view.c.id, start: a, end: b, window }, "chart");
      if (!r.ok || !dbg.zoom) return;
      const agg = view.c.aggregate;
      view.history = { window, spec: r.spec, rows: r.result.rows.map((x) => [x.start, x.end, x[agg] ?? null]) };
      view.tag.textContent = `history per ${fmt(window)} s`;
      updateLinks(view);
    }));
    scheduleRedraw();
  }
  function live() {
    dbg.zoom = null;
    $("axis-mode").textContent = "live";
    for (const v of dbg.charts.values()) { v.history = null; v.tag.textContent = "live"; updateLinks(v); }
    scheduleRedraw();
  }
  function showMarkers() {
    const ul = $("marker-list"); ul.replaceChildren();
    for (const m of dbg.markers.slice(-8).reverse())
      ul.append(el("li", { class: "marker " + m.kind }, el("span", {}, `${fmt(m.time, 6)} s`), el("span", {}, m.label)));
    scheduleRedraw();
  }
  // Shading: stretches answered at a coarser resolution than the chart's window (a
  // streaming store's rollups), labelled with their width; gaps; markers; the "now" line.
  function drawOverlay(u, view) {
    const ctx = u.ctx, x0 = u.scales.x.min, x1 = u.scales.x.max;
    if (x0 == null) return;
    const top = u.bbox.top, height = u.bbox.height, px = (t) => u.valToPos(t, "x", true);
    const w = view.history ? view.history.window : view.c.window, rows = rowsOf(view);
    ctx.save();
    ctx.font = `${Math.round(10 * devicePixelRatio)}px system-ui, sans-serif`;
    ctx.textAlign = "left"; ctx.textBaseline = "alphabetic";  // (uPlot's axes leave theirs)
    view.bands = [];  // what is shaded (read by the tests)
    const labelEnds = [-Infinity, -Infinity, -Infinity];  // label rows: where each is free
    const label = (text, x, color) => {
      const w = ctx.measureText(text).width;
      const row = labelEnds.findIndex((end) => x >= end + 4);
      if (row < 0) return;  // no room: the shading still shows it
      labelEnds[row] = x + w;
      ctx.fillStyle = color; ctx.fillText(text, x, top + (11 + 11 * row) * devicePixelRatio);
    };
    let i = 0;
    while (i < rows.length) {
      const width = rows[i][1] - rows[i][0];
      if (width <= w * 1.001 + 1e-9) { i++; continue; }
      let j = i;
      while (j + 1 < rows.length && Math.abs(rows[j + 1][1] - rows[j + 1][0] - width) <= 1e-6 * width && Math.abs(rows[j + 1][0] - rows[j][1]) <= 1e-6 * width) j++;
      const a = px(Math.max(rows[i][0], x0)), b = px(Math.min(rows[j][1], x1));
      view.bands.push({ kind: "coarse", start: rows[i][0], end: rows[j][1], width });
      if (b > a) {
        ctx.fillStyle = "rgba(120, 120, 140, 0.14)"; ctx.fillRect(a, top, b - a, height);
        ctx.strokeStyle = "#2c6bed"; ctx.lineWidth = 1.5 * devicePixelRatio; ctx.setLineDash([]);
        for (let k = i; k <= j; k++) {  // each coarse value, flat across its whole range
          if (typeof rows[k][2] !== "number") continue;
          const y = u.valToPos(rows[k][2], "y", true);
          ctx.beginPath(); ctx.moveTo(px(Math.max(rows[k][0], x0)), y); ctx.lineTo(px(Math.min(rows[k][1], x1)), y); ctx.stroke();
        }
        label(`coarser: per ${fmt(width)} s`, a + 3, "#555c6e");
      }
      i = j + 1;
    }
    for (let k = 1; k < rows.length; k++) {
      if (rows[k][0] > rows[k - 1][1] + EPS(rows[k][0])) {
        view.bands.push({ kind: "gap", start: rows[k - 1][1], end: rows[k][0] });
        const a = px(Math.max(rows[k - 1][1], x0)), b = px(Math.min(rows[k][0], x1));
        if (b > a) { ctx.fillStyle = "rgba(217, 72, 15, 0.07)"; ctx.fillRect(a, top, b - a, height); label("no data", a + 3, "#b5471b"); }
      }
    }
    ctx.lineWidth = 1.5;
    for (const m of dbg.markers) {
      if (m.time < x0 || m.time > x1) continue;
      const x = Math.round(px(m.time));
      ctx.strokeStyle = m.kind === "anomaly" ? "#ae3ec9" : "#d9480f"; ctx.setLineDash([4, 3]);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
    }
    const now = dbg.status.sim_time;
    if (now != null && now >= x0 && now <= x1) {
      const x = Math.round(px(now));
      ctx.setLineDash([]); ctx.strokeStyle = "#1d2330"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
      ctx.fillStyle = "#1d2330"; ctx.textAlign = "right"; ctx.fillText("now", x - 3, top + 12 * devicePixelRatio);
    }
    ctx.restore();
  }
  async function addChart(ev) {
    ev.preventDefault();
    const [entity, name] = ($("chart-series").value || "|").split("|");
    await op({ op: "chart_add", name, entity, aggregate: $("chart-agg").value, window: Number($("chart-window").value) }, "chart", (r) => `added chart #${r.chart.id}`);
  }

  // ---- requests and traces ---------------------------------------------------------------------
  async function listRequests(a, b) {
    const r = await op({ op: "query", query: { kind: "spans", start: a, end: b, limit: 5000 }, budget_bytes: 4000000 }, "trace");
    if (!r.ok) return;
    const traces = new Map();
    for (const s of r.result.rows) {
      const t = traces.get(s.trace_id) || { id: s.trace_id, start: Infinity, end: -Infinity, n: 0, entities: new Set() };
      t.start = Math.min(t.start, s.start); t.end = Math.max(t.end, s.end ?? s.start); t.n++; t.entities.add(s.entity);
      traces.set(s.trace_id, t);
    }
    const top = [...traces.values()].sort((x, y) => (y.end - y.start) - (x.end - x.start)).slice(0, 10);
    $("trace-hint").textContent = `slowest requests with spans starting in [${fmt(a)}, ${fmt(b)}) s (${traces.size} in all)`;
    const ul = $("trace-list"); ul.replaceChildren();
    for (const t of top) {
      const li = el("li", { "data-trace": t.id, class: "link", onclick: () => select({ trace_id: t.id }) },
        el("span", {}, `#${t.id}`), el("span", {}, [...t.entities].join(" → ")), el("span", {}, `${fmt(t.end - t.start)} s`));
      ul.append(li);
    }
  }
  // A hop's queue wait and service, from its span's attributes when the model records them.
  function split(s) {
    const a = s.attributes || {}, end = s.end ?? s.start;
    let start = a.service_start ?? a.service_start_s ?? null;
    const wait = a.wait_s ?? a.queue_wait_s ?? a.queue_wait ?? a.wait ?? a.wait_time ?? null;
    if (start == null && typeof wait === "number") start = s.start + wait;
    if (start == null) { const svc = a.service ?? a.service_s ?? a.service_time ?? null; if (typeof svc === "number") start = end - svc; }
    return typeof start === "number" && start >= s.start - 1e-9 && start <= end + 1e-9 ? start : null;
  }
  function niceStep(span) {
    const raw = span / 6, p = 10 ** Math.floor(Math.log10(raw)), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
  }
  async function openTrace(id) {
    const box = $("trace-view"); box.replaceChildren();
    const r = await op({ op: "trace", trace_id: id });
    const now = dbg.status.sim_time;
    const waitingAt = [];
    for (const e of (dbg.queues && dbg.queues.entities) || []) for (const w of e.waiting || []) if (w.id === id) waitingAt.push({ entity: e.name, since: w.since });
    if (!r.ok && !waitingAt.length) { report("trace", r); return; }
    report("trace", { ok: true }, `trace #${id}`);
    const spans = (r.ok ? r.spans : []).slice().sort((x, y) => x.start - y.start);
    const WAITS = new Set(["wait", "service", "wait_s", "service_s", "service_start", "queue_wait", "queue_wait_s", "wait_time", "service_time"]);
    const about = (s) => Object.entries(s.attributes || {}).filter(([k]) => !WAITS.has(k)).map(([k, v]) => `${k} ${fmt(v)}`).join(", ");
    const rows = spans.map((s) => ({ entity: s.entity + (about(s) ? ` (${about(s)})` : ""), start: s.start, end: s.end ?? s.start, service: split(s), id: s.span_id }));
    for (const w of waitingAt) rows.push({ entity: w.entity, start: w.since ?? now, end: now, service: null, waiting: true });
    const crit = new Set(((r.ok && r.critical_path_spans) || []).map((c) => c.span_id));
    const t0 = Math.min(...rows.map((s) => s.start)), t1 = Math.max(...rows.map((s) => s.end));
    const span = isFinite(t1 - t0) ? Math.max(t1 - t0, 1e-9) : 1;
    const wf = el("div", { class: "wf", "data-trace": id });
    const anySplit = rows.some((x) => x.service != null);
    wf.append(el("div", { class: "sub" }, `request #${id}: ${spans.length} span(s)` + (waitingAt.length ? `, waiting now at ${waitingAt.map((w) => w.entity).join(", ")}` : "") +
      `; ${fmt(t1 - t0)} s from t=${fmt(t0, 9)}. ` + (anySplit ? "Light: waiting in the queue; dark: in service. " : "The model's spans do not split wait and service. ") + "Critical path in orange."));
    const axis = el("div", { class: "row axis" }, el("span", {}, "since t0"));
    const ticks = el("div", { class: "track ticks" });
    const step = niceStep(span);
    for (let k = 0, t = 0; k < 30 && t <= span * (1 + 1e-9); k++, t = k * step) {
      const tick = el("span", { class: "tick" }, `${fmt(t, 3)} s`);
      tick.style.left = `${(100 * t) / span}%`;
      ticks.append(tick);
    }
    axis.append(ticks, el("span", {}, anySplit ? "wait · service" : "duration"));
    wf.append(axis);
    for (const s of rows) {
      const track = el("div", { class: "track" });
      const bar = (cls, a, b, title) => {
        const x = el("div", { class: cls, title });
        x.style.left = `${(100 * (a - t0)) / span}%`;
        x.style.width = `${Math.max(0.4, (100 * (b - a)) / span)}%`;
        track.append(x);
      };
      const isCrit = crit.has(s.id);
      let label;
      if (s.waiting) {
        bar("span-bar wait open", s.start, s.end, `${s.entity}: waiting since ${fmt(s.start, 9)} (still waiting)`);
        label = `${fmt(s.end - s.start)} s waiting`;
      } else if (s.service != null) {
        bar("span-bar wait" + (isCrit ? " critical" : ""), s.start, s.service, `${s.entity}: waited ${fmt(s.service - s.start)} s`);
        bar("span-bar service" + (isCrit ? " critical" : ""), s.service, s.end, `${s.entity}: served ${fmt(s.end - s.service)} s`);
        label = `${fmt(s.service - s.start)} s · ${fmt(s.end - s.service)} s`;
      } else {
        bar("span-bar" + (isCrit ? " critical" : ""), s.start, s.end, `${s.entity} ${fmt(s.start, 9)} → ${fmt(s.end, 9)}`);
        label = `${fmt(s.end - s.start)} s`;
      }
      wf.append(el("div", { class: "row" }, el("span", {}, s.entity), track, el("span", {}, label)));
    }
    const cp = el("div", { id: "critical-path", class: "sub" }, "critical path: " + ((r.ok && r.critical_path) || []).join(" → ") + (r.ok && r.truncated && r.truncated.length ? ` (cut: ${r.truncated.join(", ")})` : ""));
    box.append(wf, cp);
  }

  // ---- query console ---------------------------------------------------------------------------
  async function runQuery() {
    let spec;
    try { spec = JSON.parse($("query-input").value); } catch (e) { report("query", { ok: false, error: { kind: "bad_request", message: "the query is not JSON: " + e.message } }); return; }
    $("btn-query-csv").href = exportUrl("csv", spec, "query"); $("btn-query-json").href = exportUrl("json", spec, "query");
    const r = await op({ op: "query", query: spec, budget_bytes: 1000000 }, "query");
    const table = $("query-table"); table.replaceChildren();
    if (!r.ok) { $("query-meta").textContent = ""; return; }
    const res = r.result, rows = res.rows || [];
    report("query", r, "");
    $("query-meta").textContent = `${rows.length} row(s)` + (r.truncated ? ` of ${r.truncated.total} (use CSV/JSON for all)` : "") +
      `; weighting ${res.weighting}; exact ${res.exact}` + (res.error_bound != null ? `; error bound ${res.error_bound}` : "") +
      (res.time_resolution != null ? `; parts answered per ${res.time_resolution} s` : "");
    const cols = [...new Set(rows.flatMap((x) => Object.keys(x)))];
    table.append(el("tr", {}, ...cols.map((c) => el("th", {}, c))));
    for (const row of rows.slice(0, 1000)) table.append(el("tr", {}, ...cols.map((c) => el("td", {}, fmt(row[c], 6)))));
  }

  // ---- controls ----------------------------------------------------------------------------------
  const speedValue = () => ($("speed").value === "max" ? "max" : Number($("speed").value));
  // Run and Resume use the server's speed (the one every page shows), never a stale default
  $("btn-run").onclick = () => op({ op: dbg.status.mode === "paused" ? "resume" : "run" }, "run", "started");
  $("btn-pause").onclick = () => op({ op: "pause" }, "run", "paused");
  $("btn-step").onclick = () => op({ op: "step", n: Number($("step-n").value) }, "step", (r) => `stepped ${r.events ? r.events.length : 0} event(s)`);
  $("btn-until").onclick = () => op({ op: "run_until", time: Number($("until-t").value) }, "until", "started");
  $("speed").onchange = () => op({ op: "speed", speed: speedValue() }, "speed", (r) => `speed ${r.speed == null ? "max" : r.speed + " sim-s/s"}`);
  $("btn-reset").onclick = async () => {
    const seed = $("reset-seed").value;
    const r = await op(seed === "" ? { op: "reset" } : { op: "reset", seed: Number(seed) }, "reset",
      (x) => `reset` + (x.model && x.model.seed != null ? ` (seed ${x.model.seed})` : "") + `; ${(x.breakpoints || []).length} breakpoint(s) kept` +
        ((x.breakpoints_dropped || []).length ? `, ${x.breakpoints_dropped.length} dropped` : ""));
    if (r.ok) refreshCatalog();
  };
  $("btn-query").onclick = runQuery;
  $("btn-live").onclick = live;
  $("bp-kind").onchange = showBpFields;
  $("bp-form").onsubmit = addBreakpoint;
  $("chart-form").onsubmit = addChart;
  showBpFields();

  // ---- pushes --------------------------------------------------------------------------------------
  function applySnapshot(msg) {
    dbg.markers = msg.markers || [];
    dbg.gauges = msg.gauges || [];
    showStatus(msg.status);
    applyShared(msg.shared);
    for (const c of msg.charts || []) addPoints(c.id, c.points || [], true);
    showQueues(msg.queues);
    showMarkers();
    dbg.ready = true;
  }
  let retries = 0;
  function connect() {
    if (dbg.locked) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = dbg.ws = new WebSocket(`${proto}//${location.host}/ws`);  // the cookie authenticates it
    ws.onopen = () => { retries = 0; };
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      dbg.wsMessages++;
      if (msg.type === "snapshot") applySnapshot(msg);
      else if (msg.type === "resync") {  // this page fell behind: start again from a snapshot
        dbg.resyncs = (dbg.resyncs || 0) + 1;
        op({ op: "status" }).then((r) => { if (r.ok) applySnapshot(r); });
      } else if (msg.type === "status") showStatus(msg.status);
      else if (msg.type === "shared") applyShared(msg);
      else if (msg.type === "points") addPoints(msg.chart, msg.points, msg.replace);
      else if (msg.type === "gauges") dbg.gauges = msg.gauges;
      else if (msg.type === "queues") showQueues(msg);
      else if (msg.type === "marker") { dbg.markers.push(msg.marker); if (dbg.markers.length > 200) dbg.markers.shift(); showMarkers(); }
      else if (msg.type === "reset") {
        dbg.markers = []; showMarkers(); live();
        for (const v of dbg.charts.values()) addPoints(v.c.id, [], true);
        $("trace-view").replaceChildren(); $("trace-list").replaceChildren();
      }
    };
    ws.onclose = async () => {
      dbg.ready = false;
      if (dbg.locked) return;
      $("status-mode").textContent = "disconnected"; $("status-mode").className = "mode";
      // a refused page stops here (no retry loop); a server that went away is retried, slower and slower
      const r = await fetch("api/op", { method: "POST", body: '{"op": "state"}', headers: { "Content-Type": "application/json" } }).catch(() => null);
      if (r && r.status === 403) { locked(); return; }
      retries++;
      setTimeout(connect, Math.min(15000, 500 * 2 ** Math.min(retries, 5)));
    };
  }
  refreshCatalog().then(connect);
})();
