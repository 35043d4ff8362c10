"""A compact copy of a DAVIS-layout folder, for moving a dataset where space is scarce.

A Colab Drive, or a lent GPU machine that takes at most so many MiB with the code, holds a
smaller copy more easily than the original: :func:`pack_davis` writes the same layout
(``JPEGImages/<res>/<seq>``, ``Annotations/<res>/<seq>``) with the chosen sequences only,
every frame re-encoded as a JPEG of the given quality and, when asked, resized to a smaller
short side (area averaging; masks nearest-neighbour, so their ids stay ids; the resolution
folder keeps its name). The masks are otherwise copied byte for byte. ``ImageSets/<res>/``
holds each chosen split's list under its name and ``all.txt``, so readers take the copy like
the original (:func:`~dgmpm_lite.data.davis.load_davis`), splits included.

Re-encoding loses detail: a model trained on the copy sees slightly blurrier frames, and
scores measured on a copy are the copy's, not the original's.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
from tqdm.auto import tqdm

from .davis import DavisDataset
from .io import PathLike, read_image, read_label_png, write_jpeg, write_label_png
from .sequence import resize_short_side


class Packed(NamedTuple):
    root: Path
    sequences: int
    frames: int
    bytes: int
    """size of everything written (frames, masks, list)."""


def pack_davis(
    root: PathLike,
    out: PathLike,
    splits: list[str] | None = None,
    quality: int = 75,
    short_side: int = 0,
    progress: bool = True,
) -> Packed:
    """Write a compact copy of the DAVIS folder ``root`` into ``out`` (which must not exist).

    ``splits``: the sequences of these ImageSets splits or ``.txt`` lists, joined (default:
    every sequence); ``quality``: JPEG quality (1-95); ``short_side``: shrink frames whose
    short side is larger to this many pixels (0 = keep the size).
    """
    if not 1 <= quality <= 95:
        raise ValueError(f"quality must be between 1 and 95 (JPEG), got {quality}")
    if short_side < 0:
        raise ValueError(f"short_side must be 0 (keep the size) or a number of pixels, got {short_side}")
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists; choose a new folder for the copy")
    lists: dict[str, list[str]] = {}  # each split's list, written into the copy under its own name
    for split in splits or []:
        lists[Path(split).stem] = DavisDataset(root, split=split).names
    names = list(dict.fromkeys(n for seq in lists.values() for n in seq)) or DavisDataset(root).names
    dataset = DavisDataset(root, sequences=names)
    sequences = [dataset[n] for n in names]  # every first mask checked before anything is written
    res = dataset.resolution
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))  # never looks finished
    work.chmod(0o755)  # a plain folder once renamed (mkdtemp makes it private)
    try:
        frames = _write_copy(dataset, sequences, work, quality, short_side, progress)
        (work / "ImageSets" / res).mkdir(parents=True, exist_ok=True)
        for name, seqs in {**lists, "all": names}.items():
            (work / "ImageSets" / res / f"{name}.txt").write_text("".join(f"{n}\n" for n in seqs))
        work.rename(out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return Packed(out, len(names), frames, size)


def _write_copy(dataset, sequences, work: Path, quality: int, short_side: int, progress: bool) -> int:
    """Frames re-encoded (and shrunk), masks copied (or shrunk nearest-neighbour); returns the frame count."""
    res, frames = dataset.resolution, 0
    for seq in tqdm(sequences, desc="pack", unit="sequence", disable=not progress):
        for i, frame_name in enumerate(seq.frame_names):
            frame = read_image(dataset.frame_root / seq.name / frame_name)
            shrink = short_side if min(frame.shape[:2]) > short_side else 0  # never enlarged
            frame = resize_short_side(frame, shrink, cv2.INTER_AREA)
            stem = Path(frame_name).stem
            write_jpeg(work / "JPEGImages" / res / seq.name / f"{stem}.jpg", frame, quality=quality)
            frames += 1
            mask_path = dataset.mask_root / seq.name / f"{stem}.png"
            if not mask_path.is_file():  # DAVIS val/test-dev annotate the first frame only
                continue
            mask_out = work / "Annotations" / res / seq.name / f"{stem}.png"
            mask_out.parent.mkdir(parents=True, exist_ok=True)
            if not shrink:
                shutil.copyfile(mask_path, mask_out)
                continue
            mask = read_label_png(mask_path)
            small = resize_short_side(mask, shrink, cv2.INTER_NEAREST)
            if i == 0 and set(np.unique(small)) != set(np.unique(mask)):
                raise ValueError(
                    f"{seq.name}: an object of the first mask vanishes at a short side of {short_side} "
                    "pixels; give a larger --short-side"
                )
            write_label_png(mask_out, small)
    return frames
