"""The dgmpm-lite command line: segment, evaluate, train; clear errors, no overwriting."""

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

from dgmpm_lite.cli import build_parser, main
from dgmpm_lite.data import read_label_png, write_jpeg, write_label_png
from dgmpm_lite.data.toy import toy_clip


@pytest.fixture
def clip(tmp_path):
    """A 6-frame folder video of a moving disc with its first-frame mask and ground truth."""
    frames_dir, gt_dir = tmp_path / "frames", tmp_path / "gt" / "disc"
    frames_dir.mkdir()
    gt_dir.mkdir(parents=True)
    for t in range(6):
        frames, masks = toy_clip(64, 96, shift=2 * t, seed=0)
        img = (frames[1].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
        write_jpeg(frames_dir / f"{t:05d}.jpg", img)
        write_label_png(gt_dir / f"{t:05d}.png", masks[1, 0].numpy().astype(np.uint8))
    return frames_dir, gt_dir


def global_jf(folder):
    with open(folder / "global_results.csv") as f:
        return float(next(csv.DictReader(f))["J&F-Mean"])


def _train_tiny(tmp_path, ckpt):
    """A few smoke steps on 48x64 frames, exported to ``ckpt`` (the model the CLI tests score)."""
    args = ["train", "--config", "smoke", "--out", str(tmp_path / "run"), "--set", "size=[48,64]", 'val_data=""']
    assert main([*args, "--export", str(ckpt)]) == 0


def test_segment_then_evaluate_a_baseline(clip, tmp_path, capsys):
    frames_dir, gt_dir = clip
    out = tmp_path / "results" / "disc"
    assert (
        main(
            [
                "segment",
                "--frames",
                str(frames_dir),
                "--first-mask",
                str(gt_dir / "00000.png"),
                "--out",
                str(out),
                "--method",
                "copy",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [f"{t:05d}.png" for t in range(6)]
    np.testing.assert_array_equal(read_label_png(out / "00004.png"), read_label_png(gt_dir / "00000.png"))
    assert main(["evaluate", "--gt", str(gt_dir.parent), "--results", str(out.parent)]) == 0
    assert "J&F-Mean" in capsys.readouterr().out
    assert (out.parent / "per-sequence_results.csv").exists()
    assert 0 < global_jf(out.parent) < 0.9  # the disc moves away from the copied mask
    # the ground truth scored against itself is perfect
    shutil.copytree(gt_dir, tmp_path / "perfect" / "disc")
    assert main(["evaluate", "--gt", str(gt_dir.parent), "--results", str(tmp_path / "perfect")]) == 0
    assert global_jf(tmp_path / "perfect") == 1.0
    assert main(["evaluate", "--gt", str(gt_dir.parent), "--results", str(tmp_path / "perfect")]) == 2  # no overwrite
    assert "--overwrite" in capsys.readouterr().err


def test_segment_with_a_trained_checkpoint_and_overlay(clip, tmp_path):
    frames_dir, gt_dir = clip
    ckpt = tmp_path / "model.pt"
    _train_tiny(tmp_path, ckpt)
    out = tmp_path / "res"
    overlay = tmp_path / "overlay.mp4"
    args = [
        "segment",
        "--frames",
        str(frames_dir),
        "--first-mask",
        str(gt_dir / "00000.png"),
        "--out",
        str(out),
        "--checkpoint",
        str(ckpt),
        "--overlay",
        str(overlay),
    ]
    assert main(args) == 0
    assert len(list(out.glob("*.png"))) == 6 and overlay.stat().st_size > 0
    before = (out / "00002.png").read_bytes()
    assert main(args) == 2  # never overwrites without --overwrite
    assert (out / "00002.png").read_bytes() == before
    assert main(args + ["--overwrite"]) == 0


def test_clear_errors_and_nonzero_exit(clip, tmp_path, capsys):
    frames_dir, gt_dir = clip
    assert (
        main(
            [
                "segment",
                "--frames",
                str(tmp_path / "nope"),
                "--first-mask",
                str(gt_dir / "00000.png"),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "not found" in capsys.readouterr().err
    empty = tmp_path / "empty.png"
    write_label_png(empty, np.zeros((64, 96), np.uint8))
    assert (
        main(
            [
                "segment",
                "--frames",
                str(frames_dir),
                "--first-mask",
                str(empty),
                "--out",
                str(tmp_path / "o"),
                "--method",
                "copy",
            ]
        )
        == 2
    )
    assert "empty" in capsys.readouterr().err
    assert (
        main(
            [
                "segment",
                "--frames",
                str(frames_dir),
                "--first-mask",
                str(gt_dir / "00000.png"),
                "--out",
                str(tmp_path / "o"),
                "--checkpoint",
                str(tmp_path / "missing.pt"),
            ]
        )
        == 2
    )
    assert "checkpoint" in capsys.readouterr().err
    assert main(["evaluate", "--gt", str(gt_dir.parent), "--results", str(tmp_path / "none")]) == 2
    assert main(["train", "--config", "nosuchpreset", "--out", str(tmp_path / "r")]) == 2
    assert "neither a preset" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "segment", "evaluate", "compare", "ablation", "benchmark", "figures"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "usage: dgmpm-lite " + command in capsys.readouterr().out


def test_compare_scores_checkpoints_and_baselines_on_the_same_videos(tmp_path, capsys):
    ckpt = tmp_path / "m.pt"
    _train_tiny(tmp_path, ckpt)
    out_csv = tmp_path / "table.csv"
    per_seq = tmp_path / "per_seq.csv"
    assert (
        main(
            [
                "compare",
                "--model",
                f"tiny={ckpt}",
                "--max-frames",
                "4",
                "--device",
                "cpu",
                "--out",
                str(out_csv),
                "--per-sequence",
                str(per_seq),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    for name in ("| tiny |", "| flow baseline |", "| copy baseline |"):
        assert name in printed
    with open(out_csv) as f:
        rows = list(csv.DictReader(f))
    assert [r["method"] for r in rows] == ["tiny", "flow baseline", "copy baseline"]
    assert all(0 <= float(r["J&F-Mean"]) <= 1 for r in rows)
    assert main(["compare", "--model", f"tiny={ckpt}", "--out", str(out_csv)]) == 2  # no overwrite
    with open(per_seq) as f:
        per = list(csv.DictReader(f))
    from dgmpm_lite.data import DavisDataset, data_samples_root

    val = DavisDataset(data_samples_root(), split="val")
    objects = sum(v.num_objects for v in val)
    assert len(per) == 3 * objects and {r["method"] for r in per} == {"tiny", "flow baseline", "copy baseline"}
    assert {r["Sequence"].rsplit("_", 1)[0] for r in per} == set(val.names)
    assert all(0 <= float(r["J-Mean"]) <= 1 for r in per)
    assert main(["compare", "--model", f"tiny={ckpt}", "--per-sequence", str(per_seq)]) == 2  # no overwrite


def test_ablation_variants_without_dash_and_unknown_variant(tmp_path, capsys, monkeypatch):
    import dgmpm_lite.ablation as ablation

    seen = {}
    monkeypatch.setattr(
        ablation, "run_ablation", lambda config, out, variants, *a: seen.setdefault("v", variants) and ({}, "table")
    )
    assert main(["ablation", "--out", str(tmp_path), "--variants", "DGMPM,EDM,-PM,SAB+CAB"]) == 0
    assert seen["v"] == ["DGMPM", "-EDM", "-PM", "-SAB+CAB"]
    assert main(["ablation", "--out", str(tmp_path), "--variants", "EDM,NOPE"]) == 2
    assert "unknown variants ['NOPE']" in capsys.readouterr().err


def test_ablation_reuse_names_a_variant_and_a_model(tmp_path, capsys, monkeypatch):
    import dgmpm_lite.ablation as ablation

    seen = {}
    monkeypatch.setattr(
        ablation,
        "run_ablation",
        lambda config, out, variants, b, m, o, reuse: seen.update(v=variants, r=reuse) or ({}, "table"),
    )
    assert main(["ablation", "--out", str(tmp_path), "--reuse", "DGMPM=a.pt", "--reuse", "EDM=b.pt"]) == 0
    assert seen["r"] == {"DGMPM": "a.pt", "-EDM": "b.pt"} and seen["v"] == list(ablation.VARIANTS)
    for bad in ("DGMPM", "DGMPM=", "all=a.pt", "NOPE=a.pt"):
        assert main(["ablation", "--out", str(tmp_path), "--reuse", bad]) == 2
        err = capsys.readouterr().err
        assert "--reuse wants" in err or "unknown variants ['NOPE']" in err


def test_segment_uses_the_multi_object_model_unless_told_otherwise(clip, tmp_path, monkeypatch):
    import dgmpm_lite.checkpoints as checkpoints

    loaded = []
    real_load = checkpoints.load_model
    monkeypatch.setattr(
        checkpoints, "load_model", lambda path, *a, **k: loaded.append(Path(path).name) or real_load(path, *a, **k)
    )
    frames_dir, gt_dir = clip
    base = ["segment", "--frames", str(frames_dir), "--first-mask", str(gt_dir / "00000.png")]
    assert main(base + ["--out", str(tmp_path / "a")]) == 0
    assert main(base + ["--out", str(tmp_path / "b"), "--checkpoint", "synthetic"]) == 0
    assert main(base + ["--out", str(tmp_path / "c"), "--checkpoint", "davis"]) == 0
    assert loaded == ["dgmpm_multi.pt", "dgmpm_synthetic.pt", "dgmpm_davis.pt"]
    assert len(list((tmp_path / "a").glob("*.png"))) == 6


def test_repeated_set_flags_are_all_applied():
    """A repeated list flag keeps every value (argparse's default would keep only the last)."""
    args = build_parser().parse_args(
        ["train", "--out", "run", "--set", "num_workers=1", "--set", "lr=1e-3", "amp=false"]
    )
    assert args.set == ["num_workers=1", "lr=1e-3", "amp=false"]
    args = build_parser().parse_args(["compare", "--model", "a=davis", "--model", "b=synthetic"])
    assert args.model == ["a=davis", "b=synthetic"]
