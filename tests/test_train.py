"""Training: it learns, resumes exactly, refuses foreign checkpoints, runs under torchrun."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import dgmpm_lite.device
from dgmpm_lite.checkpoints import atomic_save, average_models, export_model, load_checkpoint, load_model
from dgmpm_lite.config import Stage, TrainConfig, load_config
from dgmpm_lite.train import train

TINY = dict(size=(48, 64), batch_size=2, synthetic={"num_frames": 6}, val_data="", checkpoint_every=1, num_workers=0)


def tiny_config(**kw):
    return load_config("smoke", **{**TINY, **kw})


def read_losses(path):
    with open(path) as f:
        return [float(r["loss"]) for r in csv.DictReader(f)]


@pytest.mark.parametrize("native_bfloat16", [False, True], ids=["float32", "bfloat16"])
def test_resume_after_interruption_gives_the_same_weights(tmp_path, monkeypatch, native_bfloat16):
    # both CPU precisions, whatever this CPU has (bfloat16 is emulated where not native)
    monkeypatch.setattr(dgmpm_lite.device, "cpu_has_native_bfloat16", lambda: native_bfloat16)
    cfg = tiny_config()
    straight = train(cfg, tmp_path / "a", progress=False)
    train(cfg, tmp_path / "b", max_steps=3, progress=False)  # "interrupted" after 3 of 4 steps
    assert load_checkpoint(tmp_path / "b" / "last.pt")["global_step"] == 3
    resumed = train(cfg, tmp_path / "b", progress=False)
    a, b = load_checkpoint(straight)["model"], load_checkpoint(resumed)["model"]
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)
    assert read_losses(tmp_path / "a" / "train_log.csv") == read_losses(tmp_path / "b" / "train_log.csv")
    assert not [p for p in os.listdir(tmp_path / "b") if ".tmp" in p]  # atomic writes leave nothing behind


def test_checkpoint_from_another_config_is_refused(tmp_path):
    train(tiny_config(), tmp_path, max_steps=1, progress=False)
    with pytest.raises(
        ValueError, match="was made with another config.*attention: checkpoint 'spatial' vs config 'none'"
    ):
        train(tiny_config(attention="none"), tmp_path, progress=False)


@pytest.mark.parametrize("stopped_at", [4, 3], ids=["finished", "mid-stage"])
def test_a_run_given_more_stages_goes_on_to_the_same_end(tmp_path, capsys, stopped_at):
    # "train longer": the same command with stages appended resumes the run, finished or not
    short = tiny_config()
    longer = tiny_config(stages=[*short.stages, Stage("more", "video", 2, 5e-4)])
    straight = train(longer, tmp_path / "a", progress=False)
    train(short, tmp_path / "b", max_steps=stopped_at, progress=False)
    assert load_checkpoint(tmp_path / "b" / "last.pt")["global_step"] == stopped_at
    capsys.readouterr()
    extended = train(longer, tmp_path / "b", progress=False)
    assert f"resuming from {tmp_path / 'b' / 'last.pt'} at step {stopped_at}" in capsys.readouterr().out
    assert load_checkpoint(extended)["global_step"] == 6
    a, b = load_checkpoint(straight)["model"], load_checkpoint(extended)["model"]
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)
    assert read_losses(tmp_path / "a" / "train_log.csv") == read_losses(tmp_path / "b" / "train_log.csv")
    # changing a stage it has trained is another run, even when stages are appended too
    changed = tiny_config(stages=[Stage("static", "static", 2, 1e-2), *longer.stages[1:], Stage("x", "video", 1, 1e-4)])
    with pytest.raises(ValueError, match="was made with another config.*stages"):
        train(changed, tmp_path / "b", progress=False)
    with pytest.raises(ValueError, match="stage names must differ"):
        tiny_config(stages=[*short.stages, short.stages[-1]])


def test_working_size_is_recorded_with_the_model_and_a_finished_run_exports_a_new_one(tmp_path):
    from dgmpm_lite.cli import main

    cfg = tiny_config()
    train(cfg, tmp_path / "run", progress=False)
    assert load_model(tmp_path / "run" / "last.pt").working_short_side == 48  # min(size)
    # a finished run exported again with another working size: same weights, new default size
    (tmp_path / "cfg.json").write_text(json.dumps({**cfg.to_dict(), "working_size": 96}))
    args = ["train", "--config", str(tmp_path / "cfg.json"), "--out", str(tmp_path / "run")]
    assert main([*args, "--export", str(tmp_path / "m.pt")]) == 0
    assert load_model(tmp_path / "m.pt").working_short_side == 96
    with pytest.raises(ValueError, match="working_size must be a short side in pixels"):
        tiny_config(working_size=8)


def test_learns_on_synthetic_video_triplets(tmp_path):
    torch.manual_seed(0)
    cfg = tiny_config(
        stages=[{"name": "video", "kind": "video", "steps": 30, "lr": 1e-3}],
        size=(64, 96),
        batch_size=4,
        checkpoint_every=0,
    )
    train(cfg, tmp_path, progress=False)
    losses = read_losses(tmp_path / "train_log.csv")
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.6 * first, losses


def test_export_is_half_precision_and_loads(tmp_path):
    ckpt = train(tiny_config(), tmp_path / "run", progress=False)
    out = export_model(ckpt, tmp_path / "model.pt")
    state = load_checkpoint(out)["model"]
    assert all(v.dtype == torch.float16 for v in state.values() if v.is_floating_point())
    model = load_model(out)
    assert model.config == load_checkpoint(ckpt)["model_config"]
    with pytest.raises(FileExistsError):
        export_model(ckpt, out)


def test_int8_export_is_smaller_and_close(tmp_path):
    ckpt = train(tiny_config(), tmp_path / "run", progress=False)
    half = export_model(ckpt, tmp_path / "half.pt")
    small = export_model(ckpt, tmp_path / "int8.pt", precision="int8")
    assert small.stat().st_size < 0.6 * half.stat().st_size
    full = load_model(ckpt)
    for name, w in load_model(small).state_dict().items():
        ref = full.state_dict()[name]
        if ref.is_floating_point() and ref.dim() == 4:  # per-channel int8: error <= half a step
            step = ref.abs().amax(dim=(1, 2, 3), keepdim=True) / 127
            assert ((w - ref).abs() <= 0.51 * step + 1e-3 * step.max()).all(), name
    with pytest.raises(ValueError, match="precision must be"):
        export_model(ckpt, tmp_path / "x.pt", precision="int4")


def test_average_of_two_continuations_is_their_mean(tmp_path):
    ckpt = train(tiny_config(), tmp_path / "run", progress=False)
    other = load_checkpoint(ckpt)
    torch.manual_seed(1)
    other["model"] = {k: v + torch.randn_like(v) if v.is_floating_point() else v for k, v in other["model"].items()}
    other["global_step"] = 9
    atomic_save(other, tmp_path / "other.pt")
    out = average_models([ckpt, tmp_path / "other.pt"], tmp_path / "soup.pt", precision="float16")
    a, b = load_model(ckpt).state_dict(), load_model(tmp_path / "other.pt").state_dict()
    soup = load_model(out).state_dict()
    for k, v in soup.items():
        if v.is_floating_point():
            torch.testing.assert_close(v, (a[k] + b[k]) / 2, rtol=2e-3, atol=2e-3, msg=k)  # float16 storage
    meta = json.loads(load_checkpoint(out)["meta"])
    assert [m["global_step"] for m in meta["averaged_from"]] == [4, 9] and meta["global_step"] == 9
    assert meta["trained_with"] == load_checkpoint(ckpt)["config"]  # the working size travels with it
    with pytest.raises(FileExistsError):
        average_models([ckpt, tmp_path / "other.pt"], out)
    # a path given twice counts twice; exported int8 models are read back to float32
    int8 = export_model(tmp_path / "other.pt", tmp_path / "other_int8.pt", precision="int8")
    twice = load_model(average_models([ckpt, ckpt, int8], tmp_path / "twice.pt")).state_dict()
    name = next(k for k, v in a.items() if v.dim() == 4)
    torch.testing.assert_close(twice[name], (2 * a[name] + b[name]) / 3, rtol=0, atol=0.02)
    assert not torch.allclose(twice[name], soup[name], atol=0.02)


def test_average_refuses_what_is_not_one_runs_models(tmp_path):
    ckpt = train(tiny_config(), tmp_path / "run", progress=False)
    no_pm = train(tiny_config(use_prev_mask=False), tmp_path / "no_pm", progress=False)
    larger = train(tiny_config(working_size=96), tmp_path / "large", progress=False)
    lacking = load_checkpoint(ckpt)
    lacking["model"].pop(next(iter(lacking["model"])))
    atomic_save(lacking, tmp_path / "lacking.pt")
    with pytest.raises(ValueError, match="at least two models"):
        average_models([ckpt], tmp_path / "x.pt")
    with pytest.raises(ValueError, match="another architecture.*use_prev_mask False vs True"):
        average_models([ckpt, no_pm], tmp_path / "x.pt")
    with pytest.raises(ValueError, match="do not match"):
        average_models([ckpt, tmp_path / "lacking.pt"], tmp_path / "x.pt")
    with pytest.raises(ValueError, match=r"different working sizes \(48, 96\); pass --working-size"):
        average_models([ckpt, larger], tmp_path / "x.pt")
    with pytest.raises(ValueError, match="is one of the models"):
        average_models([ckpt, larger], ckpt, overwrite=True)
    assert not (tmp_path / "x.pt").exists()
    said = average_models([ckpt, larger], tmp_path / "x.pt", working_size=96)
    assert load_model(said).working_short_side == 96


def test_bad_checkpoints_and_configs(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot be read"):
        load_checkpoint(junk)
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a dgmpm_lite checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="unknown training config keys \\['learning_rate'\\]"):
        TrainConfig.from_dict({"learning_rate": 1})
    with pytest.raises(ValueError, match="kind must be one of"):
        load_config("smoke", stages=[{"name": "x", "kind": "audio", "steps": 1, "lr": 1e-3}])
    with pytest.raises(FileNotFoundError, match="neither a preset"):
        load_config(str(tmp_path / "nope.json"))


def test_paper_preset_keeps_the_paper_learning_rates():
    cfg = load_config("paper")
    assert [s.lr for s in cfg.stages] == [1e-5, 5e-6, 1e-6]
    assert [s.kind for s in cfg.stages] == ["static", "video", "video"]
    assert cfg.max_prev_interval == 3


@pytest.mark.slow
def test_two_cpu_processes_with_torchrun(tmp_path):
    code = (
        "from dgmpm_lite.config import load_config; from dgmpm_lite.train import train;"
        f"train(load_config('smoke', size=(48, 64), val_data='', num_workers=0), r'{tmp_path}', progress=False)"
    )
    script = tmp_path / "run.py"
    script.write_text(code)
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29531", str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 processes" in proc.stdout
    ckpt = load_checkpoint(tmp_path / "last.pt")
    assert ckpt["global_step"] == 4


def test_segmentation_loss_ce_and_bootstrap_against_brute_force():
    from dgmpm_lite.config import load_config
    from dgmpm_lite.train import segmentation_loss

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 2, 5, 7, generator=g)
    target = (torch.rand(2, 5, 7, generator=g) > 0.8).long()
    # brute force: -log softmax of the true class, pixel by pixel
    per_pixel = np.zeros((2, 35))
    for b in range(2):
        for i in range(5):
            for j in range(7):
                z = logits[b, :, i, j].double().numpy()
                per_pixel[b, i * 7 + j] = -(z[target[b, i, j]] - np.log(np.exp(z).sum()))
    assert segmentation_loss(logits, target, "ce").item() == pytest.approx(per_pixel.mean(), rel=1e-5)
    assert segmentation_loss(logits, target, "bootstrap", 1.0).item() == pytest.approx(per_pixel.mean(), rel=1e-5)
    k = round(0.2 * 35)  # the 7 hardest pixels of each sample
    hardest = np.sort(per_pixel, axis=1)[:, ::-1][:, :k].mean()
    assert segmentation_loss(logits, target, "bootstrap", 0.2).item() == pytest.approx(hardest, rel=1e-5)
    assert segmentation_loss(logits, target, "bootstrap", 0.2) > segmentation_loss(logits, target, "ce")
    with pytest.raises(ValueError, match="loss must be one of"):
        segmentation_loss(logits, target, "dice")
    with pytest.raises(ValueError, match="loss must be one of"):
        load_config("smoke", loss="focal")
    with pytest.raises(ValueError, match="hard_fraction"):
        load_config("smoke", loss="bootstrap", hard_fraction=0.0)


def test_config_differences_treat_missing_keys_as_defaults_and_ignore_runtime_keys():
    from dgmpm_lite.config import config_differences

    new = load_config("cpu").to_dict()
    old = {k: v for k, v in new.items() if k not in ("loss", "hard_fraction")}  # written before those options
    assert config_differences(old, new) == []
    watched = {**new, "val_data": "", "val_every": 0, "val_split": "x.txt", "num_workers": 0}
    assert config_differences(new, watched) == []
    assert config_differences(new, {**new, "loss": "bootstrap"}) == ["loss: checkpoint 'ce' vs config 'bootstrap'"]
