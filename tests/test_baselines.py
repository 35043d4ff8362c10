"""Tests for dgmpm_lite.baselines on small synthetic videos with known motion."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from dgmpm_lite.baselines import CopyFirstMask, FlowPropagation, labels_from_soft_masks
from dgmpm_lite.infer import propagate
from dgmpm_lite.metrics import db_eval_iou, evaluate_sequence

H, W = 120, 160


def texture(rng, h, w, sigma=4.0):
    """Smooth random RGB texture, stretched to the full 0..255 range."""
    t = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), sigma)
    t = (t - t.min()) / (t.max() - t.min())
    return (t * 255).astype(np.uint8)


def moving_squares_video(objects, num_frames=9, seed=0):
    """Textured squares sliding over a static textured background.

    objects: list of (size, (y0, x0), (vy, vx)) -- square k gets label k + 1.
    Returns (frames, labels), lists of (H, W, 3) uint8 and (H, W) uint8.
    """
    rng = np.random.default_rng(seed)
    bg = texture(rng, H, W)
    patches = [texture(rng, s, s) for s, _, _ in objects]
    frames, labels = [], []
    for t in range(num_frames):
        f = bg.copy()
        lab = np.zeros((H, W), np.uint8)
        for k, ((s, (y0, x0), (vy, vx)), patch) in enumerate(zip(objects, patches)):
            y, x = y0 + vy * t, x0 + vx * t
            f[y : y + s, x : x + s] = patch
            lab[y : y + s, x : x + s] = k + 1
        frames.append(f)
        labels.append(lab)
    return frames, labels


def test_flow_follows_translating_square_copy_first_does_not():
    frames, labels = moving_squares_video([(56, (20, 16), (1, 2))])
    flow_pred = list(propagate("flow", frames, labels[0]))
    copy_pred = list(propagate("copy", frames, labels[0]))
    assert len(flow_pred) == len(copy_pred) == len(frames) == 9
    np.testing.assert_array_equal(flow_pred[0], labels[0])
    last = len(frames) - 1  # 8 frames later: moved 8 px down, 16 px right
    j_flow = db_eval_iou(labels[last] == 1, flow_pred[last] == 1)
    j_copy = db_eval_iou(labels[last] == 1, copy_pred[last] == 1)
    assert j_copy == pytest.approx(48 * 40 / (2 * 56 * 56 - 48 * 40))  # ~0.44, by hand
    assert j_flow > 0.8
    assert j_flow > j_copy + 0.3
    # the same comparison through the evaluation harness
    jf_flow = evaluate_sequence(labels, flow_pred).J.mean()
    jf_copy = evaluate_sequence(labels, copy_pred).J.mean()
    assert jf_flow > jf_copy + 0.2


def test_two_objects_keep_their_ids():
    objects = [(40, (10, 10), (1, 2)), (40, (70, 110), (-1, -2))]
    frames, labels = moving_squares_video(objects, seed=1)
    prop = FlowPropagation(frames[0], labels[0])
    for t in range(1, len(frames)):
        out = prop.step(frames[t])
        assert out.dtype == np.uint8 and out.shape == (H, W)
        assert set(np.unique(out)) <= {0, 1, 2}
    for k in (1, 2):
        assert db_eval_iou(labels[-1] == k, out == k) > 0.7
        # swapped ids would overlap nothing
        assert db_eval_iou(labels[-1] == k, out == 3 - k) == 0.0
    assert prop.last_flow is not None and prop.last_flow.shape == (H, W, 2)


def test_streaming_equals_propagate_and_soft_mode_runs():
    frames, labels = moving_squares_video([(40, (20, 20), (1, 1))], num_frames=4)
    batch = list(propagate("flow", iter(frames), labels[0]))  # any iterable of frames
    prop = FlowPropagation(frames[0], labels[0])
    for t in range(1, 4):
        np.testing.assert_array_equal(prop.step(frames[t]), batch[t])
    soft = FlowPropagation(frames[0], labels[0], soft=True, finest_scale=0)
    last = [soft.step(f) for f in frames[1:]][-1]
    assert db_eval_iou(labels[3] == 1, last == 1) > 0.8


def test_copy_first_mask_streaming():
    frames, labels = moving_squares_video([(30, (5, 5), (2, 2))], num_frames=3)
    c = CopyFirstMask(frames[0], labels[0])
    out = c.step(frames[2])
    np.testing.assert_array_equal(out, labels[0])
    out[:] = 0  # returned maps are copies
    np.testing.assert_array_equal(c.step(frames[1]), labels[0])


def test_labels_from_soft_masks():
    masks = np.array(
        [
            [[0.9, 0.6, 0.2, 0.0]],
            [[0.1, 0.7, 0.4, 0.51]],
        ],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(labels_from_soft_masks(masks), [[1, 2, 0, 2]])


def test_bad_inputs():
    frames, labels = moving_squares_video([(30, (5, 5), (2, 2))], num_frames=2)
    f0, l0 = frames[0], labels[0]
    with pytest.raises(ValueError, match="empty"):
        FlowPropagation(f0, np.zeros_like(l0))
    with pytest.raises(ValueError, match="empty"):
        CopyFirstMask(f0, np.zeros_like(l0))
    with pytest.raises(ValueError, match="uint8"):
        FlowPropagation(f0.astype(np.float32), l0)
    with pytest.raises(ValueError, match="uint8"):
        FlowPropagation(f0, l0.astype(np.int64))
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        FlowPropagation(f0[..., 0], l0)
    with pytest.raises(ValueError, match="size"):
        FlowPropagation(f0, l0[:, :-1])
    with pytest.raises(ValueError, match="255"):
        FlowPropagation(f0, np.where(l0 > 0, 255, 0).astype(np.uint8))
    prop = FlowPropagation(f0, l0)
    with pytest.raises(ValueError, match=r"size \(120, 159\)"):
        prop.step(frames[1][:, :-1])
    with pytest.raises(ValueError, match="uint8"):
        prop.step(frames[1].astype(np.float64))
    with pytest.raises(ValueError, match="no frames"):
        next(propagate("flow", [], l0))


# ----------------------------------------------------------------------------- real video
def _davis_240p():
    from dgmpm_lite import REPO_ROOT

    return REPO_ROOT.parent / "shared" / "data" / "DAVIS2016-train-240p"


@pytest.mark.skipif(not _davis_240p().is_dir(), reason="shared DAVIS-2016 sample data not available")
@pytest.mark.parametrize("seq", ["boat", "hike"])
def test_flow_beats_copy_first_on_real_davis_clip(seq):
    from dgmpm_lite.data.io import read_label_png as read

    root = _davis_240p()
    n = 20
    jpgs = sorted((root / "JPEGImages" / "240p" / seq).glob("*.jpg"))[:n]
    pngs = sorted((root / "Annotations" / "240p" / seq).glob("*.png"))[:n]
    if len(jpgs) < n or len(pngs) < n:
        pytest.skip(f"sequence {seq} incomplete in the shared data")
    frames = [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in jpgs]
    gt = [np.asarray(read(p)).astype(np.uint8) for p in pngs]
    j_flow = evaluate_sequence(gt, list(propagate("flow", frames, gt[0]))).J.mean()
    j_copy = evaluate_sequence(gt, list(propagate("copy", frames, gt[0]))).J.mean()
    assert j_flow > 0.6
    assert j_flow > j_copy + 0.1
