"""The figures of the exploration lab (notebook 09, :mod:`dgmpm_lite.widgets`): each takes the
:class:`~dgmpm_lite.explore.VideoMaps` of one run and returns an image or a figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps

from ..explore import VideoMaps, embedding_pca, pixel_distances
from . import PROBE_COLOURS, heatmap, overlay, plot_embedding_pca, plot_grid


def scrubber_image(maps: VideoMaps, t: int, show: str = "prediction") -> np.ndarray:
    """Frame ``t`` with the predicted (or ground-truth) label map over it: uint8 (H, W, 3)."""

    maps.check_frame(t, allow_reference=True)
    if show not in ("prediction", "ground truth"):
        raise ValueError(f"show must be 'prediction' or 'ground truth', got {show!r}")
    labels = maps.labels[t] if show == "prediction" else maps.ground_truth[t]
    return overlay(maps.frames[t], np.zeros(maps.frames[t].shape[:2], np.uint8) if labels is None else labels)


def anchor_explorer_figure(maps: VideoMaps, t: int, obj: int, y: int, x: int):
    """Reference pixels and both anchors in the PCA plane, the chosen target pixel with its
    distances (eq. 5), and where that pixel lies in frame ``t``. Returns a matplotlib figure."""

    dist = pixel_distances(maps, t, obj, y, x)
    k = maps.object_index(obj)
    target_vec = maps.embeddings[t][:, y, x]
    proj = embedding_pca(
        maps.reference_embedding,
        maps.reference_masks[k],
        maps.fg_anchors[k],
        maps.bg_anchors[k],
        extra=target_vec[None],
    )
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9.5, 3.8), gridspec_kw={"width_ratios": [1.1, 1]})
    title = f"d(t,a_f)={dist.d_fg:.2f}  d(t,a_b)={dist.d_bg:.2f}  e={dist.e:.2f}  (64-d, eq. 5)"
    plot_embedding_pca(proj, extra_labels=["chosen target pixel $t_n$"], ax=ax0, title=title)
    for a in (proj.fg_anchor, proj.bg_anchor):
        ax0.plot([proj.extra[0, 0], a[0]], [proj.extra[0, 1], a[1]], "k--", lw=0.8)
    ax1.imshow(overlay(maps.frames[t], maps.labels[t]))
    ax1.scatter([x], [y], marker="D", s=70, c=PROBE_COLOURS[0], edgecolors="black")  # as in the scatter
    ax1.set_title(f"frame {t}: the chosen pixel", fontsize=8)
    ax1.axis("off")
    fig.tight_layout()
    return fig


def distance_map_image(maps: VideoMaps, t: int, obj: int) -> np.ndarray:
    """The eq. 5 distance map of object ``obj`` in frame ``t`` as a uint8 RGB picture (magma)."""
    maps.check_frame(t)
    k = maps.object_index(obj)
    dist = maps.outputs[t].distance_map
    if dist is None:
        raise ValueError("this model has no embedding distance module (-EDM)")
    return colormap(dist[k, 0].numpy())


def attention_maps(maps: VideoMaps, t: int, obj: int) -> list[np.ndarray]:
    """The attention maps of the three blocks (res2 shallow .. res4 deep) of object ``obj``
    in frame ``t``, each resized to the frame: a list of (H, W) float arrays in [0, 1]."""

    maps.check_frame(t)
    k = maps.object_index(obj)
    att = maps.outputs[t].attention_maps
    if not att or any(a is None or a.shape[1] != 1 for a in att):
        raise ValueError("this model has no spatial attention maps (the -SAB or -SAB+CAB variant)")
    size = maps.frames[t].shape[:2]
    return [heatmap(a[k : k + 1], size) for a in att]


def attention_images(maps: VideoMaps, t: int, obj: int) -> list[np.ndarray]:
    """:func:`attention_maps` coloured (magma, 0..1): a list of uint8 RGB arrays for the widget."""
    return [colormap(a) for a in attention_maps(maps, t, obj)]


def colormap(values: np.ndarray, vmin: float = 0.0, vmax: float = 1.0, cmap: str = "magma") -> np.ndarray:
    """A 2-D float map -> uint8 (H, W, 3) through a matplotlib colour map."""

    v = np.clip((np.asarray(values, dtype=np.float32) - vmin) / max(vmax - vmin, 1e-12), 0, 1)
    return (colormaps[cmap](v)[..., :3] * 255).round().astype(np.uint8)


def fig4_figure(maps: VideoMaps, obj: int, frames: list[int]):
    """The paper's Fig. 4 for our model: per chosen frame (a row), the frame with object
    ``obj``'s prediction (filled) and ground truth (white dashed outline), the distance map
    (eq. 5), the three attention maps from shallow to deep (eq. 6) and the foreground
    probability, each map with its colour bar. :func:`dgmpm_lite.explore.visible_frames`
    chooses frames where the object can be seen."""

    if not frames:
        raise ValueError("no frames to show: pick some with dgmpm_lite.explore.visible_frames(maps, obj)")
    k = maps.object_index(obj)
    headers = [
        ("prediction (fill), truth (dashed)", None),
        ("distance map E (eq. 5)", "E"),
        ("attention res2 (shallow)", "alpha"),
        ("attention res3", "alpha"),
        ("attention res4 (deep)", "alpha"),
        ("foreground probability", "P(fg)"),
    ]
    rows = []
    for t in frames:
        dist = maps.outputs[t].distance_map
        pics = [
            overlay(maps.frames[t], (maps.labels[t] == obj).astype(np.uint8) * obj),
            None if dist is None else heatmap(dist[k, 0]),
            *attention_maps(maps, t, obj),
            heatmap(maps.outputs[t].logits[k].softmax(0)[1]),
        ]
        rows.append([(name, pic, q) if q else (name, pic) for (name, q), pic in zip(headers, pics)])
    title = f"{maps.name}, object {obj}: what the decoder sees (cf. the paper, Fig. 4)"
    fig, axes = plot_grid(rows, row_titles=[f"frame {t}" for t in frames], size=2.3, title=title)
    for row, t in zip(axes, frames):
        gt = maps.ground_truth[t]
        if gt is not None and (gt == obj).any():
            row[0].contour(gt == obj, levels=[0.5], colors="white", linestyles="--", linewidths=1.0)
    return fig
