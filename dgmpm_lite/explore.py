"""Pure functions behind the exploration widgets (notebooks 02 and 09).

Each function takes tensors or arrays and returns numbers or an image; the widgets in
:mod:`dgmpm_lite.widgets` only wire sliders to them, and pytest tests them directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import colormaps

from .infer import VideoSegmenter, frame_to_tensor
from .model.attention import SpatialAttentionBlock, upsample_to
from .viz import heatmap, overlay, plot_embedding_pca


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
    """A video segmented by DGMPM with every intermediate map kept (small videos only).

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


def run_with_maps(model, sequence, max_frames: int = 0, device="cpu") -> VideoMaps:
    """Segment ``sequence`` (a :class:`~dgmpm_lite.data.VideoSequence`) with the paper's
    inference (:class:`dgmpm_lite.infer.VideoSegmenter`) and keep every map for the widgets."""

    n = len(sequence) if not max_frames else min(len(sequence), max_frames)
    if n < 2:
        raise ValueError("the video needs at least two frames")
    seg = VideoSegmenter(model, device, amp=False)
    frames = [sequence.frame(0)]
    first = sequence.mask(0)
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
        frame = sequence.frame(t)
        pred = seg.step(frame, return_maps=True)
        frames.append(frame)
        labels.append(pred.labels)
        outputs.append(type(pred.maps)(*(_cpu(x) for x in pred.maps)))
        embeddings.append(None if pred.embedding is None else pred.embedding[0].cpu().half().numpy())
    gt = [sequence.mask(t) for t in range(n)]
    return VideoMaps(
        getattr(sequence, "name", "video"), frames, gt, labels, ids, ref_masks, ref_emb, fg, bg, outputs, embeddings
    )


def _to_tensor(frame, device):

    return frame_to_tensor(frame, device)


def _cpu(x):
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu()
    if isinstance(x, list):
        return [_cpu(a) for a in x]
    return x


# -- the pure functions behind each widget ----------------------------------------------------


def scrubber_image(maps: VideoMaps, t: int, show: str = "prediction") -> np.ndarray:
    """Frame ``t`` with the predicted (or ground-truth) label map over it: uint8 (H, W, 3)."""

    maps.check_frame(t, allow_reference=True)
    if show not in ("prediction", "ground truth"):
        raise ValueError(f"show must be 'prediction' or 'ground truth', got {show!r}")
    labels = maps.labels[t] if show == "prediction" else maps.ground_truth[t]
    return overlay(maps.frames[t], np.zeros(maps.frames[t].shape[:2], np.uint8) if labels is None else labels)


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
    v = maps.embeddings[t][:, y, x].astype(np.float64)
    d_fg = float(np.linalg.norm(v - maps.fg_anchors[k]))
    d_bg = float(np.linalg.norm(v - maps.bg_anchors[k]))
    return PixelDistances(d_fg, d_bg, float(1.0 / (1.0 + np.exp(-(d_bg - d_fg)))))


def anchor_explorer_figure(maps: VideoMaps, t: int, obj: int, y: int, x: int):
    """Reference pixels and both anchors in the PCA plane, the chosen target pixel with its
    distances (eq. 5), and where that pixel lies in frame ``t``. Returns a matplotlib figure."""

    dist = pixel_distances(maps, t, obj, y, x)
    k = maps.object_index(obj)
    target_vec = maps.embeddings[t][:, y, x]
    proj = embedding_pca(
        maps.reference_embedding,
        maps.reference_masks[k],
        maps.fg_anchors[k],
        maps.bg_anchors[k],
        extra=target_vec[None],
    )
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(9.5, 3.8), gridspec_kw={"width_ratios": [1.1, 1]})
    title = f"d(t,a_f)={dist.d_fg:.2f}  d(t,a_b)={dist.d_bg:.2f}  e={dist.e:.2f}  (64-d, eq. 5)"
    plot_embedding_pca(proj, extra_labels=["chosen target pixel $t_n$"], ax=ax0, title=title)
    for a in (proj.fg_anchor, proj.bg_anchor):
        ax0.plot([proj.extra[0, 0], a[0]], [proj.extra[0, 1], a[1]], "k--", lw=0.8)
    ax1.imshow(overlay(maps.frames[t], maps.labels[t]))
    ax1.scatter([x], [y], marker="D", s=70, c="tab:green", edgecolors="black")  # as in the scatter
    ax1.set_title(f"frame {t}: the chosen pixel", fontsize=8)
    ax1.axis("off")
    fig.tight_layout()
    return fig


def distance_map_image(maps: VideoMaps, t: int, obj: int) -> np.ndarray:
    """The eq. 5 distance map of object ``obj`` in frame ``t`` as a uint8 RGB picture (magma)."""
    maps.check_frame(t)
    k = maps.object_index(obj)
    dist = maps.outputs[t].distance_map
    if dist is None:
        raise ValueError("this model has no embedding distance module (-EDM)")
    return colormap(dist[k, 0].numpy())


def attention_images(maps: VideoMaps, t: int, obj: int) -> list[np.ndarray]:
    """The attention maps of the three blocks (res2 shallow .. res4 deep) of object ``obj``
    in frame ``t``, each resized to the frame and coloured: a list of uint8 RGB arrays."""

    maps.check_frame(t)
    k = maps.object_index(obj)
    att = maps.outputs[t].attention_maps
    if not att or any(a is None or a.shape[1] != 1 for a in att):
        raise ValueError("this model has no spatial attention maps (the -SAB or -SAB+CAB variant)")
    size = maps.frames[t].shape[:2]
    return [colormap(heatmap(a[k : k + 1], size)) for a in att]


def colormap(values: np.ndarray, vmin: float = 0.0, vmax: float = 1.0, cmap: str = "magma") -> np.ndarray:
    """A 2-D float map -> uint8 (H, W, 3) through a matplotlib colour map."""

    v = np.clip((np.asarray(values, dtype=np.float32) - vmin) / max(vmax - vmin, 1e-12), 0, 1)
    return (colormaps[cmap](v)[..., :3] * 255).round().astype(np.uint8)


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


def fig4_figure(maps: VideoMaps, obj: int, frames: list[int]):
    """The paper's Fig. 4 for our model: per chosen frame, the frame with the prediction, the
    distance map (eq. 5) and the three attention maps from shallow to deep (eq. 6)."""

    titles = [
        "frame + prediction",
        "distance map (eq. 5)",
        "attention res2 (shallow)",
        "attention res3",
        "attention res4 (deep)",
    ]
    h, w = maps.frames[0].shape[:2]
    fig, axes = plt.subplots(len(frames), 5, figsize=(12, 2.3 * len(frames) * h / w + 0.4), squeeze=False)
    for row, t in zip(axes, frames):
        pics = [scrubber_image(maps, t), distance_map_image(maps, t, obj), *attention_images(maps, t, obj)]
        for col, (ax, pic) in enumerate(zip(row, pics)):
            ax.imshow(pic)
            ax.set_xticks([])
            ax.set_yticks([])
            if row is axes[0]:
                ax.set_title(titles[col], fontsize=8)
        row[0].set_ylabel(f"frame {t}", fontsize=8)
    fig.suptitle(f"{maps.name}, object {obj}", fontsize=9)
    fig.tight_layout()
    return fig
