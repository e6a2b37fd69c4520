"""The dashboard's HTML pages, built as strings. Their stylesheet and script are files this server serves
(`deepscope.ui.assets`), never inline markup, and nothing is fetched from elsewhere, so the pages work offline
and a strict Content-Security-Policy can forbid inline script. A page's script reads what it needs from the API
(or from `data-*` attributes), not from values written into a <script>.

Text that comes from a run (its name, reasons, parameters, an error message) is escaped before it enters the
markup. A run's report is never part of a page: it is framed from its own address, in an <iframe sandbox> (no
script, an opaque origin), since a report.html found in a run folder may be anyone's HTML.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from deepscope.formats import table_number
from deepscope.ui import assets
from deepscope.ui.embed import Embedded
from deepscope.ui.security import FRAME_SANDBOX, REPORT_ROUTE


def layout(title: str, root: Path, body: str, script: str | None = None) -> str:
    """A whole page: the shared header and stylesheet around `body`, then the named script (an asset) if any.

    >>> page = layout("runs", Path("runs"), "<p>hi</p>", script="dashboard.js")
    >>> '<script src="/static/dashboard.js"></script>' in page, '<link rel="stylesheet"' in page
    (True, True)
    """
    # at the end of the body: the script runs once the elements it fills in exist
    script_tag = f"<script src=\"{escape(assets.url(script))}\"></script>" if script else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)}</title>"
        f"<link rel=\"stylesheet\" href=\"{escape(assets.url('dashboard.css'))}\"></head><body>"
        "<header class=\"top\"><a class=\"brand\" href=\"/\">deepscope</a>"
        f"<span class=\"where\" title=\"run root\">{escape(str(root))}</span>"
        "<a href=\"/studies\" title=\"hyperparameter searches (deepscope tune)\">studies</a></header>"
        f"<main>{body}</main>{script_tag}</body></html>"
    )


def runs_page(root: Path) -> str:
    """The runs table and, below it, the comparison of the ticked runs; both filled in by the script."""
    body = """
<section class="panel" id="runs-panel">
  <div class="bar">
    <h2>Runs</h2>
    <input type="search" id="filter" placeholder="filter: words, or test.accuracy&gt;0.9 status=finished"
           aria-label="filter runs" autocomplete="off">
    <span class="spacer"></span><span id="count" class="muted small"></span>
    <details id="columns" class="menu"><summary title="choose the settings shown as columns">columns
      <span id="column-count" class="muted small"></span></summary><div id="column-list"></div></details>
    <button id="refresh" title="read the run folders again: new runs, more epochs">Refresh</button>
  </div>
  <div id="error" class="error" hidden></div>
  <div class="scroll"><table class="runs" id="runs"><thead id="runs-head"></thead><tbody id="runs-body">
    <tr><td class="empty">loading runs…</td></tr></tbody></table></div>
  <noscript><div class="notice">The runs table needs JavaScript; the JSON is at /api/runs.</div></noscript>
</section>
<section class="panel" id="compare-panel">
  <div class="bar">
    <h2>Compare</h2>
    <label>metric <select id="metric" aria-label="metric to compare" disabled></select></label>
    <label><input type="checkbox" id="logy"> log scale</label>
    <span class="spacer"></span><span id="selection-note" class="muted small"></span>
  </div>
  <div class="body"><div id="chart"><div class="empty">tick runs in the table to see their curves here, one over the other</div></div></div>
</section>"""  # noqa: E501  (markup: wrapping the chart's placeholder line would change the HTML served)
    return layout("deepscope runs", root, body, script="dashboard.js")


def run_page(root: Path, row: dict[str, Any], report: Embedded) -> str:
    """One run. With its report: a slim bar, then the report (which opens with its own summary) in a sandboxed
    frame. Without: the run's summary from the store, and why the report is not there."""
    name = row["name"]
    if report.html:
        frame = (f"<iframe class=\"report\" sandbox=\"{FRAME_SANDBOX}\" src=\"{escape(report_url(name))}\" "
                 f"title=\"report of {escape(name)}\"></iframe>")
        return layout(f"{name} · deepscope", root, run_bar(row, report=True) + frame)
    parts = [run_bar(row, report=False), f"<h1>{escape(name)}</h1>"]
    if report.error:
        parts.append(f"<div class=\"error\"><strong>The report could not be made for this run.</strong> "
                     f"{escape(report.error)}</div>")
        if report.trace:
            parts.append(f"<details><summary>traceback</summary><pre class=\"trace\">{escape(report.trace)}</pre>"
                         "</details>")
    if report.note:
        parts.append(f"<div class=\"notice\">{escape(report.note)}</div>")
    parts.append(summary(row))
    return layout(f"{name} · deepscope", root, "\n".join(parts))


def report_url(name: str) -> str:
    """
    >>> report_url("a b")
    '/runs/a%20b/report.html'
    """
    return REPORT_ROUTE.replace("{name}", quote(name, safe=""))


def run_bar(row: dict[str, Any], report: bool) -> str:
    """Where the run sits among the others: back to the table, its status, a comparison, its report alone."""
    name, status = row["name"], str(row.get("status") or "unknown")
    links = ["<a href=\"/\">&larr; all runs</a>", f"<span class=\"badge {escape(status)}\">{escape(status)}</span>",
             f"<a href=\"/?select={quote(name)}\">compare with other runs</a>"]
    if report:
        links.append(f"<a href=\"{escape(report_url(name))}\">report.html</a>")
    if row.get("path"):
        links.append(f"<span class=\"muted small\">{escape(str(row['path']))}</span>")
    return f"<nav class=\"runbar\">{' '.join(links)}</nav>"


def summary(row: dict[str, Any]) -> str:
    status = escape(str(row.get("status")))
    facts = [("status", f"<span class=\"badge {status}\">{status}</span>")]
    problems = row.get("problems") or []
    if problems:
        facts.append(("why", "<br>".join(f"<span class=\"reason\">{escape(str(p))}</span>" for p in problems)))
    facts += [(label, escape(str(row[key]))) for key, label in (("task", "task"), ("started", "started"),
                                                                 ("path", "folder")) if row.get(key)]
    if row.get("tags"):
        facts.append(("tags", escape(", ".join(f"{k}={v}" for k, v in row["tags"].items()))))
    html = ["<section class=\"panel\"><div class=\"body\"><dl class=\"facts\">"]
    html += [f"<dt>{label}</dt><dd>{value}</dd>" for label, value in facts]
    html.append("</dl>")
    html.append(key_values("metrics (final evaluations, last values)", row.get("metrics") or {}, open_=True))
    html.append(key_values("parameters", row.get("params") or {}, open_=False))
    html.append("</div></section>")
    return "".join(html)


def key_values(title: str, values: dict[str, Any], open_: bool) -> str:
    if not values:
        return ""
    rows = "".join(f"<tr><td>{escape(str(k))}</td><td>{escape(table_number(v))}</td></tr>" for k, v in values.items())
    return (f"<details{' open' if open_ else ''}><summary>{escape(title)} ({len(values)})</summary>"
            f"<table class=\"kv\">{rows}</table></details>")


def not_found_page(root: Path, name: str) -> str:
    body = (f"<h1>No run named {escape(name)}</h1><p>It is not under {escape(str(root))}. "
            "<a href=\"/\">See all runs</a>; the runs are read again from their folders at each listing.</p>")
    return layout("run not found · deepscope", root, body)
