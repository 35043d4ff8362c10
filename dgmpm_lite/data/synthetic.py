"""Synthetic multi-object videos with the two hard cases of the paper: occlusions and distractors.

DGMPM (paper section III) is built for two failure modes of mask propagation: **occlusions**
(the embedding distance module, III-B, re-finds an object from the reference frame's global
appearance after it was hidden) and **distractors** (look-alike objects; the previous frame's
mask, III-C, keeps the model on the right instance). Real DAVIS data cannot be shipped, so
this module renders videos that exercise exactly those cases, deterministically from a seed.

A video is a 2-D layered scene, composited back to front:

* a procedurally **textured background** (noise, stripes, checker, spots, gradients, or
  crops of shipped public-domain photos when a config lists them, :mod:`.photos`) seen
  through a **moving camera** (pan and zoom);
* **targets** (ids 1..K, ``num_targets``): textured sprites of a *shape family* (blob,
  ellipse, polygon, star) and a *texture kind*, moving, scaling, rotating and changing
  illumination over time (**appearance change**);
* **distractors** (``num_distractors``): non-target sprites drawn from a target's own shape
  family, texture kind and colours (a new random draw of the same texture), so their colour
  statistics match the target's;
* **occluders** (``num_occluders``): non-target pillars and blobs in front of the targets.

On top of the random motion, scripted **events** make the hard cases certain to happen:

* ``p_occluder_pass``: a target crosses behind a pillar wider than itself, so it disappears
  completely for a few frames and comes back on the other side;
* ``p_target_cross``: a smaller target passes fully behind a larger target;
* ``p_exit``: a target leaves the frame and re-enters it later.

Every target is at least ``min_first_visible`` visible in frame 0 (semi-supervised VOS starts
from its mask). Per frame and per object the renderer records the visible area, the in-frame
area, the unoccluded area, which instances cover it and a state among ``visible``,
``partly_occluded``, ``occluded``, ``partly_out``, ``out_of_frame``, for per-case evaluation.

Three lines::

    from dgmpm_lite.data import generate_video, SyntheticConfig
    from dgmpm_lite.viz import show_video
    video = generate_video(SyntheticConfig(num_frames=24), seed=3)
    show_video(video)

On disk (DAVIS-2017 layout, see :func:`write_davis` / :func:`generate_dataset`)::

    <root>/JPEGImages/<res>/<seq>/00000.jpg     frames
    <root>/Annotations/<res>/<seq>/00000.png    palette PNG, target ids 1..K
    <root>/Instances/<res>/<seq>/00000.png      palette PNG, every instance (targets 1..K, then
                                                distractors, then occluders) - for evaluation
    <root>/Metadata/<res>/<seq>.json            objects, knobs, per-frame visibility
    <root>/ImageSets/<split>.txt                sequence names
    <root>/manifest.json                        command, seed and knobs (generate_dataset)

Command line (regenerates ``data_samples/synthetic``)::

    dgmpm-lite generate --preset data_samples --overwrite

"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import PIL
from tqdm.auto import tqdm

from .cutouts import CutoutSource, inner_radius, look_alike
from .io import PathLike, write_jpeg, write_label_png
from .photos import PHOTO_TEXTURES, photo_texture
from .sequence import InMemorySequence

GENERATOR_VERSION = 1
"""Bumped whenever a change alters the pixels produced for a given seed and config."""


def library_versions() -> dict[str, str]:
    """The versions of the libraries the pixels depend on (NumPy's random streams, OpenCV's
    warps and blurs, Pillow's JPEG encoder), as a generated set's manifest records them."""
    return {"numpy": np.__version__, "opencv": cv2.__version__, "pillow": PIL.__version__}


SHAPE_FAMILIES = ("blob", "ellipse", "polygon", "star")
TEXTURE_KINDS = ("stripes", "checker", "noise", "spots", "gradient")
STATES = ("visible", "partly_occluded", "occluded", "partly_out", "out_of_frame")

Range = tuple[float, float]


@dataclass
class SyntheticConfig:
    """Knobs of the generator. Ranges ``(lo, hi)`` are sampled uniformly per video/object.

    Sizes and motion are in pixels of the output frame (``height`` x ``width``).
    """

    height: int = 240
    width: int = 432
    num_frames: int = 32
    # --- who is in the scene
    num_targets: tuple[int, int] = (1, 4)
    """Number of target objects K (inclusive range); ids 1..K."""
    num_distractors: tuple[int, int] = (0, 2)
    """Look-alike non-targets; each copies a random target's shape family, texture kind and colours."""
    num_occluders: tuple[int, int] = (0, 1)
    """Random non-target occluders (pillars or big blobs) drawn in front of the targets."""
    num_salient: tuple[int, int] = (0, 0)
    """Salient non-targets: other objects, at least as large as the largest target, not annotated."""
    object_size: Range = (0.2, 0.36)
    """Nominal target diameter as a fraction of min(height, width)."""
    shape_families: tuple[str, ...] = SHAPE_FAMILIES
    textures: tuple[str, ...] = TEXTURE_KINDS
    background_textures: tuple[str, ...] = ("noise", "stripes", "checker", "spots", "gradient")
    distractor_shape_jitter: float = 0.1
    """Relative size change of a distractor w.r.t. the target it mimics (0 = same size)."""
    # --- scripted hard cases
    p_occluder_pass: float = 0.5
    """Probability per video that one target passes fully behind a non-target pillar."""
    p_target_cross: float = 0.4
    """Probability per video (K >= 2) that a smaller target passes fully behind a larger one."""
    p_exit: float = 0.3
    """Probability per (free) target that it leaves the frame and comes back."""
    # --- motion and appearance change
    speed: Range = (0.5, 3.0)
    """Speed of freely moving objects, pixels per frame."""
    scale_change: float = 0.2
    """Amplitude of the relative scale oscillation of each object (0.2 = +-20 %)."""
    rotation_speed: float = 2.0
    """Largest in-plane rotation speed, degrees per frame."""
    illumination_change: float = 0.15
    """Amplitude of global brightness change, moving light gradient and per-object flicker."""
    camera_pan: float = 20.0
    """Amplitude of the camera translation in pixels (0 = static camera and background)."""
    camera_zoom: float = 0.08
    """Amplitude of the camera zoom (0.08 = +-8 %)."""
    noise_std: float = 2.0
    """Standard deviation of the per-pixel sensor noise (in 0..255 units)."""
    min_first_visible: float = 0.6
    """Every target must be at least this fraction visible in frame 0 (else the scene is redrawn)."""
    p_background_target: float = 0.0
    """Real backgrounds only: probability per video that the background frame's own annotated
    object is a target too (the last id; it moves with the camera only). Left at 0 that object
    is a salient non-target; above 0 a natural object is sometimes a target and sometimes not,
    so a model cannot learn that being pasted is what makes a target."""

    def __post_init__(self) -> None:
        if self.height < 32 or self.width < 32:
            raise ValueError(f"frames must be at least 32x32, got {self.height}x{self.width}")
        if self.num_frames < 1:
            raise ValueError("num_frames must be >= 1")
        lo, hi = self.num_targets
        if not 1 <= lo <= hi <= 254:
            raise ValueError(f"num_targets must be a range within 1..254, got {self.num_targets}")
        for name in ("shape_families", "textures", "background_textures"):
            values = tuple(getattr(self, name))
            allowed = SHAPE_FAMILIES if name == "shape_families" else TEXTURE_KINDS + PHOTO_TEXTURES
            if not values or not set(values) <= set(allowed):
                raise ValueError(f"{name} must be a non-empty subset of {allowed}, got {values}")
            setattr(self, name, values)
        if not 0 <= self.p_background_target <= 1:
            raise ValueError(f"p_background_target must be in [0, 1], got {self.p_background_target}")
        for name in ("num_targets", "num_distractors", "num_occluders", "num_salient", "object_size", "speed"):
            setattr(self, name, tuple(getattr(self, name)))

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SyntheticConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown SyntheticConfig knobs: {sorted(unknown)}")
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()})


# ----------------------------------------------------------------------------- textures


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    """One HSV colour (all in 0..1) to RGB float 0..255."""
    i = int(h * 6.0) % 6
    f = h * 6.0 - math.floor(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return np.array(rgb, dtype=np.float32) * 255.0


def _random_colours(rng: np.random.Generator, n: int = 3, background: bool = False) -> np.ndarray:
    """``n`` colours of a palette: a base hue plus contrasting/analogous hues, (n, 3) float32."""
    base = rng.random()
    cols = []
    for j in range(n):
        hue = (base + (0 if j == 0 else rng.uniform(0.08, 0.5) * rng.choice([-1, 1]))) % 1.0
        if background:
            s, v = rng.uniform(0.15, 0.55), rng.uniform(0.3, 0.8)
        else:
            s, v = rng.uniform(0.45, 1.0), rng.uniform(0.35, 1.0)
        cols.append(_hsv_to_rgb(hue, s, v))
    return np.stack(cols)


def _value_noise(h: int, w: int, rng: np.random.Generator, cells: Sequence[int]) -> np.ndarray:
    """Smooth multi-octave noise in [0, 1], shape (h, w) (bicubic upsampled random grids)."""
    out = np.zeros((h, w), np.float32)
    total = 0.0
    for k, cell in enumerate(cells):
        gh, gw = h // cell + 3, w // cell + 3
        grid = rng.random((gh, gw)).astype(np.float32)
        up = cv2.resize(grid, (gw * cell, gh * cell), interpolation=cv2.INTER_CUBIC)
        amp = 1.0 / (k + 1)
        out += amp * up[cell : cell + h, cell : cell + w]
        total += amp
    out /= total
    lo, hi = float(out.min()), float(out.max())
    return (out - lo) / max(hi - lo, 1e-6)


def _lerp_colours(v: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] through a piecewise-linear ramp of colours: (h, w) -> (h, w, 3)."""
    n = len(colours)
    x = np.clip(v, 0, 1) * (n - 1)
    i0 = np.minimum(x.astype(np.int32), n - 2)
    f = (x - i0)[..., None]
    return (colours[i0] * (1 - f) + colours[i0 + 1] * f).astype(np.float32)


def make_texture(kind: str, height: int, width: int, colours: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A procedural texture ``float32 (height, width, 3)`` in 0..255.

    ``kind`` is one of :data:`TEXTURE_KINDS`, or a real photo of
    :data:`~dgmpm_lite.data.photos.PHOTO_TEXTURES` (a crop of it, see
    :func:`~dgmpm_lite.data.photos.photo_texture`); ``colours`` an ``(n>=2, 3)`` array. Two
    calls with the same kind and colours but different generators give different patterns
    with the same colour statistics (this is how distractors mimic a target).
    """
    if kind.startswith("photo/"):
        img = photo_texture(kind, height, width, colours, rng)
        return np.clip(img + rng.normal(0.0, 3.0, (int(height), int(width), 1)), 0, 255).astype(np.float32)
    colours = np.asarray(colours, np.float32)
    h, w = int(height), int(width)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "stripes":
        theta = rng.uniform(0, np.pi)
        period = rng.uniform(7, 18)
        phase = rng.uniform(0, 2 * np.pi)
        u = (xx * np.cos(theta) + yy * np.sin(theta)) * (2 * np.pi / period) + phase
        wobble = 0.8 * np.sin((xx * np.sin(theta) - yy * np.cos(theta)) / rng.uniform(12, 30))
        v = 0.5 + 0.5 * np.sin(u + wobble)
        v = np.clip((v - 0.5) * 2.5 + 0.5, 0, 1)
        img = _lerp_colours(v, colours[:2])
    elif kind == "checker":
        theta = rng.uniform(0, np.pi / 2)
        cell = rng.uniform(7, 16)
        u = (xx * np.cos(theta) + yy * np.sin(theta)) / cell + rng.random()
        v = (-xx * np.sin(theta) + yy * np.cos(theta)) / cell + rng.random()
        parity = (np.floor(u) + np.floor(v)) % 2
        img = _lerp_colours(parity.astype(np.float32), colours[:2])
        img = cv2.GaussianBlur(img, (3, 3), 0.7)
    elif kind == "noise":
        v = _value_noise(h, w, rng, cells=(16, 8, 4))
        img = _lerp_colours(v, colours[:3] if len(colours) >= 3 else colours)
    elif kind == "spots":
        img = np.empty((h, w, 3), np.float32)
        img[:] = colours[0]
        n = max(4, int(h * w / rng.uniform(250, 500)))
        cx = rng.uniform(0, w, n)
        cy = rng.uniform(0, h, n)
        rad = rng.uniform(2.5, 6.5, n)
        which = rng.integers(1, min(3, len(colours)), n)
        for x, y, r, c in zip(cx, cy, rad, which):
            cv2.circle(
                img, (int(round(x * 4)), int(round(y * 4))), int(round(r * 4)), colours[c].tolist(), -1, cv2.LINE_AA, 2
            )
    elif kind == "gradient":
        theta = rng.uniform(0, 2 * np.pi)
        u = xx * np.cos(theta) + yy * np.sin(theta)
        u = (u - u.min()) / max(float(u.max() - u.min()), 1e-6)
        v = 0.75 * u + 0.25 * _value_noise(h, w, rng, cells=(8, 4))
        img = _lerp_colours(v, colours[:2])
    else:
        raise ValueError(f"unknown texture kind {kind!r}; choose from {TEXTURE_KINDS + PHOTO_TEXTURES}")
    grain = rng.normal(0.0, 3.0, (h, w, 1)).astype(np.float32)
    return np.clip(img + grain, 0, 255).astype(np.float32)


# ----------------------------------------------------------------------------- shapes


def _shape_params(family: str, rng: np.random.Generator) -> dict[str, Any]:
    if family == "blob":
        return {"amps": rng.uniform(0.0, 0.12, 3).tolist(), "phases": rng.uniform(0, 2 * np.pi, 3).tolist()}
    if family == "ellipse":
        return {"ratio": float(rng.uniform(0.55, 0.95))}
    if family == "polygon":
        return {
            "sides": int(rng.integers(3, 7)),
            "phase": float(rng.uniform(0, 2 * np.pi)),
            "ratio": float(rng.uniform(0.75, 1.0)),
        }
    if family == "star":
        return {
            "points": int(rng.integers(4, 8)),
            "depth": float(rng.uniform(0.25, 0.45)),
            "phase": float(rng.uniform(0, 2 * np.pi)),
        }
    raise ValueError(f"unknown shape family {family!r}; choose from {SHAPE_FAMILIES}")


def _radial(family: str, p: dict[str, Any], theta: np.ndarray) -> np.ndarray:
    """Boundary radius (relative, max 1) as a function of the angle."""
    if family == "blob":
        r = np.ones_like(theta)
        for k, (a, ph) in enumerate(zip(p["amps"], p["phases"]), start=2):
            r = r + a * np.cos(k * theta + ph)
    elif family == "ellipse":
        b = p["ratio"]
        r = b / np.sqrt((b * np.cos(theta)) ** 2 + np.sin(theta) ** 2)
    elif family == "polygon":
        n = p["sides"]
        seg = 2 * np.pi / n
        t = np.mod(theta + p["phase"], seg) - seg / 2
        r = np.cos(np.pi / n) / np.cos(t)
        r = r * (1 - (1 - p["ratio"]) * np.sin(theta) ** 2)
    elif family == "star":
        r = 1 - p["depth"] * (0.5 - 0.5 * np.cos(p["points"] * theta + p["phase"]))
    else:
        raise ValueError(f"unknown shape family {family!r}")
    return r


def _shape_alpha(family: str, p: dict[str, Any], radius: float) -> tuple[np.ndarray, float]:
    """Anti-aliased alpha sprite of a shape whose largest radius is ``radius`` pixels.

    Returns ``(alpha float32 (S, S), inner_radius)`` where ``inner_radius`` is the smallest
    boundary radius in pixels (used to script full occlusions).
    """
    theta_probe = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    r_probe = _radial(family, p, theta_probe)
    scale = radius / float(r_probe.max())
    size = int(math.ceil(2 * radius)) + 4
    c = (size - 1) / 2.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dx, dy = xx - c, yy - c
    rr = np.sqrt(dx * dx + dy * dy)
    bound = _radial(family, p, np.arctan2(dy, dx)) * scale
    alpha = np.clip(bound - rr + 0.5, 0, 1).astype(np.float32)
    return alpha, float(r_probe.min() * scale)


def _pillar_alpha(width: float, length: float) -> np.ndarray:
    """Anti-aliased rounded bar, ``width`` across and ``length`` long (long axis vertical)."""
    w, h = int(math.ceil(width)) + 4, int(math.ceil(length)) + 4
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    rad = min(width / 2.0, 8.0)
    qx = np.abs(xx - cx) - (width / 2.0 - rad)
    qy = np.abs(yy - cy) - (length / 2.0 - rad)
    dist = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2) + np.minimum(np.maximum(qx, qy), 0) - rad
    return np.clip(0.5 - dist, 0, 1).astype(np.float32)


# ----------------------------------------------------------------------------- scene


@dataclass
class Layer:
    """One sprite of the scene with its whole trajectory (world coordinates, arrays over time)."""

    instance_id: int
    role: str  # "target" | "distractor" | "occluder"
    family: str
    texture: str
    colours: np.ndarray
    alpha: np.ndarray  # (h, w) float32 in 0..1
    rgb: np.ndarray  # (h, w, 3) float32 0..255
    depth: float  # smaller = nearer the camera
    pos: np.ndarray  # (T, 2) x, y
    scale: np.ndarray  # (T,)
    angle: np.ndarray  # (T,) degrees
    gain: np.ndarray  # (T,)
    mimics: int | None = None
    event: str = "free"

    @property
    def label(self) -> int:
        """Id in the annotation: the instance id for targets, 0 (background) otherwise."""
        return self.instance_id if self.role == "target" else 0

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.instance_id,
            "role": self.role,
            "family": self.family,
            "texture": self.texture,
            "colours": np.round(self.colours, 1).tolist(),
            "depth": round(float(self.depth), 4),
            "mimics": self.mimics,
            "event": self.event,
        }


@dataclass
class SyntheticScene:
    """Sampled parameters of one video; :meth:`render` draws any frame independently."""

    config: SyntheticConfig
    seed: int
    background: np.ndarray  # float32 (Hb, Wb, 3)
    bg_offset: tuple[float, float]  # world coordinate of background pixel (0, 0)
    layers: list[Layer]
    cam_shift: np.ndarray  # (T, 2)
    cam_zoom: np.ndarray  # (T,)
    light_gain: np.ndarray  # (T,)
    light_dir: np.ndarray  # (T, 2) gradient direction times strength
    num_targets: int

    def camera_matrix(self, t: int) -> np.ndarray:
        """3x3 world -> image transform at frame ``t`` (zoom about the frame centre, then shift)."""
        cfg = self.config
        cx, cy = (cfg.width - 1) / 2.0, (cfg.height - 1) / 2.0
        z = float(self.cam_zoom[t])
        sx, sy = self.cam_shift[t]
        return np.array([[z, 0, cx - z * (cx + sx)], [0, z, cy - z * (cy + sy)], [0, 0, 1]], np.float64)

    def render(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Render frame ``t``: ``(frame uint8 (H,W,3), labels uint8 (H,W), instances uint8 (H,W), stats)``.

        ``stats[id]`` holds ``visible_px``, ``inframe_px`` (area if nothing were in front),
        ``area_px`` (area ignoring the frame border), ``occluded_by`` and ``state``.
        """
        cfg = self.config
        H, W = cfg.height, cfg.width
        cam = self.camera_matrix(t)
        ox, oy = self.bg_offset
        m_bg = cam @ np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]], np.float64)
        frame = cv2.warpAffine(self.background, m_bg[:2], (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        labels = np.zeros((H, W), np.uint8)
        instances = np.zeros((H, W), np.uint8)
        own: dict[int, tuple[tuple[int, int, int, int], np.ndarray]] = {}
        areas: dict[int, float] = {}
        for layer in sorted(self.layers, key=lambda l: -l.depth):
            h, w = layer.alpha.shape
            s, a = float(layer.scale[t]), math.radians(float(layer.angle[t]))
            ca, sa = math.cos(a) * s, math.sin(a) * s
            px, py = layer.pos[t]
            cxs, cys = (w - 1) / 2.0, (h - 1) / 2.0
            m_obj = np.array([[ca, -sa, px - ca * cxs + sa * cys], [sa, ca, py - sa * cxs - ca * cys], [0, 0, 1]])
            m = (cam @ m_obj)[:2]
            areas[layer.instance_id] = float(layer.alpha.sum()) * (s * float(self.cam_zoom[t])) ** 2
            corners = m @ np.array([[0, w, 0, w], [0, 0, h, h], [1, 1, 1, 1]], np.float64)
            x0 = max(int(math.floor(corners[0].min())) - 1, 0)
            y0 = max(int(math.floor(corners[1].min())) - 1, 0)
            x1 = min(int(math.ceil(corners[0].max())) + 2, W)
            y1 = min(int(math.ceil(corners[1].max())) + 2, H)
            if x1 <= x0 or y1 <= y0:
                own[layer.instance_id] = ((0, 0, 0, 0), np.zeros((0, 0), bool))
                continue
            m_roi = m.copy()
            m_roi[0, 2] -= x0
            m_roi[1, 2] -= y0
            size = (x1 - x0, y1 - y0)
            al = cv2.warpAffine(
                layer.alpha, m_roi, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
            )
            rgb = cv2.warpAffine(layer.rgb, m_roi, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            roi = frame[y0:y1, x0:x1]
            al3 = al[..., None]
            roi[:] = roi * (1 - al3) + rgb * (float(layer.gain[t]) * al3)
            hard = al > 0.5
            labels[y0:y1, x0:x1][hard] = layer.label
            instances[y0:y1, x0:x1][hard] = layer.instance_id
            own[layer.instance_id] = ((y0, y1, x0, x1), hard)
        # global illumination: brightness change and a moving linear light gradient
        yy = (np.arange(H, dtype=np.float32) - H / 2) / max(H, W)
        xx = (np.arange(W, dtype=np.float32) - W / 2) / max(H, W)
        dx, dy = self.light_dir[t]
        light = float(self.light_gain[t]) * (1 + dx * xx[None, :] + dy * yy[:, None])
        frame = frame * light[..., None]
        if cfg.noise_std > 0:
            noise_rng = np.random.default_rng([self.seed, 7919, t])
            frame = frame + noise_rng.normal(0.0, cfg.noise_std, frame.shape).astype(np.float32)
        frame_u8 = np.clip(np.rint(frame), 0, 255).astype(np.uint8)

        stats: dict[int, dict[str, Any]] = {}
        for layer in self.layers:
            iid = layer.instance_id
            (y0, y1, x0, x1), hard = own[iid]
            inframe = int(hard.sum())
            if inframe:
                covered = instances[y0:y1, x0:x1][hard]
                visible = int((covered == iid).sum())
                by = sorted(int(v) for v in np.unique(covered) if v != iid and v != 0)
            else:
                visible, by = 0, []
            area = areas[iid]
            if inframe == 0:
                state = "out_of_frame"
            elif visible == 0:
                state = "occluded"
            elif visible < 0.9 * inframe:
                state = "partly_occluded"
            elif inframe < 0.9 * area:
                state = "partly_out"
            else:
                state = "visible"
            stats[iid] = {
                "visible_px": visible,
                "inframe_px": inframe,
                "area_px": round(area, 1),
                "occluded_by": by,
                "state": state,
            }
        return frame_u8, labels, instances, stats


# ----------------------------------------------------------------------------- sampling


def _u(rng: np.random.Generator, r: Sequence[float]) -> float:
    return float(rng.uniform(r[0], r[1]))


def _smooth_curve(rng: np.random.Generator, T: int, amp: float) -> np.ndarray:
    """A smooth 1-D signal over ``T`` frames, 0 at frame 0, amplitude ``amp``."""
    t = np.arange(T, dtype=np.float64) / max(T - 1, 1)
    f1, f2 = rng.uniform(0.3, 1.0), rng.uniform(1.0, 2.0)
    p1, p2 = rng.uniform(0, 2 * np.pi, 2)
    y = 0.75 * np.sin(2 * np.pi * f1 * t + p1) + 0.25 * np.sin(2 * np.pi * f2 * t + p2)
    return amp * (y - y[0])


def _fold(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Reflect a coordinate into [lo, hi] (objects bounce off the walls)."""
    if hi <= lo:
        return np.full_like(x, (lo + hi) / 2)
    span = hi - lo
    y = np.mod(x - lo, 2 * span)
    return lo + span - np.abs(y - span)


def _free_path(rng: np.random.Generator, cfg: SyntheticConfig, radius: float, speed: Range) -> np.ndarray:
    T, W, H = cfg.num_frames, cfg.width, cfg.height
    m = 0.6 * radius
    start = np.array([rng.uniform(m, W - m), rng.uniform(m, H - m)])
    v = _u(rng, speed)
    heading = rng.uniform(0, 2 * np.pi) + _smooth_curve(rng, T, rng.uniform(0, 1.5))
    steps = np.stack([np.cos(heading), np.sin(heading)], 1) * v
    steps[0] = 0
    p = start + np.cumsum(steps, 0)
    return np.stack([_fold(p[:, 0], m, W - m), _fold(p[:, 1], m, H - m)], 1)


def _exit_path(rng: np.random.Generator, cfg: SyntheticConfig, radius: float) -> np.ndarray:
    """Leave the frame through a random side around mid-video and come back the same way."""
    T, W, H = cfg.num_frames, cfg.width, cfg.height
    side = int(rng.integers(4))
    direction = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]][side], np.float64)
    start = np.array([rng.uniform(0.3, 0.7) * W, rng.uniform(0.3, 0.7) * H])
    to_edge = {0: W - start[0], 1: start[0], 2: H - start[1], 3: start[1]}[side]
    dist = (to_edge + radius * (1 + cfg.scale_change) + 5) * rng.uniform(1.15, 1.35) + cfg.camera_pan
    t = np.arange(T) / max(T - 1, 1)
    peak = rng.uniform(0.45, 0.6)
    prof = np.where(t <= peak, np.sin(0.5 * np.pi * t / peak), np.cos(0.5 * np.pi * (t - peak) / (1 - peak)))
    ortho = np.array([-direction[1], direction[0]])
    wob = _smooth_curve(rng, T, 8.0)
    return start + prof[:, None] * dist * direction + wob[:, None] * ortho


def _pillar_pass(
    rng: np.random.Generator, cfg: SyntheticConfig, r_max: float
) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Path crossing a vertical pillar wider than the object, so it is fully hidden for a while.

    ``r_max`` is the object's largest radius over the video. Returns the path and the
    pillar ``(x, y, width)``.
    """
    T, W, H = cfg.num_frames, cfg.width, cfg.height
    tt = np.arange(T, dtype=np.float64)
    pw = 2 * r_max + rng.uniform(14, 30)
    t_e = rng.uniform(0.4, 0.6) * (T - 1)
    px = rng.uniform(0.35, 0.65) * W
    sign = 1.0 if rng.random() < 0.5 else -1.0
    d_min = pw / 2 + r_max + 6  # fully clear of the pillar at frame 0
    room = (px - r_max) if sign > 0 else (W - r_max - px)
    x_start = px - sign * rng.uniform(d_min, max(d_min, room))
    v = (px - x_start) / max(t_e, 1.0)
    y = rng.uniform(0.35, 0.65) * H + _smooth_curve(rng, T, 10.0)
    return np.stack([x_start + v * tt, y], 1), (float(px), float(y[int(round(t_e))]), float(pw))


def sample_scene(config: SyntheticConfig, seed: int, source: CutoutSource | None = None) -> SyntheticScene:
    """Draw all parameters of a video from ``seed`` (deterministic); see :class:`SyntheticConfig`.

    ``source`` (a :class:`~dgmpm_lite.data.cutouts.CutoutSource`) supplies real objects and
    backgrounds instead of procedural ones; the scene (motion, events, look-alikes) is the same.

    Scenes whose frame 0 hides a target more than ``1 - min_first_visible`` are redrawn from
    the same random stream, so the result is still a pure function of ``(config, seed)``.
    """
    rng = np.random.default_rng(seed)
    for _attempt in range(200):
        scene = _sample_scene_once(config, seed, rng, source)
        if config.min_first_visible <= 0:
            return scene
        _, _, _, stats = scene.render(0)
        ok = all(
            stats[l.instance_id]["visible_px"] >= config.min_first_visible * stats[l.instance_id]["area_px"]
            and stats[l.instance_id]["visible_px"] > 0
            for l in scene.layers
            if l.role == "target"
        )
        if ok:
            return scene
    raise RuntimeError(
        f"could not place the targets visibly in frame 0 after 200 draws (seed {seed}); "
        "lower min_first_visible, object_size or the number of objects"
    )


def _sample_scene_once(
    cfg: SyntheticConfig, seed: int, rng: np.random.Generator, source: CutoutSource | None = None
) -> SyntheticScene:
    T, H, W = cfg.num_frames, cfg.height, cfg.width
    tt = np.arange(T, dtype=np.float64)
    short = min(H, W)

    # camera: shift (pixels, world units) and zoom, identity at frame 0
    cam_shift = np.stack([_smooth_curve(rng, T, cfg.camera_pan), _smooth_curve(rng, T, cfg.camera_pan * 0.6)], 1)
    cam_zoom = 1.0 + _smooth_curve(rng, T, cfg.camera_zoom)
    z_min = float(cam_zoom.min())
    pad_x = int(math.ceil((W / 2) * (1 / z_min - 1) + np.abs(cam_shift[:, 0]).max() + 8))
    pad_y = int(math.ceil((H / 2) * (1 / z_min - 1) + np.abs(cam_shift[:, 1]).max() + 8))
    bg_mask = None
    if source is not None:
        background, bg_mask = source.background(rng, H + 2 * pad_y, W + 2 * pad_x, with_mask=True)
    else:
        bg_kind = str(rng.choice(cfg.background_textures))
        background = make_texture(bg_kind, H + 2 * pad_y, W + 2 * pad_x, _random_colours(rng, 3, background=True), rng)
        # a second, blurry layer of soft blobs gives the background some large-scale structure
        blobs = _value_noise(H + 2 * pad_y, W + 2 * pad_x, rng, cells=(48, 24))
        background = np.clip(background * (0.75 + 0.5 * blobs[..., None]), 0, 255).astype(np.float32)

    ill = cfg.illumination_change
    light_gain = 1.0 + _smooth_curve(rng, T, ill)
    ang = rng.uniform(0, 2 * np.pi) + _smooth_curve(rng, T, 1.5)
    light_dir = np.stack([np.cos(ang), np.sin(ang)], 1) * (2.0 * ill)

    k = int(rng.integers(cfg.num_targets[0], cfg.num_targets[1] + 1))
    n_dis = int(rng.integers(cfg.num_distractors[0], cfg.num_distractors[1] + 1))
    n_occ = int(rng.integers(cfg.num_occluders[0], cfg.num_occluders[1] + 1))

    def appearance(radius_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scale = radius_scale * (
            1.0
            + rng.uniform(0, cfg.scale_change)
            * np.sin(2 * np.pi * rng.uniform(0.3, 1.2) * tt / max(T, 1) + rng.uniform(0, 2 * np.pi))
        )
        angle = rng.uniform(0, 360) + rng.uniform(-cfg.rotation_speed, cfg.rotation_speed) * tt
        gain = 1.0 + 0.5 * ill * np.sin(2 * np.pi * rng.uniform(0.5, 2) * tt / max(T, 1) + rng.uniform(0, 2 * np.pi))
        return scale, angle, gain

    layers: list[Layer] = []
    # --- targets
    specs = []
    for i in range(k):
        family = str(rng.choice(cfg.shape_families))
        texture = str(rng.choice(cfg.textures))
        colours = _random_colours(rng, 3)
        params = _shape_params(family, rng)
        radius = 0.5 * short * _u(rng, cfg.object_size)
        specs.append((family, texture, colours, params, radius))

    occluder_pass = rng.random() < cfg.p_occluder_pass
    target_cross = k >= 2 and rng.random() < cfg.p_target_cross
    events = ["free"] * k
    if occluder_pass:
        events[0] = "behind_occluder"
    if target_cross:
        events[k - 1] = "behind_target"  # passes behind target 1..k-1 (the one before it)
    for i in range(k):
        if events[i] == "free" and rng.random() < cfg.p_exit:
            events[i] = "exit_reenter"

    depths = rng.uniform(0.2, 0.8, k)
    inner_r: list[float] = []
    outer_r: list[float] = []
    pillar: tuple[float, float, float] | None = None  # (x, y, width) of the scripted pillar
    for i, (family, texture, colours, params, radius) in enumerate(specs):
        ev = events[i]
        if ev == "behind_target":
            # small enough to vanish completely behind the previous target (its inner radius)
            front = layers[i - 1]
            radius = max(6.0, 0.7 * inner_r[i - 1] * float(front.scale.min()))
            family = "ellipse" if family == "star" else family
            params = _shape_params(family, rng)
        if source is not None:
            alpha, rgb, texture = source.sprite(rng, radius)
            family, inner = "cutout", inner_radius(alpha)
            colours = rgb[alpha > 0.5].reshape(-1, 3).mean(0, keepdims=True)
        else:
            alpha, inner = _shape_alpha(family, params, radius)
            rgb = make_texture(texture, alpha.shape[0], alpha.shape[1], colours, rng)
        scale, angle, gain = appearance()
        if ev == "free":
            pos = _free_path(rng, cfg, radius, cfg.speed)
        elif ev == "exit_reenter":
            pos = _exit_path(rng, cfg, radius)
        elif ev == "behind_occluder":
            pos, pillar = _pillar_pass(rng, cfg, radius * float(scale.max()))
        else:  # behind_target: move relative to the front target, crossing its centre at t_e
            front = layers[i - 1]
            scale = np.minimum(scale, 1.0)
            depths[i] = front.depth + 0.05
            t_e = rng.uniform(0.35, 0.65) * (T - 1)
            gap = outer_r[i - 1] * float(front.scale.max()) + radius + 6
            pos = None
            for _ in range(16):
                d = rng.uniform(0, 2 * np.pi)
                u = np.array([np.cos(d), np.sin(d)])
                v = max(gap / max(t_e, 1.0), _u(rng, cfg.speed))
                cand = front.pos + (tt - t_e)[:, None] * v * u
                if pos is None:
                    pos = cand
                x0, y0 = cand[0]
                if radius <= x0 <= W - radius and radius <= y0 <= H - radius:
                    pos = cand
                    break
        layers.append(
            Layer(
                i + 1,
                "target",
                family,
                texture,
                colours,
                alpha,
                rgb,
                float(depths[i]),
                pos,
                scale,
                angle,
                gain,
                event=ev,
            )
        )
        inner_r.append(inner)
        outer_r.append(radius)

    # --- the background's own object as one more target (p_background_target)
    # (no draw at 0, so scenes without it keep their pixels)
    if bg_mask is not None and cfg.p_background_target > 0 and rng.random() < cfg.p_background_target:
        layer = _background_object(cfg, background, bg_mask, (pad_x, pad_y), k + 1)
        if layer is not None:
            layers.append(layer)
    num_targets = len(layers)
    next_id = num_targets + 1
    # --- distractors: same family, texture kind and colours as a random target
    for _ in range(n_dis):
        src = layers[int(rng.integers(k))]
        if source is not None:  # the same cut-out, flipped, recoloured or rescaled
            radius = outer_r[src.instance_id - 1]
            alpha, rgb, _how = look_alike(src.alpha, src.rgb, rng, cfg.distractor_shape_jitter)
        else:
            params = _shape_params(src.family, rng)
            radius = outer_r[src.instance_id - 1] * (
                1 + rng.uniform(-cfg.distractor_shape_jitter, cfg.distractor_shape_jitter)
            )
            alpha, _inner = _shape_alpha(src.family, params, radius)
            rgb = make_texture(src.texture, alpha.shape[0], alpha.shape[1], src.colours, rng)
        scale, angle, gain = appearance()
        pos = _free_path(rng, cfg, radius, cfg.speed)
        layers.append(
            Layer(
                next_id,
                "distractor",
                src.family,
                src.texture,
                src.colours,
                alpha,
                rgb,
                float(rng.uniform(0.1, 0.9)),
                pos,
                scale,
                angle,
                gain,
                mimics=src.instance_id,
            )
        )
        next_id += 1

    # --- salient non-targets: other objects at least as large as the largest target (drawn
    # only when asked for, so configs without them keep their pixels)
    if cfg.num_salient[1] > 0:
        n_sal = int(rng.integers(cfg.num_salient[0], cfg.num_salient[1] + 1))
        used = [l.texture.split("/")[0] for l in layers if l.role == "target"]
        for _ in range(n_sal):
            radius = max(outer_r) * rng.uniform(1.0, 1.3)
            if source is not None:
                alpha, rgb, texture = source.sprite(rng, radius, exclude=used)
                family, colours = "cutout", rgb[alpha > 0.5].reshape(-1, 3).mean(0, keepdims=True)
            else:
                family, texture = str(rng.choice(cfg.shape_families)), str(rng.choice(cfg.textures))
                colours = _random_colours(rng, 3)
                alpha, _inner = _shape_alpha(family, _shape_params(family, rng), radius)
                rgb = make_texture(texture, alpha.shape[0], alpha.shape[1], colours, rng)
            scale, angle, gain = appearance()
            pos = _free_path(rng, cfg, radius, cfg.speed)
            layers.append(
                Layer(
                    next_id,
                    "salient",
                    family,
                    texture,
                    colours,
                    alpha,
                    rgb,
                    float(rng.uniform(0.1, 0.9)),
                    pos,
                    scale,
                    angle,
                    gain,
                )
            )
            next_id += 1

    # --- random occluders: pillars or big blobs, in front of the targets
    for _ in range(n_occ):
        colours = _random_colours(rng, 3)
        texture = str(rng.choice(cfg.textures))
        if rng.random() < 0.5:
            family = "pillar"
            alpha = _pillar_alpha(rng.uniform(0.08, 0.16) * W, 2.5 * H + 4 * cfg.camera_pan)
            pos = np.tile([rng.uniform(0.1, 0.9) * W, H / 2], (T, 1)) + np.stack(
                [_smooth_curve(rng, T, 20), np.zeros(T)], 1
            )
            angle = np.full(T, rng.uniform(-12, 12))
            scale = np.ones(T)
        else:
            family = "blob"
            alpha, _ = _shape_alpha("blob", _shape_params("blob", rng), 0.5 * short * rng.uniform(0.2, 0.35))
            pos = _free_path(rng, cfg, alpha.shape[0] / 2, (0.3, 1.5))
            scale, angle, _g = appearance()
        if source is not None:
            rgb = source.texture(rng, alpha.shape[0], alpha.shape[1])
        else:
            rgb = make_texture(texture, alpha.shape[0], alpha.shape[1], colours, rng)
        gain = np.ones(T)
        layers.append(
            Layer(
                next_id,
                "occluder",
                family,
                texture,
                colours,
                alpha,
                rgb,
                float(rng.uniform(0.0, 0.15)),
                pos,
                scale,
                angle,
                gain,
            )
        )
        next_id += 1

    # --- the scripted pillar, wider than target 1, in front of everything
    if pillar is not None:
        px, py, pw = pillar
        colours = _random_colours(rng, 3)
        texture = str(rng.choice(cfg.textures))
        alpha = _pillar_alpha(pw, 2.5 * H + 4 * cfg.camera_pan)
        if source is not None:
            rgb = source.texture(rng, alpha.shape[0], alpha.shape[1])
        else:
            rgb = make_texture(texture, alpha.shape[0], alpha.shape[1], colours, rng)
        pos = np.tile([px, py], (T, 1))
        layers.append(
            Layer(
                next_id,
                "occluder",
                "pillar",
                texture,
                colours,
                alpha,
                rgb,
                0.0,
                pos,
                np.ones(T),
                np.zeros(T),
                np.ones(T),
                event="scripted_pillar",
            )
        )
        next_id += 1

    if next_id > 256:
        raise ValueError("too many objects for 8-bit instance maps")
    return SyntheticScene(
        cfg, int(seed), background, (-pad_x, -pad_y), layers, cam_shift, cam_zoom, light_gain, light_dir, num_targets
    )


BACKGROUND_OBJECT_AREA = (0.02, 0.5)
"""A background frame's object becomes a target only if frame 0 shows between 2 % and 50 % of
the frame of it, and at least :data:`BACKGROUND_OBJECT_IN_VIEW` of it."""

BACKGROUND_OBJECT_IN_VIEW = 0.8


def _background_object(
    cfg: SyntheticConfig, background: np.ndarray, mask: np.ndarray, pad: tuple[int, int], instance_id: int
) -> Layer | None:
    """The background frame's annotated object as a target layer that coincides with the
    background: its own pixels, fixed in the world, so it moves with the camera only (rendering
    it over the background changes no pixel; it only labels them). None when frame 0 would show
    too little or too much of it."""
    pad_x, pad_y = pad
    H, W = cfg.height, cfg.width
    hard = mask > 0.5
    total = int(hard.sum())
    in_view = int(hard[pad_y : pad_y + H, pad_x : pad_x + W].sum())
    lo, hi = BACKGROUND_OBJECT_AREA
    if total == 0 or in_view < BACKGROUND_OBJECT_IN_VIEW * total or not lo * H * W <= in_view <= hi * H * W:
        return None
    ys, xs = np.nonzero(hard)
    y0, y1, x0, x1 = max(ys.min() - 2, 0), ys.max() + 3, max(xs.min() - 2, 0), xs.max() + 3
    alpha = np.ascontiguousarray(mask[y0:y1, x0:x1], np.float32)
    rgb = np.ascontiguousarray(background[y0:y1, x0:x1], np.float32)
    h, w = alpha.shape
    T = cfg.num_frames
    # sprite pixel (0, 0) lies on background pixel (x0, y0), i.e. world (x0 - pad_x, y0 - pad_y)
    centre = np.array([x0 - pad_x + (w - 1) / 2.0, y0 - pad_y + (h - 1) / 2.0])
    return Layer(
        instance_id,
        "target",
        "background_object",
        "background",
        rgb[alpha > 0.5].reshape(-1, 3).mean(0, keepdims=True),
        alpha,
        rgb,
        1.0,  # behind every pasted layer
        np.tile(centre, (T, 1)),
        np.ones(T),
        np.zeros(T),
        np.ones(T),
        event="background_object",
    )


# ----------------------------------------------------------------------------- videos


@dataclass
class SyntheticVideo:
    """A rendered synthetic video, fully in memory.

    * ``frames``: ``uint8 (T, H, W, 3)`` RGB; ``labels``: ``uint8 (T, H, W)`` target ids 1..K;
    * ``instances``: ``uint8 (T, H, W)`` every visible instance (targets, distractors, occluders);
    * ``objects``: one dict per instance (``id``, ``role``, ``family``, ``texture``, ``mimics``...);
    * ``visibility[t][id]``: per-frame stats (``visible_px``, ``inframe_px``, ``area_px``,
      ``occluded_by``, ``state``) for every instance.
    """

    name: str
    seed: int
    config: SyntheticConfig
    frames: np.ndarray
    labels: np.ndarray
    instances: np.ndarray
    objects: list[dict[str, Any]]
    visibility: list[dict[int, dict[str, Any]]]

    @property
    def num_objects(self) -> int:
        return sum(1 for o in self.objects if o["role"] == "target")

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def visible_area(self, object_id: int) -> np.ndarray:
        """Visible pixels of an instance in every frame, ``int (T,)``."""
        return np.array([v[object_id]["visible_px"] for v in self.visibility])

    def states(self, object_id: int) -> list[str]:
        return [v[object_id]["state"] for v in self.visibility]

    def to_sequence(self) -> InMemorySequence:
        """This video as a :class:`~dgmpm_lite.data.sequence.VideoSequence` (for datasets/models)."""
        return InMemorySequence(self.frames, self.labels, name=self.name)

    def metadata(self) -> dict[str, Any]:
        """JSON-ready description: knobs, seed, objects and per-frame visibility per object."""
        objs = []
        for o in self.objects:
            iid = o["id"]
            per = {
                key: [v[iid][key] for v in self.visibility]
                for key in ("visible_px", "inframe_px", "area_px", "state", "occluded_by")
            }
            objs.append({**o, "per_frame": per})
        return {
            "name": self.name,
            "seed": self.seed,
            "generator_version": GENERATOR_VERSION,
            "num_frames": len(self),
            "num_objects": self.num_objects,
            "size": [int(self.frames.shape[1]), int(self.frames.shape[2])],
            "config": self.config.to_dict(),
            "objects": objs,
        }


def generate_video(
    config: SyntheticConfig | None = None,
    seed: int = 0,
    name: str | None = None,
    source: CutoutSource | None = None,
) -> SyntheticVideo:
    """Render a whole synthetic video in memory (deterministic in ``(config, seed, source)``)."""
    config = config or SyntheticConfig()
    scene = sample_scene(config, seed, source)
    T, H, W = config.num_frames, config.height, config.width
    frames = np.empty((T, H, W, 3), np.uint8)
    labels = np.empty((T, H, W), np.uint8)
    instances = np.empty((T, H, W), np.uint8)
    vis = []
    for t in range(T):
        frames[t], labels[t], instances[t], stats = scene.render(t)
        vis.append(stats)
    return SyntheticVideo(
        name or f"synth_{seed}", int(seed), config, frames, labels, instances, [l.describe() for l in scene.layers], vis
    )


class LazySyntheticSequence(InMemorySequence):
    """A synthetic video rendered frame by frame on demand (for unlimited training data).

    Frames equal those of :func:`generate_video` for the same config and seed; only the
    frames actually asked for are rendered (a small cache keeps the last few).
    """

    def __init__(
        self,
        config: SyntheticConfig,
        seed: int,
        name: str | None = None,
        cache: int = 4,
        source: CutoutSource | None = None,
    ) -> None:
        self.scene = sample_scene(config, seed, source)
        self.name = name or f"synth_{seed}"
        self.frame_names = [f"{i:05d}" for i in range(config.num_frames)]
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._cache_size = max(1, cache)
        self._k = self.scene.num_targets

    def _get(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        i = self._index(i)
        if i not in self._cache:
            if len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            f, lab, _inst, _stats = self.scene.render(i)
            self._cache[i] = (f, lab)
        return self._cache[i]

    def __len__(self) -> int:
        return self.scene.config.num_frames

    def frame(self, i: int) -> np.ndarray:
        return self._get(i)[0]

    def mask(self, i: int) -> np.ndarray:
        return self._get(i)[1]

    @property
    def size(self) -> tuple[int, int]:
        return self.scene.config.height, self.scene.config.width


class SyntheticVideoSource:
    """An endless supply of synthetic videos for training, never written to disk.

    ``source[i]`` is a :class:`LazySyntheticSequence` with seed ``base_seed + i``;
    ``len(source)`` is ``num_videos`` (make it as large as you like). ``objects`` (a
    :class:`~dgmpm_lite.data.cutouts.CutoutSource`) paints them with real cut-outs.
    """

    def __init__(
        self,
        config: SyntheticConfig | None = None,
        base_seed: int = 0,
        num_videos: int = 100_000,
        objects: CutoutSource | None = None,
    ) -> None:
        self.objects = objects
        self.config = config or SyntheticConfig()
        self.base_seed = int(base_seed)
        self.num_videos = int(num_videos)

    def __len__(self) -> int:
        return self.num_videos

    def __getitem__(self, i: int) -> LazySyntheticSequence:
        if not 0 <= i < self.num_videos:
            raise IndexError(i)
        seed = self.base_seed + int(i)
        return LazySyntheticSequence(self.config, seed, name=f"synth_{seed}", source=self.objects)


# ----------------------------------------------------------------------------- writing


_OWN_FILE = re.compile(r"^\d{5}\.(jpg|png)$")


def metadata_path(root: PathLike, resolution: str, sequence: str) -> Path:
    """Where the generator writes a video's metadata: ``<root>/Metadata/<res>/<seq>.json``."""
    return Path(root) / "Metadata" / resolution / f"{sequence}.json"


def instances_dir(root: PathLike, resolution: str, sequence: str) -> Path:
    """Where the generator writes a video's instance maps: ``<root>/Instances/<res>/<seq>/``."""
    return Path(root) / "Instances" / resolution / sequence


def _prepare_dir(path: Path, overwrite: bool) -> None:
    if path.exists() and any(path.iterdir()):
        if not overwrite:
            raise FileExistsError(
                f"{path} exists and is not empty; pass --overwrite (overwrite=True in Python) "
                "to replace the generated files"
            )
        foreign = [p.name for p in path.iterdir() if not _OWN_FILE.match(p.name)]
        if foreign:
            raise FileExistsError(
                f"{path} holds files the generator did not write ({foreign[:3]}); refusing to touch it"
            )
        for p in path.iterdir():
            p.unlink()
    path.mkdir(parents=True, exist_ok=True)


def write_davis(
    video: SyntheticVideo,
    root: PathLike,
    resolution: str = "240p",
    overwrite: bool = False,
    jpeg_quality: int = 90,
    write_instances: bool = True,
) -> Path:
    """Write a video in DAVIS-2017 layout under ``root`` (see the module docstring).

    Refuses to write into a non-empty sequence folder unless ``overwrite=True``; even then it
    only replaces files named like its own (``00000.jpg``/``.png``). Returns the frame folder.
    """
    root = Path(root)
    seq = video.name
    jdir = root / "JPEGImages" / resolution / seq
    adir = root / "Annotations" / resolution / seq
    idir = instances_dir(root, resolution, seq)
    dirs = [jdir, adir] + ([idir] if write_instances else [])
    for d in dirs:
        _prepare_dir(d, overwrite)
    for t in range(len(video)):
        write_jpeg(jdir / f"{t:05d}.jpg", video.frames[t], quality=jpeg_quality)
        write_label_png(adir / f"{t:05d}.png", video.labels[t])
        if write_instances:
            write_label_png(idir / f"{t:05d}.png", video.instances[t])
    meta_path = metadata_path(root, resolution, seq)
    meta_path.parent.mkdir(parents=True, exist_ok=True)
    meta = video.metadata()
    meta["jpeg_quality"] = jpeg_quality
    meta_path.write_text(json.dumps(meta, separators=(",", ":")) + "\n")
    return jdir


def sequence_seed(seed: int, split: str, index: int) -> int:
    """Seed of the ``index``-th sequence of ``split`` in a dataset generated with ``seed``."""
    return int(np.random.SeedSequence([int(seed), zlib.crc32(split.encode()), int(index)]).generate_state(1)[0])


def generate_dataset(
    root: PathLike,
    splits: dict[str, int] | None = None,
    config: SyntheticConfig | None = None,
    seed: int = 0,
    resolution: str = "240p",
    overwrite: bool = False,
    jpeg_quality: int = 90,
    progress: bool = True,
    command: str | None = None,
    source: CutoutSource | None = None,
) -> dict[str, Any]:
    """Generate a synthetic DAVIS-2017-layout dataset and its ``manifest.json``.

    ``splits`` maps split names to numbers of sequences (default ``{"train": 8, "val": 4}``);
    sequence ``i`` of split ``s`` is named ``f"{s}_{i:03d}"`` and uses
    :func:`sequence_seed` ``(seed, s, i)``. ``source`` paints the videos with real cut-outs
    (recorded in the manifest). Returns the manifest.
    """

    root = Path(root)
    splits = splits or {"train": 8, "val": 4}
    config = config or SyntheticConfig()
    manifest: dict[str, Any] = {
        "generator": "dgmpm_lite.data.synthetic",
        "generator_version": GENERATOR_VERSION,
        "command": command,
        "seed": int(seed),
        "resolution": resolution,
        "jpeg_quality": jpeg_quality,
        "config": config.to_dict(),
        **({"source": source.describe()} if source is not None else {}),
        "splits": {},
        "versions": library_versions(),
        "layout": "DAVIS-2017: JPEGImages/<res>/<seq>/NNNNN.jpg, Annotations/<res>/<seq>/NNNNN.png (palette ids 1..K), "
        "Instances/<res>/<seq>/NNNNN.png (all instances), Metadata/<res>/<seq>.json, ImageSets/<split>.txt",
    }
    jobs = [(s, i) for s, n in splits.items() for i in range(n)]
    t0 = time.perf_counter()
    for s, i in tqdm(jobs, desc="synthetic videos", disable=not progress):
        name = f"{s}_{i:03d}"
        sseed = sequence_seed(seed, s, i)
        video = generate_video(config, sseed, name=name, source=source)
        write_davis(video, root, resolution, overwrite=overwrite, jpeg_quality=jpeg_quality)
        entry = {
            "name": name,
            "seed": sseed,
            "num_objects": video.num_objects,
            "num_frames": len(video),
            "events": sorted({o["event"] for o in video.objects if o["event"] != "free"}),
            "distractors": sum(o["role"] == "distractor" for o in video.objects),
        }
        manifest["splits"].setdefault(s, []).append(entry)
    manifest["generation_seconds"] = round(time.perf_counter() - t0, 2)
    (root / "ImageSets").mkdir(parents=True, exist_ok=True)
    for s, entries in manifest["splits"].items():
        (root / "ImageSets" / f"{s}.txt").write_text("".join(e["name"] + "\n" for e in entries))
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


# ----------------------------------------------------------------------------- presets / CLI
