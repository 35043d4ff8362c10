"""A compact copy of a DAVIS-layout folder, for moving a dataset where space is scarce.

A Colab Drive, or a lent GPU machine that takes at most so many MiB with the code, holds a
smaller copy more easily than the original: :func:`pack_davis` writes the same layout
(``JPEGImages/<res>/<seq>``, ``Annotations/<res>/<seq>``, ``ImageSets/<res>/all.txt``) with
the chosen sequences only, every frame re-encoded as a JPEG of the given quality and, when
asked, resized to a smaller short side (area averaging; masks nearest-neighbour, so their ids
stay ids). The masks are otherwise copied byte for byte. Readers take the copy like the
original (:func:`~dgmpm_lite.data.davis.load_davis`).

Re-encoding loses detail: a model trained on the copy sees slightly blurrier frames, and
scores measured on a copy are the copy's, not the original's.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import NamedTuple

import cv2
from tqdm.auto import tqdm

from .davis import DavisDataset
from .io import PathLike, read_image, read_label_png, write_jpeg, write_label_png


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
    names: list[str] = []
    for split in splits or [None]:
        names += [n for n in DavisDataset(root, split=split).names if n not in names]
    dataset = DavisDataset(root, sequences=names)
    res = dataset.resolution
    work = out.with_name(out.name + ".partial")  # a copy cut short never looks finished
    shutil.rmtree(work, ignore_errors=True)
    frames = 0
    for name in tqdm(names, desc="pack", unit="sequence", disable=not progress):
        for frame_name in dataset[name].frame_names:  # checks the first mask on the way
            frame = read_image(dataset.frame_root / name / frame_name)
            target = _smaller_shape(frame.shape[:2], short_side)
            if target is not None:
                frame = cv2.resize(frame, target[::-1], interpolation=cv2.INTER_AREA)
            stem = Path(frame_name).stem
            write_jpeg(work / "JPEGImages" / res / name / f"{stem}.jpg", frame, quality=quality)
            frames += 1
            mask_path = dataset.mask_root / name / f"{stem}.png"
            if not mask_path.is_file():  # DAVIS val/test-dev annotate the first frame only
                continue
            mask_out = work / "Annotations" / res / name / f"{stem}.png"
            mask_out.parent.mkdir(parents=True, exist_ok=True)
            if target is None:
                shutil.copyfile(mask_path, mask_out)
            else:
                labels = cv2.resize(read_label_png(mask_path), target[::-1], interpolation=cv2.INTER_NEAREST)
                write_label_png(mask_out, labels)
    (work / "ImageSets" / res).mkdir(parents=True, exist_ok=True)
    (work / "ImageSets" / res / "all.txt").write_text("".join(f"{n}\n" for n in names))
    work.rename(out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return Packed(out, len(names), frames, size)


def _smaller_shape(shape: tuple[int, int], short_side: int) -> tuple[int, int] | None:
    """(h, w) with the short side ``short_side``, aspect kept; None when no smaller size is asked for."""
    h, w = shape
    if not short_side or min(h, w) <= short_side:
        return None
    s = short_side / min(h, w)
    return max(1, round(h * s)), max(1, round(w * s))
