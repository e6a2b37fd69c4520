"""parse_yaml: YAML read with duplicate keys refused, aliases and nesting bounded, and every error a ConfigError."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from deepscope.config.loading import load_config, parse_yaml, read_yaml_text
from deepscope.config.yaml_text import DEPTH_LIMIT, MAX_FILE_BYTES, NODE_BUDGET
from deepscope.errors import ConfigError

LAUGHS = "\n".join(['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'] + [
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]" for previous, name in zip("abcdefgh", "bcdefghi")])


def refusal(text: str) -> str:
    with pytest.raises(ConfigError) as error:
        parse_yaml(text, "where.yaml")
    return str(error.value)


def test_a_key_given_twice_is_refused_naming_the_key_and_both_lines():
    message = refusal("data:\n  source: digits\n  inputs: [image]\n  source: mnist\n")
    assert message == "where.yaml: `source` is given twice (lines 2 and 4): keep one"


def test_the_same_key_in_different_sections_and_merged_keys_are_kept():
    assert parse_yaml("a: {x: 1}\nb: {x: 2}\n", "w") == {"a": {"x": 1}, "b": {"x": 2}}
    merged = parse_yaml("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  x: 3\n", "w")
    assert merged["c"] == {"x": 3, "y": 2}  # a merge key's values may be overridden: that is what it is for


def test_a_billion_laughs_is_refused_fast_without_expanding():
    started = time.monotonic()
    message = refusal(LAUGHS)
    assert time.monotonic() - started < 1.0
    assert message.startswith("where.yaml at line 6, column 8: ") and f"{NODE_BUDGET:,} values" in message


def test_aliases_within_the_budget_work_and_a_self_reference_is_refused():
    assert parse_yaml("a: &x [1, 2]\nb: *x\n", "w") == {"a": [1, 2], "b": [1, 2]}
    assert "refers to the value that holds it" in refusal("a: &x [1, *x]\n")


@pytest.mark.parametrize("text", ["[" * 900 + "]" * 900, "".join("  " * i + f"k{i}:\n" for i in range(900))],
                         ids=["flow", "block"])
def test_deep_nesting_is_refused_not_a_recursion_error(text: str):
    assert f"nested more than {DEPTH_LIMIT} levels deep" in refusal(text)


def test_nesting_up_to_the_limit_is_read():
    assert parse_yaml("[" * DEPTH_LIMIT + "]" * DEPTH_LIMIT, "w") is not None


@pytest.mark.parametrize(("text", "expected"), [
    ("a: [1,\n", "where.yaml at line 2, column 1: not valid YAML"),
    ("a: !!python/object/apply:os.system [echo]\n", "could not determine a constructor"),
    ("a: 1\nb: \0\n", "where.yaml at line 2: not YAML text (the control character U+0000"),
])
def test_yaml_errors_are_config_errors_with_the_line(text: str, expected: str):
    assert expected in refusal(text)


def test_a_file_that_is_not_utf8_text_is_refused_with_its_line(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_bytes(b"data:\n  source: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"c.yaml at line 2: not UTF-8 text \(byte 0xe9"):
        read_yaml_text(path)
    path.write_bytes(b"data: {source: digits}\n\x00\x01\x02")
    with pytest.raises(ConfigError, match="c.yaml at line 2: holds NUL bytes"):
        read_yaml_text(path)
    path.write_bytes("\ufeffdata: {source: digits}\n".encode())  # a BOM (Windows editors) is fine
    assert load_config(path).data.source == "digits"
    with path.open("r+b") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk, and the reader must not read it to refuse it
    with pytest.raises(ConfigError, match=f"c.yaml: {MAX_FILE_BYTES + 1:,} bytes, more than a config holds"):
        read_yaml_text(path)


@pytest.mark.parametrize(("text", "expected"), [("", "is empty"), ("- a\n- b\n", "holds a list"),
                                                ("just text\n", "holds a str")])
def test_a_config_file_that_is_not_a_mapping_says_what_it_holds(tmp_path: Path, text: str, expected: str):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"c.yaml: {expected}, but a config is a mapping"):
        load_config(path)


def test_an_override_value_goes_through_the_same_bounds():
    base = {"data": {"source": "digits"}}
    with pytest.raises(ConfigError, match=r"override 'train.optimizer.lr=\[1,' at line 1, column 4: not valid YAML"):
        load_config(base, ["train.optimizer.lr=[1,"])
    with pytest.raises(ConfigError, match="nested more than"):
        load_config(base, ["data.inputs=" + "[" * 900 + "]" * 900])
    with pytest.raises(ConfigError, match="`a` is given twice"):
        load_config(base, ["data.inputs={a: image, a: number}"])
    with pytest.raises(ConfigError, match="3,002 names deep"):  # the key path is bounded as deep as the YAML
        load_config(base, ["train.optimizer" + ".a" * 3000 + "=1"])


def test_unquoted_yaml_booleans_still_say_put_it_in_quotes(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("data: {source: digits, inputs: {No: number}}\n")
    with pytest.raises(ConfigError, match="put the name in quotes"):
        load_config(path)
