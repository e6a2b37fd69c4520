"""The dashboard: a FastAPI app over the run store of one root.

    GET  /                               the runs table and the comparison chart
    GET  /runs/{name}                    one run: its report in a sandboxed frame, or its summary and why not
    GET  /runs/{name}/report.html        the run's report: its report.html when up to date, else drawn from its
                                         files; under the "report" policy (no script, an opaque origin)
    GET  /static/dashboard.js, /static/dashboard.css    the pages' script and stylesheet (package data)
    GET  /api/runs?where=..&sort=..&descending=true&limit=N     rows as the store gives them, after bringing
                                         the store up to date with the run folders; with "columns" (the metric
                                         columns of a runs table), "directions" ({metric: "min"|"max"|null})
                                         and "total" (the runs under the root, before `where` and `limit`)
    GET  /api/runs/{name}                one row, with its metric names
    GET  /api/runs/{name}/metrics        {"run", "metrics": [names]}
    GET  /api/runs/{name}/metrics/{metric}   {"run", "metric", "direction", "points": [[step, value], ...]}
    POST /api/reindex                    rebuild the store from the run folders (JSON, from this origin only)
    GET  /studies, /studies/{name}       hyperparameter searches kept in the root (`deepscope tune`): trials, best
                                         so far, parameter importance (ui/study_pages.py)
    GET  /api/studies, /api/studies/{name}   the same as JSON (run/tune_view.py)

Pages are HTML strings that load their script and stylesheet from this server (no inline script), so the
dashboard works with no network. `deepscope.ui.security.Guard` checks every request (Host, Origin, size) and
sets the security headers of every response.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from deepscope.config.echo import cut, shown
from deepscope.errors import UserError
from deepscope.metrics import direction
from deepscope.run.runs import columns_for
from deepscope.ui import assets, pages, study_pages
from deepscope.ui.embed import ReportCache
from deepscope.ui.security import REPORT_ROUTE, Guard, HostCheck
from deepscope.ui.source import RunSource, finite


def create_app(root: str | Path, *, host: str = "127.0.0.1", allow_hosts: Iterable[str] = ()) -> FastAPI:
    """The dashboard over the runs under `root`, reindexed now so that runs trained without the store appear.

    It answers only to the loopback names, the address `host` it is served on and the names in `allow_hosts`
    (`deepscope ui --allow-host`): a page on another site cannot read the runs by pointing its own domain name
    at this machine (DNS rebinding).
    """
    hosts = HostCheck.for_server(host, allow_hosts)  # first: a mistaken --allow-host is named before any work
    source = RunSource(root)
    source.reindex()
    reports = ReportCache()
    # no /docs: FastAPI's API explorer loads its script from a CDN, and the dashboard must work offline
    app = FastAPI(title="deepscope dashboard", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.add_middleware(Guard, hosts=hosts)
    app.state.source = source

    @app.exception_handler(UserError)
    async def user_error(request: Request, error: UserError) -> JSONResponse:
        # e.g. a --where expression the store rejects; cut, since it may echo a planted megabyte value
        return JSONResponse({"detail": cut(str(error), 1000)}, status_code=400)

    def find(name: str) -> dict | None:
        row = source.run(name)
        if row is None and source.sync():  # a run trained since the last listing
            row = source.run(name)
        return row

    def row_or_404(name: str) -> dict:
        row = find(name)
        if row is None:
            raise HTTPException(404, f"no run named {shown(name)} under {source.root}")
        return row

    @app.get("/", response_class=HTMLResponse)
    def runs_page() -> str:
        return pages.runs_page(source.root)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)  # browsers ask for one; no icon rather than a 404 in their console

    @app.get(assets.PREFIX + "{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        try:
            found = assets.read(name)
        except FileNotFoundError as missing:  # a broken installation: say so rather than a bare 500
            return Response(str(missing), status_code=500, media_type="text/plain")
        if found is None:
            raise HTTPException(404, f"no file {shown(name)} in the dashboard's static files")
        body, media_type = found
        # no-cache: the browser asks again each time (a 200 from localhost), so an upgrade is never half-seen
        return Response(body, media_type=media_type, headers={"Cache-Control": "no-cache"})

    @app.get("/runs/{name}", response_class=HTMLResponse)
    def run_page(name: str) -> HTMLResponse:
        row = find(name)
        if row is None:
            return HTMLResponse(pages.not_found_page(source.root, name), status_code=404)
        return HTMLResponse(pages.run_page(source.root, row, reports.for_run(row["path"])))

    @app.get(REPORT_ROUTE, response_class=HTMLResponse)
    def report_file(name: str) -> str:
        report = reports.for_run(row_or_404(name)["path"])
        if report.html is None:  # a link out of the folder, no report module, a report that failed: say which
            raise HTTPException(404, cut(f"no report for {name}: {report.error or report.note}", 1000))
        return report.html

    @app.get("/api/runs")
    def list_runs(where: list[str] = Query(default=[]), sort: str | None = None, descending: bool = True,
                  limit: int | None = Query(default=None, ge=1)) -> dict:
        source.sync()
        rows = source.runs(where=where, sort=sort, descending=descending, limit=limit)
        total = len(source.runs(where=[], sort=None, descending=True, limit=None)) if where or limit else len(rows)
        # "total": the page says "14 of 22 runs" after a filter, not "14 of 14"
        return {"root": str(source.root), "count": len(rows), "total": total, "runs": rows,
                "columns": columns_for(rows, sort=sort, where=where), "directions": directions(rows)}

    @app.get("/api/runs/{name}")
    def one_run(name: str) -> dict:
        return {**row_or_404(name), "metric_names": source.metric_names(name)}

    @app.get("/api/runs/{name}/metrics")
    def metric_names(name: str) -> dict:
        row_or_404(name)
        return {"run": name, "metrics": source.metric_names(name)}

    @app.get("/api/runs/{name}/metrics/{metric}")
    def metric_series(name: str, metric: str) -> dict:
        row_or_404(name)
        if metric not in source.metric_names(name):
            raise HTTPException(404, f"{name} logged no metric {shown(metric)}; /api/runs/{name}/metrics lists "
                                     "those it did")
        return {"run": name, "metric": metric, "direction": direction(metric),
                "points": source.metric_series(name, metric)}

    @app.post("/api/reindex")
    def reindex() -> dict:
        return {"runs": source.reindex()}

    add_study_routes(app, source)

    return app


def add_study_routes(app: FastAPI, source: RunSource) -> None:
    """The studies of `deepscope tune` kept in the run root. Without Optuna the pages say which extra to install."""
    from deepscope.run.tune_view import studies, study_view

    @app.get("/studies", response_class=HTMLResponse)
    def studies_page() -> str:
        try:
            return study_pages.studies_page(source.root, studies(source.root))
        except UserError as error:  # Optuna is not installed
            return study_pages.studies_page(source.root, [], note=str(error))

    @app.get("/studies/{name}", response_class=HTMLResponse)
    def study_page(name: str) -> HTMLResponse:
        try:
            return HTMLResponse(study_pages.study_page(source.root, finite(study_view(source.root, name))))
        except UserError as error:
            return HTMLResponse(study_pages.studies_page(source.root, [], note=str(error)), status_code=404)

    @app.get("/api/studies")
    def list_studies() -> dict:
        return {"root": str(source.root), "studies": finite(studies(source.root))}

    @app.get("/api/studies/{name}")
    def one_study(name: str) -> dict:
        try:
            return finite(study_view(source.root, name))
        except UserError as error:
            raise HTTPException(404, cut(str(error), 1000)) from None


def directions(rows: list[dict]) -> dict[str, str | None]:
    """{metric key: "min" | "max" | None} for every metric of the rows, so the page never guesses from a name.

    >>> directions([{"metrics": {"val.loss": 0.3, "test.accuracy": 0.9, "lr": 0.01}}])
    {'val.loss': 'min', 'test.accuracy': 'max', 'lr': None}
    """
    keys = dict.fromkeys(key for row in rows for key in row.get("metrics") or {})
    return {key: direction(key) for key in keys}
