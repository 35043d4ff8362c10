"""Input checks shared by the model modules.

Every public entry point of :mod:`dgmpm_lite.model` validates its tensors here so that a
student who passes a uint8 image, a mask of the wrong size or an empty first-frame mask gets
an error that names the problem instead of a shape error deep inside a convolution.
"""

from __future__ import annotations

import torch


def check_frames(frames: torch.Tensor, name: str = "frames") -> None:
    """Frames must be a float tensor (B, 3, H, W) with RGB values in [0, 1]."""
    if not isinstance(frames, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(frames).__name__}")
    if frames.dim() != 4:
        raise ValueError(f"{name} must have shape (B, 3, H, W), got {tuple(frames.shape)}")
    if frames.shape[1] != 3:
        raise ValueError(
            f"{name} must have 3 (RGB) channels, got {frames.shape[1]} channels (shape {tuple(frames.shape)})"
        )
    if not frames.is_floating_point():
        raise ValueError(
            f"{name} must be a float tensor with values in [0, 1], got dtype {frames.dtype} "
            "(convert uint8 images with .float() / 255)"
        )
    lo, hi = float(frames.min()), float(frames.max())
    if lo < -1e-3 or hi > 1 + 1e-3:
        raise ValueError(
            f"{name} must hold RGB values in [0, 1] (the model normalises internally), "
            f"got values in [{lo:.3g}, {hi:.3g}]"
        )


def check_masks(
    masks: torch.Tensor,
    name: str,
    like: torch.Tensor,
    *,
    binary: bool = False,
) -> None:
    """Masks must be float (B, 1, H, W) with the spatial size of ``like`` and values in [0, 1].

    ``binary=True`` additionally demands values in {0, 1} (first-frame annotations).
    The batch size must equal ``like``'s, or ``like`` may have batch size 1 (one frame
    shared by several objects).
    """
    if not isinstance(masks, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(masks).__name__}")
    if masks.dim() != 4 or masks.shape[1] != 1:
        raise ValueError(f"{name} must have shape (B, 1, H, W), got {tuple(masks.shape)}")
    if masks.shape[-2:] != like.shape[-2:]:
        raise ValueError(
            f"{name} is {masks.shape[-2]}x{masks.shape[-1]} but the frame/features are "
            f"{like.shape[-2]}x{like.shape[-1]}: sizes must match"
        )
    if like.shape[0] not in (1, masks.shape[0]):
        raise ValueError(
            f"{name} has batch size {masks.shape[0]} but the frame/features have "
            f"{like.shape[0]} (must be equal, or 1 to share one frame across objects)"
        )
    if not masks.is_floating_point():
        masks = masks.float()
    lo, hi = float(masks.min()), float(masks.max())
    if lo < 0 or hi > 1:
        raise ValueError(f"{name} must have values in [0, 1], got values in [{lo:.3g}, {hi:.3g}]")
    if binary and not torch.all((masks == 0) | (masks == 1)):
        raise ValueError(
            f"{name} must be binary (only 0 and 1); got non-binary values - threshold it, e.g. (mask > 0.5).float()"
        )
