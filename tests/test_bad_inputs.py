"""The bad-input matrix: each row is a mistake a user makes; each must give one clear line, exit 2,
and touch nothing."""

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from dgmpm_lite.cli import main


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def fx(tmp_path, monkeypatch):
    """``good/`` (5 frames), ``mask_good.png``, a 5-frame mp4 and a damaged copy; cwd = tmp_path."""
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    (tmp_path / "good").mkdir()
    frames = [rng.integers(0, 255, (64, 96, 3)).astype(np.uint8) for _ in range(5)]
    for i, f in enumerate(frames):
        cv2.imwrite(str(tmp_path / "good" / f"{i:05d}.jpg"), f)
    mask = np.zeros((64, 96), np.uint8)
    mask[10:30, 10:40] = 1
    cv2.imwrite(str(tmp_path / "mask_good.png"), mask)
    writer = cv2.VideoWriter(str(tmp_path / "v.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10, (96, 64))
    for f in frames:
        writer.write(f)
    writer.release()
    data = bytearray((tmp_path / "v.mp4").read_bytes())
    mid = len(data) // 3
    data[mid : mid + 6000] = rng.integers(0, 255, len(data[mid : mid + 6000])).astype(np.uint8).tobytes()
    (tmp_path / "damaged.mp4").write_bytes(bytes(data))
    (tmp_path / "unnatural").mkdir()
    for i in range(12):
        cv2.imwrite(str(tmp_path / "unnatural" / f"{i}.jpg"), frames[i % 5])
    (tmp_path / "twins").mkdir()
    for i in range(4):
        cv2.imwrite(str(tmp_path / "twins" / f"{i:05d}.jpg"), frames[i])
    cv2.imwrite(str(tmp_path / "twins" / "00001.png"), frames[1])
    (tmp_path / "a_file").write_text("not a folder")
    torch.save({"format": "dgmpm_lite.model/1"}, tmp_path / "format_only.pt")
    torch.save({"format": "dgmpm_lite.model/1", "object": Path("anything")}, tmp_path / "unsafe.pt")
    (tmp_path / "model_exists.pt").write_bytes(b"a model the user keeps")
    (tmp_path / "other_run").mkdir()  # another run's identity and log, its checkpoint gone
    (tmp_path / "other_run" / "config.json").write_text('{"preset": "cpu", "size": [128, 224]}')
    (tmp_path / "other_run" / "train_log.csv").write_text("global_step,stage,loss,lr,seconds\n1,static,0.5,0.001,1.0\n")
    return tmp_path


SEG = ["segment", "--frames", "good", "--first-mask", "mask_good.png", "--method", "copy"]

# (row of the issue, arguments, fragment of the one-line message)
MATRIX = [
    (
        "1 overlay fps negative",
        SEG + ["--out", "out/f", "--overlay", "out/f.mp4", "--fps", "-5"],
        "--fps: must be between 0 and 240",
    ),
    (
        "1 overlay fps zero",
        SEG + ["--out", "out/f", "--overlay", "out/f.mp4", "--fps", "0"],
        "--fps: must be between 0 and 240",
    ),
    (
        "1 overlay fps huge",
        SEG + ["--out", "out/f", "--overlay", "out/f.mp4", "--fps", "100000"],
        "--fps: must be between 0 and 240",
    ),
    (
        "1 overlay fps nan",
        SEG + ["--out", "out/f", "--overlay", "out/f.mp4", "--fps", "nan"],
        "--fps: must be between 0 and 240",
    ),
    (
        "1 overlay missing folder",
        SEG + ["--out", "out/f", "--overlay", "missing_dir/x.mp4"],
        "missing_dir does not exist",
    ),
    ("1 overlay gif", SEG + ["--out", "out/f", "--overlay", "x.gif"], "name it .mp4 or .avi"),
    (
        "2 damaged video",
        ["segment", "--frames", "damaged.mp4", "--first-mask", "mask_good.png", "--method", "copy", "--out", "out/d"],
        "can be decoded: the file is damaged",
    ),
    (
        "4 frames sharing a name",
        ["segment", "--frames", "twins", "--first-mask", "mask_good.png", "--method", "copy", "--out", "out/t"],
        "holds both 00001.jpg and 00001.png",
    ),
    ("5 cuda without cuda: segment", SEG + ["--out", "out/c", "--device", "cuda"], "CUDA is not available"),
    ("5 cuda without cuda: compare", ["compare", "--device", "cuda", "--no-baselines"], "CUDA is not available"),
    ("5 cuda without cuda: benchmark", ["benchmark", "--device", "cuda"], "CUDA is not available"),
    (
        "5 checkpoint with a format key only",
        SEG[:-2] + ["--out", "out/k", "--checkpoint", "format_only.pt"],
        "is incomplete (no model_config or model)",
    ),
    ("5 out under a file", SEG + ["--out", "a_file/sub"], "a_file is a file, not a folder"),
    ("5 benchmark negative threads", ["benchmark", "--threads", "-4"], "--threads: must be 0 or more"),
    (
        "5 train size not a size",
        ["train", "--config", "smoke", "--out", "run", "--set", "size=abc"],
        "size must be [height, width]",
    ),
    (
        "5 train: cuda without cuda",
        ["train", "--config", "smoke", "--out", "run", "--device", "cuda"],
        "CUDA is not available",
    ),
    (
        "5 train out under a file",
        ["train", "--config", "smoke", "--out", "a_file/run"],
        "a_file is a file, not a folder",
    ),
    (
        "6 another run's folder without its checkpoint",
        ["train", "--config", "smoke", "--out", "other_run"],
        "holds config.json, train_log.csv of another run but no last.pt; pass --overwrite",
    ),
    (
        "weak: --export clash found before training",
        ["train", "--config", "smoke", "--out", "run", "--export", "model_exists.pt"],
        "export model_exists.pt exists; pass --overwrite",
    ),
    (
        "weak: unsafe pickle",
        SEG[:-2] + ["--out", "out/u", "--checkpoint", "unsafe.pt"],
        "dgmpm_lite loads weights only, for safety",
    ),
    (
        "weak: a missing relative path is named as typed",
        SEG[:-2] + ["--out", "out/m", "--checkpoint", "missing.pt"],
        "checkpoint not found: missing.pt",
    ),
    (
        "weak: --max-frames negative",
        ["compare", "--max-frames", "-5", "--no-baselines"],
        "--max-frames: must be 0 or more",
    ),
    ("weak: hints name CLI flags", ["compare", "--split", "nosuch", "--no-baselines"], "give --split ''"),
    ("8 pack a missing folder", ["pack", "--data", "nowhere", "--out", "out/p"], "DAVIS root not found: nowhere"),
    (
        "8 pack over an existing folder",
        ["pack", "--data", "nowhere", "--out", "a_file"],
        "a_file exists; choose a new folder for the copy",
    ),
    (
        "8 pack quality 96",
        ["pack", "--data", "d", "--out", "out/p", "--quality", "96"],
        "--quality: must be between 1 and 95",
    ),
    ("8 pack out under a file", ["pack", "--data", "d", "--out", "a_file/p"], "a_file is a file, not a folder"),
    ("12 average one model", ["average", "synthetic", "--out", "out/s.pt"], "averaging needs at least two models"),
    ("12 average a missing model", ["average", "none.pt", "davis", "--out", "out/s.pt"], "checkpoint not found"),
    ("12 average two architectures", ["average", "synthetic", "davis", "--out", "out/s.pt"], "another architecture"),
    (
        "12 average into one of its models",
        ["average", "model_exists.pt", "davis", "--out", "model_exists.pt", "--overwrite"],
        "model_exists.pt is one of the models to average",
    ),
    ("12 average into a folder", ["average", "davis", "multi", "--out", "good"], "good is a folder"),
    (
        "12 average over a kept model",
        ["average", "davis", "multi", "--out", "model_exists.pt"],
        "model_exists.pt exists; pass --overwrite",
    ),
    ("8 train minutes not positive", ["train", "--out", "run", "--minutes", "-1"], "--minutes: must be a positive"),
    (
        "12 lookalike figure with one model",
        ["compare", "--model", "a=synthetic", "--lookalike-figure", "l.png", "--no-baselines"],
        "give two",
    ),
    (
        "12 lookalike figure not a png",
        ["compare", "--model", "a=synthetic", "b=davis", "--lookalike-figure", "l.jpg", "--no-baselines"],
        "give a path ending in .png",
    ),
    (
        "12 lookalike figure .PNG (would be written as .png)",
        ["compare", "--model", "a=synthetic", "b=davis", "--lookalike-figure", "l.PNG", "--no-baselines"],
        "give a path ending in .png",
    ),
    (
        "12 lookalike figure inside a file",
        ["compare", "--model", "a=synthetic", "b=davis", "--lookalike-figure", "a_file/l.png", "--no-baselines"],
        "a_file is a file, not a folder",
    ),
    (
        "12 compare --max-frames 2 scores no frame",
        ["compare", "--max-frames", "2", "--no-baselines"],
        "--max-frames: must be 0 (every frame) or at least 3",
    ),
    (
        "12 ablation --max-frames 1 scores no frame",
        ["ablation", "--max-frames", "1", "--out", "runs/a"],
        "--max-frames: must be 0 (every frame) or at least 3",
    ),
    (
        "12 compare two models without names",
        ["compare", "--model", "synthetic", "davis", "--no-baselines"],
        "a model given without NAME= is called 'DGMPM'",
    ),
    (
        "12 compare model named like a baseline",
        ["compare", "--model", "flow baseline=synthetic"],
        "'flow baseline' is the name of a baseline row",
    ),
    (
        "7 compare one name twice",
        ["compare", "--model", "a=synthetic", "a=davis", "--no-baselines"],
        "the name 'a' is given twice",
    ),
]


@pytest.mark.parametrize("row,args,message", MATRIX, ids=[m[0] for m in MATRIX])
def test_bad_input(fx, capsys, row, args, message):
    if "cuda without cuda" in row and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    before = _tree(fx)
    with pytest.raises(SystemExit) if message.startswith("--") else _no_exit() as caught:
        rc = main(args)
    rc = caught.value.code if caught is not None and hasattr(caught, "value") else rc
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert message in err[-1], err
    assert "Traceback" not in "\n".join(err)
    assert _tree(fx) == before  # nothing written, nothing deleted
    assert not (fx / "out").exists() and not (fx / "run").exists()


class _no_exit:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def test_frames_are_read_in_natural_order(fx):
    from dgmpm_lite.data import load_own_video

    seq = load_own_video(fx / "unnatural", fx / "mask_good.png")
    assert seq.frame_names == [f"{i}.jpg" for i in range(12)]


def test_a_good_overlay_is_written(fx, capsys):
    assert main(SEG + ["--out", "out/g", "--overlay", "out/g.mp4"]) == 0
    cap = cv2.VideoCapture(str(fx / "out" / "g.mp4"))
    n = 0
    while cap.grab():
        n += 1
    assert n == 5 and len(os.listdir(fx / "out" / "g")) == 5


def test_weak_reuse_takes_a_shipped_models_name():
    from dgmpm_lite.ablation import reuse_variant
    from dgmpm_lite.model import DGMPM

    assert isinstance(reuse_variant("synthetic", "cpu", "DGMPM"), DGMPM)  # as --reuse DGMPM=synthetic
    with pytest.raises(ValueError, match="cannot stand for '-PM'"):
        reuse_variant("synthetic", "cpu", "-PM")


def test_a_bug_keeps_its_traceback_and_debug_shows_one_for_bad_input(fx, monkeypatch, capsys):
    """A ValueError raised inside a library (a bug, not the user's input) is not turned into a
    one-line message; --debug re-raises even the deliberate one-line errors."""
    import dgmpm_lite.cli as cli

    def buggy(args):
        np.zeros(-1)  # ValueError raised by numpy: "negative dimensions are not allowed"

    monkeypatch.setattr(cli, "_benchmark", buggy)
    with pytest.raises(ValueError, match="negative dimensions"):
        main(["benchmark"])
    monkeypatch.undo()
    bad_size = ["train", "--out", "out/x", "--set", "size=abc"]
    with pytest.raises(ValueError, match="size must be"):
        main(["--debug", *bad_size])
    assert main(bad_size) == 2
    assert "size must be" in capsys.readouterr().err
