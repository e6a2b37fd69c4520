"""The `deepscope` command: thin wrappers over the Python API, one module per command.

A user's mistake (`UserError`) is printed as one message and exits with code 2, without a traceback.
"""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text

from deepscope.errors import UserError

app = typer.Typer(
    name="deepscope",
    help="Deep learning you can see into: train, evaluate and predict from a YAML config.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stderr = Console(stderr=True)


def register() -> None:
    # each module adds its command
    from deepscope.cli import (  # noqa: F401
        audit,
        datasets,
        demo,
        diagnose,
        evaluate,
        explain,
        export,
        generate,
        learning_curve,
        lr_find,
        predict,
        report,
        runs,
        serve,
        train,
        translate,
        ui,
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s",
                        handlers=[RichHandler(console=stderr, show_path=False, show_time=False)])
    register()
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except UserError as error:
        stderr.print(Text.assemble(("error: ", "bold red"), str(error)), soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        stderr.print("interrupted; continue a run with `deepscope train --resume RUN_DIR`")
        sys.exit(130)
    except Exception as error:  # click's own usage errors carry exit codes; anything else is a bug
        for exceptions in _click_exception_modules():
            if isinstance(error, exceptions.ClickException):
                error.show()
                sys.exit(error.exit_code)
            # typer's bundled copy of click has no Exit or Abort: look them up, don't assume them
            if isinstance(error, getattr(exceptions, "Exit", ())):
                sys.exit(error.exit_code)
            if isinstance(error, getattr(exceptions, "Abort", ())):
                sys.exit(1)
        raise


def _click_exception_modules() -> list:
    """click's exceptions, and those of the copy of click that newer typer releases bundle."""
    import importlib

    modules = []
    for name in ("click.exceptions", "typer._click.exceptions"):
        try:
            modules.append(importlib.import_module(name))
        except ImportError:
            pass
    return modules
