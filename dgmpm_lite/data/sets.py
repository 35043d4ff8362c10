"""The project's named generated sets: the committed ``data_samples/synthetic``
(:func:`make_data_samples`), the multi-object real-footage benchmark (:func:`make_real_multi`,
never committed), and the validation sets of notebook 08 (:func:`larger_val_data`,
:func:`smoke_val_data`). Each records the command that remakes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import SAMPLES_ROOT, work_dir
from .. import shipped_path as here
from .cutouts import CutoutSource
from .io import PathLike
from .synthetic import SyntheticConfig, generate_dataset

DATA_SAMPLES_CONFIG = SyntheticConfig(height=192, width=320, num_frames=24)
"""Knobs of the committed ``data_samples/synthetic`` set (small enough for the repository)."""


DATA_SAMPLES_SEED = 2026
"""Chosen (among 2024..2039) so that both splits contain every scripted event type."""


DATA_SAMPLES_SPLITS = {"train": 8, "val": 4}


DATA_SAMPLES_RESOLUTION = "192p"


DATA_SAMPLES_JPEG_QUALITY = 85


DATA_SAMPLES_COMMAND = "dgmpm-lite generate --preset data_samples --overwrite"


REAL_MULTI_CONFIG = SyntheticConfig(
    height=240,
    width=427,
    num_frames=30,
    num_targets=(2, 4),
    num_distractors=(1, 2),
    num_salient=(1, 2),
    num_occluders=(0, 1),
)
"""Knobs of the multi-object real-footage benchmark: DAVIS-2016 240p frame size, 2-4 targets,
look-alikes and salient non-targets in every clip."""


REAL_MULTI_SEED = 12


REAL_MULTI_SPLITS = {"val": 24}


REAL_MULTI_DAVIS = "../shared/data/DAVIS2016-train-240p"


REAL_MULTI_HELD_OUT = "data_samples/davis2016_split/val.txt"


REAL_MULTI_ROOT = "build/davis_multi_val"


REAL_MULTI_COMMAND = "dgmpm-lite generate --preset davis_multi_val"


def make_real_multi(
    root: PathLike | None = None,
    davis_root: PathLike | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Generate the project's multi-object real-footage benchmark (never committed: DAVIS is CC BY-NC).

    24 clips painted with objects and backgrounds of the 6 held-out DAVIS-2016 sequences
    only (:data:`REAL_MULTI_HELD_OUT`, which training never reads), 2-4 targets each, with
    look-alikes, salient non-targets and scripted occlusions, into ``build/davis_multi_val``.
    """

    davis = here(davis_root or REAL_MULTI_DAVIS)
    if not davis.is_dir():
        raise FileNotFoundError(
            f"DAVIS-2016 frames not found at {davis}; pass the folder holding JPEGImages/ and Annotations/"
        )
    source = CutoutSource(davis, str(here(REAL_MULTI_HELD_OUT)), frame_step=5)
    return generate_dataset(
        Path(root) if root else work_dir(Path(REAL_MULTI_ROOT).name),
        REAL_MULTI_SPLITS,
        REAL_MULTI_CONFIG,
        REAL_MULTI_SEED,
        resolution="240p",
        overwrite=overwrite,
        progress=progress,
        command=REAL_MULTI_COMMAND,
        source=source,
    )


def data_samples_root() -> Path:
    """The shipped ``data_samples/synthetic`` (a clone's, or the installed package's copy)."""

    return SAMPLES_ROOT / "synthetic"


def make_data_samples(root: PathLike | None = None, overwrite: bool = False, progress: bool = True) -> dict[str, Any]:
    """(Re)generate the committed sample set; exactly what :data:`DATA_SAMPLES_COMMAND` runs."""
    return generate_dataset(
        root or data_samples_root(),
        DATA_SAMPLES_SPLITS,
        DATA_SAMPLES_CONFIG,
        DATA_SAMPLES_SEED,
        resolution=DATA_SAMPLES_RESOLUTION,
        overwrite=overwrite,
        jpeg_quality=DATA_SAMPLES_JPEG_QUALITY,
        progress=progress,
        command=DATA_SAMPLES_COMMAND,
    )


def smoke_val_data(root: str | Path, overwrite: bool = True, seed: int = 0) -> Path:
    """Generate a tiny validation set for smoke runs: 2 videos, 64x96, 8 frames (``<root>``).

    Every video has a scripted occlusion (a target passing behind a pillar) and a look-alike
    distractor, so the notebook's Fig. 8 analogue finds both cases. Returns ``root``.
    """

    config = SyntheticConfig(
        height=64,
        width=96,
        num_frames=8,
        num_targets=(1, 2),
        num_distractors=(1, 1),
        p_occluder_pass=1.0,
        camera_pan=5.0,
    )
    generate_dataset(root, {"val": 2}, config, seed=seed, resolution="64p", overwrite=overwrite, progress=False)
    return Path(root)


def larger_val_data(root: str | Path, num_videos: int = 16, seed: int = 2027) -> Path:
    """A larger synthetic validation set with the committed one's knobs: ``<root>`` (split ``val``).

    The 4 committed validation videos are too few to tell variants apart: one video more
    or less moves J&F by several points. This generates ``num_videos`` more (same generator
    settings as ``data_samples/synthetic``, 192x320, 24 frames; another seed, so none of
    them is a committed or a training video) into ``root``, once: an existing set made with
    the same settings is reused. Nothing here is committed; generation takes seconds.
    """

    if num_videos < 1:
        raise ValueError(f"num_videos must be >= 1, got {num_videos}")
    root = Path(root)
    shipped = json.loads((data_samples_root() / "manifest.json").read_text())
    wanted = {"config": shipped["config"], "seed": seed, "splits": {"val": num_videos}}
    stamp = root / "larger_val.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return root
    config = SyntheticConfig(**shipped["config"])
    generate_dataset(
        root,
        {"val": num_videos},
        config,
        seed=seed,
        resolution=shipped["resolution"],
        overwrite=True,
        jpeg_quality=shipped["jpeg_quality"],
        progress=True,
    )
    stamp.write_text(json.dumps(wanted))
    return root
