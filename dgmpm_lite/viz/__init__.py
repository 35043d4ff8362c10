"""Every figure of the project: one place that saves figures, and functions that draw model
outputs, videos and tables (the notebooks and widgets call these; pytest tests them).

This module holds the common pieces (:func:`savefig`, :func:`overlay`, :func:`plot_grid`) and
the figures of notebooks 00-04; :mod:`.videos` (video grids), :mod:`.plots` (accuracy vs
runtime, training curves), :mod:`.ablation` (notebook 08), :mod:`.explore` (notebook 09)
and :mod:`.tables` (the one writer of results tables) hold the rest.

:func:`savefig` writes PNGs without timestamps or version strings, so a rerun with the same
seed produces byte-identical files that diff cleanly in git.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from PIL import Image

from .. import work_dir
from ..explore import heatmap  # noqa: F401 (a map as an array: part of viz's public face)
from .videos import overlay_mask, pick_frames, show_video, video_grid  # noqa: F401 (public face)


def default_fig_dir() -> Path:
    """``$DGMPM_FIG_DIR`` if set, else the git-ignored ``work_dir("figures")``: a notebook run by
    hand never changes the committed ``figures/`` (``dgmpm-lite figures`` names it explicitly)."""
    return Path(os.environ.get("DGMPM_FIG_DIR") or work_dir("figures"))


MIN_DPI = 110
"""Lowest resolution :func:`savefig` writes: at 110 dpi an 8 pt label is about 12 pixels high."""

MIN_FONT_PT = 8
"""Smallest text (titles, ticks, legends, colour-bar labels) :func:`readability_problems` accepts."""


class FigureReadabilityWarning(UserWarning):
    """A figure that cannot be read on its own (see :func:`readability_problems`)."""


def readability_problems(fig) -> list[str]:
    """What keeps ``fig`` from being read alone, as sentences (empty when nothing does).

    Checked: every heat map (an image drawn from a 2-D array through a colour map) has a colour
    bar whose label names the quantity; every column of pictures has a header (a title on its
    top picture) or the figure a title; no text is smaller than :data:`MIN_FONT_PT` points.
    """

    problems = []
    picture_axes = []
    for ax in fig.axes:  # (a colour bar's own axes hold no images)
        for im in ax.get_images():
            if np.ndim(im.get_array()) == 2:
                bar = im.colorbar
                if bar is None:
                    problems.append(f"heat map without a colour bar (axes titled {ax.get_title()!r})")
                elif not bar.ax.get_ylabel() and not bar.ax.get_xlabel():
                    problems.append(f"colour bar without a label (axes titled {ax.get_title()!r})")
        if ax.get_images():
            picture_axes.append(ax)
    columns: dict[float, list] = {}
    for ax in picture_axes:
        columns.setdefault(round(ax.get_position().x0, 3), []).append(ax)
    has_suptitle = bool(fig.get_suptitle())
    for x0, axs in columns.items():
        top = max(axs, key=lambda a: a.get_position().y1)
        if not top.get_title() and not has_suptitle:
            problems.append(f"a column of pictures without a header (at x = {x0})")
    small = sorted(
        {
            f"{t.get_text()[:30]!r} at {t.get_fontsize():.1f} pt"
            for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text"))
            if t.get_visible() and t.get_text().strip() and t.get_fontsize() < MIN_FONT_PT
        }
    )
    problems += [f"text smaller than {MIN_FONT_PT} pt: {s}" for s in small]
    return problems


def savefig(
    fig, name: str, fig_dir: str | os.PathLike | None = None, dpi: int = MIN_DPI, palette: bool = False
) -> Path:
    """Save a matplotlib figure as ``<fig_dir>/<name>.png`` with no timestamp metadata.

    ``fig_dir`` empty or None means :func:`default_fig_dir`. ``dpi`` below :data:`MIN_DPI` is
    refused. ``palette=True`` stores 256 colours (noisy textures compress badly otherwise).
    The figure is checked with :func:`readability_problems` first: each problem is a
    :class:`FigureReadabilityWarning`, or an error when ``DGMPM_CHECK_FIGURES=1`` (``make
    test`` sets it, so every figure the notebooks draw in CI is checked). Returns the path.
    """
    if not name or any(sep in name for sep in "/\\"):
        raise ValueError(f"figure name must be a plain file stem, got {name!r}")
    if dpi < MIN_DPI:
        raise ValueError(f"dpi={dpi} is below {MIN_DPI}: labels would be unreadable; make the figure smaller instead")
    fig.canvas.draw()  # lays the figure out, so positions and sizes are final
    problems = readability_problems(fig)
    if problems and os.environ.get("DGMPM_CHECK_FIGURES") == "1":
        raise ValueError(f"figure {name!r} cannot be read alone: " + "; ".join(problems))
    for p in problems:
        warnings.warn(f"figure {name!r}: {p}", FigureReadabilityWarning, stacklevel=2)
    out_dir = Path(fig_dir) if fig_dir else default_fig_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.png"
    if not palette:
        fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
        return path
    buffer = io.BytesIO()  # rendered in memory, quantised, written once
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    img = Image.open(buffer).convert("RGB")
    img = img.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    img.save(path, format="PNG", optimize=True, dpi=(dpi, dpi))
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

    img = np.clip(np.rint(to_image(frame) * 255), 0, 255).astype(np.uint8)
    labels = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    return overlay_mask(img, labels.squeeze().astype(np.uint8), alpha, contour)


def plot_model_maps(frame, out, target_labels=None, title: str | None = None):
    """Fig. 4 analogue for one frame: frame, distance map, three attention maps, prediction.

    ``out`` is a :class:`dgmpm_lite.model.DGMPMOutput` made with ``return_maps=True`` for a
    single object. Every map is drawn on the same 0-1 scale, with a colour bar. Returns the figure.
    """

    img = to_image(frame)
    size = img.shape[:2]
    panels = [("frame", img)]
    if out.distance_map is not None:
        panels.append(("distance map E (eq. 5)", heatmap(out.distance_map), "E"))
    for name, att in zip(
        ("attention res2 (shallow)", "attention res3", "attention res4 (deep)"), out.attention_maps or []
    ):
        if att is not None and att.shape[-1] > 1:
            panels.append((name, heatmap(att, size), "alpha"))
    pred = out.logits.softmax(1)[0, 1].detach().cpu().numpy()
    panels.append(("foreground probability", pred, "P(fg)"))
    if target_labels is not None:
        panels.append(("ground truth", overlay(img, target_labels)))
    fig, _ = plot_grid([panels], size=2.6, title=title)
    return fig


DAVIS_COLOUR_NAMES = ("black", "dark red", "green", "olive", "navy", "purple", "teal", "grey")
"""Names of the first :data:`~dgmpm_lite.data.DAVIS_PALETTE` colours (id 0 is the background)."""


def colour_name(object_id: int) -> str:
    """How a figure's caption names object ``object_id``'s DAVIS colour ("palette colour N" past grey)."""
    i = int(object_id)
    return DAVIS_COLOUR_NAMES[i] if 0 <= i < len(DAVIS_COLOUR_NAMES) else f"palette colour {i}"


ROLE_STYLES = {
    "distractor": ("yellow", "--", "look-alike or other non-target (not annotated)"),
    "salient": ("yellow", "--", None),
    "occluder": ("cyan", ":", "occluder (passes in front, not annotated)"),
}
"""How :func:`plot_synthetic_videos` outlines the objects that are not targets: colour, line style, legend."""


def plot_synthetic_videos(videos, frames: int = 7, size: float = 2.3, title: str | None = None):
    """Generated videos (:class:`~dgmpm_lite.data.synthetic.SyntheticVideo`, one row each) at
    ``frames`` evenly spaced frames: the targets filled in their annotation colours, every other
    object outlined by its role (:data:`ROLE_STYLES`), with a legend. Returns the figure."""

    videos = list(videos)
    if not videos:
        raise ValueError("no videos to show")
    rows, row_titles, shown = [], [], []
    for v in videos:
        ids = pick_frames(len(v), frames)
        rows.append([(f"frame {t}" if not rows else "", overlay(v.frames[t], v.labels[t])) for t in ids])
        row_titles.append(v.name)
        shown.append(ids)
    fig, axes = plot_grid(rows, row_titles=row_titles, size=size, title=title)
    for r, (v, ids) in enumerate(zip(videos, shown)):
        roles = {o["id"]: o["role"] for o in v.objects}
        for c, t in enumerate(ids):
            for obj, role in roles.items():
                mask = v.instances[t] == obj
                if role in ROLE_STYLES and mask.any():
                    colour, style, _ = ROLE_STYLES[role]
                    axes[r, c].contour(mask, levels=[0.5], colors=colour, linestyles=style, linewidths=1.2)
    handles = [Patch(facecolor="tab:red", alpha=0.6, label="targets (annotated; one colour per object)")]
    handles += [
        Line2D([], [], color=colour, ls=style, lw=1.5, label=label)
        for colour, style, label in ROLE_STYLES.values()
        if label
    ]
    legend = fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9, facecolor="0.35")
    for text in legend.get_texts():
        text.set_color("white")
    fig.tight_layout(rect=(0, 0.06 if len(rows) > 1 else 0.12, 1, 1))
    return fig


# ------------------------------------------------------------------------------------------
# Pictures for the component notebooks 01-04 (feature extractor, embedding distance,
# spatial attention, feature integration network). Each returns arrays or a figure.
# ------------------------------------------------------------------------------------------


def _feature_map(features, name: str = "features") -> torch.Tensor:
    """(C, h, w) float tensor from a (C, h, w) or (1, C, h, w) tensor/array."""
    x = (
        features.detach().float().cpu()
        if isinstance(features, torch.Tensor)
        else torch.as_tensor(np.asarray(features, dtype=np.float32))
    )
    if x.dim() == 4 and x.shape[0] == 1:
        x = x[0]
    if x.dim() != 3:
        raise ValueError(f"{name} must be (C, h, w) or (1, C, h, w), got shape {tuple(x.shape)}")
    if x.shape[0] == 0 or x.shape[1] == 0 or x.shape[2] == 0:
        raise ValueError(f"{name} is empty: shape {tuple(x.shape)}")
    return x


def _stretch(v: np.ndarray, lo_pct: float = 1.0, hi_pct: float = 99.0) -> np.ndarray:
    """Map values to [0, 1] between two percentiles (robust to a few extreme pixels)."""
    lo, hi = np.percentile(v, [lo_pct, hi_pct])
    if hi - lo < 1e-12:
        return np.full_like(v, 0.5, dtype=np.float32)
    return np.clip((v - lo) / (hi - lo), 0, 1).astype(np.float32)


def feature_image(features, mode: str = "pca") -> np.ndarray:
    """A picture of a multi-channel feature map (C, h, w).

    ``mode="pca"``: the three principal components of the per-pixel C-vectors as R, G, B
    (pixels with similar features get similar colours), returns (h, w, 3) in [0, 1]. The
    sign of each component is fixed (largest loading positive) so reruns give the same colours.
    ``mode="mean"``: the channel mean, stretched to [0, 1], returns (h, w).
    """
    x = _feature_map(features)
    c, h, w = x.shape
    if mode == "mean":
        return _stretch(x.mean(0).numpy())
    if mode != "pca":
        raise ValueError(f"mode must be 'pca' or 'mean', got {mode!r}")
    v = x.reshape(c, -1).T.double().numpy()  # (h*w, C)
    v = v - v.mean(0)
    _, _, vt = np.linalg.svd(v, full_matrices=False)
    comps = vt[:3]
    signs = np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(1)])
    proj = v @ (comps * signs[:, None]).T  # (h*w, k), k = min(3, C, h*w)
    rgb = np.zeros((h * w, 3), dtype=np.float32)
    for k in range(proj.shape[1]):
        rgb[:, k] = _stretch(proj[:, k])
    return rgb.reshape(h, w, 3)


def add_colorbar(ax, im, label: str):
    """A thin colour bar beside ``ax`` for the image ``im``, labelled with the quantity it shows
    (8 pt, like every label), ticked at the two ends of the range and its middle."""

    bar = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.02)
    lo, hi = im.get_clim()
    bar.set_ticks([lo, (lo + hi) / 2, hi])
    bar.ax.tick_params(labelsize=MIN_FONT_PT, length=2)
    bar.set_label(label, fontsize=MIN_FONT_PT, labelpad=1)
    return bar


def plot_grid(
    rows,
    row_titles=None,
    cmap: str = "magma",
    vlim=(0.0, 1.0),
    size: float = 2.3,
    title: str | None = None,
    colorbars: bool = True,
    row_title_rotation: float = 90,
):
    """A grid of pictures: ``rows`` is a list of rows, each a list of ``(title, image)`` or
    ``(title, image, quantity)``.

    Images are (h, w, 3) RGB (float in [0, 1] or uint8) or (h, w) maps drawn with ``cmap``
    between ``vlim`` (``None`` = each map's own range). Every map gets a colour bar labelled
    with its ``quantity`` (default: its title), so the figure reads alone; ``colorbars=False``
    leaves them out (for binary masks, say, whose two colours the titles explain).
    ``row_titles`` stand left of each row, turned by ``row_title_rotation`` degrees (0 for
    several short lines). ``image=None`` leaves a blank panel; rows may have different lengths. Returns ``(fig,
    axes)`` with axes of shape (rows, cols).
    """

    rows = [[tuple(p) for p in r] for r in rows]
    if not rows or not any(rows):
        raise ValueError("plot_grid needs at least one panel")
    if row_titles is not None and len(row_titles) != len(rows):
        raise ValueError(f"{len(row_titles)} row titles for {len(rows)} rows")
    ncols = max(len(r) for r in rows)
    aspect, maps = 1.0, False
    for r in rows:
        for panel in r:
            if len(panel) not in (2, 3):
                raise ValueError(f"a panel is (title, image) or (title, image, quantity), got {len(panel)} items")
            if panel[1] is not None:
                a = np.asarray(panel[1])
                if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] != 3):
                    raise ValueError(f"images must be (h, w) or (h, w, 3), got shape {a.shape}")
                aspect = a.shape[0] / a.shape[1]
                maps = maps or a.ndim == 2
    width = size * (1.18 if maps and colorbars else 1.0)  # room for the colour bars
    fig, axes = plt.subplots(
        len(rows), ncols, figsize=(width * ncols, size * aspect * len(rows) + 0.45 * len(rows)), squeeze=False
    )
    for i, r in enumerate(rows):
        for j in range(ncols):
            ax = axes[i, j]
            ax.axis("off")
            if j >= len(r) or r[j][1] is None:
                continue
            name, img = r[j][:2]
            a = np.asarray(img)
            if a.ndim == 2:
                lo, hi = (None, None) if vlim is None else vlim
                im = ax.imshow(a, cmap=cmap, vmin=lo, vmax=hi)
                if colorbars:
                    add_colorbar(ax, im, r[j][2] if len(r[j]) == 3 else name)
            else:
                ax.imshow(a)
            ax.set_title(name, fontsize=MIN_FONT_PT)
        if row_titles is not None:
            axes[i, 0].text(
                -0.04,
                0.5,
                row_titles[i],
                transform=axes[i, 0].transAxes,
                rotation=row_title_rotation,
                ha="right",
                va="center",
                fontsize=9,
            )
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig, axes


def plot_feature_levels(frame, rows, names=("conv1", "res2", "res3", "res4", "res5"), mode: str = "pca"):
    """Side outputs and embedding of one frame, one row per model (e.g. untrained, trained).

    ``rows`` maps a row title to ``(side_outputs, embedding)`` (the fields of a
    :class:`dgmpm_lite.model.FeatureExtractorOutput` for a batch of one; embedding may be
    None). Columns: frame, one picture per side output (:func:`feature_image`), embedding.
    Returns ``(fig, axes)``.
    """
    if not rows:
        raise ValueError("rows is empty: give at least one model's features")
    img = to_image(frame)
    grid, titles = [], []
    for row_title, (sides, emb) in rows.items():
        if len(sides) != len(names):
            raise ValueError(f"{row_title}: {len(sides)} side outputs for {len(names)} names")
        panels = [("frame", img)]
        for name, f in zip(names, sides):
            f = _feature_map(f, name)
            panels.append((f"{name} {f.shape[0]}ch {f.shape[1]}x{f.shape[2]}", feature_image(f, mode)))
        if emb is not None:
            e = _feature_map(emb, "embedding")
            panels.append((f"embedding {e.shape[0]}ch {e.shape[1]}x{e.shape[2]}", feature_image(e, mode)))
        grid.append(panels)
        titles.append(row_title)
    return plot_grid(grid, titles, cmap="gray", vlim=(0, 1))


PROBE_COLOURS = ("tab:green", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive")
"""Colours of probed pixels, in the order :func:`plot_embedding_pca` draws its extra points."""


def plot_embedding_pca(proj, extra_labels=None, ax=None, title: str | None = None):
    """Scatter of :func:`dgmpm_lite.explore.embedding_pca`: reference pixels and the anchors.

    Foreground pixels blue, background grey, anchors as large stars; ``proj.extra`` points
    (e.g. chosen target pixels) as labelled diamonds. Returns the axes.
    """

    n_extra = len(proj.extra)
    if extra_labels is not None and len(extra_labels) != n_extra:
        raise ValueError(f"{len(extra_labels)} labels for {n_extra} extra points")
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3.6))
    pts, fg = proj.points, proj.is_foreground
    ax.scatter(pts[~fg, 0], pts[~fg, 1], s=4, c="0.65", alpha=0.5, label="background pixels", linewidths=0)
    ax.scatter(pts[fg, 0], pts[fg, 1], s=5, c="tab:blue", alpha=0.6, label="foreground pixels", linewidths=0)
    ax.scatter(
        *proj.bg_anchor, marker="*", s=320, c="black", edgecolors="white", label="background anchor $a_b$", zorder=3
    )
    ax.scatter(
        *proj.fg_anchor, marker="*", s=320, c="tab:red", edgecolors="white", label="foreground anchor $a_f$", zorder=3
    )
    for i, p in enumerate(proj.extra):
        lab = extra_labels[i] if extra_labels is not None else f"point {i}"
        ax.scatter(
            *p, marker="D", s=70, c=PROBE_COLOURS[i % len(PROBE_COLOURS)], edgecolors="black", label=lab, zorder=4
        )
    ax.set_xlabel(f"PC 1 ({100 * proj.explained[0]:.0f}% of variance)")
    ax.set_ylabel(f"PC 2 ({100 * proj.explained[1]:.0f}%)")
    # under the axes: inside, it would hide whichever anchor or probe falls beneath it
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_region_timeline(
    frame_ids,
    series: dict,
    hidden=None,
    ax=None,
    ylabel: str = "mean of the map",
    title: str | None = None,
    threshold: float | None = None,
):
    """Lines of per-frame values (e.g. a map's mean on each region) against the frame index.

    ``series`` maps a label to one value per frame of ``frame_ids`` (NaN = region absent).
    ``hidden``: per-frame booleans; those frames are shaded (e.g. the target fully hidden).
    ``threshold``: a dotted horizontal line there (e.g. 0.5, where a map decides). Returns the axes.
    """

    frame_ids = np.asarray(frame_ids)
    if not series:
        raise ValueError("series is empty")
    for name, values in series.items():
        if len(values) != len(frame_ids):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(frame_ids)} frames")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 2.8))
    if hidden is not None:
        hidden = np.asarray(hidden, dtype=bool)
        if hidden.shape != frame_ids.shape:
            raise ValueError(f"hidden has {hidden.size} values for {frame_ids.size} frames")
        for t, h in zip(frame_ids, hidden):
            if h:
                ax.axvspan(t - 0.5, t + 0.5, color="0.85", lw=0)
    for name, values in series.items():
        ax.plot(frame_ids, np.asarray(values, dtype=float), marker="o", ms=3, label=name)
    if threshold is not None:
        ax.axhline(threshold, color="0.5", ls=":", lw=1)
    ax.set_xlabel("frame")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, loc="best")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_probes_and_pca(image, probes: dict, proj, title: str = "", pca_title: str = ""):
    """A frame with probed pixels marked (``probes``: label -> (y, x)) beside the PCA scatter of
    :func:`plot_embedding_pca`, whose extra points are those probes, same colours. Returns the figure."""
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), gridspec_kw={"width_ratios": [1.2, 1]})
    axes[0].imshow(image)
    for (_, (y, x)), c in zip(probes.items(), PROBE_COLOURS):
        axes[0].plot(x, y, "D", c=c, mec="black", ms=7)
    axes[0].set_title(title, fontsize=9)
    axes[0].axis("off")
    plot_embedding_pca(proj, extra_labels=list(probes), ax=axes[1], title=pca_title)
    fig.tight_layout()
    return fig


def plot_grouped_bars(values: dict, ylabel: str, ylim=None, title: str | None = None):
    """Bars grouped by the outer keys of ``values`` (``{group: {bar: value}}``), one colour per
    inner key, with a legend. Returns the figure."""
    groups = list(values)
    bars = list(next(iter(values.values())))
    width = 0.8 / len(bars)
    fig, ax = plt.subplots(figsize=(6, 2.8))
    for i, b in enumerate(bars):
        ax.bar(
            np.arange(len(groups)) + width * (i - (len(bars) - 1) / 2), [values[g][b] for g in groups], width, label=b
        )
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def plot_counts(counts: dict, xlabel: str, scale: float = 1.0):
    """Horizontal bars of ``counts`` (label -> number, drawn top to bottom in order), each divided
    by ``scale`` (e.g. 1e6 for millions). Returns the figure."""
    fig, ax = plt.subplots(figsize=(6.5, 0.35 * len(counts) + 0.9))
    ax.barh(list(counts)[::-1], [v / scale for v in counts.values()][::-1])
    ax.set_xlabel(xlabel)
    fig.tight_layout()
    return fig


def boundary_tolerance_image(gt_boundary, pred_boundary, band) -> np.ndarray:
    """RGB float image of contour matching (F): the tolerance band around the ground-truth boundary
    (blue), the ground-truth boundary (white) and the predicted one (red)."""
    img = np.zeros((*np.asarray(band).shape, 3))
    img[np.asarray(band, bool)] = (0.3, 0.3, 0.6)
    img[np.asarray(gt_boundary) > 0] = (1, 1, 1)
    img[np.asarray(pred_boundary) > 0] = (1, 0.3, 0.2)
    return img
