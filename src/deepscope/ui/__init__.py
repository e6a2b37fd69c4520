"""The local dashboard (`deepscope ui`): the runs of a root in a browser, served by FastAPI on 127.0.0.1.

    from deepscope.ui import create_app
    app = create_app("runs")   # then: uvicorn.run(app, host="127.0.0.1", port=8000)
    serve("runs", port=8000)    # or all of that, with the checks `deepscope ui` makes
"""

from deepscope.ui.app import create_app
from deepscope.ui.server import serve

__all__ = ["create_app", "serve"]
