"""Classic (non-learned) baselines for semi-supervised video object segmentation.

Semi-supervised VOS gives you the first frame's object masks and asks for the masks in all
later frames. Before trusting a deep model, it helps to know what very simple ideas score
with the same evaluation (:mod:`dgmpm_lite.metrics`):

* :class:`CopyFirstMask` -- "nothing moves": every frame gets the
  first frame's label map. It scores well only on nearly static videos and shows how much of
  a score comes for free.
* :class:`FlowPropagation` -- "follow the pixels": estimate dense
  optical flow between consecutive frames (OpenCV's DIS algorithm) and warp the previous
  masks along it. It handles smooth motion well but drifts over time, and it cannot recover
  an object after an occlusion -- exactly the weaknesses the DGMPM paper targets with its
  reference-frame distance map.

Both expose the same streaming interface as the model's inference loop: construct with the
first RGB frame and its label map, then call ``step(frame)`` once per following frame to get
that frame's label map. Only the previous frame and masks are kept, so memory does not grow
with the video length.

Conventions: frames are ``uint8`` RGB arrays of shape (H, W, 3); label maps are ``uint8``
arrays of shape (H, W) with 0 = background and 1..K = objects.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "CopyFirstMask",
    "FlowPropagation",
    "labels_from_soft_masks",
]


# --------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------
def _check_frame(frame, name: str = "frame", shape: tuple[int, int] | None = None) -> np.ndarray:
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise ValueError(f"{name} must have dtype uint8 (values 0..255), got {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"{name} must be an RGB image of shape (H, W, 3), got {frame.shape}")
    if shape is not None and frame.shape[:2] != tuple(shape):
        raise ValueError(f"{name} has size {frame.shape[:2]} (H, W) but the first frame has size {tuple(shape)}")
    return frame


def _check_labels(labels, name: str = "first_labels", shape=None) -> np.ndarray:
    if not isinstance(labels, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(labels).__name__}")
    if labels.dtype != np.uint8:
        raise ValueError(f"{name} must have dtype uint8 (0 = background, 1..K = objects), got {labels.dtype}")
    if labels.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (H, W) label map, got shape {labels.shape}")
    if shape is not None and labels.shape != tuple(shape):
        raise ValueError(f"{name} has size {labels.shape} (H, W) but the first frame has size {tuple(shape)}")
    if not np.any(labels):
        raise ValueError(f"{name} is empty: the first-frame mask must contain at least one object")
    if labels.max() == 255:
        raise ValueError(f"{name} contains label 255 (DAVIS 'void'); map it to 0 before propagating")
    return labels


def labels_from_soft_masks(masks: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Turn per-object soft masks (K, H, W) into a label map (H, W) uint8.

    Per pixel, the object with the largest value wins (label ``k + 1`` for ``masks[k]``);
    the pixel is background (0) where no object's value exceeds ``threshold``.
    """
    masks = np.asarray(masks)
    if masks.ndim != 3 or masks.shape[0] < 1:
        raise ValueError(f"masks must have shape (K, H, W) with K >= 1, got {masks.shape}")
    best = masks.argmax(axis=0)
    top = masks.max(axis=0)
    return np.where(top > threshold, best + 1, 0).astype(np.uint8)


# --------------------------------------------------------------------------------------
# copy the first mask
# --------------------------------------------------------------------------------------
class CopyFirstMask:
    """Baseline that predicts the first-frame label map for every frame.

    Args:
        first_frame: (H, W, 3) uint8 RGB frame (only its size is used).
        first_labels: (H, W) uint8 label map of the first frame.
    """

    def __init__(self, first_frame: np.ndarray, first_labels: np.ndarray):
        first_frame = _check_frame(first_frame, "first_frame")
        self.shape = first_frame.shape[:2]
        self.first_labels = _check_labels(first_labels, shape=self.shape).copy()
        self.num_objects = int(self.first_labels.max())

    def step(self, frame: np.ndarray) -> np.ndarray:
        """Return (a copy of) the first label map; ``frame`` is only checked for size."""
        _check_frame(frame, shape=self.shape)
        return self.first_labels.copy()


# --------------------------------------------------------------------------------------
# optical-flow propagation
# --------------------------------------------------------------------------------------
class FlowPropagation:
    """Propagate masks frame to frame along dense optical flow (OpenCV DIS).

    At each :meth:`step`:

    1. compute the *backward* flow from the new frame ``t`` to the previous frame ``t-1``
       on grayscale images: for every pixel ``p`` of frame ``t``, ``p + flow(p)`` is where
       it came from in frame ``t-1``;
    2. warp each object's previous mask with ``cv2.remap`` (bilinear): the new mask at ``p``
       is the old mask sampled at ``p + flow(p)``. Backward warping leaves no holes, which
       forward "splatting" of pixels would;
    3. label map = per pixel the object with the largest warped value, background where
       none exceeds 0.5 (:func:`labels_from_soft_masks`).

    Args:
        first_frame: (H, W, 3) uint8 RGB frame 0.
        first_labels: (H, W) uint8 label map of frame 0 (0 = background, 1..K objects;
            must not be empty).
        soft: if False (default) the masks carried to the next step are the binary
            one-hot masks of the label map just produced (sharp, mutually exclusive). If
            True the warped soft values are carried instead; repeated bilinear resampling
            then blurs them over time.
        preset: DIS preset, ``cv2.DISOPTICAL_FLOW_PRESET_MEDIUM`` by default
            (``..._ULTRAFAST``/``..._FAST`` trade accuracy for speed).
        finest_scale: if given, overrides the preset's finest pyramid level (the MEDIUM
            preset stops at level 1, i.e. half resolution; 0 computes the flow at full
            resolution: sharper motion boundaries, slower).

    Known weakness, worth showing students: the flow is smoothed across motion
    boundaries, so every step misplaces about a pixel of the object's outline (the
    leading edge is lost, the uncovered background behind the object is kept) and the
    error accumulates: the mask drifts and lags behind fast objects. An occluded object
    is lost for good.

    Memory: one grayscale frame and K float32 masks, whatever the video length.
    """

    def __init__(
        self,
        first_frame: np.ndarray,
        first_labels: np.ndarray,
        *,
        soft: bool = False,
        preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
        finest_scale: int | None = None,
    ):
        first_frame = _check_frame(first_frame, "first_frame")
        self.shape = first_frame.shape[:2]
        first_labels = _check_labels(first_labels, shape=self.shape)
        self.num_objects = int(first_labels.max())
        self.soft = bool(soft)
        self._dis = cv2.DISOpticalFlow_create(preset)
        if finest_scale is not None:
            if int(finest_scale) < 0:
                raise ValueError(f"finest_scale must be >= 0, got {finest_scale}")
            self._dis.setFinestScale(int(finest_scale))
        self._prev_gray = cv2.cvtColor(first_frame, cv2.COLOR_RGB2GRAY)
        self._masks = self._one_hot(first_labels)
        h, w = self.shape
        self._grid_x, self._grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        self.last_flow: np.ndarray | None = None
        """The most recent backward flow (H, W, 2), x then y displacement; for plots."""

    def _one_hot(self, labels: np.ndarray) -> np.ndarray:
        ids = np.arange(1, self.num_objects + 1, dtype=labels.dtype)[:, None, None]
        return (labels[None] == ids).astype(np.float32)

    def step(self, frame: np.ndarray) -> np.ndarray:
        """Process the next frame and return its (H, W) uint8 label map."""
        frame = _check_frame(frame, shape=self.shape)
        gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        flow = self._dis.calc(gray, self._prev_gray, None)  # current -> previous
        map_x = self._grid_x + flow[..., 0]
        map_y = self._grid_y + flow[..., 1]
        warped = np.stack(
            [
                cv2.remap(
                    m,
                    map_x,
                    map_y,
                    interpolation=cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_CONSTANT,
                    borderValue=0,
                )
                for m in self._masks
            ]
        )
        labels = labels_from_soft_masks(warped)
        self._masks = warped if self.soft else self._one_hot(labels)
        self._prev_gray = gray
        self.last_flow = flow
        return labels
