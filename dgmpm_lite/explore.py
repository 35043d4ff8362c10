"""Pure functions behind the exploration widgets (notebooks 02 and 09).

Each function takes tensors or arrays and returns numbers or an image; the widgets in
:mod:`dgmpm_lite.widgets` only wire sliders to them, and pytest tests them directly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch


class EmbeddingProjection(NamedTuple):
    """Reference embeddings and the two anchors projected onto the same 2-D PCA plane."""

    points: np.ndarray  # (M, 2) sampled reference pixels
    is_foreground: np.ndarray  # (M,) bool, from the reference mask
    fg_anchor: np.ndarray  # (2,) eq. 3
    bg_anchor: np.ndarray  # (2,) eq. 4
    extra: np.ndarray  # (N, 2) any further vectors (e.g. chosen target pixels)
    components: np.ndarray  # (2, C) principal directions
    mean: np.ndarray  # (C,) centre of the sampled embeddings
    explained: np.ndarray  # (2,) fraction of the variance along each direction


def embedding_pca(
    embedding: torch.Tensor | np.ndarray,
    mask: torch.Tensor | np.ndarray,
    fg_anchor: torch.Tensor | np.ndarray,
    bg_anchor: torch.Tensor | np.ndarray,
    extra: torch.Tensor | np.ndarray | None = None,
    max_points: int = 2000,
    seed: int = 0,
) -> EmbeddingProjection:
    """Project per-pixel embeddings (C, H, W) and the anchors (C,) onto their 2 principal axes.

    The plane is fitted on the reference pixels (a seeded sample of at most ``max_points``,
    foreground and background sampled in proportion). The anchors are the masked means of
    eq. 3-4, and PCA is linear, so each projected anchor is exactly the mean of the projected
    pixels of its class: the picture shows the anchors as cluster centres. Distances in the
    plane are only an approximation of the 64-d Euclidean distances of eq. 5.
    """
    emb = _numpy(embedding)
    if emb.ndim == 4 and emb.shape[0] == 1:
        emb = emb[0]
    if emb.ndim != 3:
        raise ValueError(f"embedding must be (C, H, W), got shape {emb.shape}")
    c, h, w = emb.shape
    m = _numpy(mask).squeeze()
    if m.shape != (h, w):
        raise ValueError(f"mask is {m.shape} but the embedding is {h}x{w}")
    fg, bg = _numpy(fg_anchor).reshape(-1), _numpy(bg_anchor).reshape(-1)
    if fg.shape != (c,) or bg.shape != (c,):
        raise ValueError(f"anchors must have {c} channels, got {fg.shape} and {bg.shape}")
    vectors = emb.reshape(c, -1).T.astype(np.float64)
    labels = m.reshape(-1) > 0.5
    rng = np.random.default_rng(seed)
    idx = np.arange(len(vectors)) if len(vectors) <= max_points else np.sort(rng.choice(len(vectors), max_points, replace=False))
    sample, sample_fg = vectors[idx], labels[idx]
    mean = sample.mean(axis=0)
    _, s, vt = np.linalg.svd(sample - mean, full_matrices=False)
    components = vt[:2]
    var = s**2
    explained = var[:2] / max(var.sum(), 1e-12)

    def project(x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64).reshape(-1, c) - mean) @ components.T

    more = np.zeros((0, 2)) if extra is None else project(_numpy(extra))
    return EmbeddingProjection(
        project(sample), sample_fg, project(fg)[0], project(bg)[0], more, components, mean, explained
    )


def _numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32)
