"""Real objects and real backgrounds for the synthetic generator: cut-outs of annotated frames.

The procedural generator (:mod:`.synthetic`) draws textured shapes over noise. A model
trained only on that learns procedural textures; one trained only on DAVIS-2016 (one
salient object per video) learns saliency. The static-image route of STM, STCN and XMem
sits between the two: **cut real objects out of annotated frames with their masks and paste
them, moving, onto other real frames**. This module is that source of pixels; the generator
keeps doing the scene (motion, occlusion events, look-alikes, camera, visibility records).

A :class:`CutoutSource` answers three questions the generator asks while it samples a
scene, always from the generator's own random stream (so a scene stays a pure function of
``(config, seed, source)``):

* :meth:`~CutoutSource.background` - a real frame, scaled and cropped to cover the canvas,
  with its own object's mask. DAVIS frames show their own object: left unannotated it is a
  real salient non-target; annotated (``SyntheticConfig.p_background_target``) it is a
  natural target, so that being pasted is no cue for being a target;
* :meth:`~CutoutSource.sprite` - an object cut out of an annotated frame: ``(alpha, rgb)``
  scaled so its larger side is the requested diameter;
* :meth:`~CutoutSource.texture` - a patch of a real frame, to paint occluders with.

Only the sequences it is given are read (e.g. the train split for training, the held-out
split for the validation benchmark), and only every ``frame_step``-th annotated frame, kept
in memory as uint8. DAVIS is CC BY-NC 4.0: what this source renders must never be committed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .davis import DavisDataset
from .io import PathLike

MIN_OBJECT_FRACTION = 0.01
"""A frame's object must cover at least this share of the frame to be cut out."""


def _touches_border(mask: np.ndarray) -> int:
    """How many of the four image borders the mask touches."""
    return int(mask[0].any()) + int(mask[-1].any()) + int(mask[:, 0].any()) + int(mask[:, -1].any())


class CutoutSource:
    """Objects and backgrounds cut from the annotated frames of DAVIS-layout sequences.

    Args:
        root: a DAVIS-2016/2017 folder (any resolution folder).
        split: a split name or a split file (one sequence name per line): the *only*
            sequences read.
        frame_step: read every ``frame_step``-th frame of each sequence.
        max_border_sides: skip cut-outs whose mask touches more image borders than this
            (objects cut by the frame edge look truncated when pasted in the middle).
    """

    def __init__(self, root: PathLike, split: str, frame_step: int = 5, max_border_sides: int = 1) -> None:
        if frame_step < 1:
            raise ValueError(f"frame_step must be >= 1, got {frame_step}")
        self.root = Path(root)
        self.split = str(split)
        dataset = DavisDataset(self.root, split=self.split)
        self.sequences: list[str] = []
        self.frames: list[np.ndarray] = []  # backgrounds, uint8 (H, W, 3)
        self.frame_masks: list[np.ndarray | None] = []  # their annotated objects (all ids as one), uint8 {0, 1}
        self.objects: list[tuple[np.ndarray, np.ndarray, str]] = []  # (rgb crop, mask crop, "seq/frame")
        for seq in dataset:
            self.sequences.append(seq.name)
            for i in range(0, len(seq), frame_step):
                frame = seq.frame(i)
                self.frames.append(frame)
                labels = seq.mask(i)
                self.frame_masks.append(None if labels is None else (labels > 0).astype(np.uint8))
                if labels is None:
                    continue
                for oid in (int(v) for v in np.unique(labels) if v != 0):
                    mask = (labels == oid).astype(np.uint8)
                    if mask.mean() < MIN_OBJECT_FRACTION or _touches_border(mask) > max_border_sides:
                        continue
                    ys, xs = np.nonzero(mask)
                    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
                    self.objects.append((frame[y0:y1, x0:x1].copy(), mask[y0:y1, x0:x1].copy(), f"{seq.name}/{i:05d}"))
        if not self.objects:
            raise ValueError(
                f"no object of {self.root} (split {self.split!r}) can be cut out: "
                "every mask is tiny or cut by the frame"
            )

    def describe(self) -> dict[str, Any]:
        """JSON-ready identity of the source (goes into manifests and training configs)."""
        return {
            "kind": "cutouts",
            "root": str(self.root),
            "split": self.split,
            "sequences": self.sequences,
            "num_objects": len(self.objects),
            "num_backgrounds": len(self.frames),
        }

    def background(
        self, rng: np.random.Generator, height: int, width: int, with_mask: bool = False
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray | None]:
        """A random real frame scaled (up to 1.3 times beyond covering) and cropped to ``(height, width)``.

        ``with_mask`` also returns the frame's annotated object cropped the same way (float32
        in 0..1, None where the frame has no annotation); the random draws are the same either way.
        """
        index = int(rng.integers(len(self.frames)))
        frame, mask = self.frames[index], self.frame_masks[index]
        h, w = frame.shape[:2]
        scale = max(height / h, width / w) * rng.uniform(1.0, 1.3)
        size = (max(width, math.ceil(w * scale)), max(height, math.ceil(h * scale)))
        big = cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)
        flip = rng.random() < 0.5
        y = int(rng.integers(size[1] - height + 1))
        x = int(rng.integers(size[0] - width + 1))

        def crop(img: np.ndarray) -> np.ndarray:
            img = img[:, ::-1] if flip else img
            return np.ascontiguousarray(img[y : y + height, x : x + width]).astype(np.float32)

        if not with_mask:
            return crop(big)
        big_mask = None if mask is None else cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
        return crop(big), None if big_mask is None else crop(big_mask)

    def texture(self, rng: np.random.Generator, height: int, width: int) -> np.ndarray:
        """A patch of a real frame to paint an occluder with (a background drawn the same way)."""
        return self.background(rng, height, width)

    def sprite(
        self, rng: np.random.Generator, radius: float, exclude: Sequence[str] = ()
    ) -> tuple[np.ndarray, np.ndarray, str]:
        """A random cut-out as ``(alpha float32 (h, w) in 0..1, rgb float32 (h, w, 3), name)``.

        The cut-out is scaled so that its larger side is ``2 * radius`` pixels and padded by
        2 pixels; the alpha is the resized mask with a soft (anti-aliased) edge. ``exclude``
        lists sequence names not to draw from (so a salient non-target is another object).
        """
        allowed = [i for i, o in enumerate(self.objects) if o[2].split("/")[0] not in exclude] or list(
            range(len(self.objects))
        )
        rgb, mask, name = self.objects[allowed[int(rng.integers(len(allowed)))]]
        h, w = mask.shape
        s = 2.0 * radius / max(h, w)
        size = (max(2, round(w * s)), max(2, round(h * s)))
        alpha = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        pix = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        alpha = np.pad(alpha, 2)
        pix = np.pad(pix, ((2, 2), (2, 2), (0, 0)), mode="edge")
        alpha = cv2.GaussianBlur(alpha, (3, 3), 0.6)
        return alpha.astype(np.float32), pix, name


def look_alike(
    alpha: np.ndarray, rgb: np.ndarray, rng: np.random.Generator, jitter: float = 0.1
) -> tuple[np.ndarray, np.ndarray, str]:
    """A look-alike of a cut-out: flipped, slightly recoloured and rescaled (not annotated).

    Returns ``(alpha, rgb, how)``; ``how`` says which changes were made (for the metadata).
    The hue moves by at most 0.08 of the colour circle, so it stays a convincing double.
    """
    how = []
    if rng.random() < 0.7:
        alpha, rgb = alpha[:, ::-1], rgb[:, ::-1]
        how.append("flipped")
    if rng.random() < 0.6:
        hsv = cv2.cvtColor(np.clip(rgb, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.float32)
        hsv[..., 0] = np.mod(hsv[..., 0] + rng.uniform(-15, 15), 180)  # OpenCV hue is 0..179
        hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.8, 1.25), 0, 255)
        rgb = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
        how.append("recoloured")
    s = 1.0 + rng.uniform(-jitter, jitter)
    if abs(s - 1.0) > 1e-3:
        size = (max(2, round(alpha.shape[1] * s)), max(2, round(alpha.shape[0] * s)))
        alpha = cv2.resize(np.ascontiguousarray(alpha), size, interpolation=cv2.INTER_LINEAR)
        rgb = cv2.resize(np.ascontiguousarray(rgb), size, interpolation=cv2.INTER_LINEAR)
        how.append(f"rescaled x{s:.2f}")
    return np.ascontiguousarray(alpha, np.float32), np.ascontiguousarray(rgb, np.float32), ", ".join(how) or "same"


def inner_radius(alpha: np.ndarray) -> float:
    """Radius of the largest disc around the sprite's centre that lies inside it (for scripted occlusions)."""
    inside = (alpha > 0.5).astype(np.uint8)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    cy, cx = (np.array(alpha.shape) - 1) // 2
    return float(max(dist[cy, cx], 1.0))
