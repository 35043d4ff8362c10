"""What a training stage samples: the datasets a :class:`~dgmpm_lite.config.TrainConfig` asks for.

Data paths of a config are relative to the repository, and ``data_samples/`` is the shipped
copy wherever the package is installed (:func:`resolve_path`). :func:`video_source` is the
endless synthetic generator (optionally painted with real cut-outs) or a DAVIS folder;
:func:`stage_dataset` turns it into the triplets or clips of one stage, seeded by the run's
seed and the stage; :func:`validation_videos` are the videos a run is validated on.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from . import shipped_path
from .config import Stage, TrainConfig
from .data import (
    DavisDataset,
    StaticTripletDataset,
    SyntheticConfig,
    SyntheticVideoSource,
    VideoTripletDataset,
    generate_video,
)
from .data.cutouts import CutoutSource
from .data.samples import ClipDataset


def resolve_path(text: str) -> Path:
    """Relative data paths are relative to the repository (as in the presets); ``data_samples/``
    is the shipped copy wherever the package is installed (:func:`dgmpm_lite.shipped_path`)."""
    return shipped_path(text)


def resolve_split(split: str) -> str:
    """A split name as is; a split *file* (``*.txt``) resolved like a data path."""
    return str(resolve_path(split)) if split.endswith(".txt") else split


def validation_videos(cfg: TrainConfig):
    """The validation videos of a config: ``val_data`` and ``val_split`` resolved like data paths."""
    return DavisDataset(resolve_path(cfg.val_data), split=resolve_split(cfg.val_split))


def video_source(
    cfg: TrainConfig,
    split: str | None = None,
    data: str | None = None,
    painted: bool = True,
    size: tuple[int, int] | None = None,
):
    """The training videos: the endless synthetic generator (painted with ``cfg.objects``'s
    real cut-outs when given, unless ``painted`` is false), drawn at ``size`` (else the config's),
    or a DAVIS folder (frames at their own size)."""
    data = data or cfg.data
    if data == "synthetic":
        height, width = size or cfg.size
        synth = SyntheticConfig(**{"height": height, "width": width, **cfg.synthetic})
        objects = None
        if cfg.objects and painted:
            spec = cfg.objects
            objects = CutoutSource(
                resolve_path(spec["root"]), resolve_split(spec["split"]), int(spec.get("frame_step", 5))
            )
        return SyntheticVideoSource(synth, base_seed=1_000_000 + cfg.seed, objects=objects)
    return DavisDataset(resolve_path(data), split=resolve_split(split or cfg.split))


def _in_share(i: int, fraction: float) -> bool:
    """Whether position ``i`` is one of the evenly spread ``fraction`` of positions (every ``1/fraction``-th)."""
    return int((i + 1) * fraction) > int(i * fraction)


class _Interleave(torch.utils.data.Dataset):
    """Sample ``i`` from ``second`` when it falls in its share, else from ``first``.

    ``skip`` is the share of indices a wrapping :class:`_Interleave` sends elsewhere: the share
    is then counted among the indices left to this one, so that nested shares multiply.
    """

    def __init__(self, first, second, fraction: float, skip: float = 0.0) -> None:
        self.first, self.second, self.fraction, self.skip = first, second, float(fraction), float(skip)

    def __len__(self) -> int:
        return len(self.first)

    def __getitem__(self, i: int):
        position = i - int(i * self.skip)  # indices before i that stay here
        return (self.second if _in_share(position, self.fraction) else self.first)[i]


STILLS = 64
"""How many single frames the static stage of a synthetic run augments (the paper's stage 1
uses still images; ours are frames of generated videos)."""

STILLS_SEED_OFFSET = 500_000
"""Seeds of those videos start here past the run's generator seed, apart from its training videos."""


def synthetic_stills(source: SyntheticVideoSource, count: int = STILLS) -> list[tuple]:
    """``count`` (frame, label map) pairs, each from its own short generated video, for the static stage."""
    short = dataclasses.replace(source.config, num_frames=4)
    stills = []
    for i in range(count):
        video = generate_video(short, seed=source.base_seed + STILLS_SEED_OFFSET + i)
        stills.append((video.frames[i % 4], video.labels[i % 4]))
    return stills


def stage_dataset(cfg: TrainConfig, stage: Stage, length: int):
    """The dataset of one stage, ``length`` samples: static or video triplets, or clips (mixed
    with real clips by ``real_fraction``, their generated videos with procedural ones by the
    stage's ``procedural``), at the stage's ``size`` or else the config's (generated videos are
    drawn at that size, not resized to it); seeded by the run's seed and the stage's index."""
    seed = cfg.seed * 1000 + cfg.stages.index(stage)
    size = tuple(stage.size) if stage.size else cfg.size
    if stage.kind == "clip":
        kw = dict(
            size=size,
            length=length,
            clip_length=cfg.clip_length,
            max_objects=cfg.max_objects,
            max_skip=cfg.max_prev_interval,
            seed=seed,
        )
        generated = None
        if cfg.real_fraction < 1:
            generated = ClipDataset(video_source(cfg, data="synthetic", size=size), **kw)
            if stage.procedural > 0:
                plain = ClipDataset(video_source(cfg, data="synthetic", painted=False, size=size), **kw)
                generated = _Interleave(generated, plain, stage.procedural, skip=cfg.real_fraction)
        real = ClipDataset(video_source(cfg), **kw) if cfg.real_fraction > 0 else None
        return (
            generated
            if real is None
            else (real if generated is None else _Interleave(generated, real, cfg.real_fraction))
        )
    source = video_source(cfg, size=size)
    if stage.kind == "static":
        images = synthetic_stills(source) if cfg.data == "synthetic" else source
        return StaticTripletDataset(images, size=size, length=length, seed=seed)
    return VideoTripletDataset(source, size=size, length=length, max_prev_interval=cfg.max_prev_interval, seed=seed)
