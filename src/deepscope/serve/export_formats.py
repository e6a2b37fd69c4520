"""The three export formats: how each is written, with deepscope's metadata (JSON) inside, and how each is run
again for the parity check and by a server.

| format      | written by                                         | metadata lives in              |
| ----------- | -------------------------------------------------- | ------------------------------ |
| onnx        | torch.onnx.export(dynamo=True), else dynamo=False   | metadata_props["deepscope"]    |
| torchscript | torch.jit.trace                                    | the zip's extra/deepscope.json |
| pt2         | torch.export.export + torch.export.save            | the zip's extra/deepscope.json |

Every writer gets `describe(exporter, axes) -> str`, the metadata JSON, which names the exporter that was used
and the axes it kept dynamic. The TorchScript-based ONNX exporter bakes a text's length into the attention's
reshapes, so its files fix the length (the ONNX backend pads token ids to it: padding is masked out).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

from deepscope.data.features import Feature
from deepscope.errors import UserError
from deepscope.io import atomic_write
from deepscope.serve.export_graph import BATCH, PredictGraph, dynamic_axes, export_dims

log = logging.getLogger("deepscope")

FORMATS = {"onnx": ".onnx", "torchscript": ".ts", "pt2": ".pt2"}  # format -> the default file's suffix
METADATA_KEY = "deepscope"  # an ONNX model's metadata_props entry
EXTRA_FILE = "deepscope.json"  # a TorchScript or pt2 archive's extra file
ONNX_INSTALL = 'pip install "deepscope[onnx]"'
# the TorchScript-based ONNX exporter's opset: the newest it supports well (the dynamo exporter picks its own)
FALLBACK_OPSET = 17
# what the exporters log at INFO and WARNING: optimizer passes, torchvision not installed
EXPORTER_LOGGERS = ("torch.onnx", "torch.export", "torch._export", "onnxscript", "onnx_ir")

ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # torch.export's messages are coloured for a terminal
Describe = Callable[[str, dict[str, dict[int, str]]], str]


def require_onnx(*modules: str) -> None:
    """onnx, onnxruntime and onnxscript (the dynamo exporter's) are an optional extra: say which is missing.
    Exporting needs all three (the default), serving onnx and onnxruntime."""
    for module in modules or ("onnx", "onnxruntime", "onnxscript"):
        try:
            __import__(module)
        except ImportError:
            raise UserError(f"ONNX export and serving need the `{module}` package, which is not installed: "
                            f"{ONNX_INSTALL}") from None


def write_onnx(graph: PredictGraph, example: tuple[torch.Tensor, ...], inputs: dict[str, Feature],
               describe: Describe, path: Path) -> tuple[str, str | None]:
    """Write `path`; returns the exporter used ("dynamo" or "torchscript") and why dynamo was not, if it was not."""
    import onnx

    try:
        proto, exporter, reason = _dynamo_onnx(graph, example, inputs), "dynamo", None
        axes = dynamic_axes(inputs)
    except Exception as error:  # noqa: BLE001 - the dynamo exporter refuses some graphs; the older one may not
        reason = failure(error)
        log.info("the dynamo ONNX exporter failed (%s); using the TorchScript-based one", reason)
        axes = dynamic_axes(inputs, lengths=False)
        with _refused("onnx", f"the TorchScript-based ONNX exporter (tried after the dynamo one: {reason})"):
            proto, exporter = _traced_onnx(graph, example, axes), "torchscript"
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, describe(exporter, axes)
    onnx.checker.check_model(proto)
    _write_bytes(path, proto.SerializeToString())
    return exporter, reason


def _dynamo_onnx(graph: PredictGraph, example: tuple[torch.Tensor, ...], inputs: dict[str, Feature]):
    dims = (export_dims(inputs, graph.input_names),)  # one entry: forward's *tensors
    with _quiet():
        program = torch.onnx.export(graph, example, dynamo=True, dynamic_shapes=dims, input_names=graph.input_names,
                                    output_names=graph.output_names, external_data=False, verbose=False, report=False)
    return program.model_proto


def _traced_onnx(graph: PredictGraph, example: tuple[torch.Tensor, ...], axes: dict[str, dict[int, str]]):
    import onnx

    axes = {**axes, **{name: {0: BATCH} for name in graph.output_names}}
    buffer = io.BytesIO()
    with _quiet():
        torch.onnx.export(graph, example, buffer, dynamo=False, input_names=graph.input_names,
                          output_names=graph.output_names, dynamic_axes=axes, opset_version=FALLBACK_OPSET)
    return onnx.load_from_string(buffer.getvalue())


def write_torchscript(graph: PredictGraph, example: tuple[torch.Tensor, ...], inputs: dict[str, Feature],
                      describe: Describe, path: Path) -> tuple[str, str | None]:
    # a trace follows the example's path through the model, which has no branches on the data once exporting
    # (SequenceInput skips its trim); `_store_inputs=False` keeps the held-out rows out of the file
    buffer = io.BytesIO()
    with _quiet(), torch.no_grad(), _refused("torchscript", "torch.jit.trace"):
        # quiet: torch.jit is deprecated in favour of torch.export, but it still serves what torch.export cannot
        traced = torch.jit.trace(graph, example, check_trace=False, _store_inputs=False)
        torch.jit.save(traced, buffer, _extra_files={EXTRA_FILE: describe("torch.jit.trace", dynamic_axes(inputs))})
    _write_bytes(path, buffer.getvalue())
    return "torch.jit.trace", None


def write_pt2(graph: PredictGraph, example: tuple[torch.Tensor, ...], inputs: dict[str, Feature],
              describe: Describe, path: Path) -> tuple[str, str | None]:
    with _quiet(), _refused("pt2", "torch.export"):
        program = torch.export.export(graph, example, dynamic_shapes=(export_dims(inputs, graph.input_names),))
    program.example_inputs = None  # the held-out rows it was traced with stay out of the file
    buffer = io.BytesIO()
    torch.export.save(program, buffer, extra_files={EXTRA_FILE: describe("torch.export", dynamic_axes(inputs))})
    _write_bytes(path, buffer.getvalue())
    return "torch.export", None


WRITERS = {"onnx": write_onnx, "torchscript": write_torchscript, "pt2": write_pt2}


def load_torchscript(path: Path) -> torch.jit.ScriptModule:
    with _quiet():
        return torch.jit.load(str(path), map_location="cpu").eval()


def onnx_session(path: Path):
    """An onnxruntime session on the CPU with as many intra-op threads as torch uses, so that the two compare
    like for like (and a server's workers share the cores the same way whichever backend they run)."""
    require_onnx("onnx", "onnxruntime")
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1  # one graph at a time: batching, not parallel graphs, is what pays
    # idle threads sleep rather than spin: spinning holds the cores after each call, which a server's event loop
    # and tokenising (and torch, timed beside it) need: on 2 cores torch's MNIST batch-1 call took 8.5 ms, not 0.3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def failure(error: BaseException) -> str:
    """An exporter's error in one line: torch.export's own summary line where it wrote one, without colours."""
    lines = [ANSI_COLOUR.sub("", line).strip() for line in str(error).splitlines()]
    lines = [line for line in lines if line]
    summary = lines.index("## Exception summary") + 1 if "## Exception summary" in lines else 0
    line = lines[summary] if summary < len(lines) else (lines[0] if lines else "")
    return f"{type(error).__name__}: {line[:300]}"


@contextlib.contextmanager
def _refused(fmt: str, exporter: str) -> Iterator[None]:
    """An exporter that cannot export this model is a limit the user works around with another format: a
    UserError naming them, the exporter's own error chained for whoever reports it."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - whatever the exporter raises, the way out is the same
        others = ", ".join(name for name in FORMATS if name != fmt)
        raise UserError(f"--format {fmt}: {exporter} cannot export this model ({failure(error)}); try --format "
                        f"{others.replace(', ', ' or ')}") from error


def _write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporters' warnings (torchvision not installed, tracer notes, deprecations) say nothing to our user;
    a failure still raises."""
    loggers = [logging.getLogger(name) for name in EXPORTER_LOGGERS]
    levels = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
