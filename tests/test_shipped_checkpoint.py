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
from dgmpm_lite.data.sets import make_real_multi

MULTI_DAVIS_LEAD = 0.14  # measured: 63.3 vs 44.5 (docs/RESULTS.md)
MULTI_FLOW_LEAD = 0.13  # measured: 54.3 vs 36.4


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


@pytest.mark.parametrize("name", ["davis", "multi"])
def test_real_footage_checkpoints_are_shipped_small_and_reachable_by_name(name):
    path = default_checkpoint(name)
    assert path == REPO_ROOT / SHIPPED_CHECKPOINTS[name]
    assert path.stat().st_size < 10 * 2**20, f"keep the shipped {name} checkpoint under 10 MiB"
    model = load_model(path)  # no download: the ImageNet weights are not needed to load it
    assert model.config["backbone"] == "efficientnet_lite0"
    assert model.config["use_distance"] and model.config["use_prev_mask"]
    # dgmpm_multi.pt was trained at 160 like dgmpm_davis.pt but records 240, where it segments better
    assert model.working_short_side == {"davis": 160, "multi": 240}[name]


def test_segment_uses_the_multi_object_model_for_real_footage():
    assert REAL_FOOTAGE_CHECKPOINT == SHIPPED_CHECKPOINTS["multi"]
    assert default_checkpoint("synthetic") == REPO_ROOT / DEFAULT_CHECKPOINT


def _held_out_davis(shared_data):
    held_out = (REPO_ROOT / "data_samples/davis2016_split/val.txt").read_text().split()
    train = (REPO_ROOT / "data_samples/davis2016_split/train.txt").read_text().split()
    assert len(held_out) == 6 and not set(held_out) & set(train)
    return DavisDataset(shared_data / "DAVIS2016-train-240p", split=REPO_ROOT / "data_samples/davis2016_split/val.txt")


@pytest.mark.slow
@pytest.mark.parametrize(("name", "lead"), [("davis", 0.03), ("multi", MULTI_DAVIS_LEAD)])
def test_real_footage_models_beat_both_baselines_on_held_out_davis(shared_data, name, lead):
    """All frames of the 6 held-out sequences (never trained on), at each model's working size.

    On short prefixes the flow baseline is ahead (it is accurate for a few frames, then
    drifts); DGMPM's lead comes from its small decay, so the whole sequences are needed.
    ``lead``: a few points under the lead measured in docs/RESULTS.md.
    """
    model = load_model(default_checkpoint(name))
    res = evaluate_methods(
        _held_out_davis(shared_data), {"DGMPM": model, "flow": "flow", "copy": "copy"}, device="cpu", progress=False
    )
    jf = {method: r.global_metrics["J&F-Mean"] for method, r in res.items()}
    assert jf["DGMPM"] > jf["flow"] + lead, jf
    assert jf["DGMPM"] > jf["copy"] + 0.1, jf


@pytest.mark.slow
def test_multi_model_follows_the_given_objects_where_the_davis_model_follows_saliency(shared_data, tmp_path):
    """The project's multi-object benchmark (24 clips cut from the held-out sequences only),
    generated on the fly: the multi-object model beats optical flow and the single-object
    model it started from, which labels salient non-targets and look-alikes."""
    root = tmp_path / "davis_multi_val"
    make_real_multi(root, shared_data / "DAVIS2016-train-240p", progress=False)
    methods = {"multi": load_model(default_checkpoint("multi")), "davis": load_model(default_checkpoint("davis"))}
    res = evaluate_methods(DavisDataset(root, split="val"), {**methods, "flow": "flow"}, device="cpu", progress=False)
    jf = {method: r.global_metrics["J&F-Mean"] for method, r in res.items()}
    assert jf["multi"] > jf["flow"] + MULTI_FLOW_LEAD, jf
    assert jf["multi"] > jf["davis"] + 0.15, jf


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
