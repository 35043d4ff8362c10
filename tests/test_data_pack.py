"""`dgmpm-lite pack`: a compact copy of a DAVIS folder that the readers take like the original."""

from pathlib import Path

import cv2
import numpy as np
import pytest

import dgmpm_lite.data.pack as pack_module
from dgmpm_lite.cli import main
from dgmpm_lite.data import load_davis
from dgmpm_lite.data.pack import pack_davis

SYNTHETIC = Path(__file__).resolve().parents[1] / "data_samples" / "synthetic"


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def test_pack_keeps_the_layout_splits_and_masks_and_shrinks_the_frames(tmp_path, capsys):
    out = tmp_path / "packed"
    args = ["pack", "--data", str(SYNTHETIC), "--split", "val", "--split", "train", "--out", str(out)]
    assert main([*args, "--quality", "40"]) == 0
    assert "packed 12 sequences" in capsys.readouterr().out
    for split in ("val", "train"):  # each split's list comes along, so --split val works on the copy
        original, copy = load_davis(SYNTHETIC, split=split), load_davis(out, split=split)
        assert copy.names == original.names
    original, copy = load_davis(SYNTHETIC, split="val"), load_davis(out, split="val")
    for name in original.names:
        a, b = original[name], copy[name]
        assert len(a) == len(b)
        res = original.resolution
        assert 0 < _size(out / "JPEGImages" / res / name) < _size(SYNTHETIC / "JPEGImages" / res / name)
        for i in (0, len(a) - 1):
            np.testing.assert_array_equal(a.mask(i), b.mask(i))  # masks exactly as they were
            diff = np.abs(a.frame(i).astype(int) - b.frame(i).astype(int)).mean()
            assert 0 < diff < 12  # the same picture, re-encoded
    assert sorted(p.name for p in tmp_path.iterdir()) == ["packed"]  # no work folder left


def test_pack_smaller_short_side_resizes_frames_and_masks_alike(tmp_path):
    (tmp_path / "one.txt").write_text("val_000\n")
    packed = pack_davis(SYNTHETIC, tmp_path / "small", [str(tmp_path / "one.txt")], short_side=96, progress=False)
    original = load_davis(SYNTHETIC, split="val")["val_000"]
    assert (packed.sequences, packed.frames) == (1, len(original))
    seq = load_davis(tmp_path / "small", split="one")["val_000"]
    assert min(seq.frame(0).shape[:2]) == 96
    h, w = seq.frame(0).shape[:2]
    for i in (0, 5):
        np.testing.assert_array_equal(
            seq.mask(i), cv2.resize(original.mask(i), (w, h), interpolation=cv2.INTER_NEAREST)
        )


def test_pack_refuses_bad_requests_and_leaves_nothing_behind(tmp_path, capsys, monkeypatch):
    (tmp_path / "taken").mkdir()
    assert main(["pack", "--data", str(SYNTHETIC), "--out", str(tmp_path / "taken")]) != 0
    assert "taken exists; choose a new folder" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="no ImageSets list for split 'nowhere'"):
        pack_davis(SYNTHETIC, tmp_path / "x", ["nowhere"])
    with pytest.raises(ValueError, match="quality must be between 1 and 95"):
        pack_davis(SYNTHETIC, tmp_path / "x", quality=100)
    with pytest.raises(ValueError, match="an object of the first mask vanishes at a short side of 2 pixels"):
        pack_davis(SYNTHETIC, tmp_path / "x", ["val"], short_side=2, progress=False)

    def broken(path, frame, quality):  # a full disk, say, halfway through the copy
        raise OSError("no space left on device")

    monkeypatch.setattr(pack_module, "write_jpeg", broken)
    with pytest.raises(OSError, match="no space left"):
        pack_davis(SYNTHETIC, tmp_path / "x", ["val"], progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
