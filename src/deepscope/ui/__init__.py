"""The local dashboard (`deepscope ui`): the runs of a root in a browser, served by FastAPI on 127.0.0.1.

    from deepscope.ui import create_app
    app = create_app("runs")   # then: uvicorn.run(app, host="127.0.0.1", port=8000)
    app = create_app("runs", host="0.0.0.0", allow_hosts=["mybox.local"])   # the names it answers to
    serve("runs", port=8000)    # or all of that, with the checks `deepscope ui` makes

Reports found in run folders are untrusted HTML: `deepscope.ui.security` serves them sandboxed.
"""

from deepscope.ui.app import create_app
from deepscope.ui.server import serve

__all__ = ["create_app", "serve"]
