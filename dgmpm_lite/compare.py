"""DGMPM, its ablations and the baselines on the same videos, scored the DAVIS way.

One harness for every number in the README and the notebooks: each method segments every
sequence of a dataset from its first-frame mask (:func:`dgmpm_lite.infer.propagate`), and the
label maps are scored with :mod:`dgmpm_lite.metrics` (first and last frames excluded,
(sequence, object) pairs pooled). Nothing is written to disk.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Mapping

import torch
from tqdm.auto import tqdm

from .infer import propagate
from .metrics import GLOBAL_COLUMNS, PER_SEQUENCE_COLUMNS, DatasetResults, evaluate_sequence, summarize
from .model import DGMPM

BASELINES = {"flow baseline": "flow", "copy baseline": "copy"}
"""The two classic baselines as reported beside DGMPM: row name -> method of
:func:`dgmpm_lite.infer.propagate` (what :func:`evaluate_methods` accepts in place of a model)."""


def evaluate_methods(
    videos,
    methods: Mapping[str, DGMPM | str],
    max_frames: int = 0,
    device: str | torch.device = "auto",
    progress: bool = True,
    working_size: int | None = None,
) -> dict[str, DatasetResults]:
    """Score several methods on the same videos.

    Args:
        videos: an iterable of :class:`~dgmpm_lite.data.VideoSequence` with every frame
            annotated (e.g. a :class:`~dgmpm_lite.data.DavisDataset`).
        methods: display name -> a :class:`DGMPM` model, or ``"flow"`` / ``"copy"``.
        max_frames: use only the first ``max_frames`` frames of each video (0 = all).
        working_size: short side DGMPM runs at (``None``: each model's recorded one, 0:
            the videos' own size; see :mod:`dgmpm_lite.infer`). Scores are always at the
            videos' own size.

    Returns:
        display name -> :class:`~dgmpm_lite.metrics.DatasetResults`; each result also gets a
        ``seconds_per_frame`` attribute (wall time of segmentation only).
    """
    videos = list(videos)
    out = {}
    for name, method in methods.items():
        model = method if isinstance(method, DGMPM) else None
        kind = "dgmpm" if model is not None else method
        scores, seconds, frames_done = {}, 0.0, 0
        for seq in tqdm(videos, desc=name, disable=not progress, leave=False):
            n = len(seq) if not max_frames else min(len(seq), max_frames)
            t0 = time.perf_counter()
            preds = list(propagate(kind, (seq.frame(i) for i in range(n)), seq.mask(0), model, device, working_size))
            seconds += time.perf_counter() - t0
            frames_done += n - 1
            scores[seq.name] = evaluate_sequence([seq.mask(i) for i in range(n)], preds)
        res = summarize(scores)
        res.seconds_per_frame = seconds / max(frames_done, 1)
        out[name] = res
    return out


def results_table(
    results: Mapping[str, DatasetResults],
    columns=("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay"),
) -> str:
    """A markdown table, one row per method, values in percent like the paper."""
    for c in columns:
        if c not in GLOBAL_COLUMNS:
            raise ValueError(f"unknown column {c!r}; choose from {GLOBAL_COLUMNS}")
    lines = ["| method | " + " | ".join(columns) + " | s / frame |", "|---|" + "---:|" * (len(columns) + 1)]
    for name, res in results.items():
        vals = " | ".join(f"{100 * res.global_metrics[c]:.1f}" for c in columns)
        lines.append(f"| {name} | {vals} | {getattr(res, 'seconds_per_frame', float('nan')):.3f} |")
    return "\n".join(lines)


def write_methods_csv(
    results: Mapping[str, DatasetResults],
    path: str | os.PathLike,
    extra: Mapping[str, Mapping[str, object]] | None = None,
) -> None:
    """One row per method: the DAVIS global columns (fractions), ``seconds_per_frame``, and
    ``extra`` columns (column name -> method name -> value; blank where a method has none)."""
    extra = dict(extra or {})
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["method", *GLOBAL_COLUMNS, "seconds_per_frame", *extra])
        for name, res in results.items():
            spf = getattr(res, "seconds_per_frame", float("nan"))
            w.writerow(
                [
                    name,
                    *(f"{res.global_metrics[c]:.4f}" for c in GLOBAL_COLUMNS),
                    f"{spf:.4f}",
                    *(col.get(name, "") for col in extra.values()),
                ]
            )


def write_per_sequence_csv(results: Mapping[str, DatasetResults], path: str | os.PathLike) -> None:
    """One row per (method, ``<sequence>_<object id>``): the toolkit's per-sequence columns."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["method", *PER_SEQUENCE_COLUMNS])
        for name, res in results.items():
            for row in res.per_object:
                w.writerow([name, row["Sequence"], *(f"{row[c]:.4f}" for c in PER_SEQUENCE_COLUMNS[1:])])
