/* The runs page's script, served at /static/dashboard.js: the runs table (sorting, filtering, selection) and the
   comparison chart (inline SVG).

   Hand-written, with no library, and loaded from this server: the dashboard must work offline. What the server
   knows it sends, and this script does not re-derive it: the table's metric columns ("columns" of /api/runs, the
   rule `deepscope runs list` uses too) and whether lower or higher is better ("directions" of /api/runs,
   "direction" of a metric's series). Text from runs (names, reasons, parameters) goes into the page through
   textContent or `esc`, never as markup. */
"use strict";
const COLORS = ["#2f5fd0", "#d0542f", "#1d9a5b", "#8e44ad", "#c99a00", "#0097a7", "#c2185b", "#5d6d7e",
                "#7cb342", "#6d4c41"];
const state = {runs: [], total: 0, columns: [], metricKeys: [], directions: {}, sortKey: "started", sortDesc: true,
               selected: [], metric: null, names: {}, series: {}, where: "", text: [], params: null};
// settings shown as columns until the reader picks others: the ones that differ most telling first; the rest
// are one click away in the "columns" menu, so the table fits a laptop's width
const DEFAULT_PARAM_COLUMNS = 3;

function $(id) { return document.getElementById(id); }
function esc(text) {
  return String(text).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}
function node(tag, attrs, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "className") element.className = value; else element.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) element.append(child instanceof Node ? child : String(child));
  }
  return element;
}
async function getJSON(url) {
  const response = await fetch(url);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || (response.status + " " + response.statusText));
  return body;
}
function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}
function fmt(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    const size = Math.abs(value);
    if (size !== 0 && (size < 1e-4 || size >= 1e6)) return value.toExponential(2).replace(/\.?0+e/, "e");
    return String(+value.toPrecision(4));
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
function when(started) { return started ? String(started).replace("T", " ").slice(0, 16) : ""; }
function runURL(name) { return "/runs/" + encodeURIComponent(name); }
function apiRun(name) { return "/api/runs/" + encodeURIComponent(name); }

/* ---- the runs table ---- */

function chooseColumns(metrics, runs) {
  // the metric columns are the server's choice (`metrics`), then the settings that tell the runs apart, or the
  // ones the reader ticked in the "columns" menu
  const columns = metrics.map(key => ({key, label: key, kind: "metric", get: r => (r.metrics || {})[key]}));
  for (const key of state.params || varyingParams(runs).slice(0, DEFAULT_PARAM_COLUMNS)) {
    // a short header (the whole key is in its tooltip)
    columns.push({key: "param:" + key, label: settingLabel(key), title: key, kind: "param",
                  get: r => (r.params || {})[key]});
  }
  return columns;
}
// the config sections whose keys are column names: a column name may hold dots (pm2.5), so it is never cut
const KEYED_BY_COLUMN = ["data.inputs.", "data.outputs.", "data.series.fill.", "model.encoders."];
function settingLabel(key) {
  // "train.optimizer.lr" -> "optimizer.lr" says enough; "data.outputs.pm2.5.type" -> "pm2.5.type", not "5.type"
  const section = KEYED_BY_COLUMN.find(prefix => key.startsWith(prefix));
  return section ? key.slice(section.length) : key.split(".").slice(-2).join(".");
}
function paramKeys(runs) {
  // every setting of the listed runs that is a value (not an empty section such as {}), in reading order:
  // training settings are what people sweep; then the model's; then the data's
  const keys = new Set();
  for (const run of runs) for (const key of Object.keys(run.params || {})) keys.add(key);
  const section = key => { const i = ["train.", "model.", "data."].findIndex(p => key.startsWith(p)); return i < 0 ? 3 : i; };
  return [...keys].filter(key => !key.startsWith("run.") &&
                                 !runs.some(r => { const v = (r.params || {})[key]; return v !== null && typeof v === "object"; }))
    .sort((a, b) => section(a) - section(b) || a.split(".").length - b.split(".").length || a.localeCompare(b));
}
function differs(runs, key) {
  return new Set(runs.map(r => JSON.stringify((r.params || {})[key] ?? null))).size > 1;
}
function varyingParams(runs) {
  // the settings that differ between the listed runs are what tells them apart (short values: a column)
  if (runs.length < 2) return [];
  return paramKeys(runs).filter(key => differs(runs, key) &&
                                       runs.every(r => JSON.stringify((r.params || {})[key] ?? null).length <= 40));
}
function renderColumnMenu() {
  // the settings as tickable columns: those that differ between the listed runs, then those they share
  const runs = state.runs, shown = new Set(state.columns.filter(c => c.kind === "param").map(c => c.key.slice(6)));
  const keys = paramKeys(runs), varying = keys.filter(k => differs(runs, k)), same = keys.filter(k => !differs(runs, k));
  const item = key => {
    const box = node("input", {type: "checkbox", "data-param": key});
    box.checked = shown.has(key);
    box.addEventListener("change", () => {
      const current = state.columns.filter(c => c.kind === "param").map(c => c.key.slice(6));
      state.params = box.checked ? current.concat(key) : current.filter(k => k !== key);
      state.columns = chooseColumns(state.metricKeys, state.runs);
      renderTable();
    });
    const shared = runs.length ? (runs[0].params || {})[key] : undefined;
    const value = runs.length && !differs(runs, key) ? " = " + (shared === null || shared === undefined ? "none" : fmt(shared)) : "";
    return node("label", {title: key}, box, " " + key, node("span", {className: "muted"}, value));
  };
  const group = (title, list) => list.length ? [node("div", {className: "group"}, title + " (" + list.length + ")"), ...list.map(item)] : [];
  $("column-list").replaceChildren(...group("differ between these runs", varying), ...group("the same in every run", same));
  $("column-count").textContent = shown.size + " of " + keys.length + " settings";
}
function allColumns() {
  return [{key: "name", label: "run", get: r => r.name},
          {key: "status", label: "status", get: r => r.status},
          {key: "task", label: "task", get: r => r.task},
          {key: "started", label: "started", get: r => r.started}].concat(state.columns);
}
function compareValues(a, b) {
  const missingA = a === null || a === undefined || a === "", missingB = b === null || b === undefined || b === "";
  if (missingA || missingB) return missingA - missingB;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, {numeric: true});
}
function sortedRuns(runs) {
  const column = allColumns().find(c => c.key === state.sortKey) || allColumns()[3];
  const sign = state.sortDesc ? -1 : 1;
  return runs.slice().sort((x, y) => {
    const a = column.get(x), b = column.get(y);
    const missing = (a === null || a === undefined || a === "") - (b === null || b === undefined || b === "");
    return missing || sign * compareValues(a, b) || x.name.localeCompare(y.name);  // missing values stay last
  });
}
function haystack(run) {
  const params = Object.entries(run.params || {}).map(([k, v]) => k + "=" + fmt(v));
  const tags = Object.entries(run.tags || {}).map(([k, v]) => k + "=" + v);
  return [run.name, run.status, run.task, when(run.started), ...(run.problems || []), ...params, ...tags]
    .join(" ").toLowerCase();
}
function visibleRuns() {
  return state.runs.filter(run => state.text.every(word => haystack(run).includes(word)));
}
function renderHead() {
  const row = node("tr", {}, node("th", {className: "check"}, ""));
  for (const column of allColumns()) {
    const numeric = column.kind === "metric", dotted = column.kind === "metric" || column.kind === "param";
    // a zero-width space after each dot or underscore lets a long key wrap there instead of widening the table
    const label = dotted ? column.label.replace(/([._])/g, "$1\u200b") : column.label;
    const th = node("th", {className: "sortable" + (numeric ? " num" : "") + (dotted ? " wrap" : ""),
                           "data-key": column.key, title: "sort by " + (column.title || column.label)},
                    label, node("span", {className: "arrow"}, column.key === state.sortKey ? (state.sortDesc ? "\u25BC" : "\u25B2") : ""));
    if (column.key === state.sortKey) th.setAttribute("aria-sort", state.sortDesc ? "descending" : "ascending");
    th.addEventListener("click", () => {
      state.sortDesc = column.key === state.sortKey ? !state.sortDesc : descendingFirst(column);
      state.sortKey = column.key;
      renderTable();
    });
    row.append(th);
  }
  $("runs-head").replaceChildren(row);
}
function descendingFirst(column) {
  // a first click on a metric puts the best runs on top: smallest first for a loss or an error
  return column.kind === "metric" && state.directions[column.key] !== "min";
}
function statusCell(run) {
  const cell = node("td", {className: "status"}, node("span", {className: "badge " + run.status}, run.status));
  const problems = run.problems || [];
  if (run.status !== "finished") {
    for (const problem of problems.slice(0, 3)) cell.append(node("div", {className: "reason"}, problem));
    if (problems.length > 3) cell.append(node("div", {className: "reason", title: problems.slice(3).join("\n")}, "+" + (problems.length - 3) + " more"));
  }
  return cell;
}
function renderRow(run) {
  const chosen = state.selected.includes(run.name);
  const box = node("input", {type: "checkbox", className: "pick", "data-run": run.name,
                             "aria-label": "compare " + run.name});
  box.checked = chosen;
  box.addEventListener("change", () => toggle(run.name, box.checked));
  const row = node("tr", {className: chosen ? "selected" : "", "data-run": run.name},
                   node("td", {className: "check"}, box),
                   node("td", {className: "name"}, node("a", {href: runURL(run.name)}, run.name)),
                   statusCell(run), node("td", {}, run.task || ""),
                   node("td", {className: "when"}, when(run.started)));
  for (const column of state.columns) {
    row.append(node("td", {className: column.kind === "metric" ? "num" : ""}, fmt(column.get(run))));
  }
  return row;
}
function renderTable() {
  renderHead();
  const runs = sortedRuns(visibleRuns());
  const body = $("runs-body");
  body.replaceChildren(...runs.map(renderRow));
  if (!runs.length) {
    const why = state.runs.length ? "no run matches the filter" : "no runs under this root yet: train one with `deepscope train CONFIG`";
    body.append(node("tr", {}, node("td", {colspan: allColumns().length + 1, className: "empty"}, why)));
  }
  // of every run under the root: an expression filter (test.accuracy>0.9) is applied by the server
  $("count").textContent = runs.length + " of " + state.total + " runs";
  renderColumnMenu();
}

/* ---- filtering: words match anywhere in a row; expressions (test.accuracy>0.9) go to the store ---- */

const EXPRESSION = /^[\w.:-]+\s*(>=|<=|!=|=|>|<)/;
function readFilter() {
  const words = $("filter").value.trim().split(/\s+/).filter(Boolean);
  state.text = words.filter(w => !EXPRESSION.test(w)).map(w => w.toLowerCase());
  return words.filter(w => EXPRESSION.test(w));
}
let filterTimer = null;
function onFilter() {
  const where = readFilter();
  const key = where.join("\n");
  if (key === state.where) { renderTable(); return; }
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => { state.where = key; loadRuns(); }, 250);
}
async function loadRuns() {
  const query = new URLSearchParams();
  for (const expression of state.where ? state.where.split("\n") : []) query.append("where", expression);
  try {
    const body = await getJSON("/api/runs?" + query);
    showError("");
    state.runs = body.runs;
    state.total = body.total ?? body.runs.length;
    state.directions = body.directions || {};
    state.metricKeys = body.columns || [];
    state.columns = chooseColumns(state.metricKeys, body.runs);
    renderTable();
  } catch (error) {
    showError("filter: " + error.message);
  }
}
async function refresh() {
  // runs still training have more epochs now: forget the curves fetched so far
  state.names = {};
  state.series = {};
  await loadRuns();
  const known = new Set(state.runs.map(r => r.name));
  state.selected = state.selected.filter(n => known.has(n));
  renderTable();
  updateComparison();
}

/* ---- comparison: pick runs, pick a metric, overlaid curves ---- */

function toggle(name, on) {
  state.selected = state.selected.filter(n => n !== name);
  if (on) state.selected.push(name);
  for (const row of document.querySelectorAll("#runs-body tr[data-run]")) {
    row.classList.toggle("selected", state.selected.includes(row.dataset.run));
  }
  updateComparison();
}
function syncURL() {
  // the address names the comparison, so it can be bookmarked or sent
  const pairs = state.selected.map(n => ["select", n]).concat(state.metric && state.selected.length ? [["metric", state.metric]] : []);
  history.replaceState(null, "", pairs.length ? "?" + new URLSearchParams(pairs) : location.pathname);
}
async function metricNames(name) {
  if (!state.names[name]) state.names[name] = getJSON(apiRun(name) + "/metrics").then(b => b.metrics);
  return state.names[name];
}
async function series(name, metric) {
  // {points: [[step, value], ...], direction: "min" | "max" | null}
  const key = name + "\n" + metric;
  if (!state.series[key]) state.series[key] = getJSON(apiRun(name) + "/metrics/" + encodeURIComponent(metric));
  return state.series[key];
}
async function updateComparison() {
  const chosen = state.selected.slice();
  $("selection-note").textContent = chosen.length ? chosen.length + " selected" : "";
  try {
    const lists = await Promise.all(chosen.map(metricNames));
    const names = [...new Set(lists.flat())].sort();
    if (!names.includes(state.metric)) {
      state.metric = ["val.loss", "train.loss", "val.accuracy"].find(n => names.includes(n)) || names[0] || null;
    }
    const select = $("metric");
    select.replaceChildren(...names.map(n => node("option", {value: n}, n)));
    select.disabled = !names.length;
    if (state.metric) select.value = state.metric;
    const curves = await Promise.all(chosen.map(async name => {
      const found = state.metric ? await series(name, state.metric) : {points: [], direction: null};
      return {name, points: found.points, direction: found.direction};
    }));
    if (String(chosen) === String(state.selected)) { drawChart(curves, state.metric); syncURL(); }
  } catch (error) {
    $("chart").replaceChildren(node("div", {className: "error"}, "comparison: " + error.message));
  }
}

function niceStep(span, count) {
  const raw = span / Math.max(count, 1), power = Math.pow(10, Math.floor(Math.log10(raw)));
  const unit = raw / power;
  return power * (unit < 1.5 ? 1 : unit < 3 ? 2 : unit < 7 ? 5 : 10);
}
function ticks(low, high, count) {
  const step = niceStep(high - low, count), out = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}
function logTicks(low, high) {
  const out = [];
  for (let e = Math.floor(Math.log10(low)); e <= Math.ceil(Math.log10(high)); e++) {
    for (const m of [1, 2, 5]) { const v = m * Math.pow(10, e); if (v >= low && v <= high) out.push(v); }
  }
  return out;
}
function drawChart(curves, metric) {
  const chart = $("chart");
  if (!curves.length) { chart.replaceChildren(node("div", {className: "empty"}, "tick runs in the table to see their curves here, one over the other")); return; }
  const logY = $("logy").checked;
  const usable = p => p[0] !== null && p[1] !== null && (!logY || p[1] > 0);
  const points = curves.flatMap(c => c.points.filter(usable));
  if (!metric || !points.length) {
    chart.replaceChildren(node("div", {className: "empty"}, metric ? "the selected runs have no " + metric + " values" + (logY ? " above 0" : "") : "the selected runs have no metrics"));
    return;
  }
  const W = Math.max(chart.clientWidth || 900, 480), H = 360, left = 64, right = 20, top = 14, bottom = 44;
  let [x0, x1] = [Math.min(...points.map(p => p[0])), Math.max(...points.map(p => p[0]))];
  let [y0, y1] = [Math.min(...points.map(p => p[1])), Math.max(...points.map(p => p[1]))];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { const pad = Math.abs(y0) * 0.1 || 1; y0 -= logY ? y0 / 2 : pad; y1 += logY ? y1 : pad; }
  if (!logY) { const pad = (y1 - y0) * 0.05; y0 -= pad; y1 += pad; }
  const fy = logY ? Math.log10 : (v => v);
  const sx = x => left + (x - x0) / (x1 - x0) * (W - left - right);
  const sy = y => top + (1 - (fy(y) - fy(y0)) / (fy(y1) - fy(y0))) * (H - top - bottom);
  const parts = [`<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(metric)} by epoch${logY ? " (log)" : ""}">`];
  parts.push('<g class="grid">');
  const yTicks = logY ? logTicks(y0, y1) : ticks(y0, y1, 6), xTicks = ticks(x0, x1, 10).filter(Number.isInteger);
  for (const t of yTicks) parts.push(`<line x1="${left}" x2="${W - right}" y1="${sy(t)}" y2="${sy(t)}"/>`);
  parts.push('</g><g class="axis">');
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${H - bottom}"/><line x1="${left}" x2="${W - right}" y1="${H - bottom}" y2="${H - bottom}"/>`);
  for (const t of yTicks) parts.push(`<text x="${left - 6}" y="${sy(t) + 4}" text-anchor="end">${esc(fmt(t))}</text>`);
  for (const t of xTicks) parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${H - bottom}" y2="${H - bottom + 4}"/><text x="${sx(t)}" y="${H - bottom + 17}" text-anchor="middle">${esc(fmt(t))}</text>`);
  parts.push(`<text class="label" x="${(left + W - right) / 2}" y="${H - 6}" text-anchor="middle">epoch</text>`);
  parts.push(`<text class="label" transform="translate(14 ${(top + H - bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(metric)}${logY ? " (log)" : ""}</text></g>`);
  const legend = [];
  curves.forEach((curve, i) => {
    const color = COLORS[i % COLORS.length], shown = curve.points.filter(usable);
    // a missing value (NaN logged as null) breaks the line instead of joining across it
    let d = "", pen = "M";
    for (const p of curve.points) {
      if (!usable(p)) { pen = "M"; continue; }
      d += `${pen}${sx(p[0]).toFixed(1)} ${sy(p[1]).toFixed(1)} `;
      pen = "L";
    }
    if (shown.length) {
      parts.push(`<path class="series" data-run="${esc(curve.name)}" data-points="${shown.length}" stroke="${color}" d="${d.trim()}"/>`);
      if (shown.length <= 200) {
        parts.push(`<g fill="${color}">` + shown.map(p => `<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.5"><title>${esc(curve.name)}\nepoch ${esc(fmt(p[0]))}: ${esc(fmt(p[1]))}</title></circle>`).join("") + "</g>");
      }
    }
    legend.push(`<li data-run="${esc(curve.name)}"><span class="swatch" data-color="${color}"></span><span class="name">${esc(curve.name)}</span>` +
                `<span>${esc(settings(curve.name))}</span>` +
                `<span class="muted">${shown.length ? summaryOf(curve.direction, shown) : "no " + esc(metric)}</span></li>`);
  });
  parts.push("</svg>");
  chart.innerHTML = parts.join("") + '<ul class="legend">' + legend.join("") + "</ul>";
  // the swatches' colours through the style object, not style="" markup: the policy refuses inline styles
  for (const swatch of chart.querySelectorAll(".swatch[data-color]")) swatch.style.background = swatch.dataset.color;
}
function settings(name) {
  // what sets this run apart from the other runs in the chart (e.g. optimizer.lr=0.001)
  const run = state.runs.find(r => r.name === name);
  const compared = state.selected.map(n => state.runs.find(r => r.name === n)).filter(Boolean);
  if (!run) return "";
  return varyingParams(compared).slice(0, 3)
    .map(key => settingLabel(key) + "=" + fmt((run.params || {})[key])).join(" ");
}
function summaryOf(direction, points) {
  // "best" only for a score: the server says which way is better; lr or time have no best
  const last = "last " + esc(fmt(points[points.length - 1][1]));
  const value = best(direction, points);
  return value === null ? last : last + ", best " + esc(fmt(value));
}
function best(direction, points) {
  const values = points.map(p => p[1]);
  if (direction === "min") return Math.min(...values);
  if (direction === "max") return Math.max(...values);
  return null;
}

/* ---- start ---- */

async function start() {
  $("filter").addEventListener("input", onFilter);
  $("refresh").addEventListener("click", refresh);
  $("metric").addEventListener("change", () => { state.metric = $("metric").value; updateComparison(); });
  $("logy").addEventListener("change", updateComparison);
  let resizeTimer = null;
  window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(updateComparison, 200); });
  const query = new URLSearchParams(location.search);
  state.metric = query.get("metric");
  await loadRuns();
  const known = new Set(state.runs.map(r => r.name));
  state.selected = query.getAll("select").filter(n => known.has(n));
  renderTable();
  updateComparison();
}
start();
