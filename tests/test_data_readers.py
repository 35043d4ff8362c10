"""Readers: label PNG flavours, DAVIS-2016/2017 folders, your own video, and every bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

import dgmpm_lite.data.davis as davis_mod
from dgmpm_lite.data import (
    DAVIS_PALETTE,
    DavisDataset,
    load_own_video,
    read_image,
    read_label_png,
    write_jpeg,
    write_label_png,
)

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data_samples" / "synthetic"
SHARED_480 = REPO.parent / "shared" / "data" / "DAVIS2016-sample-480p"
SHARED_240 = REPO.parent / "shared" / "data" / "DAVIS2016-train-240p"


def _labels(h: int = 40, w: int = 64) -> np.ndarray:
    lab = np.zeros((h, w), np.uint8)
    lab[5:20, 5:25] = 1
    lab[22:35, 30:60] = 2
    return lab


def _frame(h: int = 40, w: int = 64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8)


def _make_davis(
    root: Path, n_frames: int = 4, res: str = "480p", seqs=("alpha", "beta"), imageset: str = "2017"
) -> Path:
    for s in seqs:
        for t in range(n_frames):
            write_jpeg(root / "JPEGImages" / res / s / f"{t:05d}.jpg", _frame(seed=t))
            lab = np.roll(_labels(), t, axis=1)
            write_label_png(root / "Annotations" / res / s / f"{t:05d}.png", lab)
    if imageset == "2017":
        (root / "ImageSets" / "2017").mkdir(parents=True)
        (root / "ImageSets" / "2017" / "train.txt").write_text(seqs[0] + "\n")
        (root / "ImageSets" / "2017" / "val.txt").write_text("\n".join(seqs[1:]) + "\n")
    return root


# ----------------------------------------------------------------------------- label PNGs


def test_palette_roundtrip(tmp_path: Path) -> None:
    lab = _labels()
    write_label_png(tmp_path / "m.png", lab)
    img = Image.open(tmp_path / "m.png")
    assert img.mode == "P"
    assert tuple(img.getpalette()[3:6]) == tuple(DAVIS_PALETTE[1]) == (128, 0, 0)
    out = read_label_png(tmp_path / "m.png")
    assert out.dtype == np.uint8 and out.shape == lab.shape
    np.testing.assert_array_equal(out, lab)


def test_grayscale_flavours(tmp_path: Path) -> None:
    lab = _labels()
    Image.fromarray((lab > 0).astype(np.uint8) * 255).save(tmp_path / "bin.png")
    np.testing.assert_array_equal(read_label_png(tmp_path / "bin.png"), (lab > 0).astype(np.uint8))
    Image.fromarray(lab).save(tmp_path / "ids.png")
    np.testing.assert_array_equal(read_label_png(tmp_path / "ids.png"), lab)
    Image.fromarray(DAVIS_PALETTE[lab]).save(tmp_path / "rgb.png")
    np.testing.assert_array_equal(read_label_png(tmp_path / "rgb.png"), lab)
    rgb = DAVIS_PALETTE[lab].copy()
    rgb[0, 0] = (1, 2, 3)
    Image.fromarray(rgb).save(tmp_path / "odd.png")
    with pytest.raises(ValueError, match="not DAVIS palette colours"):
        read_label_png(tmp_path / "odd.png")


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.png"):
        read_label_png(tmp_path / "nope.png")
    (tmp_path / "bad.png").write_bytes(b"not a png at all")
    with pytest.raises(ValueError, match="corrupt"):
        read_label_png(tmp_path / "bad.png")
    write_jpeg(tmp_path / "f.jpg", _frame())
    data = (tmp_path / "f.jpg").read_bytes()
    (tmp_path / "trunc.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="trunc.jpg"):
        read_image(tmp_path / "trunc.jpg")
    assert read_image(tmp_path / "f.jpg").shape == (40, 64, 3)


# ----------------------------------------------------------------------------- DAVIS folders


def test_davis2017_palette_folder(tmp_path: Path) -> None:
    root = _make_davis(tmp_path / "D17")
    ds = DavisDataset(root, split="val")
    assert ds.resolution == "480p" and ds.names == ["beta"]
    seq = ds[0]
    assert len(seq) == 4 and seq.num_objects == 2 and seq.object_ids == [1, 2]
    assert seq.frame(2).shape == (40, 64, 3) and seq.frame(2).dtype == np.uint8
    np.testing.assert_array_equal(seq.mask(3), np.roll(_labels(), 3, axis=1))
    assert DavisDataset(root).names == ["alpha", "beta"]  # no split: folder listing
    assert DavisDataset(root, split="train")["alpha"].name == "alpha"
    with pytest.raises(FileNotFoundError, match="split 'test'"):
        DavisDataset(root, split="test")


def test_davis2016_imageset_lines_and_grayscale(tmp_path: Path) -> None:
    root = tmp_path / "D16"
    for t in range(3):
        write_jpeg(root / "JPEGImages" / "480p" / "cow" / f"{t:05d}.jpg", _frame())
        Image.fromarray((_labels() > 0).astype(np.uint8) * 255).save(
            _mk(root / "Annotations" / "480p" / "cow" / f"{t:05d}.png")
        )
    (root / "ImageSets" / "480p").mkdir(parents=True)
    (root / "ImageSets" / "480p" / "train.txt").write_text(
        "".join(f"/JPEGImages/480p/cow/{t:05d}.jpg /Annotations/480p/cow/{t:05d}.png\n" for t in range(3))
    )
    ds = DavisDataset(root, split="train")
    assert ds.names == ["cow"]
    seq = ds[0]
    assert seq.num_objects == 1 and set(np.unique(seq.mask(1)).tolist()) == {0, 1}


def _mk(p: Path) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def test_reader_is_lazy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _make_davis(tmp_path / "D", n_frames=30)
    calls: list[str] = []
    real = davis_mod.read_image

    def counting(path):  # type: ignore[no-untyped-def]
        calls.append(str(path))
        return real(path)

    monkeypatch.setattr(davis_mod, "read_image", counting)
    seq = DavisDataset(root)[0]
    assert len(seq) == 30 and len(calls) == 1  # only the first frame, for the size check
    seq.frame(17)
    assert len(calls) == 2 and calls[-1].endswith("00017.jpg")


def test_data_samples_reader() -> None:
    ds = DavisDataset(SAMPLES, split="val")
    assert len(ds) == 4
    for seq in ds:
        assert 1 <= seq.num_objects <= 4 and len(seq) == 24
        f, m = seq.frame(0), seq.mask(0)
        assert f.shape[:2] == m.shape == seq.size
        assert set(np.unique(m).tolist()) == set(range(seq.num_objects + 1))


@pytest.mark.skipif(not SHARED_480.is_dir(), reason="shared DAVIS-2016 sample not present")
def test_shared_davis2016_480p() -> None:
    ds = DavisDataset(SHARED_480)
    assert ds.names == ["bear", "boat", "hike"]
    seq = ds["bear"]
    assert seq.size == (480, 854) and seq.num_objects == 1
    assert set(np.unique(seq.mask(len(seq) - 1)).tolist()) <= {0, 1}
    assert seq.frame(len(seq) - 1).shape == (480, 854, 3)


@pytest.mark.skipif(not SHARED_240.is_dir(), reason="shared DAVIS-2016 240p set not present")
def test_shared_davis2016_240p_imageset() -> None:
    ds = DavisDataset(SHARED_240, split="train")
    assert len(ds) == 30 and ds[0].size[0] == 240


# ----------------------------------------------------------------------------- bad DAVIS input


def test_missing_first_annotation(tmp_path: Path) -> None:
    root = _make_davis(tmp_path / "D")
    (root / "Annotations" / "480p" / "alpha" / "00000.png").unlink()
    with pytest.raises(FileNotFoundError, match="first-frame annotation is missing.*00000.png"):
        DavisDataset(root)["alpha"]


def test_frame_mask_size_mismatch(tmp_path: Path) -> None:
    root = _make_davis(tmp_path / "D")
    write_label_png(root / "Annotations" / "480p" / "alpha" / "00000.png", _labels(20, 32))
    with pytest.raises(ValueError, match="frame 00000.jpg is 40x64 but its mask .* is 20x32"):
        DavisDataset(root)["alpha"]
    write_label_png(root / "Annotations" / "480p" / "beta" / "00002.png", _labels(20, 32))
    seq = DavisDataset(root)["beta"]
    with pytest.raises(ValueError, match="00002"):
        seq.mask(2)


def test_corrupt_frame(tmp_path: Path) -> None:
    root = _make_davis(tmp_path / "D")
    (root / "JPEGImages" / "480p" / "alpha" / "00002.jpg").write_bytes(b"\xff\xd8garbage")
    seq = DavisDataset(root)["alpha"]
    with pytest.raises(ValueError, match="00002.jpg.*corrupt"):
        seq.frame(2)


def test_empty_first_mask_and_bad_labels(tmp_path: Path) -> None:
    root = _make_davis(tmp_path / "D")
    write_label_png(root / "Annotations" / "480p" / "alpha" / "00000.png", np.zeros((40, 64), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        DavisDataset(root)["alpha"]
    lab = _labels()
    lab[0, 0] = 3
    write_label_png(root / "Annotations" / "480p" / "beta" / "00001.png", lab)
    seq = DavisDataset(root)["beta"]
    with pytest.raises(ValueError, match=r"labels \[3\] outside 0..2"):
        seq.mask(1)
    gap = _labels()
    gap[gap == 2] = 7
    write_label_png(root / "Annotations" / "480p" / "beta" / "00000.png", gap)
    with pytest.raises(ValueError, match="not the contiguous ids"):
        DavisDataset(root)["beta"]


# ----------------------------------------------------------------------------- your own video


def _write_video(path: Path, frames: list[np.ndarray], fourcc: str) -> None:
    h, w = frames[0].shape[:2]
    wr = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 10.0, (w, h))
    assert wr.isOpened()
    for f in frames:
        wr.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    wr.release()


@pytest.mark.parametrize("ext,fourcc", [(".mp4", "mp4v"), (".avi", "MJPG")])
def test_own_video_file(tmp_path: Path, ext: str, fourcc: str) -> None:
    frames = [np.full((48, 64, 3), 20 * i, np.uint8) for i in range(8)]
    _write_video(tmp_path / f"clip{ext}", frames, fourcc)
    write_label_png(tmp_path / "first.png", _labels(48, 64))
    seq = load_own_video(tmp_path / f"clip{ext}", tmp_path / "first.png")
    assert len(seq) == 8 and seq.num_objects == 2 and seq.size == (48, 64)
    assert seq.mask(0) is not None and seq.mask(3) is None
    f5 = seq.frame(5)
    assert f5.shape == (48, 64, 3) and abs(int(f5.mean()) - 100) < 8
    f2 = seq.frame(2)  # going back re-opens the file
    assert abs(int(f2.mean()) - 40) < 8
    np.testing.assert_array_equal(seq.frame(5), f5)
    strided = load_own_video(tmp_path / f"clip{ext}", tmp_path / "first.png", stride=3, max_frames=2)
    assert len(strided) == 2 and abs(int(strided.frame(1).mean()) - 60) < 8


def test_own_frame_folder_and_grayscale_mask(tmp_path: Path) -> None:
    for t in range(5):
        write_jpeg(tmp_path / "frames" / f"img_{t:03d}.jpg", _frame(seed=t))
    Image.fromarray((_labels() > 0).astype(np.uint8) * 255).save(tmp_path / "m.png")
    seq = load_own_video(tmp_path / "frames", tmp_path / "m.png")
    assert len(seq) == 5 and seq.num_objects == 1 and seq.frame_names[0] == "img_000.jpg"
    assert seq.frame(4).shape == (40, 64, 3)
    # a folder takes max_frames and stride like a video file
    strided = load_own_video(tmp_path / "frames", tmp_path / "m.png", stride=2, max_frames=2)
    assert strided.frame_names == ["img_000.jpg", "img_002.jpg"]
    np.testing.assert_array_equal(strided.frame(1), seq.frame(2))
    with pytest.raises(ValueError, match="stride must be >= 1"):
        load_own_video(tmp_path / "frames", tmp_path / "m.png", stride=0)


def test_own_video_bad_inputs(tmp_path: Path) -> None:
    for t in range(3):
        write_jpeg(tmp_path / "frames" / f"{t:05d}.jpg", _frame())
    write_label_png(tmp_path / "ok.png", _labels())
    with pytest.raises(FileNotFoundError, match="first-frame mask not found"):
        load_own_video(tmp_path / "frames", tmp_path / "missing.png")
    write_label_png(tmp_path / "small.png", _labels(20, 32))
    with pytest.raises(ValueError, match="is 40x64 but its mask .* is 20x32"):
        load_own_video(tmp_path / "frames", tmp_path / "small.png")
    write_label_png(tmp_path / "empty.png", np.zeros((40, 64), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        load_own_video(tmp_path / "frames", tmp_path / "empty.png")
    with pytest.raises(ValueError, match=r"labels \[2\] outside 0..1"):
        load_own_video(tmp_path / "frames", tmp_path / "ok.png", num_objects=1)
    with pytest.raises(FileNotFoundError, match="video not found"):
        load_own_video(tmp_path / "nothing.mp4", tmp_path / "ok.png")
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 2048)
    with pytest.raises(ValueError, match="broken.mp4"):
        load_own_video(tmp_path / "broken.mp4", tmp_path / "ok.png")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="does not look like a video"):
        load_own_video(tmp_path / "notes.txt", tmp_path / "ok.png")
    (tmp_path / "frames" / "00001.jpg").write_bytes(b"garbage")
    seq = load_own_video(tmp_path / "frames", tmp_path / "ok.png")
    with pytest.raises(ValueError, match="00001.jpg"):
        seq.frame(1)


def test_split_file_of_ones_own(tmp_path):
    names = DavisDataset(SAMPLES, split="val").names
    split = tmp_path / "mine.txt"
    split.write_text(f"{names[1]}\n\n{names[0]}\n")
    assert DavisDataset(SAMPLES, split=str(split)).names == [names[1], names[0]]
    assert DavisDataset(SAMPLES, split=split).names == [names[1], names[0]]  # a Path works too
    with pytest.raises(FileNotFoundError, match="split file .*nope.txt does not exist"):
        DavisDataset(SAMPLES, split=str(tmp_path / "nope.txt"))


def test_committed_davis2016_split_is_a_partition():
    folder = REPO / "data_samples" / "davis2016_split"
    train = (folder / "train.txt").read_text().split()
    val = (folder / "val.txt").read_text().split()
    assert len(val) == 6 and len(train) == 24 and not set(train) & set(val)
    if SHARED_240.is_dir():  # every listed sequence exists in the shared copy
        assert len(DavisDataset(SHARED_240, split=str(folder / "train.txt"))) == 24
        assert len(DavisDataset(SHARED_240, split=str(folder / "val.txt"))) == 6
