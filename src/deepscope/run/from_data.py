"""Training from data with no YAML: a CSV/TSV table, an .npz archive, a folder of class sub-folders, or a builtin
dataset's name stands for the config `{data: {source: ..., outputs: {TARGET: {}}}}`; everything else is
inferred as for a config that leaves it out, and the run's config.yaml writes down what was chosen.

    deepscope train data.csv --target price        # ds.train("data.csv", target="price")
    deepscope train images/                        # the class folders' names are the labels
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deepscope.config.schema import Config
from deepscope.data.sources import BUILTIN_DATASETS, load_source
from deepscope.data.suffixes import TABLE_SUFFIXES
from deepscope.errors import ConfigError

CONFIG_SUFFIXES = frozenset({".yaml", ".yml"})
DATA_FILE_SUFFIXES = TABLE_SUFFIXES | {".npz"}


def config_or_data(source: str | Path | Mapping[str, Any] | Config | None, target: str | None = None) -> Any:
    """`source` itself when it is a config (a YAML path, a dict, a Config); for data, the config that trains on
    it, predicting the column `target` (a table needs one; a folder of class sub-folders names its own)."""
    if not is_data(source):
        if target is not None and source is None:
            raise ConfigError(f"--target {target}: give the data too, e.g. deepscope train data.csv --target {target}")
        if target is not None:
            raise ConfigError(f"--target {target}: it names the column to predict when training from a data file "
                              f"with no config; in {source}, write data.outputs: {{{target}: {{}}}} instead")
        return source
    text = str(source)
    if (Path(text) / "config.yaml").is_file():  # a run folder is no data set: say what the user likely meant
        raise ConfigError(f"{text} is a run directory: continue it with --resume {text}, or train its config "
                          f"again with deepscope train {Path(text) / 'config.yaml'}")
    if target is None and Path(text).suffix.lower() in TABLE_SUFFIXES:
        columns = ", ".join(load_source(text).columns)
        raise ConfigError(f"{text}: say which column to predict: deepscope train {text} --target COLUMN "
                          f"(Python: target='COLUMN'); the columns are: {columns}")
    data: dict[str, Any] = {"source": text}
    if target is not None:
        data["outputs"] = {target: {}}  # its type, and every other column as an input, are inferred
    return {"data": data}


def is_data(source: Any) -> bool:
    """Whether `source` is data to train on rather than a config file: an existing folder, a table or .npz file,
    or the name of a builtin dataset that is not also a file here."""
    if not isinstance(source, (str, Path)):
        return False
    path = Path(source).expanduser()
    if path.suffix.lower() in CONFIG_SUFFIXES:
        return False
    if path.is_dir() or (path.is_file() and path.suffix.lower() in DATA_FILE_SUFFIXES):
        return True
    return not path.exists() and str(source) in BUILTIN_DATASETS
