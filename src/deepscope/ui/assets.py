"""The dashboard's script and stylesheet: package data under `deepscope/ui/static/`, served at `/static/NAME`.

They are files of the package (declared as package data in pyproject.toml, so a wheel carries them) rather than
strings in Python, and pages load them from this server: nothing comes from the network, and no page has an
inline script, so the strict Content-Security-Policy of `deepscope.ui.security` (`script-src 'self'`) holds.

    from deepscope.ui import assets
    assets.url("dashboard.js")              # '/static/dashboard.js', what a page's <script src> names
    body, media_type = assets.read("dashboard.js")
"""

from __future__ import annotations

from importlib import resources

PREFIX = "/static/"
# the only files served: a request names one of these, never a path, so nothing else of the package is readable
MEDIA_TYPES = {
    "dashboard.js": "text/javascript; charset=utf-8",  # RFC 9239's type for JavaScript
    "dashboard.css": "text/css; charset=utf-8",
}


def url(name: str) -> str:
    """Where a page loads the asset from.

    >>> url("dashboard.css")
    '/static/dashboard.css'
    """
    if name not in MEDIA_TYPES:
        raise KeyError(f"no dashboard asset named {name!r}; there are {', '.join(MEDIA_TYPES)}")
    return PREFIX + name


def read(name: str) -> tuple[bytes, str] | None:
    """The asset's bytes and media type; None for a name that is not one of MEDIA_TYPES.

    Raises FileNotFoundError with what to do when the installation lacks the file (a wheel built without its
    package data).

    >>> read("dashboard.css")[1], read("../app.py")
    ('text/css; charset=utf-8', None)
    """
    if name not in MEDIA_TYPES:
        return None
    file = resources.files("deepscope.ui") / "static" / name
    try:
        return file.read_bytes(), MEDIA_TYPES[name]
    except FileNotFoundError:
        raise FileNotFoundError(f"the dashboard's {name} is missing from this installation of deepscope "
                                "(package data deepscope/ui/static/); reinstall deepscope") from None
