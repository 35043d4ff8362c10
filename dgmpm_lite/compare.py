"""DGMPM, its ablations and the baselines on the same videos, scored the DAVIS way.

One harness for every number in the README and the notebooks: each method segments every
sequence of a dataset from its first-frame mask (:func:`dgmpm_lite.infer.propagate`), and the
label maps are scored with :mod:`dgmpm_lite.metrics` (first and last frames excluded,
(sequence, object) pairs pooled). Nothing is written to disk.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from tqdm.auto import tqdm

from .infer import propagate
from .metrics import DatasetResults, evaluate_sequence, summarize
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
        display name -> :class:`~dgmpm_lite.metrics.DatasetResults`. Speed is measured apart,
        the one way :mod:`dgmpm_lite.benchmark` measures it (``time_methods``).
    """
    videos = list(videos)
    out = {}
    for name, method in methods.items():
        model = method if isinstance(method, DGMPM) else None
        kind = "dgmpm" if model is not None else method
        scores = {}
        for seq in tqdm(videos, desc=name, disable=not progress, leave=False):
            n = len(seq) if not max_frames else min(len(seq), max_frames)
            preds = list(propagate(kind, (seq.frame(i) for i in range(n)), seq.mask(0), model, device, working_size))
            scores[seq.name] = evaluate_sequence([seq.mask(i) for i in range(n)], preds)
        out[name] = summarize(scores)
    return out
