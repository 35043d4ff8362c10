"""Build-it-yourself exercises: checkers that compare a student's function with the package's own.

Each notebook exercise asks for one piece of the model or of the evaluation, written from the
paper's equation; a checker here runs the student's function and the reference on the same
random inputs and prints one line: a pass, or a hint that names what is wrong (a shape, a
swapped anchor, a missing normalisation...). Every checker returns True or False, so a
notebook cell can ``assert`` it, and pytest checks that each one passes the reference and
fails the typical wrong answers (``tests/test_exercises.py``).

* :func:`check_anchors` (02): eq. 1-4, ``fn(ref_feats, ref_masks) -> (a_f, a_b)``;
* :func:`check_distance_map` (02): eq. 5, ``fn(target_feats, a_f, a_b) -> e``;
* :func:`check_spatial_attention` (03): eq. 6-8, ``fn(shallow, deep_up, w1, w2) -> (F_o, alpha)``;
* :func:`check_downsampled_guide` (04): a guide map at a decoder stage's size, ``fn(guide, size)``;
* :func:`check_region_similarity` (07): J, ``fn(gt, pred) -> float``;
* :func:`check_contour_accuracy` (07): F from boundary precision and recall, ``fn(P, R) -> float``.

The references are the package's own: :func:`dgmpm_lite.model.anchors`,
:func:`~dgmpm_lite.model.distance_map`, :class:`~dgmpm_lite.model.SpatialAttentionBlock`, area
averaging (the decoder's), :func:`dgmpm_lite.metrics.db_eval_iou` and
:func:`~dgmpm_lite.metrics.db_eval_boundary`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .metrics import db_eval_iou
from .model import SpatialAttentionBlock, anchors, distance_map


def _report(name: str, problem: str | None) -> bool:
    print(f"{name}: passed" if problem is None else f"{name}: not yet - {problem}")
    return problem is None


def _call(fn: Callable, *args):
    """``(result, None)`` or ``(None, message)`` when the student's function raises or is a stub."""
    try:
        out = fn(*args)
    except NotImplementedError:
        return None, "the function still raises NotImplementedError: fill in its body"
    except Exception as err:  # the student's code: report it, do not crash the notebook
        return None, f"it raised {type(err).__name__}: {err}"
    if out is None:
        return None, "it returned None: did you forget the return statement?"
    return out, None


def _tensor_problem(got, want: torch.Tensor, what: str, atol: float = 1e-4) -> str | None:
    if not isinstance(got, torch.Tensor):
        return f"{what} should be a torch.Tensor, got {type(got).__name__}"
    if tuple(got.shape) != tuple(want.shape):
        return f"{what} has shape {tuple(got.shape)}, expected {tuple(want.shape)}"
    if not torch.allclose(got.float(), want.float(), atol=atol, rtol=1e-3):
        return f"{what} differs from the reference by up to {(got.float() - want.float()).abs().max():.3g}"
    return None


def _same(got, ref: torch.Tensor, atol: float = 1e-4) -> bool:
    """Whether ``got`` is a tensor equal to ``ref`` (shape and values): how a typical mistake is recognised."""
    return isinstance(got, torch.Tensor) and got.shape == ref.shape and torch.allclose(got, ref, atol=atol)


def _random_reference(seed: int, k: int = 2, c: int = 8, h: int = 6, w: int = 7):
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(1, c, h, w, generator=g)
    masks = (torch.rand(k, 1, h, w, generator=g) > 0.6).float()
    masks[:, :, 0, 0], masks[:, :, -1, -1] = 1.0, 0.0  # every mask has foreground and background
    return feats, masks


def check_anchors(fn: Callable) -> bool:
    """Eq. 1-4: ``fn(ref_feats (1, C, H, W), ref_masks (K, 1, H, W)) -> (a_f, a_b)``, each (K, C)."""
    name = "anchors (eq. 1-4)"
    for seed in range(3):
        feats, masks = _random_reference(seed)
        want_f, want_b = anchors(feats, masks)
        out, problem = _call(fn, feats, masks)
        if problem:
            return _report(name, problem)
        if not (isinstance(out, tuple) and len(out) == 2):
            return _report(name, "return the pair (a_f, a_b)")
        a_f, a_b = out
        if _same(a_f, want_b):
            return _report(name, "a_f and a_b are swapped: a_f averages the pixels *inside* the mask (m_n = 1)")
        if _same(a_f, (feats * masks).sum(dim=(2, 3))):
            return _report(name, "a_f is a sum, not a mean: divide by the number of foreground pixels (eq. 3)")
        if _same(a_f, feats.mean((2, 3)).expand_as(want_f)):
            return _report(name, "a_f averages every pixel: weight each pixel by its mask value m_n (eq. 1)")
        problem = _tensor_problem(a_f, want_f, "a_f") or _tensor_problem(a_b, want_b, "a_b")
        if problem:
            return _report(name, problem)
    return _report(name, None)


def check_distance_map(fn: Callable) -> bool:
    """Eq. 5: ``fn(target_feats (1, C, H, W), a_f (K, C), a_b (K, C)) -> e`` of shape (K, 1, H, W)."""
    name = "distance map (eq. 5)"
    for seed in range(3):
        feats, masks = _random_reference(seed)
        a_f, a_b = anchors(feats, masks)
        target = torch.randn(feats.shape, generator=torch.Generator().manual_seed(100 + seed))
        want = distance_map(target, a_f, a_b)
        got, problem = _call(fn, target, a_f, a_b)
        if problem:
            return _report(name, problem)
        if _same(got, 1 - want):
            return _report(name, "the sign is flipped: e is near 1 where the pixel is closer to a_f (eq. 5)")
        if _same(got, torch.logit(want.clamp(1e-6, 1 - 1e-6)), atol=1e-3):
            return _report(name, "the sigmoid is missing: e = sigmoid(d_b - d_f) lies in (0, 1)")
        problem = _tensor_problem(got, want, "e")
        if problem:
            return _report(name, problem)
    return _report(name, None)


def check_spatial_attention(fn: Callable) -> bool:
    """Eq. 6-8: ``fn(shallow (B, C_l, h, w), deep_up (B, C_d, h, w), w1, w2) -> (F_o, alpha)``.

    ``w1`` and ``w2`` are the block's two 3x3 convolutions (``nn.Conv2d``); ``deep_up`` is
    ``F_d`` already upsampled to the shallow size.
    """
    name = "spatial attention block (eq. 6-8)"
    torch.manual_seed(0)
    block = SpatialAttentionBlock(deep_channels=6, shallow_channels=4, hidden_channels=5).eval()
    for seed in range(3):
        g = torch.Generator().manual_seed(seed)
        shallow, deep_up = torch.randn(2, 4, 8, 9, generator=g), torch.randn(2, 6, 8, 9, generator=g)
        with torch.no_grad():
            want_alpha = block.attention(shallow, deep_up)
            want_out = torch.cat([deep_up, want_alpha * shallow], dim=1)
            out, problem = _call(fn, shallow, deep_up, block.w1, block.w2)
        if problem:
            return _report(name, problem)
        if not (isinstance(out, tuple) and len(out) == 2):
            return _report(name, "return the pair (F_o, alpha)")
        f_o, alpha = out
        if isinstance(alpha, torch.Tensor) and alpha.shape == want_alpha.shape and alpha.min() < 0:
            return _report(name, "alpha has negative values: end with a sigmoid so that alpha is in (0, 1) (eq. 7)")
        if _same(f_o, torch.cat([want_alpha * shallow, deep_up], dim=1)):
            return _report(name, "F_o's parts are in the wrong order: Cat(Up(F_d), alpha * F_l) (eq. 8)")
        if _same(f_o, torch.cat([deep_up, shallow], dim=1)):
            return _report(name, "the shallow feature is not weighted: multiply F_l by alpha (eq. 8)")
        problem = _tensor_problem(alpha, want_alpha, "alpha") or _tensor_problem(f_o, want_out, "F_o")
        if problem:
            return _report(name, problem)
    return _report(name, None)


def check_downsampled_guide(fn: Callable) -> bool:
    """A guide (distance map or previous mask) at a decoder stage: ``fn(guide (K, 1, H, W), (h, w))``
    returns (K, 1, h, w), each value the mean of the guide over the pixels it covers."""
    name = "downsampled guide"
    for seed, size in enumerate([(4, 5), (3, 3), (8, 10)]):
        guide = torch.rand(2, 1, 16, 20, generator=torch.Generator().manual_seed(seed))
        want = F.adaptive_avg_pool2d(guide, size)
        got, problem = _call(fn, guide, size)
        if problem:
            return _report(name, problem)
        if _same(got, F.interpolate(guide, size=size, mode="nearest"), atol=1e-5):
            return _report(name, "nearest sampling drops most pixels of a thin mask: average them (area)")
        problem = _tensor_problem(got, want, "the guide")
        if problem:
            return _report(name, problem)
    return _report(name, None)


def _random_masks(seed: int, shape=(12, 14)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random(shape) > 0.5, rng.random(shape) > 0.6


def check_region_similarity(fn: Callable) -> bool:
    """J: ``fn(gt (H, W) bool, pred (H, W) bool) -> float`` (1 when both masks are empty)."""
    name = "region similarity J"
    empty = np.zeros((5, 5), bool)
    cases = [_random_masks(s) for s in range(3)] + [(empty, empty), (empty, ~empty)]
    for gt, pred in cases:
        want = db_eval_iou(gt, pred)
        got, problem = _call(fn, gt, pred)
        if problem:
            return _report(name, problem)
        try:
            got = float(got)
        except (TypeError, ValueError):
            return _report(name, f"return a number, got {type(got).__name__}")
        if not gt.any() and not pred.any() and got != 1.0:
            return _report(name, "two empty masks agree perfectly: J = 1 when the union is empty")
        if (
            gt.any()
            and abs(got - np.count_nonzero(gt & pred) / max(1, np.count_nonzero(gt))) < 1e-9
            and abs(got - want) > 1e-6
        ):
            return _report(name, "you divided by the ground truth's area: J divides by the *union*")
        if abs(got - want) > 1e-6:
            return _report(name, f"J is {got:.4f} on a case where it should be {want:.4f}")
    return _report(name, None)


def check_contour_accuracy(fn: Callable) -> bool:
    """F from boundary precision P and recall R: ``fn(P, R) -> float`` (0 when P + R = 0)."""
    name = "contour accuracy F"
    for p, r in [(0.5, 0.25), (1.0, 1.0), (0.9, 0.1), (0.0, 0.0), (0.3, 0.0)]:
        want = 0.0 if p + r == 0 else 2 * p * r / (p + r)
        got, problem = _call(fn, p, r)
        if problem:
            return _report(name, problem)
        try:
            got = float(got)
        except (TypeError, ValueError):
            return _report(name, f"return a number, got {type(got).__name__}")
        if p + r > 0 and abs(got - (p + r) / 2) < 1e-9 and abs(got - want) > 1e-9:
            return _report(name, "that is the arithmetic mean: F is the harmonic mean 2PR / (P + R)")
        if not np.isfinite(got):
            return _report(name, "F is not a number when P + R = 0: return 0 there")
        if abs(got - want) > 1e-9:
            return _report(name, f"F({p}, {r}) is {got:.4f}, expected {want:.4f}")
    return _report(name, None)
