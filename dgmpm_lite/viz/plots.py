"""Plots of measured numbers: accuracy against runtime (notebooks 07, 08) and training curves (05).

* :func:`runtime_points` pairs :func:`dgmpm_lite.compare.evaluate_methods` results with
  :func:`dgmpm_lite.benchmark.time_methods` timings: ``name -> (J&F, seconds per frame)``;
* :func:`plot_accuracy_vs_runtime` draws the paper's Fig. 6 analogue (J&F against seconds per
  frame, log x axis).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np


def runtime_points(results: Mapping[str, object], timings: Mapping[str, object]) -> dict[str, tuple[float, float]]:
    """``name -> (J&F-Mean, seconds per frame)``: accuracy from ``evaluate_methods`` results,
    speed from :func:`dgmpm_lite.benchmark.time_methods` (the project's one way to time)."""
    missing = [name for name in results if name not in timings]
    if missing:
        raise ValueError(f"no timing for {missing}: time them with dgmpm_lite.benchmark.time_methods")
    return {
        name: (float(res.global_metrics["J&F-Mean"]), float(timings[name].seconds_per_frame))
        for name, res in results.items()
    }


def plot_accuracy_vs_runtime(points: Mapping[str, tuple[float, float]], ax=None, title: str | None = None):
    """Scatter J&F (in percent) against seconds per frame on a log x axis, one labelled point
    per method. ``points``: ``name -> (jf, seconds_per_frame)`` with ``jf`` in [0, 1].

    Baselines (names with "baseline", or ``flow``/``copy``) get square markers; the legend
    lists every point's values. The paper's Fig. 6 plots the same axes for published methods.
    Returns ``(fig, ax)``.
    """

    if not points:
        raise ValueError("no points to plot")
    for name, p in points.items():
        if len(p) != 2:
            raise ValueError(f"point {name!r} must be (jf, seconds_per_frame), got {p!r}")
        jf, spf = float(p[0]), float(p[1])
        if not (0.0 <= jf <= 1.0):
            raise ValueError(f"J&F of {name!r} must be a fraction in [0, 1], got {jf}")
        if not (spf > 0 and math.isfinite(spf)):
            raise ValueError(f"seconds per frame of {name!r} must be positive (log axis), got {spf}")
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 3.8))
    else:
        fig = ax.figure
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (name, (jf, spf)) in enumerate(points.items()):
        marker = "s" if "baseline" in name or name in ("flow", "copy") else "o"  # baselines vs models
        ax.scatter(
            [spf],
            [100 * jf],
            s=50,
            marker=marker,
            color=colours[i % len(colours)],
            zorder=3,
            label=f"{name}: {100 * jf:.1f}, {spf:.3g} s",
        )
        ax.annotate(name, (spf, 100 * jf), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5), title="J&F, s / frame", title_fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("seconds per frame (log scale)")
    ax.set_ylabel("J&F mean (%)")
    ax.grid(True, which="both", alpha=0.3)
    if title:
        ax.set_title(title)
    return fig, ax


def read_log_csv(path: str | os.PathLike) -> dict[str, list]:
    """A training log CSV (``train_log.csv`` / ``val_log.csv``) as ``column -> values``
    (numbers as floats, other text kept)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training log not found: {path}")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path} has no rows")

    def conv(v):
        try:
            return float(v)
        except ValueError:
            return v

    return {k: [conv(r[k]) for r in rows] for k in rows[0]}


def plot_training_curves(
    train_log: Mapping[str, list], val_log: Mapping[str, list] | None = None, smooth: int = 1, title: str | None = None
):
    """Loss per step (moving average over ``smooth`` steps; each stage shaded and named in the
    legend, boundaries dashed) and, when given, validation J&F per step on a second panel.
    Returns ``(fig, axes)``."""

    for key in ("global_step", "loss"):
        if key not in train_log:
            raise ValueError(f"the training log needs a {key!r} column, got {sorted(train_log)}")
    if smooth < 1:
        raise ValueError(f"smooth must be >= 1, got {smooth}")
    steps = np.asarray(train_log["global_step"], dtype=float)
    loss = np.asarray(train_log["loss"], dtype=float)
    if smooth > 1 and loss.size >= smooth:
        loss = np.convolve(loss, np.ones(smooth) / smooth, mode="valid")
        steps = steps[smooth - 1 :]
    n = 2 if val_log else 1
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 3.4), squeeze=False)
    ax = axes[0, 0]
    ax.plot(steps, loss, lw=1)
    stages = train_log.get("stage")
    if stages:  # each stage a shaded span, named in the legend; boundaries dashed
        step = train_log["global_step"]
        starts = [0] + [i for i in range(1, len(stages)) if stages[i] != stages[i - 1]]
        colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for k, (a, b) in enumerate(zip(starts, starts[1:] + [len(stages)])):
            ax.axvspan(step[a], step[b - 1], color=colours[(k + 1) % len(colours)], alpha=0.12, lw=0, label=stages[a])
            if a:
                ax.axvline(step[a], ls="--", c="gray", lw=0.8)
        ax.legend(title="stage", fontsize=8, title_fontsize=8, loc="upper right")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss" + (f" (mean of {smooth} steps)" if smooth > 1 else ""))
    ax.set_yscale("log")
    if val_log:
        if "J&F" not in val_log:
            raise ValueError(f"the validation log needs a 'J&F' column, got {sorted(val_log)}")
        axes[0, 1].plot(val_log["global_step"], [100 * v for v in val_log["J&F"]], "o-")
        axes[0, 1].set_xlabel("step")
        axes[0, 1].set_ylabel("validation J&F (%)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig, axes[0]
