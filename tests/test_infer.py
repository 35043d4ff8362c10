"""Streaming inference (IV-B-2): label fusion, per-object guidance, laziness, errors."""

import numpy as np
import pytest
import torch

from dgmpm_lite.infer import VideoSegmenter, fuse_labels, propagate, segment_video
from dgmpm_lite.model import DGMPM


def test_fuse_labels_takes_the_most_probable_object_and_background_below_half():
    probs = torch.tensor([[[0.9, 0.4, 0.2]], [[0.6, 0.45, 0.7]]])  # K=2, H=1, W=3
    ids = torch.tensor([3, 7])
    assert fuse_labels(probs, ids).tolist() == [[3, 0, 7]]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return DGMPM("resnet18", weights=None).eval()


def two_objects(h=48, w=64):
    labels = np.zeros((h, w), np.uint8)
    labels[5:20, 5:25] = 2
    labels[25:45, 30:60] = 5  # ids need not be 1..K for the segmenter
    return labels


def test_objects_are_batched_and_keep_their_ids(model, monkeypatch):
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(3)]
    calls = []
    original = model.encode_target
    monkeypatch.setattr(model, "encode_target", lambda x: calls.append(x.shape) or original(x))
    preds = list(segment_video(model, frames, two_objects(), device="cpu", return_probabilities=True))
    assert len(preds) == 3
    assert calls == [(1, 3, 48, 64)] * 3  # reference once + one encoding per target frame, shared by both objects
    assert set(np.unique(preds[0].labels)) == {0, 2, 5}
    assert all(set(np.unique(p.labels)) <= {0, 2, 5} for p in preds)
    assert preds[1].probabilities.shape == (2, 48, 64)


def test_previous_masks_come_from_the_fused_labels(model):
    seg = VideoSegmenter(model, "cpu")
    seg.start(np.zeros((48, 64, 3), np.uint8), two_objects())
    pred = seg.step(np.full((48, 64, 3), 90, np.uint8))
    expected = np.stack([(pred.labels == 2), (pred.labels == 5)]).astype(np.float32)[:, None]
    np.testing.assert_array_equal(seg.prev_masks.numpy(), expected)


def test_frames_are_read_lazily(model):
    """A long video is never held in memory: frame t+1 is read only after frame t is segmented."""
    produced = []

    def frames():
        for t in range(40):
            produced.append(t)
            yield np.full((32, 32, 3), (t * 5) % 256, np.uint8)

    labels = np.zeros((32, 32), np.uint8)
    labels[8:24, 8:24] = 1
    for t, _ in enumerate(segment_video(model, frames(), labels, device="cpu")):
        assert len(produced) == t + 1
    assert len(produced) == 40


def test_errors(model):
    seg = VideoSegmenter(model, "cpu")
    with pytest.raises(RuntimeError, match="call start"):
        seg.step(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="empty"):
        seg.start(np.zeros((32, 32, 3), np.uint8), np.zeros((32, 32), np.uint8))
    with pytest.raises(ValueError, match="first frame is 32x32 but its mask is 16x32"):
        seg.start(np.zeros((32, 32, 3), np.uint8), np.ones((16, 32), np.uint8))
    with pytest.raises(ValueError, match="must be uint8"):
        seg.start(np.zeros((32, 32, 3), np.float32), np.ones((32, 32), np.uint8))
    with pytest.raises(ValueError, match="unknown method 'magic'"):
        list(propagate("magic", [np.zeros((8, 8, 3), np.uint8)], np.ones((8, 8), np.uint8)))
    with pytest.raises(ValueError, match="no frames"):
        list(segment_video(model, [], np.ones((8, 8), np.uint8), device="cpu"))


# -- precision and memory format -------------------------------------------------------------


def test_autocast_dtype_per_device(monkeypatch):
    import dgmpm_lite.device as device

    assert device.autocast_dtype(torch.device("cuda"), amp=True) == torch.float16
    assert device.autocast_dtype(torch.device("cuda"), amp=False) is None
    assert device.autocast_dtype(torch.device("mps"), amp=True) is None
    monkeypatch.setattr(device, "cpu_has_native_bfloat16", lambda: True)
    assert device.autocast_dtype(torch.device("cpu")) == torch.bfloat16
    assert device.precision_name(device.autocast_dtype(torch.device("cpu"))) == "bfloat16"
    monkeypatch.setattr(device, "cpu_has_native_bfloat16", lambda: False)
    assert device.autocast_dtype(torch.device("cpu")) is None
    assert device.precision_name(None) == "float32"


@pytest.fixture(scope="module")
def shipped_video():
    from dgmpm_lite.checkpoints import DEFAULT_CHECKPOINT, load_model
    from dgmpm_lite.data import DavisDataset, data_samples_root

    seq = DavisDataset(data_samples_root(), split="val")[0]
    return load_model(DEFAULT_CHECKPOINT), [seq.frame(i) for i in range(10)], seq.mask(0)


def _run(model, frames, first, **kw):
    preds = list(segment_video(model, frames, first, device="cpu", return_probabilities=True, **kw))
    return np.stack([p.labels for p in preds]), np.stack([p.probabilities for p in preds])


def test_channels_last_changes_nothing_but_the_memory_layout(shipped_video):
    model, frames, first = shipped_video
    labels_a, probs_a = _run(model, frames, first, amp=False, channels_last=False)
    labels_b, probs_b = _run(model, frames, first, amp=False, channels_last=True)
    np.testing.assert_allclose(probs_b, probs_a, atol=1e-4)
    assert (labels_a == labels_b).mean() > 0.9999


def test_bfloat16_masks_agree_with_float32(shipped_video, monkeypatch):
    """The trained model's masks in bfloat16 (forced, emulated where not native) vs float32."""
    import dgmpm_lite.device as device

    model, frames, first = shipped_video
    labels_32, _ = _run(model, frames, first, amp=False)
    monkeypatch.setattr(device, "cpu_has_native_bfloat16", lambda: True)
    labels_16, _ = _run(model, frames, first, amp=True)
    assert (labels_16 == labels_32).mean() > 0.995
    assert (labels_16[1:] > 0).sum() > 0.9 * (labels_32[1:] > 0).sum() > 0  # objects found, not dropped
    seg = VideoSegmenter(model, "cpu")
    assert seg.precision == "bfloat16"
    seg.start(frames[0], first)
    maps = seg.step(frames[1], return_maps=True)
    assert maps.maps.distance_map.dtype == torch.float32 and maps.embedding.dtype == torch.float32  # numpy-ready
