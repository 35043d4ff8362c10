"""Embedding distance module (paper section III-B, eq. 1-5).

The module has no parameters. From the reference embedding ``H`` and the reference mask
``M`` it computes two *anchors*, the mean embedding of the foreground pixels and the mean
embedding of the background pixels (cluster centres, eq. 1-4). Every target pixel ``t_n``
is then scored by how much closer it is to the foreground anchor than to the background
anchor (eq. 5)::

    e_n = sigmoid( ||t_n - a_b|| - ||t_n - a_f|| )

so ``e_n > 0.5`` means "closer to the object than to the background". Because the anchors
summarise the *whole* reference frame, the map still lights up an object that reappears
after an occlusion; because they are just two vectors, it also lights up a look-alike
distractor (the previous-mask guidance handles those, section III-C).

Empty masks: eq. 3 divides by the number of foreground pixels and eq. 4 by the number of
background pixels. A reference mask with no foreground (or no background) pixel has no
anchor, so :func:`anchors` raises a ``ValueError`` naming the batch item instead of
returning NaN.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from .checks import check_masks


class EmbeddingDistance(NamedTuple):
    distance_map: torch.Tensor
    """(B, 1, H, W) embedding distance map E, values in (0, 1) (eq. 5)."""
    fg_anchor: torch.Tensor
    """(B, C) foreground anchor a_f (eq. 3)."""
    bg_anchor: torch.Tensor
    """(B, C) background anchor a_b (eq. 4)."""


def _check_features(feats: torch.Tensor, name: str) -> None:
    if not isinstance(feats, torch.Tensor) or feats.dim() != 4:
        shape = tuple(feats.shape) if isinstance(feats, torch.Tensor) else type(feats).__name__
        raise ValueError(f"{name} must be a (B, C, H, W) tensor, got {shape}")


def anchors(ref_feats: torch.Tensor, ref_masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Foreground and background anchors (eq. 1-4).

    Args:
        ref_feats: (B, C, H, W) reference embedding ``H`` (B may be 1 and shared by all masks).
        ref_masks: (K, 1, H, W) reference masks ``M`` in [0, 1], one per object.

    Returns:
        ``(a_f, a_b)``, each (K, C): masked means of the reference embedding,
        ``a_f = sum_n m_n h_n / sum_n m_n`` and ``a_b = sum_n (1 - m_n) h_n / sum_n (1 - m_n)``.

    Raises:
        ValueError: if a mask has no foreground or no background pixel (eq. 3/4 undefined).
    """
    _check_features(ref_feats, "ref_feats")
    check_masks(ref_masks, "ref_masks", like=ref_feats)
    m = ref_masks.to(ref_feats.dtype)
    fg_count = m.sum(dim=(2, 3))  # (K, 1): denominator of eq. 3
    bg_count = (1 - m).abs().sum(dim=(2, 3))  # (K, 1): denominator of eq. 4
    for k in range(m.shape[0]):
        if fg_count[k] <= 0:
            raise ValueError(
                f"reference mask {k} has no foreground pixel: the foreground anchor (eq. 3) "
                "is undefined - give a first-frame mask that contains the object"
            )
        if bg_count[k] <= 0:
            raise ValueError(
                f"reference mask {k} has no background pixel: the background anchor (eq. 4) "
                "is undefined - the object may not cover the whole frame"
            )
    h_f = ref_feats * m  # eq. 1: h_{n,f} = m_n h_n (broadcast over K masks if B == 1)
    h_b = ref_feats * (1 - m).abs()  # eq. 2: h_{n,b} = |1 - m_n| h_n
    fg_sum, bg_sum = h_f.sum(dim=(2, 3)), h_b.sum(dim=(2, 3))
    return fg_sum / fg_count, bg_sum / bg_count  # eq. 3, eq. 4


def distance_map(target_feats: torch.Tensor, fg_anchor: torch.Tensor, bg_anchor: torch.Tensor) -> torch.Tensor:
    """Embedding distance map (eq. 5): ``sigmoid(||t_n - a_b|| - ||t_n - a_f||)``.

    Args:
        target_feats: (B, C, H, W) target embedding ``T``; B may be 1 and shared by K objects.
        fg_anchor, bg_anchor: (K, C) anchors from :func:`anchors`.

    Returns:
        (K, 1, H, W) map with values in (0, 1).
    """
    _check_features(target_feats, "target_feats")
    if fg_anchor.shape != bg_anchor.shape or fg_anchor.dim() != 2:
        raise ValueError(f"anchors must both be (K, C), got {tuple(fg_anchor.shape)} and {tuple(bg_anchor.shape)}")
    if fg_anchor.shape[1] != target_feats.shape[1]:
        raise ValueError(
            f"target_feats have {target_feats.shape[1]} channels but the anchors have "
            f"{fg_anchor.shape[1]}: they must come from the same feature extractor"
        )
    if target_feats.shape[0] not in (1, fg_anchor.shape[0]):
        raise ValueError(
            f"target_feats have batch size {target_feats.shape[0]} but there are "
            f"{fg_anchor.shape[0]} anchors (must be equal, or 1 to share the frame)"
        )

    # eq. 5 through ||t - a||^2 = ||t||^2 - 2 t.a + ||a||^2: ||t||^2 is computed once per pixel
    # and shared by every object and both anchors, and the 2K dot products are one matrix
    # product. Subtracting each anchor from the (B, C, H, W) map would take two full passes
    # over it per object. Float32 (float64 stays float64) even under autocast: the expansion
    # subtracts nearby large numbers, which bfloat16's 8-bit mantissa would not survive.
    b, c, h, w = target_feats.shape
    k = fg_anchor.shape[0]
    dtype = torch.promote_types(target_feats.dtype, torch.float32)
    with torch.autocast(target_feats.device.type, enabled=False):
        # pixels as rows: (B, H*W, C), one pass over the embedding (a copy, in float32)
        t = target_feats.permute(0, 2, 3, 1).to(dtype).reshape(b, h * w, c)
        a = torch.stack([bg_anchor, fg_anchor], dim=1).to(dtype)  # (K, 2, C)
        t_sq = t.pow(2).sum(dim=2, keepdim=True)  # (B, H*W, 1)
        if b == 1:  # one target frame shared by the K objects: (H*W, C) @ (C, 2K)
            sq_dist = (t[0] @ a.reshape(2 * k, c).T).view(h * w, k, 2).permute(1, 0, 2)
        else:  # a target frame per object: (K, H*W, C) @ (K, C, 2)
            sq_dist = t @ a.transpose(1, 2)
        sq_dist = t_sq - 2 * sq_dist + a.pow(2).sum(dim=2)[:, None, :]  # (K, H*W, 2)
        # clamped so the gradient of sqrt stays finite at 0 (and rounding cannot go negative)
        dist = sq_dist.clamp_min(1e-12).sqrt()
        e = torch.sigmoid(dist[..., 0] - dist[..., 1])  # ||t - a_b|| - ||t - a_f||
    return e.reshape(k, 1, h, w).to(target_feats.dtype)


def embedding_distance(
    target_feats: torch.Tensor, ref_feats: torch.Tensor, ref_masks: torch.Tensor
) -> EmbeddingDistance:
    """The embedding distance module, eq. 1-5, as one function.

    Args:
        target_feats: (B, C, H, W) target embedding ``T``.
        ref_feats: (B, C, H, W) reference embedding ``H``.
        ref_masks: (B, 1, H, W) reference masks ``M`` with values in [0, 1].

    Returns:
        ``EmbeddingDistance(distance_map (B, 1, H, W), fg_anchor (B, C), bg_anchor (B, C))``.

    Raises:
        ValueError: mismatched shapes, masks outside [0, 1], or a mask without foreground or
            without background pixels.
    """
    _check_features(target_feats, "target_feats")
    _check_features(ref_feats, "ref_feats")
    if target_feats.shape[1:] != ref_feats.shape[1:]:
        raise ValueError(
            f"target_feats {tuple(target_feats.shape)} and ref_feats {tuple(ref_feats.shape)} "
            "must have the same channels and spatial size"
        )
    a_f, a_b = anchors(ref_feats, ref_masks)
    return EmbeddingDistance(distance_map(target_feats, a_f, a_b), a_f, a_b)
