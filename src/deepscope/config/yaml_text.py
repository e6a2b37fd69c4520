"""The one way deepscope reads YAML it did not write itself: config files, overrides' values, a run's config.yaml.

`yaml.safe_load` builds no Python objects from tags, but it still trusts the text in four ways that a planted
file can use: a key given twice silently keeps the last one (`source: digits` ... `source: mnist` trains on
MNIST), aliases expand without bound (a 1 KB "billion laughs" file is a billion-element list once anything walks
it), nesting recurses without bound (900 levels end in a RecursionError), and its errors carry no file name.
`parse_yaml` refuses each of these with one ConfigError that names the place.

    parse_yaml(path.read_text(), where="config.yaml")       # a dict, list or scalar
    parse_yaml(read_yaml_text(path), where=str(path))       # the file's bytes checked first (UTF-8, no NUL)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.reader import ReaderError

from deepscope.config.echo import cut
from deepscope.errors import ConfigError

# a config is a few hundred nodes; examples/*.yaml are under 200. Aliases are counted as the nodes they expand
# to, so a bomb is refused while it is composed, long before anything is expanded.
NODE_BUDGET = 100_000
# a config nests 5 or 6 levels; 100 is far past any real one and far below Python's recursion limit
DEPTH_LIMIT = 100
MERGE_TAG = "tag:yaml.org,2002:merge"
# a config is kilobytes; one of many megabytes is not one, and is not read into memory to find that out
MAX_FILE_BYTES = 16 * 2**20


def parse_yaml(text: str, where: str) -> Any:
    """The value the YAML `text` holds (None for an empty text), read with the bounds above.

    Raises:
        ConfigError: naming `where` (and the line where there is one) for invalid YAML, a duplicate key, too many
            alias expansions, too deep a nesting, a tag that would build a Python object, or characters that are
            not text.
    """
    loader = None
    try:
        loader = _BoundedLoader(text, where)  # the reader checks every character here
        return loader.get_single_data()
    except yaml.MarkedYAMLError as error:
        problem = cut(str(error.problem or error.context))
        raise ConfigError(f"{where}{_at(error.problem_mark)}: not valid YAML ({problem})") from None
    except ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        raise ConfigError(f"{where} at line {line}: not YAML text (the control character "
                          f"U+{error.character:04X} is not allowed); a config is a text file") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{where}: not valid YAML ({cut(str(error))})") from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml_text(path: Path) -> str:
    """The text of a YAML file, refused with a message when it is not UTF-8 text (a binary or a damaged file)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(f"{path}: {size:,} bytes, more than a config holds ({MAX_FILE_BYTES:,} at most)")
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read ({error.strerror or error})") from None
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise ConfigError(f"{path} at line {line}: holds NUL bytes, so it is a binary file, not a YAML config")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ConfigError(f"{path} at line {line}: not UTF-8 text (byte {data[error.start]:#04x} at offset "
                          f"{error.start}); save the config as UTF-8") from None


def _at(mark: Any) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts what it composes and refuses duplicate keys."""

    def __init__(self, text: str, where: str) -> None:
        super().__init__(text)
        self.where = where
        self.depth = 0
        self.nodes = 0
        self.sizes: dict[int, int] = {}  # id(node) -> how many nodes it stands for once its aliases are expanded
        self.keep: list[yaml.Node] = []  # the measured nodes, alive so that their ids stay theirs

    def compose_node(self, parent: Any, index: Any) -> Any:
        alias = self.check_event(yaml.AliasEvent)
        mark = self.peek_event().start_mark
        self.depth += 1
        if self.depth > DEPTH_LIMIT:
            raise ConfigError(f"{self.where}{_at(mark)}: nested more than {DEPTH_LIMIT} levels deep; "
                              "a config nests a few levels")
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        size = self._size(node, mark) if alias else self._measure(node)
        self.nodes += size if alias else 1
        if self.nodes > NODE_BUDGET:
            raise ConfigError(f"{self.where}{_at(mark)}: holds more than {NODE_BUDGET:,} values once its `*` "
                              "aliases are expanded; a config holds a few hundred")
        return node

    def _size(self, node: Any, mark: Any) -> int:
        if id(node) not in self.sizes:  # the anchor is still open: the alias is inside the value it names
            raise ConfigError(f"{self.where}{_at(mark)}: an alias refers to the value that holds it; "
                              "a config cannot contain itself")
        return self.sizes[id(node)]

    def _measure(self, node: Any) -> int:
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        size = 1 + sum(self.sizes[id(child)] for child in children)
        self.sizes[id(node)] = size
        self.keep.append(node)
        return size

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            self._refuse_duplicates(node)
        return super().construct_mapping(node, deep=deep)

    def _refuse_duplicates(self, node: yaml.MappingNode) -> None:
        """A key written twice in one mapping (merged `<<` keys may be overridden: that is what they are for)."""
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                continue
            key = self.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise ConfigError(f"{self.where}: `{cut(str(key))}` is given twice (lines {first_line[key]} and "
                                  f"{line}): keep one")
            first_line[key] = line
