"""One self-contained HTML page per run: what was trained, how training went, what the diagnostics found and how
the model behaves. It opens with no network: inline CSS, inline SVG plots, images as data: URIs.

    deepscope.report("runs/mnist-20261130-192105")                 # loads the model, prepares the data again
    write_report(run.dir, model=run.model, data=run.data)          # at the end of training: nothing reloaded
    html = report_body("runs/mnist-...", load=False)               # the sections alone, for embedding

A damaged or half-written run still renders, marked incomplete with the reasons.
"""

from deepscope.report.build import render_report, report_body, write_report
from deepscope.report.html import body_of
from deepscope.verbs import make_callable

make_callable(__name__, write_report)  # deepscope.report(run) writes RUN/report.html

__all__ = ["body_of", "render_report", "report_body", "write_report"]
