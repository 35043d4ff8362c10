"""The shipped default checkpoint: loads offline, is small, and beats both baselines."""

import pytest

from conftest import REPO_ROOT
from dgmpm_lite.compare import evaluate_methods
from dgmpm_lite.data import DavisDataset, data_samples_root
from dgmpm_lite.train import DEFAULT_CHECKPOINT, default_checkpoint, load_default_model


def test_default_checkpoint_is_shipped_and_small():
    path = default_checkpoint()
    assert path == REPO_ROOT / DEFAULT_CHECKPOINT
    assert path.stat().st_size < 25 * 2**20, "keep the shipped checkpoint under 25 MiB"


def test_missing_checkpoint_names_the_file(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        default_checkpoint(tmp_path / "nope.pt")
    monkeypatch.setenv("DGMPM_CHECKPOINT", str(tmp_path / "env.pt"))
    with pytest.raises(FileNotFoundError, match="env.pt"):
        default_checkpoint()


@pytest.mark.slow
def test_shipped_model_beats_both_baselines_on_synthetic_val():
    model = load_default_model()
    assert model.config["use_distance"] and model.config["use_prev_mask"]
    videos = DavisDataset(data_samples_root(), split="val")
    res = evaluate_methods(videos, {"DGMPM": model, "flow": "flow", "copy": "copy"}, max_frames=12, device="cpu", progress=False)
    jf = {name: r.global_metrics["J&F-Mean"] for name, r in res.items()}
    assert jf["DGMPM"] > jf["flow"] + 0.1, jf
    assert jf["DGMPM"] > jf["copy"] + 0.1, jf
