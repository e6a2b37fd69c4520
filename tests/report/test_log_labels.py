"""Log-axis tick labels as plain text: matplotlib's own labels, without its mathtext parser."""

from __future__ import annotations

import pytest

from deepscope.report.plots import Plot, log_scale, plain_label


@pytest.mark.parametrize(("mathtext", "plain"), [
    ("$\\mathdefault{10^{-4}}$", "10\u207b\u2074"),
    ("$\\mathdefault{10^{0}}$", "10\u2070"),
    ("$\\mathdefault{10^{12}}$", "10\u00b9\u00b2"),
    ("$\\mathdefault{2\\times10^{-1}}$", "2\u00d710\u207b\u00b9"),
    ("", ""),
    ("0.5", "0.5"),
])
def test_matplotlib_labels_become_plain_text(mathtext, plain):
    assert plain_label(mathtext) == plain


def test_a_log_plot_labels_its_decades_without_mathtext():
    plot = Plot(4, 3)
    with plot as ax:
        ax.plot([1, 2, 3], [1e-3, 1e-1, 2.0])
        log_scale(ax, "y")
    assert "10\u207b\u00b3" in plot.svg and "10\u2070" in plot.svg
    assert "mathdefault" not in plot.svg and "$" not in plot.svg
