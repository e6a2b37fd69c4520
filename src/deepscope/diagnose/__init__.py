"""Diagnostics: record training cheaply, judge it with pure functions, say what is wrong and what to do.

    run = deepscope.train("examples/mnist.yaml")
    for finding in run.diagnosis: print(finding.severity, finding.title, finding.advice)
    deepscope.diagnose(run.dir)                     # the same findings, read back from diagnosis.json

Recorders (callbacks and the data profile) fill a `Record`; detectors (one per file under `detectors/`) turn
it into `Finding`s; `judge` runs them all.
"""

from deepscope.diagnose.finding import Finding, at_least, worst_first
from deepscope.diagnose.judge import judge, load_diagnosis, read_findings, save_diagnosis
from deepscope.diagnose.record import Record
from deepscope.verbs import make_callable

make_callable(__name__, read_findings)  # deepscope.diagnose(run) reads a run's findings

__all__ = ["Finding", "Record", "at_least", "judge", "load_diagnosis", "read_findings", "save_diagnosis", "worst_first"]
