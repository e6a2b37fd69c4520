"""How a server is started: one frozen record, which also travels to uvicorn's worker processes as JSON (each
worker builds its own app from it: they share nothing but the port)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from deepscope.errors import UserError
from deepscope.serve.backends import Backend, TorchBackend

ENVIRONMENT = "DEEPSCOPE_SERVE_OPTIONS"  # the options of the workers' app factory
BACKENDS = ("torch", "onnx")
MAX_BATCH, MAX_WAIT_MS, TIMEOUT_S, MAX_BODY_MB = 64, 5.0, 30.0, 16


@dataclass(frozen=True)
class ServeOptions:
    run: str  # a finished run folder (or, for --backend onnx, an exported .onnx file)
    max_batch: int = MAX_BATCH  # rows per forward pass at most
    max_wait_ms: float = MAX_WAIT_MS  # how long the first request of a batch waits for others
    batching: bool = True
    api_key: str | None = None  # required on every route but /health when set
    max_body_bytes: int = MAX_BODY_MB * 2**20
    timeout_s: float = TIMEOUT_S  # per request, from its arrival to its answer
    backend: str = "torch"
    cores: int | None = None  # the CPU cores this worker may use; None: all of them (serve/threads.py)

    def __post_init__(self) -> None:
        if self.max_batch < 1:
            raise UserError(f"--max-batch {self.max_batch}: give at least 1")
        if self.max_wait_ms < 0:
            raise UserError(f"--max-wait-ms {self.max_wait_ms:g}: give 0 or more milliseconds")
        if self.timeout_s <= 0 or self.max_body_bytes <= 0:
            raise UserError("--timeout and --max-body-mb must be positive")
        if self.backend not in BACKENDS:
            raise UserError(f"--backend {self.backend}: choose {' or '.join(BACKENDS)}")

    @property
    def share(self) -> int:
        return self.cores or os.cpu_count() or 1

    @property
    def name(self) -> str:
        return Path(self.run).name if Path(self.run).is_dir() else Path(self.run).stem

    @property
    def version(self) -> str:
        from deepscope import __version__

        return __version__

    def load_backend(self) -> Backend:
        if self.backend == "onnx":
            from deepscope.serve.export import default_export_path
            from deepscope.serve.onnx_backend import OnnxBackend

            path = Path(self.run)
            path = default_export_path(path, "onnx") if path.is_dir() else path
            if not path.is_file():
                raise UserError(f"{path}: no ONNX export here; write one with `deepscope export {self.run} --format "
                                "onnx`, or give the .onnx file")
            return OnnxBackend(path)
        return TorchBackend(self.run)

    def to_environment(self) -> None:
        os.environ[ENVIRONMENT] = json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> ServeOptions:
        return cls(**json.loads(os.environ[ENVIRONMENT]))
