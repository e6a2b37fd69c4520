"""The local dashboard (`deepscope ui`): the runs of a root in a browser, served by FastAPI on 127.0.0.1.

    from deepscope.ui import create_app
    app = create_app("runs")   # then: uvicorn.run(app, host="127.0.0.1", port=8000)
"""

from deepscope.ui.app import create_app

__all__ = ["create_app"]
