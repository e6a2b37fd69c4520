"""`deepscope.report(run)` and `deepscope.diagnose(run)`: verbs that share their name with a package.

`deepscope.report` is both the package that builds reports and the verb a user calls; once the package is
imported, its module object *is* `deepscope.report`, so the verb cannot be a plain attribute beside it. Making
the package's module callable gives both: `ds.report(run)` calls the verb, `ds.report.write_report` is still there.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any


def make_callable(module_name: str, verb: Callable[..., Any]) -> None:
    """Calling the module `module_name` calls `verb` (its docstring and signature show in `help`)."""

    class VerbModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return verb(*args, **kwargs)

    VerbModule.__call__.__doc__ = verb.__doc__
    VerbModule.__call__.__wrapped__ = verb  # type: ignore[attr-defined]  (inspect.signature follows it)
    sys.modules[module_name].__class__ = VerbModule
