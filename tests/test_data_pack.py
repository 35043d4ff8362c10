"""`dgmpm-lite pack`: a compact copy of a DAVIS folder that the readers take like the original."""

from pathlib import Path

import numpy as np
import pytest

from dgmpm_lite.cli import main
from dgmpm_lite.data import load_davis
from dgmpm_lite.data.pack import pack_davis

SYNTHETIC = Path(__file__).resolve().parents[1] / "data_samples" / "synthetic"


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def test_pack_keeps_the_layout_and_masks_and_shrinks_the_frames(tmp_path, capsys):
    out = tmp_path / "packed"
    assert main(["pack", "--data", str(SYNTHETIC), "--split", "val", "--out", str(out), "--quality", "40"]) == 0
    assert "packed 4 sequences" in capsys.readouterr().out
    original, copy = load_davis(SYNTHETIC, split="val"), load_davis(out, split="all")
    assert copy.names == original.names
    assert _size(out / "JPEGImages") < _size(SYNTHETIC / "JPEGImages")  # every val frame re-encoded smaller...
    for name in original.names:
        a, b = original[name], copy[name]
        assert len(a) == len(b)
        for i in (0, len(a) - 1):
            np.testing.assert_array_equal(a.mask(i), b.mask(i))  # ...masks exactly as they were
            diff = np.abs(a.frame(i).astype(int) - b.frame(i).astype(int)).mean()
            assert 0 < diff < 12  # the same picture, re-encoded
    assert not (tmp_path / "packed.partial").exists()


def test_pack_smaller_short_side_resizes_frames_and_masks_alike(tmp_path):
    (tmp_path / "one.txt").write_text("val_000\n")
    packed = pack_davis(SYNTHETIC, tmp_path / "small", [str(tmp_path / "one.txt")], short_side=96, progress=False)
    assert (packed.sequences, packed.frames) == (1, len(load_davis(SYNTHETIC, split="val")["val_000"]))
    seq = load_davis(tmp_path / "small")["val_000"]
    first = seq.frame(0)
    assert min(first.shape[:2]) == 96 and seq.mask(0).shape == first.shape[:2]
    assert set(np.unique(seq.mask(5))) <= set(np.unique(load_davis(SYNTHETIC, split="val")["val_000"].mask(5)))


def test_pack_refuses_bad_requests_without_writing(tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    assert main(["pack", "--data", str(SYNTHETIC), "--out", str(tmp_path / "taken")]) != 0
    assert "taken exists; choose a new folder" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="no ImageSets list for split 'nowhere'"):
        pack_davis(SYNTHETIC, tmp_path / "x", ["nowhere"])
    with pytest.raises(ValueError, match="quality must be between 1 and 95"):
        pack_davis(SYNTHETIC, tmp_path / "x", quality=100)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
