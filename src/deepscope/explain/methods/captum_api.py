"""Captum's `captum.attr`, imported on first use rather than with deepscope.

`captum.attr` imports matplotlib.pyplot and, where IPython is installed, all of IPython (0.4 s; 0.8 s in all on 2
CPU cores), for its notebook visualisation helpers, which deepscope never calls. Importing it lazily keeps that off
every command that explains nothing; and outside a notebook (IPython not yet imported) IPython is hidden while
captum imports, so its helpers see it missing and the import costs half. A notebook that already imported IPython
keeps captum's helpers whole.
"""

from __future__ import annotations

import functools
import sys
from types import ModuleType


@functools.cache
def attr() -> ModuleType:
    if "IPython" in sys.modules:
        import captum.attr

        return captum.attr
    sys.modules["IPython"] = None  # type: ignore[assignment]  # `import IPython` now raises ImportError
    try:
        import captum.attr
    finally:
        del sys.modules["IPython"]
    return captum.attr
