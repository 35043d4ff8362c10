"""Two instructor runs with the same seed draw the same figures: only timings may differ.

Runs the series twice in smoke mode (what CI can afford) into two temporary folders and
compares every output byte for byte, tables included (they hold no timings), except the
figures that plot measured run times (:data:`dgmpm_lite.notebooks.TIMED_OUTPUTS`).
"""

import pytest

from dgmpm_lite.notebooks import TIMED_OUTPUTS, run_series


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
        if (a / n).read_bytes() != (b / n).read_bytes():
            differ.append(n)
    assert not differ, f"these outputs changed between two runs with the same seed: {differ}"
