"""The dashboard's pages of hyperparameter searches (`deepscope tune`): the studies of the root, and one study with
its best value so far over the trials (an SVG drawn here: the page needs no script), the importance of each
setting and the table of trials, each linked to its run.

Everything that comes from a study (names, values, errors) is escaped; the chart is SVG attributes only, so the
dashboard's Content-Security-Policy (no inline script or style) holds.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from deepscope.formats import table_number
from deepscope.ui.pages import layout

WIDTH, HEIGHT, MARGIN = 640, 220, 40  # the chart, in pixels


def studies_page(root: Path, studies: list[dict[str, Any]], note: str | None = None) -> str:
    """A table of the studies: trials by state, the best value and its trial."""
    if note:
        body = f"<h1>Studies</h1><div class=\"notice\">{escape(note)}</div>"
        return layout("studies · deepscope", root, body)
    if not studies:
        body = ("<h1>Studies</h1><p>No study in this run root yet: <code>deepscope tune CONFIG</code> keeps one here "
                "(a config with a <code>tune:</code> section).</p>")
        return layout("studies · deepscope", root, body)
    rows = []
    for study in studies:
        link = f"<a href=\"/studies/{quote(study['name'], safe='')}\">{escape(study['name'])}</a>"
        if study.get("error"):
            rows.append(f"<tr><td class=\"name\">{link}</td><td colspan=\"4\" class=\"error\">"
                        f"{escape(study['error'])}</td></tr>")
            continue
        best = study.get("best") or {}
        rows.append(f"<tr><td class=\"name\">{link}</td><td>{escape(str(study.get('metric')))} "
                    f"({escape(study['direction'])})</td><td>{escape(_counts(study['counts']))}</td>"
                    f"<td class=\"num\">{escape(table_number(best.get('value')))}</td>"
                    f"<td class=\"num\">{escape(str(best.get('number', '')))}</td></tr>")
    body = ("<section class=\"panel\"><div class=\"bar\"><h2>Studies</h2></div><div class=\"scroll\">"
            "<table class=\"runs\" id=\"studies\"><thead><tr><th>study</th><th>objective</th><th>trials</th>"
            "<th class=\"num\">best</th><th class=\"num\">best trial</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></div></section>")
    return layout("studies · deepscope", root, body)


def study_page(root: Path, view: dict[str, Any]) -> str:
    name, best = view["name"], view.get("best")
    facts = [("objective", f"{view.get('metric')} ({view['direction']})"), ("trials", _counts(view["counts"]))]
    if best:
        facts.append(("best", f"{table_number(best['value'])} at trial {best['number']}"))
    parts = ["<nav class=\"runbar\"><a href=\"/studies\">&larr; all studies</a> <a href=\"/\">runs</a></nav>",
             f"<h1>Study {escape(name)}</h1>", "<section class=\"panel\"><div class=\"body\"><dl class=\"facts\">",
             *(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts), "</dl></div></section>",
             _panel("Best so far", best_so_far_chart(view)), _panel("Parameter importance", importance_table(view)),
             _panel("Trials", trials_table(view))]
    return layout(f"{name} · studies · deepscope", root, "\n".join(parts))


def _panel(title: str, body: str) -> str:
    return (f"<section class=\"panel\"><div class=\"bar\"><h2>{escape(title)}</h2></div>"
            f"<div class=\"body\">{body}</div></section>")


def _counts(counts: dict[str, int]) -> str:
    shown = [f"{n} {state}" for state, n in counts.items() if n]
    return f"{sum(counts.values())}: {', '.join(shown)}" if shown else "none yet"


def best_so_far_chart(view: dict[str, Any]) -> str:
    """Every trial's value as a dot (filled: complete; hollow: pruned, its saved model's value), and the best
    complete value so far as a step line, trial number across."""
    points = view.get("best_so_far") or []
    dots = [(t["number"], t["value"], t["state"]) for t in view["trials"] if t["value"] is not None
            and t["state"] in ("complete", "pruned")]
    if not points:
        return "<p class=\"muted\">no trial has finished yet</p>"
    numbers = [n for n, _, _ in dots] + [n for n, _ in points]
    values = [v for _, v, _ in dots] + [v for _, v in points]
    x0, x1 = min(numbers), max(max(numbers), min(numbers) + 1)
    y0, y1 = min(values), max(values)
    y1 = y1 if y1 > y0 else y0 + 1

    def xy(number: float, value: float) -> tuple[float, float]:
        x = MARGIN + (number - x0) / (x1 - x0) * (WIDTH - 2 * MARGIN)
        return x, HEIGHT - MARGIN - (value - y0) / (y1 - y0) * (HEIGHT - 2 * MARGIN)

    steps = []
    for (number, value), (following, _) in zip(points, [*points[1:], (points[-1][0], None)]):
        steps += [xy(number, value), xy(following, value)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in steps)
    circles = []
    for n, v, state in dots:
        (x, y), colour = xy(n, v), "#3a6ff7" if state == "complete" else "#9aa4b2"
        fill = colour if state == "complete" else "none"
        circles.append(f"<circle cx=\"{x:.1f}\" cy=\"{y:.1f}\" r=\"3.5\" fill=\"{fill}\" stroke=\"{colour}\">"
                       f"<title>trial {n} ({state}): {escape(table_number(v))}</title></circle>")
    labels = (f"<text x=\"{MARGIN}\" y=\"{HEIGHT - 10}\" font-size=\"11\">trial {x0}</text>"
              f"<text x=\"{WIDTH - MARGIN}\" y=\"{HEIGHT - 10}\" font-size=\"11\" text-anchor=\"end\">trial {x1}</text>"
              f"<text x=\"4\" y=\"{MARGIN - 8}\" font-size=\"11\">{escape(table_number(y1))}</text>"
              f"<text x=\"4\" y=\"{HEIGHT - MARGIN + 14}\" font-size=\"11\">{escape(table_number(y0))}</text>")
    return (f"<svg id=\"best-so-far\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" "
            f"role=\"img\" aria-label=\"best {escape(str(view.get('metric')))} so far over the trials\">"
            f"<polyline points=\"{line}\" fill=\"none\" stroke=\"#1d2430\" stroke-width=\"2\"/>"
            f"{''.join(circles)}{labels}</svg><p class=\"muted small\">line: the best so far; dots: each trial "
            "(hollow: pruned, its model's value when it stopped)</p>")


def importance_table(view: dict[str, Any]) -> str:
    found = view.get("importance")
    if not found:
        return f"<p class=\"muted\">{escape(view.get('importance_note') or 'no parameter importance')}</p>"
    rows = "".join(f"<tr><td>{escape(key)}</td><td><meter min=\"0\" max=\"1\" value=\"{share:.4f}\"></meter></td>"
                   f"<td class=\"num\">{share:.2f}</td></tr>" for key, share in found.items())
    return (f"<table class=\"kv\" id=\"importance\">{rows}</table><p class=\"muted small\">the share of the "
            "objective's variance each setting explains over the finished trials (Optuna's fANOVA)</p>")


def trials_table(view: dict[str, Any]) -> str:
    keys = list(dict.fromkeys(k for t in view["trials"] for k in t["params"]))
    head = "".join(f"<th>{escape(k)}</th>" for k in keys)
    rows = []
    for t in sorted(view["trials"], key=lambda t: t["number"]):
        run = (f"<a href=\"/runs/{quote(t['run'], safe='')}\">{escape(t['run'])}</a>" if t.get("run") else "")
        state = escape(t["state"]) + (f" after epoch {t['pruned_epoch']}" if t.get("pruned_epoch") else "")
        why = f"<br><span class=\"reason\">{escape(t['error'])}</span>" if t.get("error") else ""
        cells = "".join(f"<td>{escape(_value(t['params'].get(k)))}</td>" for k in keys)
        rows.append(f"<tr><td class=\"num\">{t['number']}</td><td><span class=\"badge {escape(t['state'])}\">"
                    f"{state}</span>{why}</td><td class=\"num\">{escape(table_number(t['value']))}</td>{cells}"
                    f"<td class=\"name\">{run}</td></tr>")
    return (f"<div class=\"scroll\"><table class=\"runs\" id=\"trials\"><thead><tr><th class=\"num\">trial</th>"
            f"<th>state</th><th class=\"num\">{escape(str(view.get('metric')))}</th>{head}<th>run</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div>")


def _value(value: Any) -> str:
    return "" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)
