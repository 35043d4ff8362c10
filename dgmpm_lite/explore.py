"""Probing a model: the measurements the notebooks make on it (01-04, 09).

Each function takes a model, tensors or arrays and returns numbers or arrays, never a
picture: a video at the size the model was trained at (:func:`at_working_size`), the PCA of
reference embeddings and anchors (:func:`embedding_pca`), every map of one run over a video
(:func:`run_with_maps`, :class:`VideoMaps`) and which of its frames
show an object (:func:`visible_frames`), a pixel's distances to the anchors, knock-outs and
what they cost (:func:`knockout_scores`), distance maps over a video, means over mask
regions, shapes recorded at named decoder layers, shifted masks. Figures of these live in :mod:`dgmpm_lite.viz`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np
import torch

from .data.metadata import spread_evenly
from .data.sequence import VideoSequence, resize_short_side
from .infer import VideoSegmenter, frame_to_tensor
from .metrics import db_eval_iou, disk_kernel
from .model import distance_map
from .model.attention import SpatialAttentionBlock, upsample_to
from .model.backbone import upsample


class EmbeddingProjection(NamedTuple):
    """Reference embeddings and the two anchors projected onto the same 2-D PCA plane."""

    points: np.ndarray  # (M, 2) sampled reference pixels
    is_foreground: np.ndarray  # (M,) bool, from the reference mask
    fg_anchor: np.ndarray  # (2,) eq. 3
    bg_anchor: np.ndarray  # (2,) eq. 4
    extra: np.ndarray  # (N, 2) any further vectors (e.g. chosen target pixels)
    components: np.ndarray  # (2, C) principal directions
    mean: np.ndarray  # (C,) centre of the sampled embeddings
    explained: np.ndarray  # (2,) fraction of the variance along each direction


def embedding_pca(
    embedding: torch.Tensor | np.ndarray,
    mask: torch.Tensor | np.ndarray,
    fg_anchor: torch.Tensor | np.ndarray,
    bg_anchor: torch.Tensor | np.ndarray,
    extra: torch.Tensor | np.ndarray | None = None,
    max_points: int = 2000,
    seed: int = 0,
) -> EmbeddingProjection:
    """Project per-pixel embeddings (C, H, W) and the anchors (C,) onto their 2 principal axes.

    The plane is fitted on the reference pixels (a seeded sample of at most ``max_points``,
    foreground and background sampled in proportion). The anchors are the masked means of
    eq. 3-4, and PCA is linear, so each projected anchor is exactly the mean of the projected
    pixels of its class: the picture shows the anchors as cluster centres. Distances in the
    plane are only an approximation of the 64-d Euclidean distances of eq. 5.
    """
    emb = _numpy(embedding)
    if emb.ndim == 4 and emb.shape[0] == 1:
        emb = emb[0]
    if emb.ndim != 3:
        raise ValueError(f"embedding must be (C, H, W), got shape {emb.shape}")
    c, h, w = emb.shape
    m = _numpy(mask).squeeze()
    if m.shape != (h, w):
        raise ValueError(f"mask is {m.shape} but the embedding is {h}x{w}")
    fg, bg = _numpy(fg_anchor).reshape(-1), _numpy(bg_anchor).reshape(-1)
    if fg.shape != (c,) or bg.shape != (c,):
        raise ValueError(f"anchors must have {c} channels, got {fg.shape} and {bg.shape}")
    vectors = emb.reshape(c, -1).T.astype(np.float64)
    labels = m.reshape(-1) > 0.5
    rng = np.random.default_rng(seed)
    idx = (
        np.arange(len(vectors))
        if len(vectors) <= max_points
        else np.sort(rng.choice(len(vectors), max_points, replace=False))
    )
    sample, sample_fg = vectors[idx], labels[idx]
    mean = sample.mean(axis=0)
    _, s, vt = np.linalg.svd(sample - mean, full_matrices=False)
    components = vt[:2]
    var = s**2
    explained = var[:2] / max(var.sum(), 1e-12)

    def project(x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64).reshape(-1, c) - mean) @ components.T

    more = np.zeros((0, 2)) if extra is None else project(_numpy(extra))
    return EmbeddingProjection(
        project(sample), sample_fg, project(fg)[0], project(bg)[0], more, components, mean, explained
    )


def _numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


# -- one pass over a video, keeping what the widgets show ------------------------------------


@dataclass
class VideoMaps:
    """A video segmented by DGMPM with every intermediate map kept (small videos only), at the
    model's working size (:func:`run_with_maps`).

    Frame 0 is the reference: its label map is the given mask and it has no maps.
    """

    name: str
    frames: list[np.ndarray]  # uint8 (H, W, 3)
    ground_truth: list[np.ndarray | None]  # (H, W) ids, or None where not annotated
    labels: list[np.ndarray]  # (H, W) predicted ids (frame 0: the given mask)
    object_ids: list[int]
    reference_masks: np.ndarray  # (K, H, W) bool
    reference_embedding: np.ndarray | None  # (C, H, W) float16, None for -EDM models
    fg_anchors: np.ndarray | None  # (K, C), eq. 3
    bg_anchors: np.ndarray | None  # (K, C), eq. 4
    outputs: list  # per frame a DGMPMOutput on the CPU (None for frame 0)
    embeddings: list  # per frame (C, H, W) float16 array (None for frame 0 or -EDM)

    def __len__(self) -> int:
        return len(self.frames)

    def check_frame(self, t: int, allow_reference: bool = False) -> None:
        lo = 0 if allow_reference else 1
        if not lo <= t < len(self.frames):
            raise IndexError(f"frame {t} is out of range: this video has frames {lo}..{len(self.frames) - 1}")

    def object_index(self, obj: int) -> int:
        if obj not in self.object_ids:
            raise ValueError(f"object {obj} is not in this video; its objects are {self.object_ids}")
        return self.object_ids.index(obj)


def visible_frames(maps: VideoMaps, obj: int, k: int = 4, min_fraction: float = 0.5) -> list[int]:
    """Which frames of a run to show for object ``obj`` (the rule of notebook 09's Fig. 4 analogue).

    Candidates are the annotated frames 1..T-1 where the object's ground truth covers at least
    ``min_fraction`` of its area in the reference frame (so a hidden or mostly hidden object is
    never the one shown); if fewer than ``k`` qualify, every frame where it is visible at all.
    Returns ``k`` of them spread evenly from the first candidate to the last (all if fewer).
    """

    k_obj = maps.object_index(obj)
    ref_area = int(maps.reference_masks[k_obj].sum())
    area = {t: int((gt == obj).sum()) for t, gt in enumerate(maps.ground_truth) if t > 0 and gt is not None}
    frames = [t for t, a in area.items() if a >= min_fraction * ref_area and a > 0]
    if len(frames) < k:
        frames = [t for t, a in area.items() if a > 0]
    return spread_evenly(frames, k)


def at_working_size(sequence, model) -> VideoSequence:
    """A video at ``model``'s working size (where inference runs it), to probe the model by hand
    (``model.encode_target``, ``model.segment``...) on objects at the scale it learnt them,
    as inference (:class:`~dgmpm_lite.infer.VideoSegmenter`) runs it.

    The short side is the model's ``working_short_side``, aspect kept
    (:func:`~dgmpm_lite.data.sequence.working_shape`); a model without one, or a video already at it,
    gets the frames unchanged. Returns a :class:`~dgmpm_lite.data.VideoSequence` with the
    video's ``name`` and length whose ``frame(t)`` is area-averaged and ``mask(t)``
    nearest-neighbour (ids stay ids); ``label_map(ids)`` puts any other (H, W) id map of the
    video, e.g. :func:`~dgmpm_lite.data.read_instances`, on the same grid. Read lazily.
    """
    return _WorkingSizeVideo(sequence, getattr(model, "working_short_side", None) or 0)


class _WorkingSizeVideo(VideoSequence):
    """A video resized on the fly to a short side of ``short_side`` (0: unchanged), see :func:`at_working_size`."""

    def __init__(self, video, short_side: int) -> None:
        self.video, self.short_side = video, int(short_side)
        self.name = getattr(video, "name", "video")

    def __len__(self) -> int:
        return len(self.video)

    def frame(self, i: int) -> np.ndarray:
        return resize_short_side(self.video.frame(i), self.short_side, cv2.INTER_AREA)

    def mask(self, i: int) -> np.ndarray | None:
        return self.label_map(self.video.mask(i))

    def label_map(self, ids: np.ndarray | None) -> np.ndarray | None:
        """An (H, W) uint8 id map of the video on the frames' grid (nearest neighbour; None stays None)."""
        return None if ids is None else resize_short_side(np.asarray(ids), self.short_side, cv2.INTER_NEAREST)

    @property
    def num_objects(self) -> int:
        return self.video.num_objects


def run_with_maps(model, sequence, max_frames: int = 0, device="cpu") -> VideoMaps:
    """Segment ``sequence`` (a :class:`~dgmpm_lite.data.VideoSequence`) with the paper's
    inference (:class:`dgmpm_lite.infer.VideoSegmenter`) and keep every map for the widgets.

    Everything is kept at the size the model runs at (its recorded working size, see
    :mod:`dgmpm_lite.infer`; the video's own size for a model without one): the frames, the
    masks, the maps and the embeddings share one pixel grid, so a pixel (y, x) means the same
    place in all of them."""

    video = at_working_size(sequence, model)  # so maps, embeddings and pixels agree
    n = len(video) if not max_frames else min(len(video), max_frames)
    if n < 2:
        raise ValueError("the video needs at least two frames")
    seg = VideoSegmenter(model, device, amp=False, working_size=0)
    frames = [video.frame(0)]
    first = video.mask(0)
    labels = [seg.start(frames[0], first)]
    ids = [int(i) for i in seg.object_ids.cpu()]
    ref_masks = np.stack([first == i for i in ids])
    ref_emb = fg = bg = None
    if model.use_distance:
        with torch.inference_mode():
            ref_emb = model.encode_target(_to_tensor(frames[0], seg.device)).embedding
        ref_emb = ref_emb[0].cpu().half().numpy()
        fg = seg.reference.fg_anchor.cpu().numpy()
        bg = seg.reference.bg_anchor.cpu().numpy()
    outputs, embeddings = [None], [None]
    for t in range(1, n):
        frames.append(video.frame(t))
        pred = seg.step(frames[-1], return_maps=True)
        labels.append(pred.labels)
        outputs.append(type(pred.maps)(*(_cpu(x) for x in pred.maps)))
        embeddings.append(None if pred.embedding is None else pred.embedding[0].cpu().half().numpy())
    gt = [video.mask(t) for t in range(n)]
    return VideoMaps(video.name, frames, gt, labels, ids, ref_masks, ref_emb, fg, bg, outputs, embeddings)


def _to_tensor(frame, device):

    return frame_to_tensor(frame, device)


def _cpu(x):
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu()
    if isinstance(x, list):
        return [_cpu(a) for a in x]
    return x


# -- the pure functions behind each widget ----------------------------------------------------


class PixelDistances(NamedTuple):
    d_fg: float  # ||t_n - a_f||
    d_bg: float  # ||t_n - a_b||
    e: float  # eq. 5: sigmoid(d_bg - d_fg)


def pixel_distances(maps: VideoMaps, t: int, obj: int, y: int, x: int) -> PixelDistances:
    """The two Euclidean distances of eq. 5 for target pixel (y, x) of frame ``t``, object ``obj``."""
    maps.check_frame(t)
    k = maps.object_index(obj)
    if maps.embeddings[t] is None:
        raise ValueError("this model has no embedding distance module (-EDM)")
    h, w = maps.frames[t].shape[:2]
    if not (0 <= y < h and 0 <= x < w):
        raise IndexError(f"pixel ({y}, {x}) is outside the {h}x{w} frame")
    if maps.embeddings[t].shape[1:] != (h, w):  # VideoMaps keeps one grid; never index another
        raise ValueError(f"the embedding is {maps.embeddings[t].shape[1:]} but the frame {h}x{w}: rerun run_with_maps")
    v = maps.embeddings[t][:, y, x].astype(np.float64)
    d_fg = float(np.linalg.norm(v - maps.fg_anchors[k]))
    d_bg = float(np.linalg.norm(v - maps.bg_anchors[k]))
    return PixelDistances(d_fg, d_bg, float(1.0 / (1.0 + np.exp(-(d_bg - d_fg)))))


KNOCKOUTS = ("none", "distance map", "previous mask", "spatial attention")


@torch.inference_mode()
def knockout(model, maps: VideoMaps, t: int, switch_off: str = "none") -> np.ndarray:
    """Re-run frame ``t`` of ``maps`` with one component switched off; returns (K, H, W)
    foreground probabilities.

    This is an *inference-time knock-out* of the trained full model, not the retrained
    ablation of notebook 08: the distance map is replaced by a constant 0.5 ("no opinion"),
    the previous mask by zeros, or every attention map by ones (eq. 8 then passes the
    shallow feature unchanged). It shows how much the trained model relies on each guide.
    The previous masks are the model's own predictions of frame ``t - 1``, as in inference.
    """

    if switch_off not in KNOCKOUTS:
        raise ValueError(f"switch_off must be one of {KNOCKOUTS}, got {switch_off!r}")
    maps.check_frame(t)
    device = next(model.parameters()).device
    ref_frame = frame_to_tensor(maps.frames[0], device)
    masks = torch.from_numpy(maps.reference_masks.astype(np.float32))[:, None].to(device)
    reference = model.encode_reference(ref_frame, masks)
    prev = torch.from_numpy(np.stack([maps.labels[t - 1] == i for i in maps.object_ids]).astype(np.float32))[
        :, None
    ].to(device)
    target = model.encode_target(frame_to_tensor(maps.frames[t], device))
    override = None
    if switch_off == "distance map":
        if not model.use_distance:
            raise ValueError("this model has no distance map to switch off")
        override = torch.full_like(prev, 0.5)
    if switch_off == "previous mask":
        if not model.use_prev_mask:
            raise ValueError("this model does not use the previous mask")
        prev = torch.zeros_like(prev)
    hooks = []
    if switch_off == "spatial attention":
        blocks = [b for b in model.decoder.attention if isinstance(b, SpatialAttentionBlock)]
        if not blocks:
            raise ValueError("this model has no spatial attention blocks")

        def open_gate(module, inputs, output):
            shallow, deep = inputs
            deep_up = upsample_to(deep, shallow)
            return torch.cat([deep_up, shallow], dim=1), torch.ones_like(output[1])

        hooks = [b.register_forward_hook(open_gate) for b in blocks]
    try:
        out = model.decode(target, reference, prev, distance_override=override)
    finally:
        for h in hooks:
            h.remove()
    return out.logits.float().softmax(dim=1)[:, 1].cpu().numpy()


def knockout_scores(model, maps: VideoMaps, frames, switches=KNOCKOUTS) -> dict[str, float]:
    """Mean region similarity J (IoU with the ground truth, :func:`dgmpm_lite.metrics.db_eval_iou`)
    of every object over ``frames`` when each of ``switches`` is knocked out (:func:`knockout`);
    ``"none"`` is the model as trained. A knock-out a model cannot undergo (e.g. the distance
    map of a -EDM model) is left out. Returns ``{switch: J}`` in the order of ``switches``."""

    frames = [int(t) for t in frames]
    if not frames:
        raise ValueError("no frames to score")
    scores = {}
    for switch in switches:
        try:
            probs = [knockout(model, maps, t, switch) for t in frames]
        except ValueError:  # this model has no such component
            continue
        ious = [
            db_eval_iou(maps.ground_truth[t] == obj, p[k] > 0.5)
            for t, p in zip(frames, probs)
            for k, obj in enumerate(maps.object_ids)
        ]
        scores[switch] = float(np.mean(ious))
    return scores


def embedding_contributions(extractor, side_outputs: list[torch.Tensor], size: tuple[int, int]) -> list[torch.Tensor]:
    """Each level's term of the multi-level embedding: ``up(conv3x3(side output))`` (III-A).

    ``extractor`` is a :class:`dgmpm_lite.model.FeatureExtractor`; the returned five
    (B, 64, H, W) tensors sum to ``extractor.embed(side_outputs, size)`` (upsampling is
    linear, so upsampling each level's map and summing equals summing and upsampling).
    """

    if extractor.side_convs is None:
        raise ValueError("this FeatureExtractor has no embedding head (built with with_embedding=False)")
    if len(side_outputs) != len(extractor.side_convs):
        raise ValueError(
            f"expected {len(extractor.side_convs)} side outputs (conv1, res2..res5), got {len(side_outputs)}"
        )
    return [upsample(level, size) for level in extractor.level_maps(side_outputs)]


@torch.no_grad()
def video_distance_maps(model, frames, ref_frame: torch.Tensor, ref_masks: torch.Tensor) -> torch.Tensor:
    """Embedding distance maps (eq. 5) of several target frames against one reference.

    ``frames`` is an iterable of (1, 3, H, W) tensors in [0, 1]; the reference is encoded
    once (anchors, eq. 1-4) as in inference. Returns (T, K, H, W) maps for K objects. Only
    the feature extractor runs (no decoder, no previous mask).
    """

    if not model.use_distance:
        raise ValueError("this model has no embedding distance module (use_distance=False, the -EDM ablation)")
    ref = model.encode_reference(ref_frame, ref_masks)
    maps = [distance_map(model.encode_target(x).embedding, ref.fg_anchor, ref.bg_anchor)[:, 0] for x in frames]
    if not maps:
        raise ValueError("no target frames given")
    return torch.stack(maps)


def region_means(values, regions: dict) -> dict:
    """Mean of a (h, w) map inside each named boolean (H, W) region (NaN for an empty region).

    The map is resized bilinearly to the regions' size first (attention maps are coarse).
    """
    out = {}
    for name, r in regions.items():
        r = np.asarray(r, dtype=bool)
        m = heatmap(
            values if isinstance(values, torch.Tensor) else torch.as_tensor(np.asarray(values, dtype=np.float32)),
            r.shape,
        )
        if m.shape != r.shape:
            raise ValueError(f"region {name!r} is {r.shape} but the map is {m.shape}")
        out[name] = float(m[r].mean()) if r.any() else float("nan")
    return out


def boundary_regions(mask, width: int = 3) -> dict:
    """Split a frame by a binary (H, W) mask into ``boundary`` (a band of about ``2 * width``
    pixels around the contour), ``interior`` (object minus band) and ``background``.
    """

    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"mask must be (H, W), got shape {m.shape}")
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    m = (m > 0.5).astype(np.uint8)
    k = disk_kernel(width)
    band = (cv2.dilate(m, k) > 0) & ~(cv2.erode(m, k) > 0)
    return {"boundary": band, "interior": (m > 0) & ~band, "background": (m == 0) & ~band}


def shift_mask(mask, dy: int, dx: int):
    """Move a (…, H, W) mask by (dy, dx) pixels, filling with zeros (no wrap-around).

    Works on tensors and arrays; returns the same type.
    """
    is_tensor = isinstance(mask, torch.Tensor)
    if (mask.dim() if is_tensor else np.ndim(mask)) < 2:
        raise ValueError("mask must have at least 2 dimensions (H, W)")
    out = torch.zeros_like(mask) if is_tensor else np.zeros_like(mask)
    h, w = mask.shape[-2:]
    dy, dx = int(dy), int(dx)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    src_y, dst_y = slice(max(0, -dy), h - max(0, dy)), slice(max(0, dy), h - max(0, -dy))
    src_x, dst_x = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
    out[..., dst_y, dst_x] = mask[..., src_y, src_x]
    return out


def record_shapes(model, names, run) -> dict:
    """Output shapes of the named submodules of ``model`` while ``run()`` executes.

    ``names`` are dotted names as in ``model.named_modules()``; a module called several
    times keeps the last shape. Tuple outputs (e.g. an attention block's ``(F_o, alpha)``)
    give a tuple of shapes (None for None). Hooks are removed afterwards, also on error.
    """
    modules = dict(model.named_modules())
    missing = [n for n in names if n not in modules]
    if missing:
        raise KeyError(f"no submodule {missing[0]!r} in {type(model).__name__}")

    def shape(x):
        if isinstance(x, torch.Tensor):
            return tuple(x.shape)
        if isinstance(x, (tuple, list)):
            return tuple(shape(y) for y in x)
        return None

    shapes: dict = {}
    hooks = [modules[n].register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, shape(o))) for n in names]
    try:
        run()
    finally:
        for h in hooks:
            h.remove()
    return {n: shapes.get(n) for n in names}


def central_pixel(mask) -> tuple[int, int]:
    """``(y, x)`` of the mask pixel farthest from the mask's border (the deepest inside it).

    Unlike the centroid it always lies inside the mask, also for rings and crescents.
    Ties go to the first pixel in row-major order. Pixels beyond the frame count as outside.
    """

    m = heatmap(mask) if isinstance(mask, torch.Tensor) else np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"mask must be (H, W), got shape {m.shape}")
    m = (m > 0.5).astype(np.uint8)
    if not m.any():
        raise ValueError("the mask is empty: it has no pixel to pick")
    depth = cv2.distanceTransform(np.pad(m, 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(depth)), depth.shape)
    return int(y), int(x)


def heatmap(x: torch.Tensor | np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """A (h, w) map (distance or attention) as a float array, optionally resized to ``size``."""
    if isinstance(x, torch.Tensor):
        x = x.detach().float().cpu()
        while x.dim() > 2:
            x = x[0]
        if size is not None:
            x = upsample(x[None, None], size)[0, 0]
        return x.numpy()
    return np.asarray(x, dtype=np.float32)
