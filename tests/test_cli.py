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


def _scored_as(values: dict, data):
    """Hand-made compare results on ``data``: J of every (video, object) is 0.5 but for ``values``."""
    from dgmpm_lite.metrics import GLOBAL_COLUMNS, DatasetResults, SequenceScores

    res = DatasetResults(global_metrics={c: 0.5 for c in GLOBAL_COLUMNS}, per_object=[])
    res.sequences = {}
    for seq in data:
        ids = list(range(1, seq.num_objects + 1))
        j = np.array([[values.get((seq.name, k), 0.5)] * (len(seq) - 2) for k in ids])
        res.sequences[seq.name] = SequenceScores(J=j, F=j, object_ids=ids, frames=list(range(1, len(seq) - 1)))
    return res


def test_compare_draws_the_lookalike_case_where_the_first_model_gains_most(tmp_path, capsys, monkeypatch):
    import dgmpm_lite.compare as compare
    from dgmpm_lite.data import DavisDataset, data_samples_root
    from dgmpm_lite.data.metadata import fig8_candidates, read_metadata
    from dgmpm_lite.viz import colour_name

    data = DavisDataset(data_samples_root(), split="val")
    cases = fig8_candidates(data)["distractor"]
    targets = {n: sum(o["role"] == "target" for o in read_metadata(data, n)["objects"]) for n in data.names}
    many = next(c for c in cases if targets[c["sequence"]] >= 2)
    one = next(c for c in cases if targets[c["sequence"]] == 1)
    # "new" gains 0.8 on a one-target video's look-alike case, 0.2 on one with several targets
    new = _scored_as({(one["sequence"], one["object_id"]): 0.9, (many["sequence"], many["object_id"]): 0.7}, data)
    old = _scored_as({(one["sequence"], one["object_id"]): 0.1}, data)
    monkeypatch.setattr(compare, "evaluate_methods", lambda *a, **k: {"new": new, "old": old})
    png = tmp_path / "figs" / "lookalike.png"
    argv = ["compare", "--model", "new=synthetic", "old=davis", "--no-baselines", "--device", "cpu"]
    argv += ["--lookalike-figure", str(png)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    colour = colour_name(many["object_id"])
    assert colour in ("dark red", "green", "olive", "navy")  # a name a reader finds in the figure
    assert (
        f"look-alike case: {many['sequence']}, target {many['object_id']} ({colour} in the figure), "
        f"frames {many['frame_ids']}"
    ) in printed
    assert "new 70.0, old 50.0" in printed and "on no look-alike case" not in printed
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "never commit it if they come from DAVIS" in printed
    before = png.read_bytes()
    assert main(argv) == 2  # an existing figure is kept without --overwrite
    assert "pass --overwrite" in capsys.readouterr().err and png.read_bytes() == before
    # where the first model gains nowhere, the output says the case is only the closest one
    monkeypatch.setattr(compare, "evaluate_methods", lambda *a, **k: {"new": old, "old": new})
    assert main([*argv, "--overwrite"]) == 0
    assert "new gains over old on no look-alike case" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--data", "PLAIN"], "needs generated videos"),
        (["--split", "ONLY_VAL_000"], "shows a target with its look-alike; choose videos"),
    ],
)
def test_lookalike_figure_is_refused_before_scoring(tmp_path, capsys, monkeypatch, extra, message):
    import dgmpm_lite.compare as compare
    from dgmpm_lite.data import data_samples_root

    def scoring(*args, **kwargs):
        raise AssertionError("scored before the figure's inputs were checked")

    monkeypatch.setattr(compare, "evaluate_methods", scoring)
    plain = tmp_path / "plain"
    shutil.copytree(data_samples_root(), plain, ignore=shutil.ignore_patterns("Instances"))
    (tmp_path / "only.txt").write_text("val_000\n")  # a video without look-alikes
    extra = [{"PLAIN": str(plain), "ONLY_VAL_000": str(tmp_path / "only.txt")}.get(a, a) for a in extra]
    png, table = tmp_path / "l.png", tmp_path / "table.csv"
    argv = ["compare", "--model", "a=synthetic", "b=davis", "--lookalike-figure", str(png), "--out", str(table)]
    assert main([*argv, *extra]) == 2
    assert message in capsys.readouterr().err
    assert not png.exists() and not table.exists()


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
