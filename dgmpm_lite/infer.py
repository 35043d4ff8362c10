"""Inference on a whole video (paper section IV-B-2).

The annotated first frame is the reference and is encoded **once** (anchors per object).
Then, frame by frame:

1. the target frame is encoded **once** (ResNet side outputs and embedding), and those
   features are shared by all K objects;
2. the K objects go through the embedding distance module and the decoder together, as a
   batch of K, each guided by *its own* previous mask;
3. the label map takes, per pixel, the object with the largest foreground probability, and
   background where no object's foreground probability exceeds 0.5 (i.e. its background
   probability).

Each object's previous mask for the next frame is its region in that fused label map (so two
objects never claim the same pixel as guidance).

**Working size.** A model sees objects at the scale it was trained at: one trained on frames
with a short side of 160 pixels finds a 480p object two or three times too large. So frames
are resized to the model's *working size* (the short side recorded with a shipped or
trained checkpoint, ``model.working_short_side``: the short side it was trained at unless its
training config's ``working_size`` names another; ``working_size=`` overrides it, 0 = the
frames' own size), and the foreground probabilities are upsampled back to the frame's own
size before the fusion, so the masks come out at the input's native size. The previous
masks are fused at the working size, where the model reads them. Only the current frame and the previous
masks are kept, so memory stays flat however long the video is: :func:`segment_video` is a
generator that reads frames lazily and yields one label map at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from .baselines import CopyFirstMask, FlowPropagation
from .data.sequence import working_shape
from .device import autocast, autocast_dtype, precision_name, resolve_device
from .model import DGMPM, DGMPMOutput, ReferenceEncoding


class FramePrediction(NamedTuple):
    labels: np.ndarray
    """(H, W) uint8 object ids (0 = background), the ids of the first-frame mask."""
    probabilities: np.ndarray | None
    """(K, H, W) float32 foreground probability per object, when asked for."""
    maps: DGMPMOutput | None = None
    """The model's intermediate maps (distance map, anchors, attention), when asked for."""
    embedding: torch.Tensor | None = None
    """(1, C, H, W) embedding of the target frame, when maps are asked for (and the model has one)."""


def frame_to_tensor(
    frame: np.ndarray | torch.Tensor, device: torch.device, channels_last: bool = False
) -> torch.Tensor:
    """uint8 (H, W, 3) RGB array (or a (3, H, W) float tensor) -> (1, 3, H, W) float in [0, 1].

    ``channels_last`` returns it in the channels_last memory format (same values).
    """
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    if isinstance(frame, torch.Tensor):
        t = frame if frame.dim() == 4 else frame[None]
        return t.to(device=device, dtype=torch.float32).contiguous(memory_format=fmt)
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"a frame must be an (H, W, 3) RGB array, got shape {frame.shape}")
    if frame.dtype != np.uint8:
        raise ValueError(f"a frame array must be uint8 (0..255), got {frame.dtype}")
    return torch.from_numpy(frame).to(device).permute(2, 0, 1)[None].float().div_(255).contiguous(memory_format=fmt)


def fuse_labels(fg_probs: torch.Tensor, object_ids: torch.Tensor) -> torch.Tensor:
    """Per pixel, the id of the object with the largest foreground probability.

    ``fg_probs`` (K, H, W); background (0) where no probability exceeds 0.5.
    """
    best, index = fg_probs.max(dim=0)
    return torch.where(best > 0.5, object_ids[index], torch.zeros_like(index))


def object_masks(labels: torch.Tensor, object_ids: torch.Tensor) -> torch.Tensor:
    """(H, W) label map -> (K, 1, H, W) float {0, 1} masks, one per id of ``object_ids``."""
    return (labels[None] == object_ids[:, None, None]).float()[:, None]


def _float32(x):
    """Maps for pictures in float32 whatever the autocast type (numpy has no bfloat16)."""
    if isinstance(x, torch.Tensor):
        return x.float()
    if isinstance(x, DGMPMOutput):
        return DGMPMOutput(*(_float32(v) for v in x))
    if isinstance(x, list):
        return [_float32(v) for v in x]
    return x


class VideoSegmenter:
    """Streaming DGMPM inference: ``start`` with the first frame and mask, then ``step``.

    Args:
        model: a :class:`DGMPM` (put in eval mode and moved to ``device`` here).
        device: ``"auto"`` (cuda, mps, cpu), or any torch device string.
        amp: mixed precision where the hardware runs it natively: float16 on CUDA, bfloat16
            on CPUs with AVX512-BF16 or AMX (:func:`~dgmpm_lite.device.autocast_dtype`);
            float32 elsewhere. ``False`` keeps float32 everywhere (bit-for-bit comparisons).
        channels_last: convolutions in the channels_last (NHWC) memory format, which
            oneDNN and cuDNN run faster; the values are the same.
        working_size: short side (pixels) the model runs at; ``None`` takes the model's
            recorded ``working_short_side`` (native size if it has none), ``0`` the frames'
            own size. Labels and probabilities are returned at the frames' own size; maps
            (``return_maps``) at the working size.

    On a 2-core AVX512-BF16 CPU the two together make a ResNet-18 frame about 2 times
    faster than float32 NCHW (README, "Speed"); the masks agree with float32 on more than
    99.5 % of the pixels (``tests/test_infer.py``).
    """

    def __init__(
        self,
        model: DGMPM,
        device: str | torch.device = "auto",
        amp: bool = True,
        channels_last: bool = True,
        working_size: int | None = None,
    ) -> None:
        chosen = getattr(model, "working_short_side", None) if working_size is None else working_size
        if chosen is not None and int(chosen) < 0:
            raise ValueError(f"working_size must be >= 0 (0 = the frames' own size), got {chosen}")
        self.working_size = int(chosen or 0)
        self.native_size: tuple[int, int] | None = None
        self.work_size: tuple[int, int] | None = None
        self.device = device if isinstance(device, torch.device) else resolve_device(device)
        self.channels_last = bool(channels_last)
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        self.model = model.to(self.device, memory_format=fmt).eval()
        self.amp_dtype = autocast_dtype(self.device, amp)
        self.precision = precision_name(self.amp_dtype)
        self.reference: ReferenceEncoding | None = None
        self.prev_masks: torch.Tensor | None = None
        self.object_ids: torch.Tensor | None = None

    def _to_work(self, x: torch.Tensor) -> torch.Tensor:
        """A (1, 3, H, W) frame at the working size (antialiased bilinear); unchanged at native size."""
        if self.work_size is None or tuple(x.shape[-2:]) == self.work_size:
            return x
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        return F.interpolate(x, size=self.work_size, mode="bilinear", antialias=True, align_corners=False).contiguous(
            memory_format=fmt
        )

    @torch.inference_mode()
    def start(self, first_frame, first_labels: np.ndarray) -> np.ndarray:
        """Encode the reference frame and its label map (object ids 1..K); returns the labels."""
        frame = frame_to_tensor(first_frame, self.device, self.channels_last)
        labels = np.asarray(first_labels)
        if labels.ndim != 2:
            raise ValueError(f"the first-frame labels must be an (H, W) array, got shape {labels.shape}")
        if labels.shape != tuple(frame.shape[-2:]):
            raise ValueError(
                f"the first frame is {frame.shape[-2]}x{frame.shape[-1]} "
                f"but its mask is {labels.shape[0]}x{labels.shape[1]}"
            )
        ids = np.unique(labels)
        ids = ids[ids != 0]
        if ids.size == 0:
            raise ValueError("the first-frame mask is empty: there is no object to segment")
        self.native_size = labels.shape
        self.work_size = working_shape(labels.shape, self.working_size)
        lab = torch.from_numpy(labels.astype(np.int64)).to(self.device)
        self.object_ids = torch.from_numpy(ids.astype(np.int64)).to(self.device)
        masks = object_masks(lab, self.object_ids)  # (K, 1, H, W)
        if self.work_size is not None:
            frame = self._to_work(frame)
            cover = F.interpolate(masks, size=self.work_size, mode="area")
            # >= half covered, and an object never vanishes: keep its best-covered pixel
            peak = cover.flatten(1).amax(1).clamp_min(1e-6)[:, None, None, None]
            masks = ((cover >= 0.5) | ((cover >= peak) & (cover > 0))).float()
        with autocast(self.device, self.amp_dtype):
            self.reference = self.model.encode_reference(frame, masks)
        self.prev_masks = masks
        return labels.astype(np.uint8)

    @torch.inference_mode()
    def step(self, frame, return_probabilities: bool = False, return_maps: bool = False) -> FramePrediction:
        """Segment the next frame; updates each object's previous mask.

        ``return_maps`` also returns the model's intermediate maps and the frame's embedding
        (for the notebooks' pictures and widgets).
        """
        if self.reference is None:
            raise RuntimeError("call start(first_frame, first_labels) before step()")
        x = frame_to_tensor(frame, self.device, self.channels_last)
        if tuple(x.shape[-2:]) != self.native_size:
            raise ValueError(
                f"frame is {x.shape[-2]}x{x.shape[-1]} but the first frame was "
                f"{self.native_size[0]}x{self.native_size[1]}: frames of a video must share one size"
            )
        with autocast(self.device, self.amp_dtype):
            target = self.model.encode_target(self._to_work(x))
            out = self.model.decode(target, self.reference, self.prev_masks, return_maps=return_maps)
        fg = out.logits.float().softmax(dim=1)[:, 1]  # (K, h, w) at the working size
        work_labels = fuse_labels(fg, self.object_ids)
        self.prev_masks = object_masks(work_labels, self.object_ids)
        if self.work_size is not None:  # probabilities back to the frame's own size, then fuse
            fg = F.interpolate(fg[None], size=self.native_size, mode="bilinear", align_corners=False)[0]
            labels = fuse_labels(fg, self.object_ids)
        else:
            labels = work_labels
        probs = fg.cpu().numpy() if return_probabilities else None
        labels = labels.to(torch.uint8).cpu().numpy()
        if not return_maps:
            return FramePrediction(labels, probs)
        return FramePrediction(labels, probs, _float32(out), _float32(target.embedding))


def segment_video(
    model: DGMPM,
    frames: Iterable,
    first_labels: np.ndarray,
    device: str | torch.device = "auto",
    return_probabilities: bool = False,
    amp: bool = True,
    channels_last: bool = True,
    working_size: int | None = None,
) -> Iterator[FramePrediction]:
    """Yield a :class:`FramePrediction` for every frame; the first is the given mask.

    ``frames`` is any iterable of uint8 (H, W, 3) RGB arrays, read one at a time (pass a
    generator such as ``(seq.frame(i) for i in range(len(seq)))`` for a long video).
    """
    segmenter = VideoSegmenter(model, device, amp, channels_last, working_size)
    it = iter(frames)
    try:
        first = next(it)
    except StopIteration:
        raise ValueError("the video has no frames") from None
    labels = segmenter.start(first, first_labels)
    k = len(segmenter.object_ids)
    first_probs = None
    if return_probabilities:
        first_probs = (
            np.stack([(labels == int(i)).astype(np.float32) for i in segmenter.object_ids.cpu()]) if k else None
        )
    yield FramePrediction(labels, first_probs)
    for frame in it:
        yield segmenter.step(frame, return_probabilities)


METHODS = ("dgmpm", "flow", "copy")
"""DGMPM and the two classic baselines of :mod:`dgmpm_lite.baselines`, run the same way."""


def propagate(
    method: str,
    frames: Iterable[np.ndarray],
    first_labels: np.ndarray,
    model: DGMPM | None = None,
    device: str | torch.device = "auto",
    working_size: int | None = None,
) -> Iterator[np.ndarray]:
    """Yield one uint8 label map per frame (the first is ``first_labels``) for any method.

    ``"dgmpm"`` needs ``model``; ``"flow"`` propagates the previous mask with dense optical
    flow; ``"copy"`` repeats the first mask. Frames are read lazily, memory stays flat.
    ``working_size`` is :class:`VideoSegmenter`'s (DGMPM only).
    """
    if method == "dgmpm":
        if model is None:
            raise ValueError("method 'dgmpm' needs a model")
        for pred in segment_video(model, frames, first_labels, device=device, working_size=working_size):
            yield pred.labels
        return

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {METHODS}")
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise ValueError("the video has no frames")
    labels = np.asarray(first_labels).astype(np.uint8)
    runner = (FlowPropagation if method == "flow" else CopyFirstMask)(first, labels)
    yield labels
    for frame in it:
        yield runner.step(frame)
