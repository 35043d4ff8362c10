"""Two instructor runs with the same seed draw the same figures: only timings may differ.

Runs the series twice in smoke mode (what CI can afford) into two temporary folders and
compares every output byte for byte, except the figures that plot measured run times and the
seconds-per-frame columns of the results tables (:data:`dgmpm_lite.notebooks.TIMED_OUTPUTS`).
"""

import csv
import io

import pytest

from dgmpm_lite.notebooks import TIMED_OUTPUTS, run_series


def _timed(column: str) -> bool:
    return any(w in column.lower() for w in ("per_frame", "s/frame", "s / frame", "fps"))


def _table(path):
    """A CSV or markdown table without its timing columns."""
    text = path.read_text()
    if path.suffix == ".csv":
        rows = list(csv.reader(io.StringIO(text)))
    else:
        rows = [
            [c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.splitlines()
            if line.startswith("|")
        ]
    if not rows:
        return text
    keep = [i for i, name in enumerate(rows[0]) if not _timed(name)]
    return [[row[i] for i in keep if i < len(row)] for row in rows]


@pytest.mark.slow
def test_two_smoke_runs_draw_identical_figures(tmp_path):
    runs = []
    for name in ("a", "b"):
        run_series(fig_dir=tmp_path / name, build_dir=tmp_path / f"{name}_notebooks", smoke=True, seed=0)
        runs.append(tmp_path / name)
    a, b = runs
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert sum(n.endswith(".png") for n in names) >= 20
    differ = []
    for n in names:
        if n in TIMED_OUTPUTS:
            continue
        if n.endswith((".csv", ".md")):
            same = _table(a / n) == _table(b / n)
        else:
            same = (a / n).read_bytes() == (b / n).read_bytes()
        if not same:
            differ.append(n)
    assert not differ, f"these outputs changed between two runs with the same seed: {differ}"
