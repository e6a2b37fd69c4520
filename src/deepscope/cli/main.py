"""The `deepscope` command: thin wrappers over the Python API, one module per command.

A user's mistake (`UserError`) is printed as one message and exits with code 2, without a traceback.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
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
        shard,
        train,
        translate,
        tune,
        ui,
    )


def main() -> None:
    # at exit, the objects left are freed with the process: the collector need not walk them first (with torch
    # loaded that walk takes a second or more of `deepscope train`'s exit)
    atexit.unregister(gc.freeze)  # once, however often main() runs in one process (the tests call it)
    atexit.register(gc.freeze)
    logging.basicConfig(level=logging.INFO, format="%(message)s",
                        handlers=[RichHandler(console=stderr, show_path=False, show_time=False)])
    register()
    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except UserError as error:
        if os.environ.get("RANK", "0") == "0":  # under torchrun every rank meets the same mistake: say it once
            stderr.print(Text.assemble(("error: ", "bold red"), str(error)), soft_wrap=True)
        sys.exit(getattr(error, "exit_code", 2))
    except KeyboardInterrupt:
        stderr.print("interrupted; continue a run with `deepscope train --resume RUN_DIR`")
        sys.exit(130)
    except Exception as error:  # click's own usage errors carry exit codes; anything else is a bug
        _exit_if_a_rank_was_lost(error)
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


def _exit_if_a_rank_was_lost(error: Exception) -> None:
    """Under torchrun, a rank whose peer died says so in one line (the launcher names the rank that failed)."""
    if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:
        from deepscope.run.launch import lost_a_rank

        if lost_a_rank(error):
            stderr.print(Text(f"rank {os.environ.get('RANK', '?')}: lost contact with another training process "
                              f"({str(error).splitlines()[0][:160]})"), soft_wrap=True)
            sys.exit(1)


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
