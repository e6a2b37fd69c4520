"""Tables as they come: UCI files without a header row (Adult: `39, State-gov, 77516, ...`), headers whose names
are numbers, and YAML that turns a column called `No` into the boolean false."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import deepscope as ds
from deepscope.config.loading import load_config
from deepscope.data.sources import load_source
from deepscope.data.sources.csv_table import load_csv
from deepscope.errors import ConfigError, DataError

ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
                 "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
                 "income"]
# the first rows of UCI's adult.data, as distributed: no header, a space after each comma, `?` for missing
ADULT_ROWS = [
    "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, "
    "United-States, <=50K",
    "50, Self-emp-not-inc, 83311, Bachelors, 13, Married-civ-spouse, Exec-managerial, Husband, White, Male, 0, 0, "
    "13, United-States, <=50K",
    "38, Private, 215646, HS-grad, 9, Divorced, Handlers-cleaners, Not-in-family, White, Male, 0, 0, 40, "
    "United-States, <=50K",
    "53, Private, 234721, 11th, 7, Married-civ-spouse, Handlers-cleaners, Husband, Black, Male, 0, 0, 40, "
    "United-States, <=50K",
    "28, Private, 338409, Bachelors, 13, Married-civ-spouse, Prof-specialty, Wife, Black, Female, 0, 0, 40, Cuba, "
    "<=50K",
    "37, Private, 284582, Masters, 14, Married-civ-spouse, Exec-managerial, Wife, White, Female, 0, 0, 40, "
    "United-States, <=50K",
    "52, Self-emp-not-inc, 209642, HS-grad, 9, Married-civ-spouse, Exec-managerial, Husband, White, Male, 0, 0, 45, "
    "United-States, >50K",
    "31, Private, 45781, Masters, 14, Never-married, Prof-specialty, Not-in-family, White, Female, 14084, 0, 50, "
    "United-States, >50K",
    "54, ?, 180211, Some-college, 10, Married-civ-spouse, ?, Husband, Asian-Pac-Islander, Male, 0, 0, 60, South, "
    ">50K",
]


@pytest.fixture
def adult(tmp_path: Path) -> Path:
    path = tmp_path / "adult.data.csv"
    path.write_text("\n".join(ADULT_ROWS) + "\n\n")  # the real file ends with a blank line too
    return path


def test_a_headerless_uci_file_read_as_if_it_had_a_header_gets_a_warning_naming_the_fix(adult, caplog):
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        raw = load_csv(adult)
    assert raw.columns[:3] == ["39", "State-gov", "77516"] and raw.size("train") == len(ADULT_ROWS) - 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "6 of the header's 15 names are numbers (39, 77516, 13, 2174)" in warnings[0]
    assert "data.header: false" in warnings[0] and "data.columns" in warnings[0]


def test_header_false_with_columns_keeps_the_first_row_as_data(adult, caplog):
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        raw = load_csv(adult, header=False, columns=ADULT_COLUMNS)
    assert not caplog.records  # said explicitly: no warning
    train = raw.splits["train"]
    assert raw.columns == ADULT_COLUMNS and raw.size("train") == len(ADULT_ROWS)
    assert train["age"][0] == "39" and train["income"].tolist()[-3:] == [">50K", ">50K", ">50K"]
    assert train["workclass"][-1] is None and train["occupation"][-1] is None  # `?` is missing


def test_header_false_without_columns_numbers_them_and_columns_can_rename_a_header(adult, tmp_path):
    raw = load_csv(adult, header=False)
    assert raw.columns[0] == "column_1" and raw.columns[-1] == "column_15" and raw.size("train") == len(ADULT_ROWS)
    named = tmp_path / "named.csv"
    named.write_text("a,b\n1,x\n2,y\n")
    raw = load_csv(named, columns=["size", "colour"])  # the header's names replaced, the header row not data
    assert raw.columns == ["size", "colour"] and raw.splits["train"]["colour"].tolist() == ["x", "y"]


def test_explicit_header_true_silences_the_warning_for_names_that_are_years(tmp_path, caplog):
    path = tmp_path / "gdp.csv"
    path.write_text("country,1990,2000\nFrance,1.3,1.4\nPeru,0.1,0.2\n")
    with caplog.at_level(logging.WARNING, logger="deepscope"):
        assert load_csv(path, header=True).columns == ["country", "1990", "2000"]
    assert not caplog.records


def test_wrong_columns_and_numeric_duplicate_names_are_clear_errors(adult, tmp_path):
    with pytest.raises(DataError, match=r"adult.data.csv, line 1: 15 fields, but there are 3 columns \(a, b, c\)"):
        load_csv(adult, header=False, columns=["a", "b", "c"])
    with pytest.raises(ConfigError, match="data.columns: the name 'age' appears twice"):
        load_csv(adult, header=False, columns=["age"] * 15)
    repeated = tmp_path / "first-row-is-data.csv"
    repeated.write_text("25, 0, 0, 40\n31, 0, 5, 38\n")
    with pytest.raises(DataError, match=r"the column name '0' appears twice.*looks like data.*data.header: false"):
        load_csv(repeated)


def _train_headerless(adult, tmp_path):
    """A one-epoch run on the headerless Adult file, its columns named in the config."""
    config = {"data": {"source": str(adult), "header": False, "columns": ADULT_COLUMNS,
                       "inputs": {"age": "number", "education": "category", "hours-per-week": "number"},
                       "outputs": {"income": "binary"}, "split": {"val": 0.0, "test": 0.3}},
              "train": {"epochs": 1, "batch_size": 4}, "run": {"root": str(tmp_path / "runs"), "report": False},
              "diagnose": {"enabled": False}}
    return ds.train(config, progress=False)


def test_header_and_columns_travel_from_the_config_and_train_end_to_end(adult, tmp_path):
    run = _train_headerless(adult, tmp_path)
    assert run.data.raw.size("train") + run.data.raw.size("test") == len(ADULT_ROWS)
    reloaded = load_config(run.dir / "config.yaml")
    assert reloaded.data.header is False and reloaded.data.columns == ADULT_COLUMNS


def test_table_options_do_not_apply_to_a_folder(tmp_path):
    (tmp_path / "photos" / "cat").mkdir(parents=True)
    with pytest.raises(ConfigError, match="data.columns: does not apply to a folder of images"):
        load_source(str(tmp_path / "photos"), columns=["a"])


@pytest.mark.parametrize(("yaml_text", "where"), [
    ("data: {source: t.csv, inputs: {No: number}, outputs: {y: number}}", "data.inputs: a key is the boolean false"),
    ("data: {source: t.csv, header: false, columns: [No, year, pm2.5], outputs: {pm2.5: number}}",
     "data.columns.0: got false, but text is expected here"),
    ("data: {source: t.csv, outputs: {y: number}, series: {time: Off}}", "data.series.time: got false"),
    ("data: {source: t.csv, outputs: {y: number}}\nrun: {tags: {country: NO}}", "run.tags.country: got false"),
    ("data: {source: t.csv, outputs: {y: number}}\nrun: {name: Yes}", "run.name: got true"),
])
def test_a_yaml_boolean_where_text_belongs_says_to_quote_it(tmp_path, yaml_text, where):
    config = tmp_path / "config.yaml"
    config.write_text(yaml_text)
    with pytest.raises(ConfigError) as error:
        load_config(config)
    message = str(error.value)
    assert where in message and "put" in message and "in quotes" in message
    assert message.count("\n") == 1  # one problem, one line: a union's two branches are not both reported
    assert ("'No'" in message and "No or Off" in message) or ("'Yes'" in message and "Yes or On" in message)


def test_a_headerless_run_predicts_on_a_headerless_file_read_the_same_way(adult, tmp_path):
    run = _train_headerless(adult, tmp_path)
    expected = run.predictor().predict({"age": ["39", "50"], "education": ["Bachelors", "Bachelors"],
                                        "hours-per-week": ["40", "13"]})
    with_target = tmp_path / "new.csv"  # as distributed: every column, no header row
    with_target.write_text("\n".join(ADULT_ROWS[:2]) + "\n")
    without_target = tmp_path / "unlabelled.csv"  # a file to predict usually lacks the label
    without_target.write_text("\n".join(row.rsplit(",", 1)[0] for row in ADULT_ROWS[:2]) + "\n")
    for path in (with_target, without_target):
        rows = ds.predict(run.dir, path)
        assert [r["input"] for r in rows] == ["row 1", "row 2"]  # the first line is a row, not a header
        assert [r["income"] for r in rows] == [e["income"] for e in expected]
    short = tmp_path / "short.csv"
    short.write_text("39, State-gov\n")
    with pytest.raises(DataError, match=r"short.csv: 2 columns, but this run's data.columns names 15 \(14 without"):
        ds.predict(run.dir, short)
    infinite = tmp_path / "infinite.csv"  # the message names the run's column, not column_1
    infinite.write_text(ADULT_ROWS[0] + "\n" + ADULT_ROWS[1].replace("50,", "inf,", 1) + "\n")
    with pytest.raises(DataError, match=r"infinite.csv, line 2, column 'age': 'inf' is not a finite number"):
        ds.predict(run.dir, infinite)
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text(ADULT_ROWS[0].replace(", ", ";") + "\n")
    with pytest.raises(DataError, match='semicolons.csv: this file seems to be separated by ";"'):
        ds.predict(run.dir, semicolons)
