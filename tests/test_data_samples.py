"""Training triplets (paper IV-B-1): shapes, dtypes, interval rule, reproducibility, fallbacks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from dgmpm_lite.data import (
    AugmentConfig,
    DavisDataset,
    InMemorySequence,
    StaticTripletDataset,
    SyntheticConfig,
    SyntheticVideoSource,
    VideoTripletDataset,
    erode_mask,
    generate_video,
    lucid_dream,
    synthesize_prev_mask,
)
from dgmpm_lite.data.samples import JointAugment, build_sample

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data_samples" / "synthetic"
SHARED_240 = REPO.parent / "shared" / "data" / "DAVIS2016-train-240p"
SIZE = (96, 160)
KEYS = ("ref_frame", "ref_mask", "prev_mask", "target_frame", "target_mask")


def _check_sample(s: dict, size=SIZE) -> None:
    h, w = size
    for k in ("ref_frame", "target_frame"):
        assert s[k].shape == (3, h, w) and s[k].dtype == torch.float32
        assert 0.0 <= float(s[k].min()) and float(s[k].max()) <= 1.0
    for k in ("ref_mask", "prev_mask", "target_mask"):
        assert s[k].shape == (1, h, w) and s[k].dtype == torch.float32
        assert set(torch.unique(s[k]).tolist()) <= {0.0, 1.0}
    assert s["ref_mask"].sum() > 0, "the reference mask must never be empty"
    assert isinstance(s["object_id"], int) and s["object_id"] >= 1
    assert isinstance(s["sequence"], str)


def test_video_triplets_from_data_samples() -> None:
    ds = VideoTripletDataset(DavisDataset(SAMPLES, split="train"), size=SIZE, seed=3)
    assert len(ds) == 80
    for i in (0, 5, 13):
        s = ds[i]
        _check_sample(s)
        assert 1 <= s["target_index"] - s["prev_index"] <= 3
        assert s["ref_index"] != s["target_index"]
    a, b = ds[7], ds[7]
    for k in KEYS:
        assert torch.equal(a[k], b[k])
    c = VideoTripletDataset(DavisDataset(SAMPLES, split="train"), size=SIZE, seed=4)[7]
    assert not all(torch.equal(a[k], c[k]) for k in KEYS)


@pytest.mark.parametrize("interval", [1, 3, 5])
def test_prev_mask_interval_rule(interval: int) -> None:
    seq = generate_video(SyntheticConfig(height=64, width=96, num_frames=12), 0).to_sequence()
    ds = VideoTripletDataset([seq], size=(64, 96), max_prev_interval=interval)
    seen = set()
    for i in range(400):
        r, p, t = ds.pick_indices(12, np.random.default_rng([0, i]))
        assert 1 <= t <= 11 and max(0, t - interval) <= p <= t - 1 and r != t and 0 <= r < 12
        seen.add(t - p)
    assert seen == set(range(1, interval + 1))
    first = VideoTripletDataset([seq], size=(64, 96), ref_mode="first")
    s = first[3]
    assert s["ref_index"] == 0 and 1 <= s["target_index"] - s["prev_index"] <= 3


def test_in_memory_synthetic_source_and_dataloader() -> None:
    src = SyntheticVideoSource(SyntheticConfig(height=64, width=96, num_frames=8), base_seed=100, num_videos=1000)
    ds = VideoTripletDataset(src, size=(64, 96), length=6, seed=1)
    assert len(ds) == 6
    s = ds[2]
    _check_sample(s, (64, 96))
    assert s["sequence"] == "synth_102"
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=3)))
    assert batch["ref_frame"].shape == (3, 3, 64, 96) and batch["prev_mask"].shape == (3, 1, 64, 96)
    assert batch["object_id"].shape == (3,) and len(batch["sequence"]) == 3


def test_list_of_synthetic_videos_gives_per_object_targets() -> None:
    v = generate_video(SyntheticConfig(height=64, width=96, num_frames=8, num_targets=(3, 3)), 2)
    ds = VideoTripletDataset([v], size=(64, 96), length=30, augment=AugmentConfig(geometric=False))
    ids = set()
    for i in range(30):
        s = ds[i]
        ids.add(s["object_id"])
        # without geometric augmentation the target mask is that object's resized mask
        np.testing.assert_array_equal(
            s["target_mask"][0].numpy(), (v.labels[s["target_index"]] == s["object_id"]).astype(np.float32)
        )
    assert ids == {1, 2, 3}


@pytest.mark.skipif(not SHARED_240.is_dir(), reason="shared DAVIS-2016 240p set not present")
def test_video_triplets_from_davis2016_grayscale() -> None:
    ds = VideoTripletDataset(DavisDataset(SHARED_240, split="train"), size=SIZE, samples_per_video=1)
    assert len(ds) == 30
    s = ds[4]
    _check_sample(s)
    assert s["object_id"] == 1


def test_reference_mask_never_empty_under_wild_augmentation() -> None:
    # a tiny object in a corner, and augmentations that often push it out of the picture
    frames = np.random.default_rng(0).integers(0, 255, (6, 64, 96, 3), dtype=np.uint8)
    masks = np.zeros((6, 64, 96), np.uint8)
    masks[:, 1:3, 1:3] = 1
    seq = InMemorySequence(frames, masks, name="corner")
    aug = AugmentConfig(size=(32, 48), translate=0.45, scale=(0.5, 0.6), rotation=45.0)
    ds = VideoTripletDataset([seq], size=(32, 48), length=12, augment=aug)
    for i in range(12):
        assert ds[i]["ref_mask"].sum() > 0


def test_build_sample_rejects_empty_reference() -> None:
    aug = JointAugment(AugmentConfig(size=(32, 48)))
    img = np.zeros((40, 60, 3), np.uint8)
    empty = np.zeros((40, 60), np.uint8)
    with pytest.raises(ValueError, match="reference mask is empty"):
        build_sample(aug, np.random.default_rng(0), img, empty, img, empty, empty)


def test_mask_helpers() -> None:
    rng = np.random.default_rng(0)
    m = np.zeros((80, 120), np.uint8)
    m[20:60, 30:90] = 1
    e = erode_mask(m, rng, (5, 5), p=1.0)
    assert 0 < e.sum() < m.sum() and not (e & (1 - m)).any()
    dot = np.zeros_like(m)
    dot[40, 60] = 1
    assert erode_mask(dot, rng, (9, 9), p=1.0).sum() == 1  # never emptied
    prev = synthesize_prev_mask(m, np.random.default_rng(1))
    inter, union = (prev & m).sum(), (prev | m).sum()
    assert prev.dtype == np.uint8 and 0.4 < inter / union < 0.999


def test_lucid_dream_recomposes() -> None:
    v = generate_video(SyntheticConfig(height=64, width=96, num_frames=1, num_targets=(2, 2)), 7)
    img, lab = v.frames[0], v.labels[0]
    new_img, new_lab = lucid_dream(img, lab, np.random.default_rng(0))
    assert new_img.shape == img.shape and new_img.dtype == np.uint8 and new_lab.shape == lab.shape
    assert set(np.unique(new_lab).tolist()) <= {0, 1, 2}
    assert not np.array_equal(new_lab, lab) and np.abs(new_img.astype(int) - img).mean() > 1


def test_static_triplets() -> None:
    pairs = [
        (v.frames[0], v.labels[0])
        for v in (generate_video(SyntheticConfig(height=64, width=96, num_frames=1), s) for s in (1, 2))
    ]
    ds = StaticTripletDataset(pairs, size=(64, 96), length=8, seed=0)
    assert len(ds) == 8
    for i in range(4):
        s = ds[i]
        _check_sample(s, (64, 96))
    a, b = ds[3], ds[3]
    assert all(torch.equal(a[k], b[k]) for k in KEYS)
    from_videos = StaticTripletDataset(DavisDataset(SAMPLES, split="val"), size=SIZE)
    assert len(from_videos) == 4 * 24
    _check_sample(from_videos[10])
