"""Readers for DAVIS-style folders: DAVIS-2017 (palette ids) and DAVIS-2016 (grayscale 0/255).

The paper evaluates on DAVIS-2017 and DAVIS(-2016) (section IV-A); both share one layout::

    <root>/JPEGImages/<res>/<seq>/00000.jpg
    <root>/Annotations/<res>/<seq>/00000.png
    <root>/ImageSets/...        (optional) lists of sequences per split

``<res>`` is any resolution folder (``480p``, ``Full-Resolution``, ``240p``...). Sequences
come from an ImageSets list when one exists for the split, in any of these forms:
``ImageSets/<split>.txt`` (this project's synthetic data), ``ImageSets/2017/<split>.txt``
(DAVIS-2017), ``ImageSets/<res>/<split>.txt`` with sequence names or DAVIS-2016's
``/JPEGImages/480p/bear/00000.jpg /Annotations/...`` lines; otherwise from the folder
listing. Frames and masks are read lazily, one at a time.

Three lines::

    from dgmpm_lite.data import DavisDataset
    from dgmpm_lite.viz import show_video
    davis = DavisDataset("data_samples/synthetic", split="val")
    show_video(davis[0])
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .io import PathLike, read_image, read_label_png
from .sequence import VideoSequence, check_labels, check_same_size, validate_first_mask

FRAME_EXTENSIONS = (".jpg", ".jpeg", ".png")


def _list_frames(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"frame folder not found: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in FRAME_EXTENSIONS and p.is_file())
    if not files:
        raise FileNotFoundError(f"no frames (.jpg/.png) in {folder}")
    return files


class DavisSequence(VideoSequence):
    """One DAVIS-layout sequence: a frame folder and its annotation folder.

    Frames without a mask file return ``None`` from :meth:`mask` (DAVIS val/test-dev only
    annotate the first frame). At construction the first frame's mask is read and checked:
    it must exist, match the first frame's size, not be empty and hold ids 1..K. Later masks
    are checked when read (size and labels within 0..K).
    """

    def __init__(
        self,
        frame_dir: PathLike,
        mask_dir: PathLike | None,
        name: str | None = None,
        num_objects: int | None = None,
    ) -> None:
        self.frame_dir = Path(frame_dir)
        self.mask_dir = Path(mask_dir) if mask_dir is not None else None
        self.name = name or self.frame_dir.name
        self._frames = _list_frames(self.frame_dir)
        self.frame_names = [p.name for p in self._frames]
        self._masks: list[Path | None] = []
        for p in self._frames:
            m = self.mask_dir / (p.stem + ".png") if self.mask_dir is not None else None
            self._masks.append(m if m is not None and m.is_file() else None)
        first = self._masks[0]
        if first is None:
            where = (
                self.mask_dir / (self._frames[0].stem + ".png")
                if self.mask_dir is not None
                else "(no annotation folder)"
            )
            raise FileNotFoundError(f"sequence {self.name!r}: the first-frame annotation is missing: {where}")
        labels = read_label_png(first)
        h, w = read_image(self._frames[0]).shape[:2]
        check_same_size((h, w), labels.shape, self.frame_names[0], str(first))
        self._size = (int(h), int(w))
        self._k = validate_first_mask(labels, str(first), num_objects)

    def __len__(self) -> int:
        return len(self._frames)

    def frame(self, i: int) -> np.ndarray:
        i = self._index(i)
        img = read_image(self._frames[i])
        if img.shape[:2] != self._size:
            raise ValueError(
                f"frame {self.frame_names[i]} of {self.name!r} is {img.shape[0]}x{img.shape[1]} but the first frame is "
                f"{self._size[0]}x{self._size[1]}: all frames of a video must have one size"
            )
        return img

    def mask(self, i: int) -> np.ndarray | None:
        i = self._index(i)
        path = self._masks[i]
        if path is None:
            return None
        labels = read_label_png(path)
        check_same_size(self._size, labels.shape, self.frame_names[i], str(path))
        check_labels(labels, self._k, str(path))
        return labels

    def has_mask(self, i: int) -> bool:
        return self._masks[self._index(i)] is not None

    @property
    def num_objects(self) -> int:
        return self._k

    @property
    def size(self) -> tuple[int, int]:
        return self._size


def _resolutions(root: Path) -> list[str]:
    jpeg = root / "JPEGImages"
    if not jpeg.is_dir():
        raise FileNotFoundError(f"{root} is not a DAVIS folder: {jpeg} is missing")
    res = sorted(p.name for p in jpeg.iterdir() if p.is_dir())
    if not res:
        raise FileNotFoundError(f"no resolution folder (e.g. 480p) in {jpeg}")
    return res


def _read_imageset(path: Path) -> list[str]:
    names: list[str] = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        first = line.split()[0]
        if "/" in first:  # DAVIS-2016: /JPEGImages/480p/bear/00000.jpg /Annotations/480p/bear/00000.png
            parts = [p for p in first.split("/") if p]
            name = parts[-2] if len(parts) >= 2 else parts[0]
        else:
            name = first
        if name not in names:
            names.append(name)
    return names


class DavisDataset:
    """All sequences of a DAVIS-2016/2017-layout root for one split, read lazily.

    * ``resolution``: the folder under ``JPEGImages``; ``None`` picks the only one, else
      ``480p`` when present, else the first in sorted order.
    * ``split``: ``"train"``, ``"val"``... looked up in ImageSets (see the module docstring),
      or the path of a ``.txt`` file of sequence names, one per line (a split of one's own);
      ``None`` (or no ImageSets file for it) lists every sequence folder.
    * ``sequences``: an explicit list of names, overriding ``split``.

    ``dataset[i]`` or ``dataset["bear"]`` gives a :class:`DavisSequence`; iterate for all.
    """

    def __init__(
        self,
        root: PathLike,
        split: str | os.PathLike | None = None,
        resolution: str | None = None,
        sequences: list[str] | None = None,
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"DAVIS root not found: {self.root}")
        available = _resolutions(self.root)
        if resolution is None:
            resolution = available[0] if len(available) == 1 else ("480p" if "480p" in available else available[0])
        elif resolution not in available:
            raise FileNotFoundError(
                f"resolution folder {resolution!r} not in {self.root / 'JPEGImages'} (found {available})"
            )
        self.resolution = resolution
        if split is not None:
            split = os.fspath(split)  # a split file may be given as a Path
        self.split = split
        self.frame_root = self.root / "JPEGImages" / resolution
        self.mask_root = self.root / "Annotations" / resolution
        if sequences is not None:
            names = list(sequences)
            self.imageset: Path | None = None
        else:
            self.imageset = self._find_imageset(split) if split is not None else None
            if split is not None and self.imageset is None:
                raise FileNotFoundError(
                    f"no ImageSets list for split {split!r} under {self.root / 'ImageSets'} "
                    "(looked for <split>.txt, 2017/<split>.txt, <res>/<split>.txt); "
                    "give --split '' (split=None in Python) to use every folder"
                )
            if self.imageset is not None:
                names = _read_imageset(self.imageset)
            else:
                names = sorted(p.name for p in self.frame_root.iterdir() if p.is_dir())
        missing = [n for n in names if not (self.frame_root / n).is_dir()]
        if missing:
            raise FileNotFoundError(f"sequences listed but missing in {self.frame_root}: {missing[:5]}")
        if not names:
            raise FileNotFoundError(f"no sequences found in {self.frame_root}")
        self.names: list[str] = names

    def _find_imageset(self, split: str) -> Path | None:
        if split.endswith(".txt"):  # a list file of one's own (e.g. a held-out split)
            path = Path(split)
            if not path.is_file():
                raise FileNotFoundError(f"split file {path} does not exist")
            return path
        base = self.root / "ImageSets"
        for cand in (base / f"{split}.txt", base / "2017" / f"{split}.txt", base / self.resolution / f"{split}.txt"):
            if cand.is_file():
                return cand
        hits = sorted(base.glob(f"*/{split}.txt")) if base.is_dir() else []
        return hits[0] if hits else None

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, key: int | str) -> DavisSequence:
        name = self.names[key] if isinstance(key, int) else key
        if name not in self.names:
            raise KeyError(f"no sequence {name!r} in {self.root} (split {self.split!r})")
        return DavisSequence(self.frame_root / name, self.mask_root / name, name=name)

    def __iter__(self) -> Iterator[DavisSequence]:
        for n in self.names:
            yield self[n]

    def __repr__(self) -> str:
        return (
            f"DavisDataset(root={str(self.root)!r}, split={self.split!r}, "
            f"resolution={self.resolution!r}, sequences={len(self)})"
        )


def load_davis(root: PathLike, split: str | None = None, resolution: str | None = None) -> DavisDataset:
    """Shortcut for :class:`DavisDataset` (DAVIS-2016, DAVIS-2017 or this project's synthetic data)."""
    return DavisDataset(root, split=split, resolution=resolution)
