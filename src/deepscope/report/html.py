"""HTML building blocks of the report: escaping, the page shell with its inline CSS, tables, notes, images.

Everything a run holds is user text (config values, column names, class labels, file paths), so every value
goes through `escape`. The page loads nothing: the CSS is inline, plots are inline SVG, images are data: URIs.

    page("mnist-20261130", section("summary", "Summary", table(["metric", "value"], [["accuracy", "0.99"]])))
"""

from __future__ import annotations

import base64
import html
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from deepscope.formats import table_number

BODY_START, BODY_END = "<!-- deepscope-report-body -->", "<!-- /deepscope-report-body -->"

# Scoped under .ds-report so that the dashboard can embed the body (with this style) in its own page.
CSS = """
.ds-report { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --soft: #f5f7fa; --accent: #2563eb;
  --good: #15803d; --bad: #b91c1c; --warn: #b45309;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); max-width: 1180px; margin: 0 auto; padding: 16px 24px 48px; }
.ds-report h1 { font-size: 26px; margin: 8px 0 4px; word-break: break-all; }
.ds-report h2 { font-size: 20px; margin: 0 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
.ds-report h3 { font-size: 16px; margin: 18px 0 8px; }
.ds-report section { margin: 28px 0; }
.ds-report p { margin: 6px 0; }
.ds-report .muted { color: var(--muted); }
.ds-report nav { display: flex; flex-wrap: wrap; gap: 6px 14px; padding: 8px 0; border-bottom: 1px solid var(--line); }
.ds-report nav a { color: var(--accent); text-decoration: none; font-size: 14px; }
.ds-report table { border-collapse: collapse; margin: 6px 0 12px; font-size: 14px; }
.ds-report th, .ds-report td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
.ds-report th { background: var(--soft); font-weight: 600; }
.ds-report td.num, .ds-report th.num { text-align: right; font-variant-numeric: tabular-nums; }
.ds-report .scroll { overflow-x: auto; max-width: 100%; }
.ds-report pre { background: var(--soft); border: 1px solid var(--line); padding: 10px; overflow-x: auto;
  font-size: 13px; line-height: 1.4; max-height: 480px; }
.ds-report .note { background: var(--soft); border-left: 4px solid var(--muted); padding: 8px 12px; margin: 8px 0; }
.ds-report .problem { background: #fef2f2; border-left: 4px solid var(--bad); padding: 8px 12px; margin: 8px 0; }
.ds-report .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 13px; font-weight: 600;
  color: #fff; background: var(--muted); vertical-align: middle; }
.ds-report .badge.finished, .ds-report .badge.info { background: var(--accent); }
.ds-report .badge.incomplete, .ds-report .badge.error { background: var(--bad); }
.ds-report .badge.running, .ds-report .badge.warning { background: var(--warn); }
.ds-report .cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; }
.ds-report .card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 120px; }
.ds-report .card .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.ds-report .card .label { font-size: 13px; color: var(--muted); }
.ds-report figure { margin: 8px 0 16px; }
.ds-report figure svg { display: block; max-width: 100%; height: auto; }
.ds-report figure svg * { stroke-linejoin: round; stroke-linecap: butt; }
.ds-report figcaption { font-size: 13px; color: var(--muted); max-width: 900px; }
.ds-report .finding { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 10px 0; }
.ds-report .finding h3 { margin: 2px 0 6px; }
.ds-report details.finding > summary { font-weight: 600; color: var(--ink); margin: 2px 0; }
.ds-report details.finding[open] > summary { margin-bottom: 6px; }
.ds-report .examples { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; }
.ds-report .examples.wide { grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); }
.ds-report .example { border: 1px solid var(--line); border-radius: 6px; padding: 6px; font-size: 13px;
  overflow-wrap: anywhere; }
.ds-report .example.wrong { border-color: var(--bad); background: #fff7f7; }
.ds-report .example img { display: block; width: 100%; max-width: 320px; height: auto; margin: 0 auto 4px; }
.ds-report .example img.pixels { image-rendering: pixelated; max-width: 112px; }
.ds-report .example img.spectrogram { max-width: 320px; }
.ds-report .example .text { font-size: 14px; margin-bottom: 4px; }
.ds-report .example table { font-size: 12px; margin: 0 0 4px; }
.ds-report .right { color: var(--good); font-weight: 600; }
.ds-report .wrongmark { color: var(--bad); font-weight: 600; }
.ds-report details > summary { cursor: pointer; color: var(--accent); margin: 8px 0; font-weight: 600; }
.ds-report .cm td { text-align: right; min-width: 34px; font-variant-numeric: tabular-nums; }
"""

PAGE_CSS = "body { margin: 0; background: #fff; }"


def escape(value: Any) -> str:
    """Any value as safe HTML text. "://" is written with an entity, so a URL in user text reads the same but can
    never become a reference to fetch (and an offline check that scans the page for URLs stays exact). A file name
    that is not UTF-8 (its bytes kept as surrogates by Python) is shown with replacement characters."""
    text = str(value).encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return html.escape(text, quote=True).replace("://", "&#58;//")


def page(title: str, body: str) -> str:
    """The whole self-contained document around a report body."""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)}</title>\n<style>{PAGE_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def body(sections: Iterable[str]) -> str:
    """The report body: its own <style> (scoped to .ds-report) and the sections, between markers that
    `body_of` finds again in a written report.html."""
    content = "\n".join(sections)
    return f"{BODY_START}\n<div class=\"ds-report\">\n<style>{CSS}</style>\n{content}\n</div>\n{BODY_END}"


def body_of(document: str) -> str:
    """The body of a written report.html (for embedding it without rendering it again)."""
    start, end = document.find(BODY_START), document.find(BODY_END)
    return document[start:end + len(BODY_END)] if start >= 0 and end > start else ""


def section(anchor: str, title: str, content: str) -> str:
    return f"<section id=\"{escape(anchor)}\">\n<h2>{escape(title)}</h2>\n{content}\n</section>"


def note(text: str, kind: str = "note") -> str:
    """A boxed remark: kind "note" (grey) or "problem" (red). `text` is escaped."""
    return f"<div class=\"{kind}\">{escape(text)}</div>"


def paragraph(text: str, css: str = "") -> str:
    css_attr = f" class=\"{css}\"" if css else ""
    return f"<p{css_attr}>{escape(text)}</p>"


def badge(text: str, kind: str) -> str:
    return f"<span class=\"badge {escape(kind)}\">{escape(text)}</span>"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: Sequence[bool] | None = None,
          raw: bool = False, css: str = "") -> str:
    """A table; cells are escaped unless `raw` (then they are HTML made by this package). Numbers are formatted
    with `number` and right-aligned."""
    head = "".join(f"<th{_align(numeric, i)}>{escape(h)}</th>" for i, h in enumerate(header))
    lines = []
    for row in rows:
        cells = []
        for cell in row:
            is_number = _is_number(cell)
            text = number(cell) if is_number else (str(cell) if raw else escape(cell))
            cells.append(f"<td{NUMERIC if is_number else ''}>{text}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    css_attr = f" class=\"{css}\"" if css else ""
    return f"<div class=\"scroll\"><table{css_attr}><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(lines) + \
        "\n</tbody></table></div>"


NUMERIC = " class=\"num\""


def _align(numeric: Sequence[bool] | None, i: int) -> str:
    return NUMERIC if numeric and i < len(numeric) and numeric[i] else ""


def key_values(pairs: Iterable[tuple[str, Any]]) -> str:
    """A two-column table without a header: a name in bold, its value."""
    rows = "".join(f"<tr><th>{escape(k)}</th><td{NUMERIC if _is_number(v) else ''}>{number(v)}</td></tr>"
                   for k, v in pairs)
    return f"<div class=\"scroll\"><table><tbody>{rows}</tbody></table></div>"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number(value: Any) -> str:
    """A number as the tables of the report show it (`deepscope.formats.table_number`); anything else escaped."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return escape(value)
    return table_number(value)


def cards(items: Iterable[tuple[str, Any]]) -> str:
    """Big numbers with a label underneath: the headline metrics."""
    parts = [f"<div class=\"card\"><div class=\"value\">{number(v)}</div><div class=\"label\">{escape(k)}</div></div>"
             for k, v in items]
    return "<div class=\"cards\">" + "".join(parts) + "</div>" if parts else ""


def drawn_png(draw: Callable[[Path], Path]) -> bytes:
    """The PNG bytes a report/explain_plots function writes (it writes files; the page embeds them)."""
    with tempfile.TemporaryDirectory(prefix="deepscope-report-") as folder:
        return draw(Path(folder) / "picture.png").read_bytes()


def image(png: bytes, alt: str, css: str = "") -> str:
    """An <img> whose pixels travel inside the page as a data: URI."""
    data = base64.b64encode(png).decode("ascii")
    css_attr = f" class=\"{css}\"" if css else ""
    return f"<img{css_attr} alt=\"{escape(alt)}\" src=\"data:image/png;base64,{data}\">"


def figure(svg_or_img: str, caption: str = "") -> str:
    """A plot (inline SVG or <img>) with an escaped caption."""
    return f"<figure>{svg_or_img}" + (f"<figcaption>{escape(caption)}</figcaption>" if caption else "") + "</figure>"


def bullet_list(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>"
