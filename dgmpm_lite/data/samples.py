"""Training samples as in the paper, section IV-B-1: (reference, previous mask, target) triplets.

DGMPM sees, per object, a reference frame with its mask (the annotated first frame at test
time), the mask of the previous frame and the target frame. The paper trains in stages:

1. **Static images** (COCO in the paper): one image and its mask make a whole triplet. The
   *previous mask* is the target mask moved by a random affine transform, scaling and shift;
   the *reference frame* is a lucid-dreaming-like re-composition of the image: the objects
   are cut out, the hole is filled (``cv2.inpaint``) and the objects are pasted back moved,
   rotated, rescaled and re-lit (:func:`lucid_dream`). See :class:`StaticTripletDataset`.
2. **Videos** (YouTube-VOS, DAVIS-2017 in the paper; here synthetic, DAVIS-2016/2017 folders):
   reference and target are two random frames, the previous mask comes from a frame at most
   ``max_prev_interval`` (3 in the paper) before the target. See :class:`VideoTripletDataset`.

For both, the previous mask is **eroded** (to look like a prediction with a coarse boundary),
and frames and masks get **joint random scaling, flipping and rotation** (torchvision
transforms v2, masks as ``tv_tensors.Mask`` so they are resampled nearest-neighbour). The
reference pair and the (target, previous mask) triple get independent random parameters; the
previous mask always shares the target's. "Normalisation" here is conversion to float in
[0, 1]: the model applies the ImageNet statistics itself.

A sample is a dict::

    ref_frame (3,H,W) float32 [0,1]   ref_mask (1,H,W) float32 {0,1} (never empty)
    prev_mask (1,H,W) float32 {0,1}   target_frame (3,H,W)   target_mask (1,H,W)
    object_id int, sequence str, ref_index / prev_index / target_index int, index int

Multi-object videos give one binary sample per object (the object is drawn at random among
those visible in the reference frame). Samples are reproducible: sample ``i`` of a dataset
built with ``seed`` is always the same, independent of workers and of the global RNGs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from .io import read_image, read_label_png
from .sequence import VideoSequence
from .synthetic import SyntheticVideoSource


@dataclass
class AugmentConfig:
    """Knobs of the sample augmentation (paper IV-B-1: random scaling, flipping, rotation, erosion)."""

    size: tuple[int, int] = (240, 432)
    """Output (height, width); every frame is first resized to it (the paper uses 400x800)."""
    scale: tuple[float, float] = (0.85, 1.15)
    """Random zoom range of the joint affine transform."""
    rotation: float = 10.0
    """Largest rotation in degrees of the joint affine transform."""
    translate: float = 0.05
    """Largest shift as a fraction of the size."""
    hflip: float = 0.5
    """Probability of a horizontal flip."""
    erosion: tuple[int, int] = (3, 9)
    """Kernel size range (odd sizes) of the erosion of the previous mask."""
    p_erosion: float = 0.8
    """Probability of eroding the previous mask."""
    geometric: bool = True
    """False: resize only (no scaling, flipping, rotation)."""


# ----------------------------------------------------------------------------- helpers


def _to_binary(labels: np.ndarray, object_id: int) -> np.ndarray:
    return (labels == object_id).astype(np.uint8)


def resize_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a binary mask to ``(H, W)`` by area coverage (>= 50 %); a non-empty mask stays non-empty."""
    h, w = size
    if mask.shape == (h, w):
        return mask.astype(np.uint8)
    cover = cv2.resize(mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
    out = (cover >= 0.5).astype(np.uint8)
    if mask.any() and not out.any():
        out = (cover > 0).astype(np.uint8)
        if not out.any():  # upsampling a single pixel: keep the nearest pixel
            ys, xs = np.nonzero(mask)
            out[min(int(ys[0] * h / mask.shape[0]), h - 1), min(int(xs[0] * w / mask.shape[1]), w - 1)] = 1
    return out


def erode_mask(
    mask: np.ndarray, rng: np.random.Generator, kernel: tuple[int, int] = (3, 9), p: float = 0.8
) -> np.ndarray:
    """Erode a binary mask with a random elliptic kernel (paper IV-B-1); never empties a mask."""
    if not mask.any() or rng.random() >= p:
        return mask
    lo, hi = kernel
    k = int(rng.integers(lo // 2, hi // 2 + 1)) * 2 + 1
    if k <= 1:
        return mask
    out = cv2.erode(mask.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return out if out.any() else mask


def _random_affine(
    rng: np.random.Generator,
    center: tuple[float, float],
    rotation: float,
    scale: tuple[float, float],
    shift: tuple[float, float],
) -> np.ndarray:
    """2x3 matrix: rotate and scale about ``center``, then shift by up to ``shift`` pixels."""
    ang = rng.uniform(-rotation, rotation)
    s = rng.uniform(*scale)
    m = cv2.getRotationMatrix2D((float(center[0]), float(center[1])), ang, s)
    m[0, 2] += rng.uniform(-shift[0], shift[0])
    m[1, 2] += rng.uniform(-shift[1], shift[1])
    return m


def synthesize_prev_mask(
    mask: np.ndarray,
    rng: np.random.Generator,
    rotation: float = 8.0,
    scale: tuple[float, float] = (0.9, 1.1),
    shift: float = 0.1,
) -> np.ndarray:
    """Fake the previous frame's mask from a static mask: random affine, scaling and shift (IV-B-1).

    ``shift`` is relative to the object's bounding box size. Returns a binary ``uint8`` mask
    (possibly empty if the object was tiny and moved out of the image).
    """
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return mask.copy()
    cx, cy = xs.mean(), ys.mean()
    bw, bh = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    m = _random_affine(rng, (cx, cy), rotation, scale, (shift * bw, shift * bh))
    # a mild shear makes the fake less rigid
    sh = rng.uniform(-0.05, 0.05)
    m = m @ np.array([[1, sh, -sh * cy], [0, 1, 0], [0, 0, 1]])
    out = cv2.warpAffine(mask.astype(np.float32), m, (mask.shape[1], mask.shape[0]), flags=cv2.INTER_LINEAR)
    return (out >= 0.5).astype(np.uint8)


def lucid_dream(
    image: np.ndarray,
    labels: np.ndarray,
    rng: np.random.Generator,
    max_rotation: float = 15.0,
    scale: tuple[float, float] = (0.85, 1.15),
    shift: float = 0.1,
    illumination: float = 0.15,
) -> tuple[np.ndarray, np.ndarray]:
    """Lucid-dreaming-like re-composition of an annotated image (paper IV-B-1, after [14]).

    Every object is cut out, the hole is filled with ``cv2.inpaint`` (at half resolution, for
    speed), the background gets a small random shift/zoom and illumination change, and each
    object is pasted back (in random order, so they may occlude each other) with its own
    random rotation, scaling, shift and gain. Returns the new ``(image uint8, labels uint8)``.
    """
    h, w = labels.shape
    fg = (labels > 0).astype(np.uint8)
    hole = cv2.dilate(fg, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    small = (max(w // 2, 1), max(h // 2, 1))
    img_s = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
    hole_s = (cv2.resize(hole.astype(np.float32), small, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
    filled_s = cv2.inpaint(img_s, hole_s, 5, cv2.INPAINT_TELEA)
    filled = cv2.resize(filled_s, (w, h), interpolation=cv2.INTER_LINEAR)
    background = np.where(hole[..., None] > 0, filled, image)
    # camera-like change of the background
    m_bg = _random_affine(rng, (w / 2, h / 2), 3.0, (1.0, 1.08), (0.03 * w, 0.03 * h))
    out = cv2.warpAffine(background, m_bg, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT).astype(
        np.float32
    )
    out *= rng.uniform(1 - illumination, 1 + illumination)
    new_labels = np.zeros_like(labels)
    ids = [int(i) for i in np.unique(labels) if i != 0]
    for oid in rng.permutation(ids) if ids else []:
        obj = (labels == oid).astype(np.float32)
        ys, xs = np.nonzero(obj)
        bw, bh = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
        m = _random_affine(
            rng, (xs.mean(), ys.mean()), max_rotation, scale, (shift * max(bw, w / 4), shift * max(bh, h / 4))
        )
        alpha = cv2.warpAffine(obj, m, (w, h), flags=cv2.INTER_LINEAR)
        pix = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR).astype(np.float32)
        gain = rng.uniform(1 - illumination, 1 + illumination)
        soft = cv2.GaussianBlur(alpha, (3, 3), 0.8)[..., None]
        out = out * (1 - soft) + pix * gain * soft
        new_labels[alpha >= 0.5] = oid
    return np.clip(np.rint(out), 0, 255).astype(np.uint8), new_labels


class JointAugment:
    """Resize + random flip/affine applied identically to a frame and its masks (torchvision v2).

    Randomness comes from an integer seed, so a sample is reproducible regardless of the
    global torch RNG (which is forked and restored).
    """

    def __init__(self, cfg: AugmentConfig) -> None:
        self.cfg = cfg
        ops: list[Any] = [v2.Resize(cfg.size, antialias=True)]
        if cfg.geometric:
            ops += [
                v2.RandomHorizontalFlip(cfg.hflip),
                v2.RandomAffine(degrees=cfg.rotation, translate=(cfg.translate, cfg.translate), scale=cfg.scale),
            ]
        self.geometric = v2.Compose(ops)
        self.plain = v2.Resize(cfg.size, antialias=True)

    def __call__(
        self, frame: np.ndarray, masks: Sequence[np.ndarray], seed: int, geometric: bool = True
    ) -> tuple[torch.Tensor, list[np.ndarray]]:
        """Returns the frame ``(3, H, W) float32`` in [0, 1] and the masks as ``uint8 (H, W)`` arrays."""
        img = tv_tensors.Image(torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1))
        h, w = frame.shape[:2]
        if not geometric:
            # masks go through the coverage-preserving resize, so a non-empty one stays non-empty
            out_img = self.plain(img)
            out_masks = [resize_mask(m, self.cfg.size) for m in masks]
        else:
            ms = [tv_tensors.Mask(torch.from_numpy(np.ascontiguousarray(m, dtype=np.uint8))[None]) for m in masks]
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(seed))
                out = self.geometric(img, *ms)
            out_img = out[0]
            out_masks = [t[0].numpy().astype(np.uint8) for t in out[1:]]
        return out_img.as_subclass(torch.Tensor).float().div_(255.0), out_masks


def _mask_tensor(m: np.ndarray) -> torch.Tensor:
    return torch.from_numpy((m > 0).astype(np.float32))[None]


def build_sample(
    aug: JointAugment,
    rng: np.random.Generator,
    ref_frame: np.ndarray,
    ref_mask: np.ndarray,
    target_frame: np.ndarray,
    target_mask: np.ndarray,
    prev_mask: np.ndarray,
    retries: int = 5,
) -> dict[str, torch.Tensor]:
    """Augment a raw triplet (numpy, binary masks) into the tensor dict; the reference mask stays non-empty.

    The reference pair and the (target, previous mask) triple are augmented with independent
    random parameters. If every try empties the reference mask, it falls back to a plain
    resize of the reference (which keeps a non-empty mask non-empty).
    """
    if not ref_mask.any():
        raise ValueError(
            "the reference mask is empty before augmentation; pick an object visible in the reference frame"
        )
    cfg = aug.cfg
    for attempt in range(retries + 1):
        geometric = cfg.geometric and attempt < retries
        ref_t, (ref_m,) = aug(ref_frame, [ref_mask], int(rng.integers(2**31)), geometric=geometric)
        if ref_m.any():
            break
    tgt_t, (tgt_m, prev_m) = aug(
        target_frame, [target_mask, prev_mask], int(rng.integers(2**31)), geometric=cfg.geometric
    )
    prev_m = erode_mask(prev_m, rng, cfg.erosion, cfg.p_erosion)
    return {
        "ref_frame": ref_t,
        "ref_mask": _mask_tensor(ref_m),
        "prev_mask": _mask_tensor(prev_m),
        "target_frame": tgt_t,
        "target_mask": _mask_tensor(tgt_m),
    }


def _pick_object(labels: np.ndarray, rng: np.random.Generator, allowed: Sequence[int] | None = None) -> int | None:
    ids = [int(i) for i in np.unique(labels) if i != 0 and (allowed is None or int(i) in allowed)]
    if not ids:
        return None
    return int(rng.choice(ids))


# ----------------------------------------------------------------------------- sources


def _as_video_list(source: Any) -> Any:
    """Anything indexable by int returning a VideoSequence: DavisDataset, SyntheticVideoSource, lists."""
    if isinstance(source, VideoSequence) or hasattr(source, "to_sequence"):
        source = [source]
    if isinstance(source, (list, tuple)):
        return [s.to_sequence() if hasattr(s, "to_sequence") else s for s in source]
    if hasattr(source, "__getitem__") and hasattr(source, "__len__"):
        return source
    raise TypeError(f"cannot use {type(source).__name__} as a video source")


class _SequenceCache:
    """Memoises ``source[i]`` (constructing a DAVIS sequence reads its first mask)."""

    def __init__(self, source: Any, keep: bool) -> None:
        self.source = source
        self.keep = keep
        self._cache: dict[int, VideoSequence] = {}

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i: int) -> VideoSequence:
        if i in self._cache:
            return self._cache[i]
        seq = self.source[i]
        if self.keep:
            self._cache[i] = seq
        return seq


def _video_cache(source: Any) -> _SequenceCache:
    """The videos of a dataset: memoised, except an endless synthetic source (nothing to reuse)."""

    src = _as_video_list(source)
    videos = _SequenceCache(src, keep=not isinstance(src, SyntheticVideoSource))
    if len(videos) == 0:
        raise ValueError("the video source is empty")
    return videos


class VideoTripletDataset(Dataset):
    """Video triplets (paper IV-B-1, stages 2-3): random reference and target, nearby previous mask.

    * ``source``: a :class:`~dgmpm_lite.data.davis.DavisDataset` (synthetic on disk, DAVIS-2016
      grayscale or DAVIS-2017 palette), a :class:`~dgmpm_lite.data.synthetic.SyntheticVideoSource`
      (fresh in-memory videos, unlimited), or a list of sequences / SyntheticVideos.
    * ``length``: samples per epoch; default ``samples_per_video * len(source)``. Sample ``i``
      uses video ``i % len(source)``.
    * ``max_prev_interval``: the previous mask comes from frame ``p`` with
      ``target - max_prev_interval <= p <= target - 1`` (paper: 3).
    * ``ref_mode``: ``"random"`` (paper: any other frame) or ``"first"`` (frame 0, as at inference).

    Every frame of a video used here must be annotated.
    """

    def __init__(
        self,
        source: Any,
        size: tuple[int, int] = (240, 432),
        length: int | None = None,
        samples_per_video: int = 10,
        max_prev_interval: int = 3,
        ref_mode: str = "random",
        augment: AugmentConfig | None = None,
        seed: int = 0,
    ) -> None:
        if max_prev_interval < 1:
            raise ValueError("max_prev_interval must be >= 1")
        if ref_mode not in ("random", "first"):
            raise ValueError("ref_mode must be 'random' or 'first'")
        self.videos = _video_cache(source)
        self.augment = augment or AugmentConfig(size=tuple(size))  # type: ignore[arg-type]
        if augment is not None and tuple(size) != tuple(augment.size):
            self.augment = AugmentConfig(**{**augment.__dict__, "size": tuple(size)})
        self._aug = JointAugment(self.augment)
        self.length = int(length) if length is not None else samples_per_video * len(self.videos)
        self.max_prev_interval = int(max_prev_interval)
        self.ref_mode = ref_mode
        self.seed = int(seed)

    def __len__(self) -> int:
        return self.length

    def pick_indices(self, num_frames: int, rng: np.random.Generator) -> tuple[int, int, int]:
        """Draw ``(ref, prev, target)`` frame indices following the interval rule."""
        if num_frames < 2:
            raise ValueError("a video needs at least 2 frames for a video triplet")
        t = int(rng.integers(1, num_frames))
        p = int(rng.integers(max(0, t - self.max_prev_interval), t))
        if self.ref_mode == "first":
            r = 0
        else:
            r = int(rng.integers(0, num_frames - 1))
            r = r + 1 if r >= t else r  # any frame but the target
        return r, p, t

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < self.length:
            raise IndexError(index)
        rng = np.random.default_rng([self.seed, int(index)])
        vi = int(index) % len(self.videos)
        seq = self.videos[vi]
        n = len(seq)
        r, p, t = self.pick_indices(n, rng)
        ref_labels = seq.mask(r)
        oid = _pick_object(ref_labels, rng, seq.object_ids) if ref_labels is not None else None
        for _ in range(10):  # the drawn reference may show no object (all occluded): redraw it
            if oid is not None:
                break
            r = int(rng.integers(0, n))
            if r == t:
                continue
            ref_labels = seq.mask(r)
            oid = _pick_object(ref_labels, rng, seq.object_ids) if ref_labels is not None else None
        if oid is None:  # the first frame is validated non-empty
            r, ref_labels = 0, seq.mask(0)
            oid = _pick_object(ref_labels, rng, seq.object_ids)
        tgt_labels, prev_labels = seq.mask(t), seq.mask(p)
        if tgt_labels is None or prev_labels is None or ref_labels is None:
            raise ValueError(
                f"sequence {seq.name!r} lacks masks for frames {r}, {p} or {t}: "
                "video triplets need every frame annotated"
            )
        sample: dict[str, Any] = build_sample(
            self._aug,
            rng,
            seq.frame(r),
            _to_binary(ref_labels, oid),
            seq.frame(t),
            _to_binary(tgt_labels, oid),
            _to_binary(prev_labels, oid),
        )
        sample.update(
            {
                "object_id": oid,
                "sequence": seq.name,
                "ref_index": r,
                "prev_index": p,
                "target_index": t,
                "index": int(index),
            }
        )
        return sample


class StaticTripletDataset(Dataset):
    """Static-image triplets (paper IV-B-1, stage 1): a whole triplet from one annotated image.

    ``source`` is a list of ``(image, labels)`` pairs (arrays, or paths to a frame and a mask
    PNG), or any video source (then every annotated frame of every video is a static image).
    The target is the image itself; the previous mask is :func:`synthesize_prev_mask` of the
    target mask; the reference is :func:`lucid_dream` of the image.
    """

    def __init__(
        self,
        source: Any,
        size: tuple[int, int] = (240, 432),
        length: int | None = None,
        augment: AugmentConfig | None = None,
        seed: int = 0,
        prev_rotation: float = 8.0,
        prev_scale: tuple[float, float] = (0.9, 1.1),
        prev_shift: float = 0.1,
    ) -> None:
        self._pairs: list[tuple[Any, Any]] | None = None
        self._videos: _SequenceCache | None = None
        self._frames: list[tuple[int, int]] = []
        if isinstance(source, (list, tuple)) and source and isinstance(source[0], tuple):
            self._pairs = list(source)
        else:
            self._videos = _SequenceCache(_as_video_list(source), keep=True)
            for vi in range(len(self._videos)):
                seq = self._videos[vi]
                self._frames += [(vi, fi) for fi in seq.annotated_indices]
        n = len(self._pairs) if self._pairs is not None else len(self._frames)
        if n == 0:
            raise ValueError("the static image source is empty")
        self.num_images = n
        self.augment = augment or AugmentConfig(size=tuple(size))  # type: ignore[arg-type]
        if augment is not None and tuple(size) != tuple(augment.size):
            self.augment = AugmentConfig(**{**augment.__dict__, "size": tuple(size)})
        self._aug = JointAugment(self.augment)
        self.length = int(length) if length is not None else n
        self.seed = int(seed)
        self.prev_kw = {"rotation": prev_rotation, "scale": prev_scale, "shift": prev_shift}

    def __len__(self) -> int:
        return self.length

    def _image(self, k: int) -> tuple[np.ndarray, np.ndarray, str]:
        if self._pairs is not None:
            img, lab = self._pairs[k]
            name = str(img) if isinstance(img, (str,)) or hasattr(img, "parts") else f"image_{k}"
            img = read_image(img) if not isinstance(img, np.ndarray) else img
            lab = read_label_png(lab) if not isinstance(lab, np.ndarray) else lab
            if img.shape[:2] != lab.shape[:2]:
                raise ValueError(
                    f"image {name} is {img.shape[0]}x{img.shape[1]} but its mask is {lab.shape[0]}x{lab.shape[1]}"
                )
            return img, lab, name
        vi, fi = self._frames[k]
        seq = self._videos[vi]  # type: ignore[index]
        lab = seq.mask(fi)
        assert lab is not None
        return seq.frame(fi), lab, f"{seq.name}/{seq.frame_names[fi]}"

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < self.length:
            raise IndexError(index)
        rng = np.random.default_rng([self.seed, int(index)])
        k = int(index) % self.num_images
        img, lab, name = self._image(k)
        oid = _pick_object(lab, rng)
        tries = 0
        while oid is None and tries < 20:  # an image without any object: take another one
            tries += 1
            k = int(rng.integers(self.num_images))
            img, lab, name = self._image(k)
            oid = _pick_object(lab, rng)
        if oid is None:
            raise ValueError("no annotated object found in the static image source")
        target = _to_binary(lab, oid)
        prev = synthesize_prev_mask(target, rng, **self.prev_kw)
        ref_img, ref_lab = img, lab
        for _ in range(5):
            ref_img, ref_lab = lucid_dream(img, lab, rng)
            if (ref_lab == oid).any():
                break
        else:  # the object was moved out of the image every time: use the image itself
            ref_img, ref_lab = img, lab
        sample: dict[str, Any] = build_sample(self._aug, rng, ref_img, _to_binary(ref_lab, oid), img, target, prev)
        sample.update(
            {
                "object_id": oid,
                "sequence": name,
                "ref_index": -1,
                "prev_index": -1,
                "target_index": -1,
                "index": int(index),
            }
        )
        return sample


def _resize_clip_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    h, w = size
    if frame.shape[:2] == (h, w):
        return frame
    return cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)


def _resize_clip_labels(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    h, w = size
    if labels.shape == (h, w):
        return labels
    return cv2.resize(labels, (w, h), interpolation=cv2.INTER_NEAREST)


class ClipDataset(Dataset):
    """Short multi-object clips for training with the model's *own* previous masks (RGMP, STM, XMem).

    A triplet teaches one step with a ground-truth-like previous mask; at test time the
    previous mask is the model's last prediction, errors included. A clip gives the trainer
    what it needs to unroll that: the reference frame with up to ``max_objects`` objects, a
    perturbed ground-truth previous mask for the first clip frame only, then ``clip_length``
    frames ``skip`` apart whose previous masks the trainer takes from its own fused
    predictions. Labels are renumbered 1..K (objects not chosen become background), so the
    trainer can score the *fused* label map: painting a non-target or another object's
    pixels costs as much as missing the object.

    ``source`` is any video source (:class:`~dgmpm_lite.data.synthetic.SyntheticVideoSource`
    with real cut-outs, a :class:`~dgmpm_lite.data.davis.DavisDataset`, a list); frames are
    resized to ``size``. The reference is frame 0 (as at inference) with probability
    ``p_first_reference``, else a random earlier frame. A sample is a dict::

        ref_frame (3,H,W) float32 [0,1]   ref_labels (H,W) int64 ids 1..K
        prev_labels (H,W) int64 (eroded per object)   frames (L,3,H,W)   labels (L,H,W) int64
        num_objects int, sequence str, frame_indices (L,) int64, index int
    """

    def __init__(
        self,
        source: Any,
        size: tuple[int, int] = (160, 288),
        length: int = 1000,
        clip_length: int = 3,
        max_objects: int = 4,
        max_skip: int = 3,
        p_first_reference: float = 0.5,
        hflip: float = 0.5,
        erosion: tuple[int, int] = (3, 7),
        p_erosion: float = 0.5,
        seed: int = 0,
    ) -> None:
        if clip_length < 1 or max_objects < 1 or max_skip < 1:
            raise ValueError("clip_length, max_objects and max_skip must be >= 1")
        self.videos = _video_cache(source)
        self.size = (int(size[0]), int(size[1]))
        self.length = int(length)
        self.clip_length, self.max_objects, self.max_skip = int(clip_length), int(max_objects), int(max_skip)
        self.p_first_reference, self.hflip = float(p_first_reference), float(hflip)
        self.erosion, self.p_erosion = tuple(erosion), float(p_erosion)
        self.seed = int(seed)

    def __len__(self) -> int:
        return self.length

    def _indices(self, n: int, rng: np.random.Generator) -> tuple[int, int, list[int]]:
        """``(reference, previous, clip frames)`` of a video with ``n`` frames."""
        L = self.clip_length
        skip = int(rng.integers(1, self.max_skip + 1))
        while skip > 1 and L * skip >= n:
            skip -= 1
        if L * skip >= n:
            raise ValueError(f"a clip of {L} frames needs a video of at least {L + 1} frames, got {n}")
        prev = int(rng.integers(0, n - L * skip))
        clip = [prev + skip * (j + 1) for j in range(L)]
        ref = 0 if rng.random() < self.p_first_reference else int(rng.integers(0, prev + 1))
        return ref, prev, clip

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < self.length:
            raise IndexError(index)
        rng = np.random.default_rng([self.seed, int(index)])
        seq = self.videos[int(index) % len(self.videos)]
        ref, prev, clip = self._indices(len(seq), rng)
        ref_labels = seq.mask(ref)
        ids = [int(i) for i in np.unique(ref_labels) if i != 0] if ref_labels is not None else []
        if not ids:  # nothing visible in the drawn reference: the first frame always shows the objects
            ref, ref_labels = 0, seq.mask(0)
            ids = [int(i) for i in np.unique(ref_labels) if i != 0]
        if len(ids) > self.max_objects:
            ids = sorted(rng.choice(ids, self.max_objects, replace=False).tolist())
        lut = np.zeros(256, np.int64)
        lut[ids] = np.arange(1, len(ids) + 1)
        flip = rng.random() < self.hflip

        def frame(i: int) -> torch.Tensor:
            f = _resize_clip_frame(seq.frame(i), self.size)
            f = f[:, ::-1] if flip else f
            return torch.from_numpy(np.ascontiguousarray(f)).permute(2, 0, 1).float().div_(255.0)

        def labels(i: int) -> np.ndarray:
            lab = seq.mask(i)
            if lab is None:
                raise ValueError(f"sequence {seq.name!r} lacks the mask of frame {i}: clips need every frame annotated")
            lab = lut[_resize_clip_labels(lab, self.size)]
            return lab[:, ::-1] if flip else lab

        ref_lab = labels(ref)
        if (np.bincount(ref_lab.ravel(), minlength=len(ids) + 1)[1:] == 0).any():  # resizing lost a tiny object
            keep = [k + 1 for k in range(len(ids)) if (ref_lab == k + 1).any()]
            if not keep:
                raise ValueError(f"sequence {seq.name!r}: every object vanishes at {self.size}")
            lut2 = np.zeros(len(ids) + 1, np.int64)
            lut2[keep] = np.arange(1, len(keep) + 1)
            ids = [ids[k - 1] for k in keep]
            lut = lut2[lut]
            ref_lab = labels(ref)
        prev_lab = labels(prev)
        eroded = np.zeros_like(prev_lab)
        for k in range(1, len(ids) + 1):
            eroded[erode_mask((prev_lab == k).astype(np.uint8), rng, self.erosion, self.p_erosion) > 0] = k
        return {
            "ref_frame": frame(ref),
            "ref_labels": torch.from_numpy(np.ascontiguousarray(ref_lab)),
            "prev_labels": torch.from_numpy(np.ascontiguousarray(eroded)),
            "frames": torch.stack([frame(i) for i in clip]),
            "labels": torch.from_numpy(np.ascontiguousarray(np.stack([labels(i) for i in clip]))),
            "num_objects": len(ids),
            "sequence": seq.name,
            "frame_indices": torch.tensor(clip),
            "index": int(index),
        }
