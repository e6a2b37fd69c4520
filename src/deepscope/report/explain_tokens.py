"""Token attributions as HTML: one line per sentence, each token on a background that says which way it pushes
(blue towards the target, red against it, as in every explanation drawing) and its score beside it.

The page is self-contained: inline CSS only, no script, no URL, every token escaped (a token is user text: a
review may well contain `<script>`). So it works opened from disk and inside the dashboard's sandboxed frame,
whose policy forbids scripts and allows inline styles. `token_attribution_body` is the same content as a fragment
(its CSS scoped under .ds-tokens) for a page that embeds it, such as the report.

    token_attribution_html([["not", "good", "at", "all"]], [[-0.8, 0.3, 0.0, -0.1]], "tokens.html",
                           titles=["negative (p=0.97)"])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deepscope.errors import DataError
from deepscope.io import atomic_write
from deepscope.report.explain_colours import AGAINST, BLUE, MAX_OPACITY, RED, TOWARDS, as_array, colour_limit, strength
from deepscope.report.html import escape

LIGHT_TEXT_FROM = 0.5  # background opacity above which a token's text turns white (dark text on strong blue fades)
INK, WHITE = "#1f2933", "#ffffff"

CSS = """
.ds-tokens { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1f2933;
  max-width: 1100px; padding: 8px 16px; }
.ds-tokens h3 { font-size: 14px; margin: 14px 0 4px; }
.ds-tokens .line { display: flex; flex-wrap: wrap; gap: 3px; margin: 0 0 6px; }
.ds-tokens .tok { display: inline-block; padding: 1px 4px; border-radius: 3px; border: 1px solid #e4e7eb;
  white-space: pre; }
.ds-tokens .tok small { font-size: 10px; margin-left: 3px; opacity: 0.8; font-variant-numeric: tabular-nums; }
.ds-tokens .legend { font-size: 13px; color: #616e7c; margin: 4px 0 10px; }
.ds-tokens .bar { display: inline-block; width: 140px; height: 10px; vertical-align: middle; margin: 0 6px;
  border: 1px solid #d9e2ec; }
"""


def token_attribution_html(sentences: Sequence[Sequence[str]], scores: Sequence[Sequence[float]] | Any,
                           path: str | Path, *, titles: Sequence[str] | None = None) -> Path:
    """Write the whole page (see the module docstring) atomically and return its path.

    Args:
        sentences: the tokens of each sentence, as the model read them.
        scores: one attribution per token, same lengths (lists, or one array per sentence).
        titles: one per sentence, e.g. "positive (p=0.98)".
    Raises:
        DataError: a sentence and its scores of different lengths, titles of another count, NaN scores.
    """
    document = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<title>token attributions</title>\n</head>\n<body>\n"
                f"{token_attribution_body(sentences, scores, titles=titles)}\n</body>\n</html>\n")
    # UTF-8 whatever the locale says: tokens are any language's text, and the page declares utf-8
    return atomic_write(path, lambda tmp: tmp.write_text(document, encoding="utf-8"))


def token_attribution_body(sentences: Sequence[Sequence[str]], scores: Sequence[Sequence[float]] | Any, *,
                           titles: Sequence[str] | None = None) -> str:
    """The page's content as an HTML fragment with its own scoped <style> (arguments as token_attribution_html)."""
    if len(scores) != len(sentences):
        raise DataError(f"token attribution: {len(scores)} score lists for {len(sentences)} sentences; give one "
                        "list of scores per sentence")
    if titles is not None and len(titles) != len(sentences):
        raise DataError(f"token attribution: {len(titles)} titles for {len(sentences)} sentences; give one title per "
                        "sentence, or none")
    parts = [f"<div class=\"ds-tokens\">\n<style>{CSS}</style>", legend()]
    for i, tokens in enumerate(sentences):
        values = as_array(scores[i], f"token attribution of sentence {i + 1}").reshape(-1)
        if len(values) != len(tokens):
            raise DataError(f"token attribution: sentence {i + 1} has {len(tokens)} tokens but {len(values)} scores; "
                            "give one score per token")
        if titles is not None:
            parts.append(f"<h3>{escape(titles[i])}</h3>")
        parts.append(sentence_line(list(tokens), values))
    parts.append("</div>")
    return "\n".join(parts)


def sentence_line(tokens: list[str], values: np.ndarray) -> str:
    """One sentence: a box per token, coloured on the sentence's own scale, its score beside it."""
    limit = colour_limit(values)
    boxes = []
    for token, value in zip(tokens, values):
        background, ink = token_colours(float(value), limit)
        boxes.append(f"<span class=\"tok\" style=\"background:{background};color:{ink}\" "
                     f"title=\"{float(value):.6g}\">{escape(token)}<small>{score_label(float(value))}</small></span>")
    return f"<p class=\"line\">{''.join(boxes)}</p>"


def token_colours(value: float, limit: float) -> tuple[str, str]:
    """(background, text colour) as #rrggbb: white blended with blue or red as far as |value| / limit."""
    opacity = MAX_OPACITY * float(strength(np.asarray(value), limit))
    hue = _rgb(BLUE if value >= 0 else RED)
    mixed = [round(255 * (1 - opacity) + channel * opacity) for channel in hue]
    return "#" + "".join(f"{c:02x}" for c in mixed), WHITE if opacity > LIGHT_TEXT_FROM else INK


def score_label(value: float) -> str:
    """A token's score as printed beside it: signed, two significant digits ("+0.12", "-0.031", "+0")."""
    return f"{value:+.2g}"


def legend() -> str:
    gradient = f"linear-gradient(to right, {RED}, #ffffff, {BLUE})"
    return (f"<p class=\"legend\">red: {AGAINST}<span class=\"bar\" style=\"background:{gradient}\"></span>"
            f"blue: {TOWARDS}. Each sentence on its own scale (its strongest token in full colour); the small "
            "number beside each token is its attribution.</p>")


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
