"""Ablation harness (Table IV): every variant trained the same way and scored together."""

import csv

import pytest

from dgmpm_lite.ablation import VARIANTS, run_ablation
from dgmpm_lite.model import DGMPM


def test_variants_are_the_papers_switches():
    assert list(VARIANTS) == ["DGMPM", "-EDM", "-PM", "-SAB", "-SAB+CAB"]
    assert DGMPM(weights=None, **VARIANTS["-EDM"]).features.side_convs is None
    assert DGMPM(weights=None, **VARIANTS["-PM"]).decoder.num_guides == 1


def test_run_ablation_trains_and_scores_each_variant(tmp_path):
    results, table = run_ablation(
        "smoke", tmp_path, variants=["DGMPM", "-EDM"], max_frames=4,
        size=(48, 64), val_data="data_samples/synthetic", val_every=0, checkpoint_every=0,
    )
    assert list(results) == ["DGMPM", "-EDM", "flow baseline", "copy baseline"]
    for name in ("dgmpm", "edm"):
        assert (tmp_path / name / "model.pt").is_file()
    with open(tmp_path / "ablation.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["method"] for r in rows] == list(results)
    assert rows[1]["paper_J&F"] == "51.9"
    assert "| -EDM |" in (tmp_path / "ablation.md").read_text()
    with pytest.raises(ValueError, match="unknown variants"):
        run_ablation("smoke", tmp_path, variants=["-XYZ"])
