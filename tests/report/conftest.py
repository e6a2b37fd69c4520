"""Helpers for reading a report's HTML in tests: one section's content, the example cards, the offline check."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def section_of(html: str, anchor: str) -> str:
    """The content of <section id=anchor>; the summary is everything before the table of contents."""
    if anchor == "summary":
        return html[:html.index("<nav>")]
    match = re.search(rf"<section id=\"{anchor}\">(.*?)</section>", html, re.S)
    assert match, f"no section {anchor!r} in the report"
    return match.group(1)


def example_marks(html: str) -> list[str]:
    """'right' / 'wrong' for each example card, in page order."""
    return re.findall(r"<span class=\"(right|wrongmark)\">", section_of(html, "examples"))


def assert_self_contained(html: str) -> None:
    """Nothing the page would fetch: no URL, no script or stylesheet link; every src is a data: URI and every
    href a link inside the page."""
    lowered = html.lower()
    for banned in ("http://", "https://", "src=\"//", "href=\"//", "<script", "<link", "@import", "<iframe"):
        assert banned not in lowered, f"{banned!r} in the report"
    sources = re.findall(r"\bsrc=\"([^\"]*)\"", html)
    assert all(s.startswith("data:image/") for s in sources), [s[:40] for s in sources if not s.startswith("data:")]
    links = re.findall(r"\bhref=\"([^\"]*)\"", html)
    assert all(link.startswith("#") for link in links), [link for link in links if not link.startswith("#")]
    assert not re.search(r"url\((?!#)", html), "a CSS or SVG url() that is not a reference inside the page"


def assert_no_broken_section(html: str) -> None:
    assert "could not be drawn" not in html, re.findall(r"could not be drawn \([^)]*\)", html)


class ReportPage:
    """The helpers above, handed to tests as the `page` fixture (test modules cannot import a conftest)."""

    section = staticmethod(section_of)
    example_marks = staticmethod(example_marks)
    assert_self_contained = staticmethod(assert_self_contained)
    assert_no_broken_section = staticmethod(assert_no_broken_section)


@pytest.fixture
def page() -> type[ReportPage]:
    return ReportPage


@pytest.fixture
def run_cli(deepscope_in_process: Callable[..., Any]) -> Callable[..., tuple[int, str]]:
    """`deepscope ARGS...` through main() in this process: (exit code, stdout + stderr)."""
    def run(*args: str | Path) -> tuple[int, str]:
        result = deepscope_in_process(*map(str, args))
        return result.returncode, result.stdout + result.stderr

    return run
