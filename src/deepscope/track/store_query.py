"""Filters and sorting of run-store rows: `where` expressions ("test.accuracy>0.9", "status=finished",
"train.optimizer.name=adam", "tag:group=a") and sort keys over a row's fields, metrics, params and tags."""

from __future__ import annotations

import difflib
import json
import math
import re
from typing import Any

from deepscope.errors import UserError

FIELDS = ("name", "status", "task", "started", "path")  # row fields a filter or a sort can name directly
OPERATORS = (">=", "<=", "!=", "==", "=", ">", "<", "~")
WHERE = re.compile(r"^\s*(?P<key>[^<>=!~]*?)\s*(?P<op>>=|<=|!=|==|=|>|<|~)\s*(?P<value>.*?)\s*$")
WHERE_HELP = ("write KEY OP VALUE with OP one of = != > >= < <= ~ (contains), e.g. test.accuracy>0.9, "
              "status=finished, train.optimizer.name=adam, tag:group=a")


def parse_where(expression: str) -> tuple[str, str, str, str]:
    match = WHERE.match(expression)
    if match is None or not match["key"]:
        raise UserError(f"where {expression!r}: {WHERE_HELP}")
    op = "=" if match["op"] == "==" else match["op"]
    return expression, match["key"], op, match["value"]


def lookup(row: dict[str, Any], key: str) -> Any:
    """A row's value for a filter or sort key: a field, tag:KEY, metric:KEY, param:KEY, else a metric, else a
    param; None if the run has none."""
    if key in FIELDS:
        return row.get(key)
    for prefix, section in (("tag:", "tags"), ("metric:", "metrics"), ("param:", "params")):
        if key.startswith(prefix):
            return row[section].get(key[len(prefix):])
    return row["metrics"].get(key, row["params"].get(key))


def check_key(rows: list[dict[str, Any]], key: str, where: str) -> None:
    if not rows or key in FIELDS or any(lookup(row, key) is not None for row in rows):
        return
    known = {*FIELDS, *(k for r in rows for k in r["metrics"]), *(k for r in rows for k in r["params"]),
             *(f"tag:{k}" for r in rows for k in r["tags"])}
    close = difflib.get_close_matches(key, sorted(known), n=3)
    hint = f"did you mean {' or '.join(close)}?" if close else "`deepscope runs show RUN` lists a run's keys"
    raise UserError(f"{where}: no run has a field, metric, param or tag {key!r}; {hint}")


def matches(actual: Any, op: str, wanted: str) -> bool:
    if actual is None:
        return False
    if op == "~":
        return wanted.lower() in _text(actual).lower()
    a, b = as_number(actual), _float(wanted)
    if a is not None and b is not None:
        left, right = a, b  # numbers compare as numbers: 0.9 < 0.95, lr=0.01 matches 0.010
    elif a is None and b is None or op in ("=", "!="):
        left, right = _text(actual), wanted
    else:
        return False  # a number against a word: no order between them
    return {"=": left == right, "!=": left != right, ">": left > right, ">=": left >= right,
            "<": left < right, "<=": left <= right}[op]


def sorted_rows(rows: list[dict[str, Any]], key: str | None, descending: bool) -> list[dict[str, Any]]:
    """Rows by `key` (numbers as numbers), those without it last whatever the direction; default, and among
    equals, newest first."""
    newest_first = descending or key is not None  # sorting by a key is stable: equals stay newest first
    rows = sorted(rows, key=lambda r: (r["started"] or "", r["updated"] or 0, r["name"]), reverse=newest_first)
    if key is None:
        return rows
    present = [r for r in rows if not _missing(lookup(r, key))]
    missing = [r for r in rows if _missing(lookup(r, key))]

    def order(row: dict[str, Any]) -> tuple:
        value = lookup(row, key)
        number = as_number(value)
        return (0, number, "") if number is not None else (1, 0.0, _text(value))
    return sorted(present, key=order, reverse=descending) + missing


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))  # NaN has no place in an order


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def as_number(value: Any) -> float | None:
    """A metric value as a float; None for what is not a number (strings, lists, booleans)."""
    if isinstance(value, (bool, str, bytes)) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer of hundreds of digits
        return None
