"""Your own video: an mp4/avi file or a folder of frames, plus the first frame's mask.

Semi-supervised VOS (paper IV-B-2) needs only the first frame annotated. Draw that mask in
any editor and save it as a PNG: a DAVIS palette PNG (ids 1..K), a grayscale id map (0, 1,
2, ...) or a black/white 0/255 mask (one object) all work (see :func:`~dgmpm_lite.data.io.read_label_png`).

Three lines::

    from dgmpm_lite.data import load_own_video
    from dgmpm_lite.viz import show_video
    video = load_own_video("my_clip.mp4", "my_clip_first_mask.png")
    show_video(video)

Frames are decoded lazily: a video file is read sequentially (the usual access pattern of
frame-by-frame inference is O(1) per frame); asking for an earlier frame re-opens the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from .io import IMAGE_EXTENSIONS, PathLike, read_image, read_label_png, write_jpeg
from .sequence import VideoSequence, check_same_size, validate_first_mask

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm")


def natural_key(name: str) -> list:
    """Sort key that puts ``2.jpg`` before ``10.jpg`` (digit runs compared as numbers)."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def list_frame_files(folder: Path) -> list[Path]:
    """The image files of a frame folder in natural order (``0, 1, 2, ..., 10``).

    Two files with the same name stem (``00001.jpg`` and ``00001.png``) would write the same
    mask file, so they are refused with a message naming them.
    """
    files = sorted(
        (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS),
        key=lambda p: natural_key(p.name),
    )
    seen: dict[str, Path] = {}
    for p in files:
        if p.stem in seen:
            raise ValueError(
                f"{folder} holds both {seen[p.stem].name} and {p.name}: frames need distinct names "
                "(their masks are named after them); move one of them out"
            )
        seen[p.stem] = p
    return files


class _FirstMaskMixin:
    """Shared first-mask handling: read, size check, validation."""

    _first: np.ndarray
    _k: int

    def _set_first_mask(
        self, mask: PathLike | np.ndarray, first_frame: np.ndarray, first_name: str, num_objects: int | None
    ) -> None:
        if isinstance(mask, np.ndarray):
            labels, where = np.asarray(mask, np.uint8), "(array)"
            if labels.ndim != 2:
                raise ValueError(f"the first-frame mask must be 2-D (H, W), got shape {labels.shape}")
        else:
            where = str(mask)
            if not Path(mask).exists():
                raise FileNotFoundError(
                    f"first-frame mask not found: {mask} (it is required: it says which objects to segment)"
                )
            labels = read_label_png(mask)
        check_same_size(first_frame.shape, labels.shape, first_name, where)
        self._k = validate_first_mask(labels, where, num_objects)
        self._first = labels

    @property
    def num_objects(self) -> int:
        return self._k

    def mask(self, i: int) -> np.ndarray | None:
        i = self._index(i)  # type: ignore[attr-defined]
        return self._first if i == 0 else None


class FrameFolderSequence(_FirstMaskMixin, VideoSequence):
    """A folder of frames (in natural order of their names: 2 before 10) plus a first-frame mask.

    ``max_frames`` caps the length, ``stride`` keeps every n-th frame (as for a video file).
    """

    def __init__(
        self,
        folder: PathLike,
        first_mask: PathLike | np.ndarray,
        name: str | None = None,
        num_objects: int | None = None,
        max_frames: int | None = None,
        stride: int = 1,
    ) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise FileNotFoundError(f"frame folder not found: {self.folder}")
        if stride < 1:
            raise ValueError("stride must be >= 1")
        self._files = list_frame_files(self.folder)
        if not self._files:
            raise FileNotFoundError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in {self.folder}")
        self._files = self._files[:: int(stride)][: None if max_frames is None else int(max_frames)]
        self.name = name or self.folder.name
        self.frame_names = [p.name for p in self._files]
        first = read_image(self._files[0])
        self._size = (int(first.shape[0]), int(first.shape[1]))
        self._set_first_mask(first_mask, first, self.frame_names[0], num_objects)

    def __len__(self) -> int:
        return len(self._files)

    def frame(self, i: int) -> np.ndarray:
        i = self._index(i)
        img = read_image(self._files[i])
        if img.shape[:2] != self._size:
            raise ValueError(
                f"frame {self.frame_names[i]} is {img.shape[0]}x{img.shape[1]} "
                f"but the first frame is {self._size[0]}x{self._size[1]}"
            )
        return img

    @property
    def size(self) -> tuple[int, int]:
        return self._size


class VideoFileSequence(_FirstMaskMixin, VideoSequence):
    """An mp4/avi/... file decoded with OpenCV (FFmpeg), plus a first-frame mask.

    ``max_frames`` caps the length, ``stride`` keeps every n-th frame. The number of frames
    is counted once at opening (by grabbing without decoding).
    """

    def __init__(
        self,
        path: PathLike,
        first_mask: PathLike | np.ndarray,
        name: str | None = None,
        num_objects: int | None = None,
        max_frames: int | None = None,
        stride: int = 1,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"video file not found: {self.path}")
        if stride < 1:
            raise ValueError("stride must be >= 1")
        self.stride = int(stride)
        self.name = name or self.path.stem
        cap = self._open()
        declared = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        total = 0
        while cap.grab():
            total += 1
        cap.release()
        if total == 0:
            raise ValueError(
                f"cannot read any frame from {self.path}: the file is corrupt or its codec is not supported by OpenCV"
            )
        if declared > total:
            raise ValueError(
                f"{self.path} declares {declared} frames but only {total} can be decoded: the file is damaged "
                "(re-encode or re-download it, e.g. ffmpeg -i IN -c:v libx264 OUT.mp4)"
            )
        n = (total + self.stride - 1) // self.stride
        if max_frames is not None:
            n = min(n, int(max_frames))
        self._n = n
        self.frame_names = [f"{i * self.stride:05d}" for i in range(n)]
        self._cap: cv2.VideoCapture | None = None
        self._pos = 0  # index (in source frames) of the next frame the capture will return
        first = self.frame(0)
        self._size = (int(first.shape[0]), int(first.shape[1]))
        self._set_first_mask(first_mask, first, f"0 of {self.path.name}", num_objects)

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise ValueError(f"cannot open video {self.path}: the file is corrupt or not a video OpenCV can decode")
        return cap

    def __len__(self) -> int:
        return self._n

    def frame(self, i: int) -> np.ndarray:
        i = self._index(i)
        src = i * self.stride
        if self._cap is None or src < self._pos:
            if self._cap is not None:
                self._cap.release()
            self._cap, self._pos = self._open(), 0
        while self._pos < src:
            if not self._cap.grab():
                raise ValueError(f"video {self.path} ended before frame {src}")
            self._pos += 1
        ok, bgr = self._cap.read()
        if not ok or bgr is None:
            raise ValueError(f"cannot decode frame {src} of {self.path}")
        self._pos += 1
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass

    @property
    def size(self) -> tuple[int, int]:
        return self._size


def load_own_video(
    video: PathLike,
    first_mask: PathLike | np.ndarray,
    num_objects: int | None = None,
    name: str | None = None,
    max_frames: int | None = None,
    stride: int = 1,
) -> VideoSequence:
    """Open your own video (a video file or a folder of frames) with its first-frame mask.

    ``num_objects`` (optional) states K; otherwise K is the largest id in the mask and the ids
    must be 1..K. Errors: ``FileNotFoundError`` for a missing video/folder/mask,
    ``ValueError`` for a corrupt file, a frame/mask size mismatch, an empty mask or bad ids.
    """
    video = Path(video)
    if video.is_dir():
        return FrameFolderSequence(
            video, first_mask, name=name, num_objects=num_objects, max_frames=max_frames, stride=stride
        )
    if not video.exists():
        raise FileNotFoundError(f"video not found: {video} (give an .mp4/.avi file or a folder of frames)")
    if video.suffix.lower() not in VIDEO_EXTENSIONS:
        raise ValueError(
            f"{video} does not look like a video file (expected one of {VIDEO_EXTENSIONS}) or a folder of frames"
        )
    return VideoFileSequence(
        video, first_mask, name=name, num_objects=num_objects, max_frames=max_frames, stride=stride
    )


def extract_frames(video: PathLike, out_dir: PathLike, quality: int = 95, max_frames: int | None = None) -> list[Path]:
    """Decode a video file into ``out_dir/00000.jpg, ...`` (refuses a non-empty ``out_dir``)."""

    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty; choose an empty folder")
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise ValueError(f"cannot open video {video}")
    paths: list[Path] = []
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    with tqdm(total=total, desc="frames", disable=total is not None and total < 200) as bar:
        while max_frames is None or len(paths) < max_frames:
            ok, bgr = cap.read()
            if not ok:
                break
            p = out / f"{len(paths):05d}.jpg"
            write_jpeg(p, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), quality=quality)
            paths.append(p)
            bar.update(1)
    cap.release()
    return paths
