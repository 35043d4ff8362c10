"""The whole model: shapes at odd sizes, ablation switches, gradients, learning, bad input."""

import pytest
import torch
import torch.nn.functional as F

from dgmpm_lite.ablation import VARIANTS
from dgmpm_lite.data.toy import toy_clip
from dgmpm_lite.model import DGMPM


def object_mask(h, w, box):
    m = torch.zeros(1, 1, h, w)
    y0, y1, x0, x1 = box
    m[..., y0:y1, x0:x1] = 1
    return m


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("backbone", ["resnet18", "resnet34", "resnet50", "efficientnet_lite0"])
def test_forward_shapes_at_odd_size(backbone, variant):
    model = DGMPM(backbone, weights=None, **VARIANTS[variant]).eval()
    h, w = 97, 131
    frames = torch.rand(2, 3, h, w)
    ref_mask = torch.cat([object_mask(h, w, (10, 40, 20, 60)), object_mask(h, w, (50, 90, 70, 120))])
    with torch.no_grad():
        out = model(frames, frames.flip(0), ref_mask, ref_mask, return_maps=True)
    assert out.logits.shape == (2, 2, h, w)
    assert torch.isfinite(out.logits).all()
    if model.use_distance:
        assert out.distance_map.shape == (2, 1, h, w)
        assert out.fg_anchor.shape == out.bg_anchor.shape == (2, 64)
    else:
        assert out.distance_map is None and out.fg_anchor is None
    att = out.attention_maps
    assert len(att) == 3
    if variant == "-SAB":
        assert att == [None, None, None]
    elif variant == "-SAB+CAB":
        assert [a.shape[:2] for a in att] == [(2, 128)] * 3 and all(a.shape[-2:] == (1, 1) for a in att)
    else:  # spatial maps from shallow (stride 4) to deep (stride 16), cropped to the frame
        assert [tuple(a.shape) for a in att] == [(2, 1, 25, 33), (2, 1, 13, 17), (2, 1, 7, 9)]


def test_encode_reference_once_matches_batched_forward():
    """Multi-object API (one shared frame, K objects) equals the training forward per object."""
    model = DGMPM("resnet18", weights=None).eval()
    h, w = 70, 90
    ref, target = torch.rand(1, 3, h, w), torch.rand(1, 3, h, w)
    masks = torch.cat(
        [object_mask(h, w, (5, 30, 5, 40)), object_mask(h, w, (35, 65, 45, 85)), object_mask(h, w, (20, 50, 30, 60))]
    )
    prev = masks.roll(3, dims=-1)
    with torch.no_grad():
        reference = model.encode_reference(ref, masks)
        shared = model.segment(target, reference, prev, return_maps=True)
        batched = model(target.expand(3, -1, -1, -1), ref.expand(3, -1, -1, -1), masks, prev, return_maps=True)
    assert reference.fg_anchor.shape == (3, 64) and reference.num_objects == 3
    torch.testing.assert_close(shared.logits, batched.logits, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(shared.distance_map, batched.distance_map, rtol=1e-4, atol=1e-5)


def test_padding_does_not_leak_into_anchors():
    """Anchors are computed on the frame, not on the replicate padding."""
    model = DGMPM("resnet18", weights=None).eval()
    frame = torch.rand(1, 3, 40, 50)
    mask = object_mask(40, 50, (5, 20, 5, 20))
    with torch.no_grad():
        reference = model.encode_reference(frame, mask)
        emb = model.encode_target(frame).embedding
    assert emb.shape == (1, 64, 40, 50)
    bg = 1 - mask
    torch.testing.assert_close(reference.bg_anchor, (emb * bg).sum((2, 3)) / bg.sum())


@pytest.mark.parametrize("variant", VARIANTS)
def test_gradients_reach_every_trainable_parameter(variant):
    model = DGMPM("resnet18", weights=None, **VARIANTS[variant]).train()
    frames, masks = toy_clip(64, 64)
    out = model(frames[1:], frames[:1], masks[:1], masks[:1])
    F.cross_entropy(out.logits, masks[1:, 0].long()).backward()
    missing = [
        n for n, p in model.named_parameters() if p.requires_grad and (p.grad is None or p.grad.abs().sum() == 0)
    ]
    assert missing == []


def test_overfits_a_two_frame_toy_video():
    torch.manual_seed(0)
    model = DGMPM("resnet18", weights=None).train()
    frames, masks = toy_clip(64, 64, shift=4)
    ref, target = frames[:1], frames[1:]
    labels = masks[1:, 0].long()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(60):  # 40 left eval-mode IoU at 0.79-0.86 over seeds 0-2 (BatchNorm on one pair); 60: 0.95-0.97
        out = model(target, ref, masks[:1], masks[:1])  # the previous mask is frame 0's
        loss = F.cross_entropy(out.logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0], losses
    model.eval()
    with torch.no_grad():
        pred = model(target, ref, masks[:1], masks[:1]).logits.argmax(1)
    iou = ((pred == 1) & (labels == 1)).sum() / ((pred == 1) | (labels == 1)).sum()
    assert iou > 0.8


@pytest.fixture(scope="module")
def small_model():
    return DGMPM("resnet18", weights=None).eval()


def test_bad_frames(small_model):
    m = object_mask(32, 32, (4, 20, 4, 20))
    with pytest.raises(ValueError, match="3 \\(RGB\\) channels, got 4"):
        small_model(torch.rand(1, 4, 32, 32), torch.rand(1, 4, 32, 32), m, m)
    with pytest.raises(ValueError, match="float tensor.*uint8"):
        small_model((torch.rand(1, 3, 32, 32) * 255).to(torch.uint8), torch.rand(1, 3, 32, 32), m, m)
    with pytest.raises(ValueError, match=r"RGB values in \[0, 1\].*got values in \[0.*, 255\]"):
        small_model(torch.rand(1, 3, 32, 32) * 255, torch.rand(1, 3, 32, 32), m, m)
    with pytest.raises(ValueError, match="target_frame .* and ref_frame .* must have the same shape"):
        small_model(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 40), m, m)


def test_bad_masks(small_model):
    f = torch.rand(1, 3, 32, 32)
    good = object_mask(32, 32, (4, 20, 4, 20))
    with pytest.raises(ValueError, match="ref_masks is 16x32 but the frame/features are 32x32"):
        small_model(f, f, good[..., :16, :], good)
    with pytest.raises(ValueError, match="ref_masks must be binary"):
        small_model(f, f, good * 0.5, good)
    with pytest.raises(ValueError, match="no foreground pixel"):
        small_model(f, f, torch.zeros_like(good), good)
    with pytest.raises(ValueError, match="prev_masks is 32x16"):
        small_model(f, f, good, good[..., :16])
    with pytest.raises(ValueError, match="prev_masks is required"):
        small_model(f, f, good, None)
    with pytest.raises(ValueError, match=r"prev_masks must have values in \[0, 1\]"):
        small_model(f, f, good, good * 2)


def test_video_frames_must_share_the_reference_size(small_model):
    reference = small_model.encode_reference(torch.rand(1, 3, 32, 32), object_mask(32, 32, (4, 20, 4, 20)))
    with pytest.raises(ValueError, match="target frame is 40x32 but the reference frame was 32x32"):
        small_model.segment(torch.rand(1, 3, 40, 32), reference, torch.zeros(1, 1, 40, 32))


def test_bad_configuration():
    with pytest.raises(ValueError, match="attention must be one of"):
        DGMPM("resnet18", weights=None, attention="temporal")


def test_config_round_trip():
    model = DGMPM("resnet18", weights=None, use_prev_mask=False, attention="channel")
    clone = DGMPM.from_config(model.config)
    clone.load_state_dict(model.state_dict())
    assert clone.config == model.config
