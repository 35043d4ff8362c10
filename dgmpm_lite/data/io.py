"""Reading and writing frames and label maps: the one place that knows about image files.

Every module of the project that reads a mask goes through :func:`read_label_png`, so the
rules for the three mask flavours people bring live here and nowhere else:

* **DAVIS-2017 palette PNG** (mode ``P``): the pixel value *is* the object id (0 = background,
  1..K = objects); the palette only decides the colours you see.
* **DAVIS-2016 grayscale PNG** (mode ``L``) holding only 0 and 255: a single object, returned
  as 0/1.
* **Grayscale ids** (mode ``L``, small integers such as 0, 1, 2): returned unchanged.
* An **RGB** PNG painted with the DAVIS palette colours (e.g. re-saved by an image editor) is
  mapped back to ids; any colour outside the palette is an error.

Label maps are always ``np.uint8`` arrays of shape ``(H, W)``; frames are ``np.uint8`` RGB
arrays of shape ``(H, W, 3)``. Errors name the offending file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

PathLike = str | Path

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
"""File extensions accepted as video frames in a folder of frames."""


def _davis_palette() -> np.ndarray:
    """The DAVIS / PASCAL-VOC colour map: id ``i`` gets colour bits interleaved from ``i``."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    for i in range(256):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette[i] = (r, g, b)
    return palette


DAVIS_PALETTE: np.ndarray = _davis_palette()
"""(256, 3) uint8 colour table of DAVIS-2017 annotations: 0 black, 1 (128,0,0), 2 (0,128,0), ..."""


def _check_exists(path: Path, what: str) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: {path}")
    if not path.is_file():
        raise FileNotFoundError(f"{what} is not a file: {path}")


def _open_image(path: Path, what: str) -> Image.Image:
    """Open and fully decode an image; corrupt or truncated files raise ``ValueError``."""
    _check_exists(path, what)
    try:
        img = Image.open(path)
        img.load()  # forces decoding: truncated JPEG/PNG files fail here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"cannot read {what} {path}: the file is corrupt or not an image ({exc})") from exc
    return img


def read_image(path: PathLike) -> np.ndarray:
    """Read a frame as an RGB ``uint8`` array ``(H, W, 3)``.

    Raises ``FileNotFoundError`` when missing and ``ValueError`` when corrupt/unreadable.
    """
    path = Path(path)
    img = _open_image(path, "frame")
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.uint8).copy()


def write_jpeg(path: PathLike, frame: np.ndarray, quality: int = 90, subsampling: int = 2) -> None:
    """Write an RGB ``uint8`` frame as a baseline JPEG (deterministic for a given Pillow build).

    ``subsampling``: Pillow chroma subsampling (0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0, the JPEG default).
    """
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"a frame must be uint8 (H, W, 3), got {frame.dtype} {frame.shape}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(frame)).save(
        path, format="JPEG", quality=int(quality), subsampling=int(subsampling), optimize=False
    )


def labels_from_rgb(rgb: np.ndarray, path: PathLike = "<array>") -> np.ndarray:
    """Map an RGB image painted with :data:`DAVIS_PALETTE` colours back to object ids."""
    rgb = np.asarray(rgb, dtype=np.uint8)[..., :3]
    if np.all(rgb[..., 0] == rgb[..., 1]) and np.all(rgb[..., 1] == rgb[..., 2]):
        return _labels_from_gray(rgb[..., 0])
    codes = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    pal_codes = (
        (DAVIS_PALETTE[:, 0].astype(np.int64) << 16) | (DAVIS_PALETTE[:, 1].astype(np.int64) << 8) | DAVIS_PALETTE[:, 2]
    )
    order = np.argsort(pal_codes)
    sorted_codes = pal_codes[order]
    pos = np.clip(np.searchsorted(sorted_codes, codes), 0, 255)
    ok = sorted_codes[pos] == codes
    if not ok.all():
        bad = np.unique(codes[~ok])[:5]
        colours = [((c >> 16) & 255, (c >> 8) & 255, c & 255) for c in bad.tolist()]
        raise ValueError(
            f"mask {path} is an RGB image with colours that are not DAVIS palette colours, e.g. {colours}; "
            "save it as a palette (mode P) PNG or a grayscale PNG of object ids"
        )
    return order[pos].astype(np.uint8)


def _labels_from_gray(gray: np.ndarray) -> np.ndarray:
    values = np.unique(gray)
    if values.size and set(values.tolist()) <= {0, 255}:
        return (gray == 255).astype(np.uint8)  # DAVIS-2016 style 0/255
    return gray.astype(np.uint8)


def read_label_png(path: PathLike) -> np.ndarray:
    """Read a mask file and return object ids as ``uint8 (H, W)``.

    Accepts DAVIS-2017 palette PNGs (ids = palette indices), DAVIS-2016 grayscale 0/255
    (returned as 0/1), grayscale id maps (0, 1, 2, ...), 1-bit images and RGB images painted
    with the DAVIS palette. Raises ``FileNotFoundError`` when missing and ``ValueError`` for
    corrupt files, ids above 255 or unknown RGB colours.
    """
    path = Path(path)
    img = _open_image(path, "mask")
    mode = img.mode
    if mode == "P":
        return np.asarray(img, dtype=np.uint8).copy()
    if mode == "1":
        return np.asarray(img, dtype=np.uint8).copy()
    if mode in ("L", "LA"):
        return _labels_from_gray(np.asarray(img.getchannel(0), dtype=np.uint8))
    if mode.startswith("I") or mode == "F":
        arr = np.asarray(img)
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            if set(np.unique(arr).tolist()) <= {0, 65535}:
                return (arr > 0).astype(np.uint8)
            raise ValueError(f"mask {path} has ids outside 0..255 (min {arr.min()}, max {arr.max()})")
        return _labels_from_gray(arr.astype(np.uint8))
    if mode in ("RGB", "RGBA"):
        return labels_from_rgb(np.asarray(img.convert("RGB")), path)
    raise ValueError(f"mask {path} has an unsupported image mode {mode!r}")


def write_label_png(path: PathLike, labels: np.ndarray, palette: np.ndarray = DAVIS_PALETTE) -> None:
    """Write object ids ``uint8 (H, W)`` as a DAVIS-2017 palette PNG (creates parent folders)."""
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"a label map must be 2-D (H, W), got shape {labels.shape}")
    if labels.dtype != np.uint8:
        if labels.size and (labels.min() < 0 or labels.max() > 255):
            raise ValueError("label ids must lie in 0..255 to fit a palette PNG")
        labels = labels.astype(np.uint8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(np.ascontiguousarray(labels))  # mode L; putpalette turns it into P
    img.putpalette(np.asarray(palette, dtype=np.uint8).reshape(-1).tolist())
    img.save(path, format="PNG")


def colorize_labels(labels: np.ndarray, palette: np.ndarray = DAVIS_PALETTE) -> np.ndarray:
    """RGB ``uint8 (H, W, 3)`` picture of a label map using the DAVIS colours."""
    return np.asarray(palette, dtype=np.uint8)[np.asarray(labels, dtype=np.uint8)]
