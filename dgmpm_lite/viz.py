"""Pictures: one place that saves figures, and pure functions that turn model outputs
into images (the notebooks and widgets call these; pytest tests them).

:func:`savefig` writes PNGs without timestamps or version strings, so a rerun with the same
seed produces byte-identical files that diff cleanly in git.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from . import REPO_ROOT

def default_fig_dir() -> Path:
    """``$DGMPM_FIG_DIR`` if set, else ``<repo>/figures``."""
    return Path(os.environ.get("DGMPM_FIG_DIR") or REPO_ROOT / "figures")


def savefig(fig, name: str, fig_dir: str | os.PathLike | None = None, dpi: int = 110) -> Path:
    """Save a matplotlib figure as ``<fig_dir>/<name>.png`` with no timestamp metadata.

    ``fig_dir`` empty or None means :func:`default_fig_dir`. Returns the written path.
    """
    if not name or any(sep in name for sep in "/\\"):
        raise ValueError(f"figure name must be a plain file stem, got {name!r}")
    out_dir = Path(fig_dir) if fig_dir else default_fig_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return path


def to_image(frame: torch.Tensor | np.ndarray) -> np.ndarray:
    """(3, H, W) float tensor in [0, 1] or (H, W, 3) uint8 array -> (H, W, 3) float in [0, 1]."""
    if isinstance(frame, torch.Tensor):
        frame = frame.detach().cpu()
        if frame.dim() == 4:
            frame = frame[0]
        return frame.permute(1, 2, 0).float().clamp(0, 1).numpy()
    frame = np.asarray(frame)
    return frame.astype(np.float32) / 255.0 if frame.dtype == np.uint8 else frame.astype(np.float32)


def overlay(frame, labels, alpha: float = 0.5, contour: bool = True) -> np.ndarray:
    """Colour each object id of ``labels`` (H, W) over ``frame`` (tensor or array); uint8 (H, W, 3).

    The DAVIS palette colours of :func:`dgmpm_lite.data.overlay_mask`, for tensors too.
    """
    from .data.preview import overlay_mask

    img = np.clip(np.rint(to_image(frame) * 255), 0, 255).astype(np.uint8)
    labels = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    return overlay_mask(img, labels.squeeze().astype(np.uint8), alpha, contour)


def heatmap(x: torch.Tensor | np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """A (h, w) map (distance or attention) as a float array, optionally resized to ``size``."""
    if isinstance(x, torch.Tensor):
        x = x.detach().float().cpu()
        while x.dim() > 2:
            x = x[0]
        if size is not None and tuple(x.shape) != tuple(size):
            x = torch.nn.functional.interpolate(x[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
        return x.numpy()
    return np.asarray(x, dtype=np.float32)


def plot_model_maps(frame, out, target_labels=None, title: str | None = None):
    """Fig. 4 analogue for one frame: frame, distance map, three attention maps, prediction.

    ``out`` is a :class:`dgmpm_lite.model.DGMPMOutput` made with ``return_maps=True`` for a
    single object. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    img = to_image(frame)
    size = img.shape[:2]
    panels = [("frame", img, None)]
    if out.distance_map is not None:
        panels.append(("distance map E (eq. 5)", heatmap(out.distance_map), (0, 1)))
    for name, att in zip(("attention res2 (shallow)", "attention res3", "attention res4 (deep)"), out.attention_maps or []):
        if att is not None and att.shape[-1] > 1:
            panels.append((name, heatmap(att, size), (0, 1)))
    pred = out.logits.softmax(1)[0, 1].detach().cpu().numpy()
    panels.append(("foreground probability", pred, (0, 1)))
    if target_labels is not None:
        panels.append(("ground truth", overlay(img, target_labels), None))
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 2.6 * size[0] / size[1] + 0.5))
    for ax, (name, data, lim) in zip(np.atleast_1d(axes), panels):
        ax.imshow(data, cmap=None if data.ndim == 3 else "magma", vmin=lim[0] if lim else None, vmax=lim[1] if lim else None)
        ax.set_title(name, fontsize=8)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
