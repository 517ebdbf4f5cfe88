"""The report's figures, drawn with matplotlib's Agg canvas (no display, no global pyplot state).

Three figures: a reliability diagram (is a 30% really right 30% of the time?), a confusion
matrix of the top-ranked condition against the truth, and the probability each case gave to its
true diagnosis (bars coloured by where the diagnosis ranked).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray

from kneesource.evaluation.metrics import ReliabilityBin
from kneesource.evaluation.runner import Outcome

DPI = 110


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return path


def reliability_diagram(bins: Sequence[ReliabilityBin], title: str, path: Path) -> Path:
    fig = Figure(figsize=(5.5, 6.5))
    ax, hist = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    filled = [b for b in bins if b.count]
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    ax.plot(
        [b.mean_predicted for b in filled],
        [b.observed for b in filled],
        marker="o",
        color="tab:blue",
        label="kneesource",
    )
    ax.set_ylabel("share where the condition was present")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="upper left")
    centres = [(b.lower + b.upper) / 2 for b in bins]
    hist.bar(centres, [b.count for b in bins], width=bins[0].upper - bins[0].lower, color="grey")
    hist.set_yscale("log")
    hist.set_xlabel("predicted probability")
    hist.set_ylabel("pairs (log)")
    return _save(fig, path)


def confusion_plot(
    matrix: NDArray[np.int64], labels: Sequence[str], title: str, path: Path
) -> Path:
    size = max(5.0, 0.32 * len(labels) + 2.5)
    fig = Figure(figsize=(size, size))
    ax = fig.subplots()
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("ranked first by kneesource")
    ax.set_ylabel("final diagnosis")
    ax.set_title(title)
    for i, j in zip(*np.nonzero(matrix), strict=True):
        colour = "white" if matrix[i, j] > matrix.max() / 2 else "black"
        ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7, color=colour)
    return _save(fig, path)


def truth_probability_bars(outcomes: Sequence[Outcome], title: str, path: Path) -> Path:
    ordered = sorted(outcomes, key=lambda o: o.truth_probability)
    colours = [
        "tab:green" if o.rank == 1 else "tab:orange" if o.rank <= 3 else "tab:red" for o in ordered
    ]
    fig = Figure(figsize=(7, max(4.0, 0.16 * len(ordered) + 1.5)))
    ax = fig.subplots()
    ax.barh(range(len(ordered)), [o.truth_probability for o in ordered], color=colours)
    ax.set_yticks(range(len(ordered)), [o.case_id for o in ordered], fontsize=6)
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability given to the final diagnosis")
    ax.set_title(f"{title}\ngreen: ranked first, orange: 2nd-3rd, red: lower")
    return _save(fig, path)
