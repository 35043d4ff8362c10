"""The figures of the ablation study (notebook 08): our Table IV as bars beside the paper's, and
the Fig. 8 analogue (each variant's masks on the same frames, :class:`MaskGrid`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np

from ..compare import BASELINES
from . import ROLE_STYLES, overlay, plot_grid
from .tables import PAPER_TABLE_IV_FULL


def plot_table_iv(
    rows: list[dict], ax=None, title: str | None = "J&F: our ablation vs Table IV", data: str = "synthetic val"
):
    """Grouped bars of J&F per variant, ours beside the paper's; baselines as dashed lines.

    Returns the figure.
    """

    variants = [r for r in rows if r["method"] in PAPER_TABLE_IV_FULL]
    if not variants:
        raise ValueError("no ablation variant among the rows")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.2, 3.4))
    else:
        fig = ax.figure
    x = np.arange(len(variants))
    ours = [r["J&F"] for r in variants]
    paper = [r["paper_J&F"] for r in variants]
    b1 = ax.bar(x - 0.2, ours, 0.4, label=f"ours ({data})", color="tab:blue")
    b2 = ax.bar(x + 0.2, paper, 0.4, label="paper (DAVIS-2017 val)", color="tab:gray")
    for bars in (b1, b2):
        ax.bar_label(bars, fmt="%.1f", fontsize=8, padding=1)
    for (name, _), colour in zip(BASELINES.items(), ("tab:green", "tab:red")):
        base = next((r for r in rows if r["method"] == name), None)
        if base is not None:
            ax.axhline(base["J&F"], ls="--", lw=1, color=colour, label=f"{name} (ours) {base['J&F']:.1f}")
    ax.set_xticks(x, [r["method"] for r in variants])
    ax.set_ylabel("J&F-Mean (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8, loc="upper right", ncol=2)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


@dataclass
class MaskGrid:
    """Label maps of several methods on chosen frames of one video (rows = frames).

    ``columns[0]`` is ``"GT"`` (the ground truth); ``labels[i, j]`` is column ``j`` on frame
    ``frame_ids[i]``; ``notes[i]`` says why that frame was chosen (may be empty); ``marks``
    (F, H, W) bool, optional: pixels to outline in every column (e.g. a look-alike distractor,
    so that a method which paints it shows it).
    """

    sequence: str
    frame_ids: list[int]
    columns: list[str]
    frames: np.ndarray  # (F, H, W, 3) uint8
    labels: np.ndarray  # (F, C, H, W) uint8
    notes: list[str] = field(default_factory=list)
    marks: np.ndarray | None = None


def plot_mask_grid(grids, size: float = 1.9, title: str | None = None):
    """Draw one or more :class:`MaskGrid` stacked: rows = frames, columns = GT + methods.

    Each cell is the frame with that column's label map overlaid (DAVIS colours); a grid's
    ``marks`` are outlined in every column the way look-alikes are everywhere
    (:data:`~dgmpm_lite.viz.ROLE_STYLES`). All grids must have the same columns. Returns the figure.
    """

    grids = [grids] if isinstance(grids, MaskGrid) else list(grids)
    if not grids:
        raise ValueError("no grids to plot")
    columns = grids[0].columns
    for g in grids[1:]:
        if g.columns != columns:
            raise ValueError(f"all grids need the same columns: {g.columns} vs {columns}")
    cells = [(g, i) for g in grids for i in range(len(g.frame_ids))]
    rows = [
        [(name if r == 0 else "", overlay(g.frames[i], g.labels[i, c])) for c, name in enumerate(columns)]
        for r, (g, i) in enumerate(cells)
    ]
    row_titles = []
    for g, i in cells:
        note = g.notes[i] if i < len(g.notes) and g.notes[i] else ""
        row_titles.append(f"{g.sequence}\nframe {g.frame_ids[i]}" + (f"\n{note}" if note else ""))
    fig, axes = plot_grid(rows, row_titles=row_titles, size=size, title=title, row_title_rotation=0)
    colour, style, _ = ROLE_STYLES["distractor"]
    for r, (g, i) in enumerate(cells):  # the look-alike (not a target) outlined in every column
        if g.marks is not None and g.marks[i].any():
            for ax in axes[r]:
                ax.contour(g.marks[i], levels=[0.5], colors=colour, linestyles=style, linewidths=1.2)
    return fig
