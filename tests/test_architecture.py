"""The shape of the house: which package may import which, and what the command line may do.

Every import statement under src/deepscope counts, also those inside functions (a lazy import hides a cycle, it
does not remove it) and those under `if TYPE_CHECKING` (they are part of a module's design). A package may
import packages of a lower layer only; packages of one layer do not import each other, so there is no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "deepscope"

# bottom first; see the README's Layout section for what lives where and why report sits below run
LAYERS: list[set[str]] = [
    {"errors"},  # the user-error types every layer raises, the small utilities included
    {"io", "formats", "verbs", "metrics", "ports"},  # small utilities
    {"deepscope"},  # the package root: its version, its errors, and the public names, imported on first use
    {"config"},  # the schema, loading, the registry, component options
    {"data", "track"},  # features and sources; run folders and the run store (they know nothing of models)
    {"models"},  # built from feature descriptions; saving and loading read feature states
    {"training"},  # the trainer, its callbacks, optimizers, precision, strategies
    {"diagnose"},  # what records training and judges it
    {"explain"},  # attributions (Captum), their faithfulness checks, the fairness audit: findings like diagnose's
    {"report"},  # the HTML report and every plot: drawn from a run's files, the model and the data
    {"run"},  # the workflows: train, evaluate, predict, forecast, lr-find, learning curve, runs
    {"serve", "ui"},  # servers on top of the workflows and the run store
    {"cli", "callbacks"},  # the command line, and the `deepscope.callbacks` facade
    {"__main__"},  # `python -m deepscope` (and `torchrun -m deepscope`): the command line
]
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}

# what a command-line module may use: the public API (`import deepscope as ds`), the workflows' own helpers,
# and what prints; everything else is logic and belongs in a room below
PUBLIC_API = "deepscope"  # `import deepscope as ds`: exactly the package root, not what is below it
CLI_MAY_IMPORT = ("deepscope.cli", "deepscope.errors", "deepscope.formats", "deepscope.run",
                  "deepscope.diagnose.console", "deepscope.diagnose.finding")
CLI_MAY_NOT_IMPORT = ("torch", "numpy", "sqlite3", "shutil", "socket", "matplotlib", "fastapi", "uvicorn", "yaml",
                      "safetensors", "deepscope.ui.app")


def package_of(module: str) -> str:
    """`deepscope.data.features.base` -> "data"; `deepscope` -> "deepscope"; `deepscope.io` -> "io"."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            found.append((node.lineno, base))
    return found


def source_files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def test_every_package_has_a_layer():
    packages = {package_of(module_name(path)) for path in source_files()}
    assert packages <= set(LEVEL), f"packages without a layer in LAYERS: {sorted(packages - set(LEVEL))}"


def test_no_package_imports_a_package_above_it_or_beside_it():
    wrong = []
    for path in source_files():
        mine = package_of(module_name(path))
        for line, imported in imports_of(path):
            if imported != "deepscope" and not imported.startswith("deepscope."):
                continue
            theirs = package_of(imported)
            if theirs != mine and LEVEL[theirs] >= LEVEL[mine]:
                wrong.append(f"{path.relative_to(SRC.parent)}:{line}: {mine} (layer {LEVEL[mine]}) imports "
                             f"{imported} (layer {LEVEL[theirs]})")
    assert not wrong, "upward or sideways imports:\n" + "\n".join(wrong)


def test_the_walk_sees_lazy_and_relative_imports(tmp_path):
    """The check above can fail: an import inside a function is found and placed."""
    (tmp_path / "deepscope" / "data").mkdir(parents=True)
    module = tmp_path / "deepscope" / "data" / "sneaky.py"
    module.write_text("def later():\n    from deepscope.run.train import train\n    from . import base\n")
    global SRC
    saved, SRC = SRC, tmp_path / "deepscope"
    try:
        assert imports_of(module) == [(2, "deepscope.run.train"), (3, "deepscope.data")]
    finally:
        SRC = saved


@pytest.mark.parametrize("path", sorted((SRC / "cli").glob("*.py")), ids=lambda p: p.name)
def test_command_line_modules_only_parse_arguments_and_print(path):
    wrong = []
    for line, imported in imports_of(path):
        if imported.startswith("deepscope.") and not _under(imported, CLI_MAY_IMPORT):
            wrong.append(f"{path.name}:{line}: imports {imported}; call the public API (`import deepscope as ds`)")
        if _under(imported, CLI_MAY_NOT_IMPORT):
            wrong.append(f"{path.name}:{line}: imports {imported}, which does work a command should delegate")
    assert not wrong, "\n".join(wrong)


def _under(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def test_the_command_line_check_can_fail():
    assert _under("deepscope.run.train", CLI_MAY_IMPORT) and not _under("deepscope.config.loading", CLI_MAY_IMPORT)
    assert not _under(PUBLIC_API + ".track.store", CLI_MAY_IMPORT) and _under("torch.nn", CLI_MAY_NOT_IMPORT)
