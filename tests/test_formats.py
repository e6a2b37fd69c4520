"""Numbers as text, by audience: tables, messages, evidence, sizes."""

from __future__ import annotations

from deepscope.formats import count_in_words, evidence_number, message_number, short_time, table_number


def test_table_numbers_line_up_and_say_plainly_what_they_are():
    assert table_number(0.98765) == "0.9877" and table_number(1.0) == "1.0000" and table_number(-0.5) == "-0.5000"
    assert table_number(12.3456) == "12.35" and table_number(1234.5) == "1,234" and table_number(1.2e-5) == "1.2e-05"
    assert table_number(60000) == table_number(60000.0) == "60,000"  # a count that came back from SQLite as REAL
    assert table_number(float("nan")) == "nan" and table_number(float("inf")) == "inf"
    assert table_number(None) == "" and table_number("adam") == "adam" and table_number(True) == "True"


def test_message_and_evidence_numbers_have_three_significant_digits():
    assert message_number(0.000123) == "0.000123" and message_number(2.5) == "2.5"
    assert evidence_number(0.312345) == "0.312" and evidence_number(1.23456e-7) == "1.23e-7"
    assert evidence_number(float("nan")) == "nan"


def test_sizes_in_words_and_short_times():
    assert count_in_words(2488320) == "2.49 M" and count_in_words(999) == "999"
    assert short_time("2026-11-30T10:00:00+0000") == "2026-11-30 10:00" and short_time(None) == ""
