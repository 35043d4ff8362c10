"""Looking at videos and masks: overlays, image grids and a matplotlib helper.

The pure functions (:func:`overlay_mask`, :func:`video_grid`) return ``uint8`` RGB arrays, so
they can be tested and wrapped in widgets; :func:`show_video` draws the same grid with
matplotlib for notebooks. (Generated videos with every object's role marked are
:func:`dgmpm_lite.viz.plot_synthetic_videos`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import matplotlib.pyplot as plt
import numpy as np

from ..data.io import DAVIS_PALETTE
from ..data.sequence import VideoSequence


def overlay_mask(frame: np.ndarray, labels: np.ndarray | None, alpha: float = 0.5, contour: bool = True) -> np.ndarray:
    """Blend DAVIS colours of ``labels`` (ids, ``(H, W)``) over an RGB ``uint8`` frame.

    Background (id 0) is left untouched; object outlines are drawn in full colour.
    """
    frame = np.asarray(frame, np.uint8)
    if labels is None:
        return frame.copy()
    labels = np.asarray(labels, np.uint8)
    if labels.shape != frame.shape[:2]:
        raise ValueError(
            f"frame is {frame.shape[0]}x{frame.shape[1]} but labels are {labels.shape[0]}x{labels.shape[1]}"
        )
    colours = DAVIS_PALETTE[labels].astype(np.float32)
    fg = (labels > 0)[..., None]
    out = np.where(fg, (1 - alpha) * frame + alpha * colours, frame.astype(np.float32))
    out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    if contour:
        for obj in np.unique(labels):
            if obj == 0:
                continue
            m = (labels == obj).astype(np.uint8)
            edge = m - cv2.erode(m, np.ones((3, 3), np.uint8))
            out[edge > 0] = DAVIS_PALETTE[obj]
    return out


def _as_sequence(video: Any) -> VideoSequence:
    if isinstance(video, VideoSequence):
        return video
    if hasattr(video, "to_sequence"):
        return video.to_sequence()
    raise TypeError(f"expected a VideoSequence or a SyntheticVideo, got {type(video).__name__}")


def pick_frames(num_frames: int, frames: int | Sequence[int] | None = 6) -> list[int]:
    """Frame indices to show: a list as given, or ``n`` evenly spaced ones (first and last included)."""
    if frames is None:
        return list(range(num_frames))
    if isinstance(frames, int):
        n = max(1, min(frames, num_frames))
        return sorted({int(round(x)) for x in np.linspace(0, num_frames - 1, n)})
    return [int(i) for i in frames]


def video_grid(
    videos: Any | Sequence[Any],
    frames: int | Sequence[int] | None = 6,
    alpha: float = 0.5,
    thumb_width: int | None = None,
    gap: int = 2,
    label: bool = True,
) -> np.ndarray:
    """One row per video of mask overlays at the chosen frames, as an RGB ``uint8`` image.

    ``videos`` is a sequence (or list of sequences / SyntheticVideos). Frames without a mask
    are shown plain. ``thumb_width`` resizes every thumbnail to that width.
    """
    if not isinstance(videos, (list, tuple)):
        videos = [videos]
    rows = []
    for v in videos:
        seq = _as_sequence(v)
        idx = pick_frames(len(seq), frames)
        thumbs = []
        for i in idx:
            img = overlay_mask(seq.frame(i), seq.mask(i), alpha)
            if thumb_width:
                h = int(round(img.shape[0] * thumb_width / img.shape[1]))
                img = cv2.resize(img, (thumb_width, h), interpolation=cv2.INTER_AREA)
            if label:
                text = f"{seq.name} #{i}" if i == idx[0] else f"#{i}"
                cv2.putText(img, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3, cv2.LINE_AA)
                cv2.putText(img, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
            thumbs.append(img)
        rows.append(thumbs)
    th, tw = rows[0][0].shape[:2]
    ncol = max(len(r) for r in rows)
    grid = np.full((len(rows) * (th + gap) - gap, ncol * (tw + gap) - gap, 3), 255, np.uint8)
    for r, thumbs in enumerate(rows):
        for c, img in enumerate(thumbs):
            img = img if img.shape[:2] == (th, tw) else cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA)
            grid[r * (th + gap) : r * (th + gap) + th, c * (tw + gap) : c * (tw + gap) + tw] = img
    return grid


def show_video(
    videos: Any | Sequence[Any],
    frames: int | Sequence[int] | None = 6,
    alpha: float = 0.5,
    figwidth: float = 12.0,
    ax: Any = None,
) -> Any:
    """Show :func:`video_grid` with matplotlib; returns the axes."""

    grid = video_grid(videos, frames, alpha)
    if ax is None:
        _, ax = plt.subplots(figsize=(figwidth, figwidth * grid.shape[0] / grid.shape[1]))
    ax.imshow(grid)
    ax.set_axis_off()
    return ax
