"""What every dashboard response carries and every request must show, in one place: one ASGI middleware (`Guard`)
over one table of headers (`HEADERS`).

A run folder may come from someone else, so the dashboard treats a run's report.html as hostile: it is served
under the "report" policy (a CSP `sandbox` with no scripts, no forms, no network: an opaque origin that cannot
read the dashboard's API even when opened in a tab of its own) and the run page only frames it, in an
<iframe sandbox> without allow-same-origin. Every other response gets the "dashboard" policy: scripts and
styles from this server only (the pages have no inline script: `deepscope.ui.pages`), and no framing by others.

Requests are refused before any route sees them when
- the Host header is not a name of this dashboard (DNS rebinding: a page of evil.example whose name is made to
  point at 127.0.0.1 would otherwise read the runs as a same-origin page): 400;
- the address is huge (a query of megabytes): 414;
- a request that changes something (POST...) comes from another site (its Origin or Sec-Fetch-Site says so):
  403, or is not JSON (an HTML form cannot send `application/json` to another site without asking first): 415.

    app.add_middleware(Guard, hosts=HostCheck.for_server("0.0.0.0", ["mybox.local"]))
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deepscope.config.echo import shown
from deepscope.errors import UserError

REPORT_ROUTE = "/runs/{name}/report.html"  # the one route whose responses are a run's own (untrusted) HTML
_REPORT_PATH = re.compile("^" + re.escape(REPORT_ROUTE).replace(re.escape("{name}"), "[^/]+") + "$")

_EVERY_RESPONSE = {
    "X-Content-Type-Options": "nosniff",  # a JSON answer or a planted .txt is never run as a script or page
    "Referrer-Policy": "no-referrer",  # run names in the address stay on this machine
}
HEADERS = {
    # the dashboard's pages and API: its own script and stylesheet only, never framed by another page
    "dashboard": {**_EVERY_RESPONSE, "X-Frame-Options": "DENY", "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")},
    # a run's report: what report/html.py makes needs inline CSS and data: images, and no script at all;
    # `sandbox` without allow-scripts or allow-same-origin gives it an opaque origin wherever it is opened
    "report": {**_EVERY_RESPONSE, "X-Frame-Options": "SAMEORIGIN", "Content-Security-Policy": (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'self'")},
}
# what the run page's <iframe> allows the report: nothing (no scripts, forms, popups or same origin)
FRAME_SANDBOX = ""

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_TARGET_BYTES = 8192  # path plus query; the longest filter the page sends is a few hundred
_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,252})$|^[0-9a-f:.]+$")


@dataclass(frozen=True)
class HostCheck:
    """The Host header names this dashboard answers to.

    >>> check = HostCheck.for_server("127.0.0.1", ["mybox.local"])
    >>> check.allows("localhost:8000"), check.allows("MyBox.local"), check.allows("evil.example")
    (True, True, False)
    >>> HostCheck.for_server("0.0.0.0").allows("192.168.1.5:8000")  # an address cannot be rebound
    True
    """

    names: frozenset[str]
    any_address: bool = False  # bound to every address: any IP address names this machine

    @classmethod
    def for_server(cls, host: str = "127.0.0.1", extra: Iterable[str] = ()) -> HostCheck:
        """The loopback names, the address the server is bound to, and the `extra` names (--allow-host)."""
        bound = host_name(host)
        names = {*LOOPBACK_NAMES, *(checked_name(name) for name in extra)}
        if bound not in WILDCARD_ADDRESSES:
            names.add(bound)
        # a rebinding attack needs a name the attacker's DNS answers; a bare address is never one, so a server
        # on 0.0.0.0 can be reached as http://192.168.1.5:8000 without listing every address of the machine
        return cls(frozenset(names), any_address=bound in WILDCARD_ADDRESSES)

    def allows(self, header: str) -> bool:
        name = host_name(header)
        return name in self.names or (self.any_address and is_address(name))


def host_name(value: str) -> str:
    """The name of a Host header or an address, without port or brackets, lowercase.

    >>> host_name("[::1]:8000"), host_name("LocalHost:80"), host_name("::1"), host_name("example.org.")
    ('::1', 'localhost', '::1', 'example.org')
    """
    value = value.strip().lower()
    if value.startswith("["):
        value = value[1:value.find("]")] if "]" in value else value[1:]
    elif value.count(":") == 1:
        value = value.split(":")[0]
    return value.rstrip(".")


def is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def checked_name(name: str) -> str:
    """An --allow-host value as a host name, or a UserError saying what one looks like."""
    cleaned = host_name(name)
    if not _HOST_NAME.match(cleaned) or re.search(r"[^a-zA-Z0-9.:\[\]-]", name):  # a scheme, path or wildcard
        raise UserError(f"--allow-host {shown(name)} is not a host name or address: give the name people type in the "
                        "address bar, without scheme, path or wildcard, e.g. --allow-host mybox.local")
    return cleaned


class Guard:
    """ASGI middleware: refuses the requests the module docstring lists, and sets `HEADERS` on every response."""

    def __init__(self, app: ASGIApp, hosts: HostCheck) -> None:
        self.app, self.hosts = app, hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [(key.lower().encode("latin-1"), value.encode("latin-1"))
                 for key, value in HEADERS["report" if _REPORT_PATH.match(scope["path"]) else "dashboard"].items()]
        names = {key for key, _ in extra}
        started = False

        async def send_guarded(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":  # the table wins over what a route set itself
                kept = [(key, value) for key, value in message.get("headers", []) if key.lower() not in names]
                message = {**message, "headers": kept + extra}
                started = True
            await send(message)

        refusal = refused(scope, self.hosts)
        if refusal is not None:
            status, reason = refusal
            await JSONResponse({"detail": reason}, status_code=status)(scope, receive, send_guarded)
            return
        try:
            await self.app(scope, receive, send_guarded)
        except Exception:
            # a bug: answered here, so that even a 500 carries the headers; raised on for the server's log
            if not started:
                reason = "the dashboard failed on this request (a bug); its log has the traceback"
                await JSONResponse({"detail": reason}, status_code=500)(scope, receive, send_guarded)
            raise


def refused(scope: Scope, hosts: HostCheck) -> tuple[int, str] | None:
    """(status, reason) for a request the dashboard does not answer, None for one it does."""
    headers = Headers(scope=scope)
    host = headers.get("host", "")
    if not hosts.allows(host):
        suggested = shown(host_name(host))[1:-1] if host_name(host) else "NAME"
        return 400, (f"this dashboard does not answer to the host name {shown(host)} (DNS rebinding protection); "
                     f"if that is how people reach it, start it with --allow-host {suggested}")
    size = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
    if size > MAX_TARGET_BYTES:
        return 414, (f"the address (path and query) is {size:,} bytes, more than the {MAX_TARGET_BYTES:,} the "
                     "dashboard reads; use a shorter run name or fewer, shorter filter expressions")
    if scope["method"] in SAFE_METHODS:
        return None
    own = f"{scope.get('scheme', 'http')}://{host}".lower()
    origin = headers.get("origin")
    if origin is not None and origin.lower() != own:
        return 403, (f"refused a {scope['method']} from another site (Origin {shown(origin)}, this dashboard is "
                     f"{shown(own)})")
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return 403, f"refused a {scope['method']} from another site (Sec-Fetch-Site {shown(headers['sec-fetch-site'])})"
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return 415, (f"{scope['method']} {shown(scope['path'])[1:-1]} takes JSON: send Content-Type: application/json "
                     f"(got {shown(media_type) if media_type else 'none'})")
    return None
