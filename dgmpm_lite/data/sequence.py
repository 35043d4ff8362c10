"""The common face of every video the project reads: :class:`VideoSequence`.

Semi-supervised VOS (paper section III, inference in IV-B-2) needs, per video, the frames in
order and the first frame's mask; training (IV-B-1) also needs the masks of later frames.
Every reader (DAVIS-2016/2017 folders, your own mp4 or frame folder, synthetic videos in
memory) returns an object with the same methods, so the rest of the project never cares
where a video came from:

* ``len(seq)``, ``seq.name``, ``seq.frame_names``
* ``seq.frame(i)`` -> ``uint8 (H, W, 3)`` RGB, read lazily (a long video is never loaded whole)
* ``seq.mask(i)`` -> ``uint8 (H, W)`` object ids, or ``None`` when frame ``i`` is not annotated
* ``seq.num_objects`` (K, the largest id in the first mask), ``seq.object_ids``, ``seq.size``

Validation helpers used by all readers live here too, so every reader words its errors the
same way, and the one rule for bringing a frame to a short side (:func:`working_shape`), which
inference, the exploration lab and ``pack`` share.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

import cv2
import numpy as np


def working_shape(size: tuple[int, int], short_side: int) -> tuple[int, int] | None:
    """``(h, w)`` of a frame of ``size`` resized to a short side of ``short_side`` pixels, aspect
    kept; None when no resize is needed (``short_side`` 0, or the frame already has it)."""
    h, w = size
    if not short_side or min(h, w) == short_side:
        return None
    s = short_side / min(h, w)
    return max(1, round(h * s)), max(1, round(w * s))


def resize_short_side(image: np.ndarray, short_side: int, interpolation: int) -> np.ndarray:
    """``image`` (a frame, or a label map with ``cv2.INTER_NEAREST``) at :func:`working_shape`;
    unchanged when that is None."""
    shape = working_shape(image.shape[:2], short_side)
    return image if shape is None else cv2.resize(image, shape[::-1], interpolation=interpolation)


def check_same_size(frame_shape: Sequence[int], mask_shape: Sequence[int], frame_name: str, mask_name: str) -> None:
    """Raise ``ValueError`` when a frame and its mask differ in height/width."""
    fh, fw = int(frame_shape[0]), int(frame_shape[1])
    mh, mw = int(mask_shape[0]), int(mask_shape[1])
    if (fh, fw) != (mh, mw):
        raise ValueError(f"frame {frame_name} is {fh}x{fw} but its mask {mask_name} is {mh}x{mw} (height x width)")


def validate_first_mask(labels: np.ndarray, where: str, num_objects: int | None = None) -> int:
    """Check a first-frame label map and return K, the number of objects.

    * an empty mask (no object at all) is an error: semi-supervised VOS has nothing to track;
    * with ``num_objects`` given, any id above it is an error;
    * without it K is the largest id, and the ids must be exactly 1..K: a gap (e.g. ids
      {1, 2, 128}) nearly always means an anti-aliased or JPEG-damaged mask.
    """
    ids = np.unique(labels)
    ids = ids[ids != 0]
    if ids.size == 0:
        raise ValueError(f"the first-frame mask {where} is empty (all background): there is no object to segment")
    if num_objects is not None:
        if ids.max() > num_objects:
            raise ValueError(
                f"the first-frame mask {where} has labels {ids[ids > num_objects].tolist()} outside 0..{num_objects}"
            )
        return int(num_objects)
    k = int(ids.max())
    missing = sorted(set(range(1, k + 1)) - set(ids.tolist()))
    if missing:
        raise ValueError(
            f"the first-frame mask {where} has labels {ids.tolist()}, not the contiguous ids 1..{k} "
            f"(missing {missing[:8]}{'...' if len(missing) > 8 else ''}); is it anti-aliased or saved as JPEG? "
            "Save masks as palette or grayscale PNG with ids 1..K, or pass num_objects explicitly"
        )
    return k


def check_labels(labels: np.ndarray, num_objects: int, where: str) -> None:
    """Raise ``ValueError`` when a label map holds ids outside ``0..num_objects``."""
    if labels.size and int(labels.max()) > num_objects:
        bad = np.unique(labels[labels > num_objects]).tolist()
        raise ValueError(
            f"mask {where} has labels {bad[:8]} outside 0..{num_objects} (the first frame defines K={num_objects})"
        )


class VideoSequence(ABC):
    """A video with (some) masks; subclasses implement :meth:`frame`, :meth:`mask`, ``__len__``."""

    name: str = "video"
    frame_names: list[str]

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def frame(self, i: int) -> np.ndarray:
        """Frame ``i`` as RGB ``uint8 (H, W, 3)``."""

    @abstractmethod
    def mask(self, i: int) -> np.ndarray | None:
        """Object ids of frame ``i`` as ``uint8 (H, W)``, or ``None`` when it is not annotated."""

    @property
    @abstractmethod
    def num_objects(self) -> int:
        """K, the number of target objects (ids 1..K) defined by the first frame's mask."""

    @property
    def object_ids(self) -> list[int]:
        return list(range(1, self.num_objects + 1))

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the frames."""
        h, w = self.frame(0).shape[:2]
        return int(h), int(w)

    def has_mask(self, i: int) -> bool:
        return self.mask(i) is not None

    @property
    def annotated_indices(self) -> list[int]:
        """Indices of frames with a mask (all of them for DAVIS and synthetic videos)."""
        return [i for i in range(len(self)) if self.has_mask(i)]

    def first_mask(self) -> np.ndarray:
        m = self.mask(0)
        assert m is not None  # readers validate the first mask at construction
        return m

    def _index(self, i: int) -> int:
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(f"frame index {i} out of range for {self.name!r} with {n} frames")
        return i

    def frames(self) -> Iterator[np.ndarray]:
        """Iterate over frames one at a time (lazily)."""
        for i in range(len(self)):
            yield self.frame(i)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Iterate over ``(frame, mask_or_None)`` pairs, lazily."""
        for i in range(len(self)):
            yield self.frame(i), self.mask(i)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, frames={len(self)}, objects={self.num_objects})"


class InMemorySequence(VideoSequence):
    """A video held in arrays: ``frames (T, H, W, 3) uint8`` and ``masks (T, H, W) uint8``.

    ``masks`` may be ``None`` except for the first frame: pass ``first_mask`` alone to get a
    video whose later frames are unannotated (as in inference on your own video).
    """

    def __init__(
        self,
        frames: np.ndarray,
        masks: np.ndarray | None = None,
        name: str = "video",
        first_mask: np.ndarray | None = None,
        num_objects: int | None = None,
    ) -> None:
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
        if len(frames) == 0:
            raise ValueError(f"video {name!r} has no frames")
        self._frames = frames
        self.name = name
        self.frame_names = [f"{i:05d}" for i in range(len(frames))]
        if masks is not None:
            masks = np.asarray(masks, dtype=np.uint8)
            if masks.shape[0] != frames.shape[0]:
                raise ValueError(f"video {name!r} has {len(frames)} frames but {len(masks)} masks")
            check_same_size(frames.shape[1:3], masks.shape[1:3], f"{name}/00000", f"{name}/00000 (mask)")
            first = masks[0]
        elif first_mask is not None:
            first = np.asarray(first_mask, dtype=np.uint8)
            check_same_size(frames.shape[1:3], first.shape, f"{name}/00000", f"{name} first mask")
        else:
            raise ValueError(f"video {name!r} needs masks or at least a first_mask")
        self._masks = masks
        self._first = first
        self._k = validate_first_mask(first, f"of {name!r}", num_objects)

    def __len__(self) -> int:
        return int(self._frames.shape[0])

    def frame(self, i: int) -> np.ndarray:
        return self._frames[self._index(i)]

    def mask(self, i: int) -> np.ndarray | None:
        i = self._index(i)
        if self._masks is None:
            return self._first if i == 0 else None
        return self._masks[i]

    @property
    def num_objects(self) -> int:
        return self._k

    @property
    def size(self) -> tuple[int, int]:
        return int(self._frames.shape[1]), int(self._frames.shape[2])
