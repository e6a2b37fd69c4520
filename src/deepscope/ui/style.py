"""The dashboard's stylesheet, inlined into every page: the dashboard must work offline, so no fonts or files
are fetched; system fonts only."""

CSS = """
:root {
  --ink: #1d2430; --muted: #5b6574; --line: #d9dee6; --soft: #f4f6f9; --accent: #2f5fd0;
  --good: #1d7a46; --good-bg: #e3f4ea; --warn: #8a5a00; --warn-bg: #fff1d6; --bad: #a52a2a; --bad-bg: #fde8e8;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: #fff; }
header.top { display: flex; align-items: baseline; gap: 14px; padding: 10px 24px; background: #1d2430; color: #fff; }
header.top a { color: #fff; text-decoration: none; }
header.top .brand { font-weight: 700; font-size: 16px; letter-spacing: .02em; }
header.top .where { color: #b8c2d3; font-size: 12px; font-family: ui-monospace, monospace; }
main { padding: 16px 24px 40px; max-width: 1400px; }
main > h1 { font-size: 20px; margin: 4px 0 12px; word-break: break-all; }
.panel h2 { font-size: 16px; margin: 0; }
a { color: var(--accent); }
.panel { border: 1px solid var(--line); border-radius: 8px; margin-bottom: 18px; background: #fff; }
.panel > .bar { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; padding: 10px 14px;
                border-bottom: 1px solid var(--line); background: var(--soft); border-radius: 8px 8px 0 0; }
.panel > .body { padding: 10px 14px; }
.bar .spacer { flex: 1; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
input[type=search] { width: 420px; max-width: 100%; padding: 6px 9px; border: 1px solid var(--line); border-radius: 6px;
                     font: inherit; }
select, button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
button { cursor: pointer; }
button:hover { border-color: var(--accent); }
.scroll { overflow-x: auto; }
/* scoped: the embedded report brings its own table style */
table.runs, table.kv { border-collapse: collapse; }
table.runs { width: 100%; }
table.runs th, table.runs td, table.kv td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
table.runs th { font-weight: 600; white-space: nowrap; font-size: 13px; color: var(--muted); }
table.runs th.sortable { cursor: pointer; user-select: none; }
table.runs th.sortable:hover { color: var(--ink); }
table.runs th .arrow { display: inline-block; width: 1em; color: var(--accent); }
table.runs td.num, table.runs th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.runs tbody tr:hover { background: #f8fafc; }
table.runs tbody tr.selected { background: #eef3ff; }
table.runs td.name, table.runs td.when { white-space: nowrap; }
table.runs td.status { min-width: 210px; }
table.runs td.name a { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13px; text-decoration: none; }
table.runs td.name a:hover { text-decoration: underline; }
table.runs td.check, table.runs th.check { width: 28px; padding-right: 0; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.badge.finished { color: var(--good); background: var(--good-bg); }
.badge.running { color: var(--warn); background: var(--warn-bg); }
.badge.incomplete { color: var(--bad); background: var(--bad-bg); }
.reason { color: var(--bad); font-size: 12px; margin-top: 2px; max-width: 420px; }
.error { color: var(--bad); background: var(--bad-bg); border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.notice { color: var(--warn); background: var(--warn-bg); border-radius: 6px; padding: 8px 12px; margin: 8px 0; }
.empty { padding: 18px; color: var(--muted); text-align: center; }
#chart svg { display: block; width: 100%; height: auto; }
#chart .axis line, #chart .axis path { stroke: #9aa3b1; }
#chart .grid line { stroke: #eceff4; }
#chart text { fill: var(--muted); font-size: 11px; }
#chart text.label { fill: var(--ink); font-size: 12px; }
#chart path.series { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 6px 20px; padding: 0; margin: 8px 0 0; }
ul.legend li { display: flex; align-items: center; gap: 6px; font-size: 13px; }
ul.legend .swatch { width: 18px; height: 3px; border-radius: 2px; display: inline-block; }
ul.legend .name { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
nav.runbar { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 16px; padding: 4px 0 10px;
             border-bottom: 1px solid var(--line); margin-bottom: 8px; }
nav.runbar a { text-decoration: none; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-all; }
table.kv td { padding: 3px 10px; font-size: 13px; }
table.kv td:first-child { color: var(--muted); font-family: ui-monospace, monospace; white-space: nowrap; }
.panel details > summary { cursor: pointer; color: var(--accent); margin: 8px 0; }
pre.trace { white-space: pre-wrap; font-size: 12px; background: var(--soft); padding: 8px; border-radius: 6px; }
"""
