"""The shipped checkpoints (synthetic and DAVIS): load offline, are small, and beat both baselines."""

import pytest
from conftest import REPO_ROOT

from dgmpm_lite.checkpoints import (
    DEFAULT_CHECKPOINT,
    REAL_FOOTAGE_CHECKPOINT,
    SHIPPED_CHECKPOINTS,
    default_checkpoint,
    load_default_model,
    load_model,
)
from dgmpm_lite.compare import evaluate_methods
from dgmpm_lite.data import DavisDataset, data_samples_root


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
    res = evaluate_methods(
        videos, {"DGMPM": model, "flow": "flow", "copy": "copy"}, max_frames=12, device="cpu", progress=False
    )
    jf = {name: r.global_metrics["J&F-Mean"] for name, r in res.items()}
    assert jf["DGMPM"] > jf["flow"] + 0.1, jf
    assert jf["DGMPM"] > jf["copy"] + 0.1, jf


# -- the real-footage model (DAVIS-2016, EfficientNet-Lite0) -----------------------------------


def test_davis_checkpoint_is_shipped_small_and_reachable_by_name():
    path = default_checkpoint("davis")
    assert path == REPO_ROOT / REAL_FOOTAGE_CHECKPOINT == REPO_ROOT / SHIPPED_CHECKPOINTS["davis"]
    assert path.stat().st_size < 10 * 2**20, "keep the shipped DAVIS checkpoint under 10 MiB"
    assert default_checkpoint("synthetic") == REPO_ROOT / DEFAULT_CHECKPOINT
    model = load_model(path)  # no download: the ImageNet weights are not needed to load it
    assert model.config["backbone"] == "efficientnet_lite0"
    assert model.config["use_distance"] and model.config["use_prev_mask"]


@pytest.mark.slow
def test_davis_model_beats_both_baselines_on_held_out_davis(shared_data):
    """All frames of the 6 held-out sequences (never trained on); about a minute on 2 cores.

    On short prefixes the flow baseline is ahead (it is accurate for a few frames, then
    drifts); DGMPM's lead comes from its small decay, so the whole sequences are needed.
    """
    held_out = (REPO_ROOT / "data_samples/davis2016_split/val.txt").read_text().split()
    train = (REPO_ROOT / "data_samples/davis2016_split/train.txt").read_text().split()
    assert len(held_out) == 6 and not set(held_out) & set(train)
    videos = DavisDataset(
        shared_data / "DAVIS2016-train-240p", split=REPO_ROOT / "data_samples/davis2016_split/val.txt"
    )
    model = load_model(default_checkpoint("davis"))
    res = evaluate_methods(videos, {"DGMPM": model, "flow": "flow", "copy": "copy"}, device="cpu", progress=False)
    jf = {name: r.global_metrics["J&F-Mean"] for name, r in res.items()}
    assert jf["DGMPM"] > jf["flow"] + 0.03, jf  # measured: 49.9 vs 44.5 (README)
    assert jf["DGMPM"] > jf["copy"] + 0.1, jf


def test_the_five_shipped_ablation_variants_are_small_and_trained_alike():
    """Notebook 08 scores them instead of training: each must be the ablation_cpu preset with its
    own switches (reuse_variant checks the recorded config), all five under 30 MB together."""
    from dgmpm_lite.ablation import SHIPPED_VARIANTS_CONFIG, VARIANTS, reuse_variant, shipped_variants

    files = shipped_variants()
    assert list(files) == list(VARIANTS)
    assert sum(p.stat().st_size for p in files.values()) <= 30 * 10**6
    for name, path in files.items():
        model = reuse_variant(path, SHIPPED_VARIANTS_CONFIG, name)
        for key, value in VARIANTS[name].items():
            assert model.config[key] == value, (name, key)
    with pytest.raises(ValueError, match="cannot stand for '-EDM'"):
        reuse_variant(files["DGMPM"], SHIPPED_VARIANTS_CONFIG, "-EDM")
