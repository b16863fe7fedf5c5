// happysim-rx debugger page: plain JS over the server's /api/op (requests) and /ws (pushes).
"use strict";
(function () {
  const TOKEN = new URLSearchParams(location.search).get("token") || "";
  const MAX_POINTS = 1000;   // per chart unless the server says (its charts' max_points)
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return e;
  };
  const fmt = (v, d = 4) => v == null ? "–" : (typeof v === "number" ?
    (Number.isInteger(v) ? String(v) : Number(v.toPrecision(d)).toString()) : String(v));

  const dbg = window.dbg = { status: {}, charts: new Map(), markers: [], catalog: null,
    breakpoints: [], wsMessages: 0 };

  async function op(req) {
    const r = await fetch("api/op", { method: "POST", body: JSON.stringify(req),
      headers: { "Content-Type": "application/json", "X-Token": TOKEN } });
    const resp = await r.json();
    if (!resp.ok) say(resp.error ? `${resp.error.kind}: ${resp.error.message}` : "request failed");
    return resp;
  }
  function say(text) { $("message").textContent = text || ""; }
  function exportUrl(format, query, name) {
    const p = new URLSearchParams({ format, token: TOKEN, name: name || format });
    if (query) p.set("query", JSON.stringify(query));
    return "api/export?" + p.toString();
  }

  // ---- status --------------------------------------------------------------------------
  function showStatus(s) {
    dbg.status = s;
    const mode = $("status-mode");
    mode.textContent = s.mode; mode.className = "mode " + s.mode;
    $("status-time").textContent = fmt(s.sim_time, 6);
    $("status-events").textContent = s.events_processed ?? 0;
    $("status-rate").textContent = s.events_per_s == null ? "–" : Math.round(s.events_per_s);
    $("status-paused-by").textContent = s.paused_by ? "paused by " + s.paused_by :
      s.mode === "complete" ? "complete (" + (s.stop_reason || "") + ")" :
      s.fault ? "model fault: " + s.fault : "";
    const le = s.last_event;
    $("last-event").textContent = le ? `${fmt(le.time, 7)}  ${le.event_type} → ${le.target}` :
      (s.events_processed ? "not recorded (ran at full speed without a per-event hook; step to see it)" : "–");
    const ne = $("next-events"); ne.replaceChildren();
    for (const e of s.next_events || []) ne.append(el("li", {}, `${fmt(e.time, 7)}  ${e.event_type} → ${e.target}`));
    for (const li of $("bp-list").children) li.classList.toggle("fired", s.fired_breakpoint != null && li.dataset.id == s.fired_breakpoint);
    if (s.mode !== "running") {
      // stopped: stretch the time axes to `now` so the pause marker shows at the edge
      for (const v of dbg.charts.values()) if (!v.history) redraw(v);
      if (dbg.lastMode === "running") refreshBreakpoints();
    }
    dbg.lastMode = s.mode;
    $("btn-run").textContent = s.mode === "paused" ? "Resume" : "Run";
  }

  // ---- model graph -----------------------------------------------------------------------
  async function refreshGraph() {
    const g = await op({ op: "graph" });
    if (!g.ok) return;
    dbg.graph = g;
    const box = $("graph"); box.replaceChildren();
    // nodes upstream first; an arrow between neighbours that requests flow between
    const shown = new Set();
    g.nodes.forEach((n, i) => {
      const prev = i > 0 ? g.nodes[i - 1].id : null;
      const e = g.edges.find((x) => x.from === prev && x.to === n.id);
      if (e) { box.append(el("div", { class: "arrow" }, "→", el("br"), `${e.count}`)); shown.add(e); }
      box.append(el("div", { class: "node", "data-entity": n.id }, el("b", {}, n.id)));
    });
    const rest = g.edges.filter((e) => !shown.has(e));
    if (rest.length) box.append(el("div", { class: "sub flows" }, "flows: " + rest.map((e) => `${e.from} → ${e.to} (${e.count})`).join(", ")));
    if (!g.edges.length) box.append(el("div", { class: "sub flows" }, "no request flows between entities in the spans yet"));
    showGauges(dbg.gauges || []);
  }
  function showGauges(gauges) {
    dbg.gauges = gauges;
    for (const node of $("graph").querySelectorAll(".node")) {
      node.querySelectorAll(".g").forEach((x) => x.remove());
      for (const g of gauges.filter((x) => x.entity === node.dataset.entity))
        node.append(el("div", { class: "g" }, el("span", {}, g.name + (g.kind === "counter" ? " /s" : "")), el("span", {}, fmt(g.value, 3))));
    }
    if (gauges.some((g) => !$("graph").querySelector(`.node[data-entity="${CSS.escape(g.entity)}"]`))) refreshGraph();
  }

  // ---- catalog & breakpoints --------------------------------------------------------------
  async function refreshCatalog() {
    const c = await op({ op: "catalog" });
    if (!c.ok) return;
    dbg.catalog = c.catalog;
    for (const sel of [$("chart-series"), $("bp-series")]) {
      const keep = sel.value; sel.replaceChildren();
      for (const m of c.catalog.metrics) sel.append(el("option", { value: `${m.source}|${m.name}` }, `${m.source}.${m.name} (${m.kind || "?"}${m.unit ? ", " + m.unit : ""})`));
      if (keep) sel.value = keep;
    }
  }
  async function refreshBreakpoints() {
    const r = await op({ op: "list_breakpoints" });
    if (!r.ok) return;
    dbg.breakpoints = r.breakpoints;
    const ul = $("bp-list"); ul.replaceChildren();
    for (const bp of r.breakpoints) {
      const li = el("li", { "data-id": bp.id }, el("span", {}, `#${bp.id} ${bp.description}` + (bp.hits ? ` (hits ${bp.hits})` : "")),
        el("button", { class: "bp-remove", title: "remove", onclick: async () => { await op({ op: "remove_breakpoint", id: bp.id }); refreshBreakpoints(); } }, "✕"));
      if (dbg.status.fired_breakpoint === bp.id) li.classList.add("fired");
      ul.append(li);
    }
  }
  function showBpFields() {
    const kind = $("bp-kind").value;
    for (const s of $("bp-form").querySelectorAll("span")) s.classList.toggle("on", s.classList.contains("kind-" + kind));
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
    const r = await op(req);
    if (r.ok) { say(""); refreshBreakpoints(); }
  }

  // ---- charts -----------------------------------------------------------------------------
  function addChartView(c) {
    if (dbg.charts.has(c.id)) return;
    const title = `${c.aggregate} of ${c.entity}.${c.name} per ${c.window} s`;
    const box = el("div", { class: "chart", "data-id": c.id, "data-npoints": 0 });
    const tag = el("span", { class: "mode-tag" }, "live");
    const csv = el("a", { class: "button btn-csv", download: "" }, "CSV");
    const json = el("a", { class: "button btn-json", download: "" }, "JSON");
    const live = el("button", { class: "btn-live", onclick: () => { view.history = null; tag.textContent = "live"; redraw(view); } }, "Live");
    const rm = el("button", { onclick: async () => { await op({ op: "chart_remove", id: c.id }); view.plot.destroy(); box.remove(); dbg.charts.delete(c.id); } }, "✕");
    box.append(el("div", { class: "head" }, el("span", { class: "title" }, title), tag, live, csv, json, rm));
    const plotDiv = el("div"); box.append(plotDiv);
    $("charts").append(box);
    const view = { c, box, tag, csv, json, xs: [], ys: [], history: null, max: c.max_points || MAX_POINTS };
    const opts = {
      width: Math.max(300, $("charts").clientWidth - 10), height: 200,
      // the x axis reaches the current simulated time, so a pause marker shows at the edge
      scales: { x: { time: false, range: (u, lo, hi) => {
        const now = view.history ? hi : Math.max(hi ?? 0, dbg.status.sim_time ?? 0);
        return [lo ?? 0, now > (lo ?? 0) ? now : (lo ?? 0) + 1]; } } },
      series: [{ label: "t (s)" }, { label: c.aggregate, stroke: "#2c6bed", width: 1.5, spanGaps: false, points: { show: false } }],
      axes: [{ label: "simulated time (s)" }, {}],
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 3) return;
          const a = u.posToVal(u.select.left, "x"), b = u.posToVal(u.select.left + u.select.width, "x");
          u.setSelect({ left: 0, width: 0 }, false);
          zoom(view, Math.max(0, a), b);
        }],
        draw: [(u) => drawMarkers(u, view)],
      },
    };
    view.plot = new uPlot(opts, [[], []], plotDiv);
    view.plot.over.addEventListener("click", () => {
      const i = view.plot.cursor.idx;
      const xs = view.plot.data[0];
      if (i == null || i < 0 || i >= xs.length) return;
      const w = view.history ? view.history.window : c.window;
      listRequests(xs[i], xs[i] + w);
    });
    dbg.charts.set(c.id, view);
    addPoints(c.id, c.points || []);
  }
  function chartSpec(view) {
    const c = view.c;
    if (view.history) return view.history.spec;
    return { kind: "metrics", name: c.name, entity: c.entity, start: 0, end: view.xs.length ? view.xs[view.xs.length - 1] + c.window : 0, window: c.window, aggregates: [c.aggregate] };
  }
  function updateLinks(view) {
    const spec = chartSpec(view), name = `${view.c.entity}.${view.c.name}.${view.c.aggregate}`;
    view.csv.href = exportUrl("csv", spec, name); view.json.href = exportUrl("json", spec, name);
    view.box.dataset.query = JSON.stringify(spec);
  }
  function addPoints(id, pts, replace) {
    const view = dbg.charts.get(id);
    if (!view) return;
    if (replace) { view.xs = []; view.ys = []; }
    for (const [t, v] of pts) { view.xs.push(t); view.ys.push(v); }
    // bounded: the page keeps what the server keeps, however long the run
    if (view.xs.length > view.max) { const k = view.xs.length - view.max; view.xs.splice(0, k); view.ys.splice(0, k); }
    view.box.dataset.npoints = view.xs.length;
    view.box.dataset.last = view.xs.length ? view.xs[view.xs.length - 1] : "";
    if (!view.history) { redraw(view); updateLinks(view); }
  }
  function redraw(view) {
    if (view.history) view.plot.setData([view.history.xs, view.history.ys]);
    else view.plot.setData([view.xs.slice(), view.ys.slice()]);
    updateLinks(view);
  }
  async function zoom(view, a, b) {
    if (!(b > a)) return;
    const window = Math.max(view.c.window / 100, (b - a) / 200);
    const r = await op({ op: "chart_query", id: view.c.id, start: a, end: b, window });
    if (!r.ok) return;
    const agg = view.c.aggregate;
    view.history = { window, spec: r.spec, xs: r.result.rows.map((x) => x.start), ys: r.result.rows.map((x) => x[agg] ?? null) };
    view.tag.textContent = `history [${fmt(a)}, ${fmt(b)}) per ${fmt(window)} s`;
    redraw(view);
  }
  function showMarkers() {
    const ul = $("marker-list"); ul.replaceChildren();
    for (const m of dbg.markers.slice(-8).reverse())
      ul.append(el("li", { class: "marker " + m.kind }, el("span", {}, `${fmt(m.time, 6)} s`), el("span", {}, m.label)));
    for (const v of dbg.charts.values()) v.plot.redraw(false);
  }
  function drawMarkers(u, view) {
    const ctx = u.ctx, [x0, x1] = [u.scales.x.min, u.scales.x.max];
    if (x0 == null) return;
    ctx.save();
    for (const m of dbg.markers) {
      if (m.time < x0 || m.time > x1) continue;
      const x = Math.round(u.valToPos(m.time, "x", true));
      ctx.strokeStyle = m.kind === "anomaly" ? "#ae3ec9" : "#d9480f"; ctx.setLineDash([4, 3]); ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
    }
    ctx.restore();
  }
  async function addChart(ev) {
    ev.preventDefault();
    const [entity, name] = ($("chart-series").value || "|").split("|");
    const r = await op({ op: "chart_add", name, entity, aggregate: $("chart-agg").value, window: Number($("chart-window").value) });
    if (r.ok) { say(""); addChartView(r.chart); }
  }

  // ---- requests and traces ------------------------------------------------------------------
  async function listRequests(a, b) {
    const r = await op({ op: "query", query: { kind: "spans", start: a, end: b, limit: 5000 }, budget_bytes: 4000000 });
    if (!r.ok) return;
    const traces = new Map();
    for (const s of r.result.rows) {
      const t = traces.get(s.trace_id) || { id: s.trace_id, start: Infinity, end: -Infinity, n: 0, entities: new Set() };
      t.start = Math.min(t.start, s.start); t.end = Math.max(t.end, s.end ?? s.start); t.n++; t.entities.add(s.entity);
      traces.set(s.trace_id, t);
    }
    const top = [...traces.values()].sort((x, y) => (y.end - y.start) - (x.end - x.start)).slice(0, 10);
    $("trace-hint").textContent = `slowest requests with spans in [${fmt(a)}, ${fmt(b)}) s (${traces.size} in all)`;
    const ul = $("trace-list"); ul.replaceChildren();
    for (const t of top) {
      const li = el("li", { "data-trace": t.id, onclick: () => { for (const x of ul.children) x.classList.remove("sel"); li.classList.add("sel"); openTrace(t.id); } },
        el("span", {}, `trace ${t.id}`), el("span", {}, [...t.entities].join(" → ")), el("span", {}, `${fmt(t.end - t.start)} s`));
      ul.append(li);
    }
  }
  async function openTrace(id) {
    const r = await op({ op: "trace", trace_id: id });
    const box = $("trace-view"); box.replaceChildren();
    if (!r.ok) return;
    const spans = r.spans || [];
    const crit = new Set((r.critical_path_spans || []).map((c) => c.span_id));
    const t0 = Math.min(...spans.map((s) => s.start)), t1 = Math.max(...spans.map((s) => s.end ?? s.start));
    const span = Math.max(t1 - t0, 1e-9);
    const wf = el("div", { class: "wf", "data-trace": id });
    wf.append(el("div", { class: "sub" }, `trace ${id}: ${spans.length} span(s), ${fmt(t1 - t0)} s from t=${fmt(t0, 7)}; critical path in orange`));
    for (const s of spans) {
      const isCrit = crit.has(s.span_id);
      const bar = el("div", { class: "span-bar" + (isCrit ? " critical" : ""), title: `${s.entity} ${fmt(s.start, 7)} → ${fmt(s.end, 7)}` });
      bar.style.left = `${(100 * (s.start - t0)) / span}%`;
      bar.style.width = `${Math.max(0.5, (100 * ((s.end ?? s.start) - s.start)) / span)}%`;
      wf.append(el("div", { class: "row" }, el("span", {}, s.entity), el("div", { class: "track" }, bar), el("span", {}, `${fmt((s.end ?? s.start) - s.start)} s`)));
    }
    const cp = el("div", { id: "critical-path", class: "sub" }, "critical path: " + (r.critical_path || []).join(" → ") + (r.truncated && r.truncated.length ? ` (cut: ${r.truncated.join(", ")})` : ""));
    box.append(wf, cp);
  }

  // ---- query console ---------------------------------------------------------------------------
  async function runQuery() {
    let spec;
    try { spec = JSON.parse($("query-input").value); } catch (e) { say("query is not JSON: " + e.message); return; }
    $("btn-query-csv").href = exportUrl("csv", spec, "query"); $("btn-query-json").href = exportUrl("json", spec, "query");
    const r = await op({ op: "query", query: spec, budget_bytes: 1000000 });
    const table = $("query-table"); table.replaceChildren();
    if (!r.ok) { $("query-meta").textContent = ""; return; }
    say("");
    const res = r.result, rows = res.rows || [];
    $("query-meta").textContent = `${rows.length} row(s)` + (r.truncated ? ` of ${r.truncated.total} (use CSV/JSON for all)` : "") +
      `; weighting ${res.weighting}; exact ${res.exact}` + (res.error_bound != null ? `; error bound ${res.error_bound}` : "");
    const cols = [...new Set(rows.flatMap((x) => Object.keys(x)))];
    table.append(el("tr", {}, ...cols.map((c) => el("th", {}, c))));
    for (const row of rows.slice(0, 1000)) table.append(el("tr", {}, ...cols.map((c) => el("td", {}, fmt(row[c], 6)))));
  }

  // ---- controls ----------------------------------------------------------------------------------
  const speed = () => ($("speed").value === "max" ? "max" : Number($("speed").value));
  $("btn-run").onclick = () => op({ op: dbg.status.mode === "paused" ? "resume" : "run", speed: speed() });
  $("btn-pause").onclick = () => op({ op: "pause" });
  $("btn-step").onclick = async () => { const r = await op({ op: "step", n: Number($("step-n").value) }); if (r.ok) say(`stepped ${r.events ? r.events.length : ""} event(s)`); };
  $("btn-until").onclick = () => op({ op: "run_until", time: Number($("until-t").value), speed: speed() });
  $("speed").onchange = () => op({ op: "speed", speed: speed() });
  $("btn-reset").onclick = async () => {
    const seed = $("reset-seed").value;
    const r = await op(seed === "" ? { op: "reset" } : { op: "reset", seed: Number(seed) });
    if (r.ok) { say("reset"); refreshBreakpoints(); refreshCatalog(); }
  };
  $("btn-query").onclick = runQuery;
  $("bp-kind").onchange = showBpFields;
  $("bp-form").onsubmit = addBreakpoint;
  $("chart-form").onsubmit = addChart;
  $("btn-summary").href = exportUrl("summary", null, "summary");
  showBpFields();

  // ---- pushes --------------------------------------------------------------------------------------
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws?token=${encodeURIComponent(TOKEN)}`);
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      dbg.wsMessages++;
      if (msg.type === "snapshot") {
        dbg.markers = msg.markers || [];
        showMarkers();
        for (const c of msg.charts || []) { if (dbg.charts.has(c.id)) { const v = dbg.charts.get(c.id); v.xs = []; v.ys = []; addPoints(c.id, c.points); } else addChartView(c); }
        showStatus(msg.status);
        dbg.ready = true;
      } else if (msg.type === "status") showStatus(msg.status);
      else if (msg.type === "points") addPoints(msg.chart, msg.points, msg.replace);
      else if (msg.type === "gauges") showGauges(msg.gauges);
      else if (msg.type === "marker") { dbg.markers.push(msg.marker); if (dbg.markers.length > 200) dbg.markers.shift(); showMarkers(); }
      else if (msg.type === "reset") { dbg.markers = []; showMarkers(); for (const v of dbg.charts.values()) { v.xs = []; v.ys = []; v.history = null; addPoints(v.c.id, []); } }
    };
    ws.onclose = () => { $("status-mode").textContent = "disconnected"; dbg.ready = false; setTimeout(connect, 1000); };
  }
  refreshCatalog().then(async () => {
    await refreshGraph(); await refreshBreakpoints();
    connect();
  });
})();
