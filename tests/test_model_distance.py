"""Embedding distance module (III-B, eq. 1-5) against a brute-force per-pixel reference."""

import numpy as np
import pytest
import torch

from dgmpm_lite.model import anchors, distance_map, embedding_distance


def brute_force_anchors(ref, mask):
    """eq. 1-4 written pixel by pixel with NumPy loops, for one batch item."""
    c, h, w = ref.shape
    fg_sum, bg_sum = np.zeros(c), np.zeros(c)
    fg_n, bg_n = 0.0, 0.0
    for y in range(h):
        for x in range(w):
            m = mask[0, y, x]
            fg_sum += m * ref[:, y, x]  # eq. 1
            bg_sum += abs(1 - m) * ref[:, y, x]  # eq. 2
            fg_n += m
            bg_n += abs(1 - m)
    return fg_sum / fg_n, bg_sum / bg_n  # eq. 3, 4


def brute_force_distance_map(target, a_f, a_b):
    """eq. 5 written pixel by pixel: sigmoid(||t - a_b|| - ||t - a_f||), for one batch item."""
    _, h, w = target.shape
    e = np.zeros((1, h, w))
    for y in range(h):
        for x in range(w):
            t = target[:, y, x]
            d = np.sqrt(((t - a_b) ** 2).sum()) - np.sqrt(((t - a_f) ** 2).sum())
            e[0, y, x] = 1 / (1 + np.exp(-d))  # eq. 5
    return e


def brute_force(target, ref, mask):
    """eq. 1-5 for one batch item: ``(e, a_f, a_b)``."""
    a_f, a_b = brute_force_anchors(ref, mask)
    return brute_force_distance_map(target, a_f, a_b), a_f, a_b


@pytest.mark.parametrize("soft", [False, True])
def test_matches_brute_force(soft):
    g = torch.Generator().manual_seed(1)
    target = torch.randn(2, 8, 7, 9, generator=g, dtype=torch.float64)
    ref = torch.randn(2, 8, 7, 9, generator=g, dtype=torch.float64)
    if soft:
        mask = torch.rand(2, 1, 7, 9, generator=g, dtype=torch.float64)
    else:
        mask = (torch.rand(2, 1, 7, 9, generator=g) > 0.6).double()
    out = embedding_distance(target, ref, mask)
    assert out.distance_map.shape == (2, 1, 7, 9)
    assert out.fg_anchor.shape == (2, 8) and out.bg_anchor.shape == (2, 8)
    # the documented order: distance map, foreground anchor, background anchor
    e, a_f, a_b = out
    for b in range(2):
        e_ref, af_ref, ab_ref = brute_force(target[b].numpy(), ref[b].numpy(), mask[b].numpy())
        np.testing.assert_allclose(a_f[b].numpy(), af_ref, rtol=1e-10)
        np.testing.assert_allclose(a_b[b].numpy(), ab_ref, rtol=1e-10)
        np.testing.assert_allclose(e[b].numpy(), e_ref, rtol=1e-10)


def test_pixel_at_anchor_scores_on_the_right_side():
    g = torch.Generator().manual_seed(2)
    ref = torch.randn(1, 16, 10, 10, generator=g)
    mask = torch.zeros(1, 1, 10, 10)
    mask[..., 2:6, 3:8] = 1
    ref[:, :, 2:6, 3:8] += 3.0  # make foreground and background separable
    a_f, a_b = anchors(ref, mask)
    target = torch.randn(1, 16, 10, 10, generator=g)
    target[0, :, 0, 0] = a_f[0]
    target[0, :, 9, 9] = a_b[0]
    e = distance_map(target, a_f, a_b)
    assert e[0, 0, 0, 0] > 0.5
    assert e[0, 0, 9, 9] < 0.5
    assert torch.all((e > 0) & (e < 1))


def test_shared_reference_frame_for_several_objects():
    """One reference embedding (B=1) and K masks gives K anchor pairs, same as repeating it."""
    g = torch.Generator().manual_seed(3)
    ref = torch.randn(1, 4, 6, 6, generator=g)
    masks = torch.zeros(3, 1, 6, 6)
    masks[0, :, :2, :2] = 1
    masks[1, :, 3:, 3:] = 1
    masks[2, :, 1:4, 2:5] = 1
    a_f, a_b = anchors(ref, masks)
    a_f2, a_b2 = anchors(ref.expand(3, -1, -1, -1), masks)
    torch.testing.assert_close(a_f, a_f2)
    torch.testing.assert_close(a_b, a_b2)
    target = torch.randn(1, 4, 6, 6, generator=g)
    shared = distance_map(target, a_f, a_b)
    assert shared.shape == (3, 1, 6, 6)
    # the shared frame gives each object the map it gets from its own copy of the frame
    torch.testing.assert_close(shared, distance_map(target.expand(3, -1, -1, -1), a_f, a_b))
    for k in range(3):
        torch.testing.assert_close(shared[k : k + 1], distance_map(target, a_f[k : k + 1], a_b[k : k + 1]))


def test_bfloat16_autocast_keeps_the_distances_accurate():
    """Under CPU autocast the embedding is bfloat16; eq. 5 is still evaluated in float32, so
    the only error left is rounding the (0, 1) result to bfloat16 (< 2^-8), even for pixels
    close to an anchor, where ||t||^2 - 2 t.a + ||a||^2 subtracts nearly equal numbers."""
    g = torch.Generator().manual_seed(4)
    t = (3 + torch.randn(1, 64, 12, 20, generator=g)).to(torch.bfloat16)  # large norms
    a_f = t[0, :, 3, 4].float()[None] + 0.01 * torch.randn(1, 64, generator=g)
    a_b = t[0, :, 8, 15].float()[None] + 0.01 * torch.randn(1, 64, generator=g)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        e = distance_map(t, a_f, a_b)
    assert e.dtype == torch.bfloat16 and e.shape == (1, 1, 12, 20)
    ref = brute_force_distance_map(t[0].double().numpy(), a_f[0].double().numpy(), a_b[0].double().numpy())
    assert np.abs(e[0].double().numpy() - ref).max() < 2**-8
    assert e[0, 0, 3, 4] > 0.99 and e[0, 0, 8, 15] < 0.01  # at the anchors


def test_gradient_is_finite_at_the_anchor():
    ref = torch.randn(1, 4, 5, 5)
    mask = torch.zeros(1, 1, 5, 5)
    mask[..., :2, :] = 1
    a_f, a_b = anchors(ref, mask)
    target = a_f[:, :, None, None].expand(1, 4, 5, 5).clone().requires_grad_(True)
    distance_map(target, a_f, a_b).sum().backward()
    assert torch.isfinite(target.grad).all()


def test_empty_foreground_raises():
    with pytest.raises(ValueError, match="no foreground pixel"):
        embedding_distance(
            torch.randn(2, 3, 4, 4),
            torch.randn(2, 3, 4, 4),
            torch.cat([torch.ones(1, 1, 4, 4) * 0.3, torch.zeros(1, 1, 4, 4)]),
        )


def test_full_foreground_raises():
    with pytest.raises(ValueError, match="reference mask 0 has no background pixel"):
        embedding_distance(torch.randn(1, 3, 4, 4), torch.randn(1, 3, 4, 4), torch.ones(1, 1, 4, 4))


@pytest.mark.parametrize(
    "target,ref,mask,msg",
    [
        ((1, 3, 4, 4), (1, 3, 5, 4), (1, 1, 4, 4), "same channels and spatial size"),
        ((1, 3, 4, 4), (1, 2, 4, 4), (1, 1, 4, 4), "same channels and spatial size"),
        ((1, 3, 4, 4), (1, 3, 4, 4), (1, 1, 4, 5), "ref_masks is 4x5 but the frame/features are 4x4"),
        ((1, 3, 4, 4), (1, 3, 4, 4), (1, 2, 4, 4), r"ref_masks must have shape \(B, 1, H, W\)"),
        ((3, 4, 4), (1, 3, 4, 4), (1, 1, 4, 4), r"target_feats must be a \(B, C, H, W\) tensor"),
        ((2, 3, 4, 4), (2, 3, 4, 4), (3, 1, 4, 4), "ref_masks has batch size 3"),
    ],
)
def test_bad_shapes_raise(target, ref, mask, msg):
    m = torch.zeros(mask)
    m[..., 0, 0] = 1
    with pytest.raises(ValueError, match=msg):
        embedding_distance(torch.randn(target), torch.randn(ref), m)


def test_mask_out_of_range_raises():
    m = torch.zeros(1, 1, 4, 4)
    m[..., 0, 0] = 255
    with pytest.raises(ValueError, match=r"values in \[0, 1\]"):
        embedding_distance(torch.randn(1, 3, 4, 4), torch.randn(1, 3, 4, 4), m)
