"""A value echoed inside a config message, cut to a few hundred characters.

A message names the value the user wrote so that they can find it, but a planted megabyte string (or a list of
a million numbers) must not become a megabyte message: every config message that echoes a value goes through
`shown` (a value) or `cut` (a text that already holds one, such as pydantic's own message).

    shown("adamz")          # "'adamz'"
    shown("x" * 10**6)      # "'xxxx…' (1,000,000 characters, cut)"
"""

from __future__ import annotations

from typing import Any

# enough to recognise a value (a path, a list of column names), short enough for one screen
ECHO_LIMIT = 200


def shown(value: Any, limit: int = ECHO_LIMIT) -> str:
    """`repr(value)`, or its first `limit` characters and how long the value was."""
    if isinstance(value, (str, bytes)) and len(value) > limit:
        # the repr of the head only: never build a megabyte repr just to cut it
        return f"{repr(value[:limit])[:limit]}… ({len(value):,} characters, cut)"
    return cut(repr(value), limit)


def cut(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` itself, or its first `limit` characters and how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters, cut)"
