"""The whole Distance-Guided Mask Propagation Model (paper section III, Fig. 3).

Reading order, as in the paper: :mod:`.backbone` (III-A) -> :mod:`.distance` (III-B, eq.
1-5) -> :mod:`.attention` (III-C-2, eq. 6-8) -> :mod:`.decoder` (III-C-1) -> this file.

Typical use on a video (inference, IV-B-2)::

    model = DGMPM(backbone="resnet18").eval()
    ref = model.encode_reference(frame0, masks0)       # once per video; K objects
    prev = masks0
    for frame in frames[1:]:
        out = model.segment(frame, ref, prev)           # frame (1,3,H,W) shared by K objects
        prev = out.logits.softmax(1)[:, 1:]             # each object's own previous mask

For training, ``model(target_frame, ref_frame, ref_mask, prev_mask)`` does both steps on a
batch of (reference, target) pairs.

Ablation switches (Table IV): ``use_distance=False`` is -EDM, ``use_prev_mask=False`` is
-PM, ``attention="none"`` is -SAB and ``attention="channel"`` is -SAB+CAB.
Frames of any size are padded (replicate) to a multiple of 32 and the outputs cropped back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .backbone import FeatureExtractor
from .checks import check_frames, check_masks
from .decoder import FeatureIntegrationNetwork
from .distance import anchors, distance_map

SIZE_MULTIPLE = 32  # the stride of res5


class ReferenceEncoding(NamedTuple):
    """What the model keeps from the annotated first frame: one pair of anchors per object."""

    fg_anchor: torch.Tensor | None  # (K, C), None for -EDM
    bg_anchor: torch.Tensor | None  # (K, C), None for -EDM
    num_objects: int
    size: tuple[int, int]  # (H, W) of the reference frame


class TargetFeatures(NamedTuple):
    """Features of one target frame, computed once and shared by every object."""

    side_outputs: list[torch.Tensor]  # of the padded frame
    embedding: torch.Tensor | None  # (B, C, H, W), cropped to the frame size
    size: tuple[int, int]


class DGMPMOutput(NamedTuple):
    logits: torch.Tensor
    """(K, 2, H, W) background/foreground logits at input size."""
    distance_map: torch.Tensor | None = None
    """(K, 1, H, W) embedding distance map E (eq. 5), if requested and used."""
    fg_anchor: torch.Tensor | None = None
    bg_anchor: torch.Tensor | None = None
    attention_maps: list[torch.Tensor | None] | None = None
    """Three attention maps, shallow (res2) to deep (res4); spatial: (K, 1, h, w)."""


def pad_to_multiple(x: torch.Tensor, multiple: int = SIZE_MULTIPLE, mode: str = "replicate") -> torch.Tensor:
    """Pad right and bottom so height and width are multiples of ``multiple``."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return x
    if mode == "constant":
        return F.pad(x, (0, pw, 0, ph))
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def crop_padding(x: torch.Tensor | None, size: tuple[int, int], padded: tuple[int, int]) -> torch.Tensor | None:
    """Crop a map computed on the padded frame to the part covering the original ``size``.

    Works at any stride: a (h', w') map of a ``padded`` frame keeps ceil(h' * H / H_pad) rows.
    Per-channel weights (channel attention, spatial size 1x1) are returned unchanged.
    """
    if x is None or x.shape[-2:] == (1, 1):
        return x
    rows = -(-x.shape[-2] * size[0] // padded[0])
    cols = -(-x.shape[-1] * size[1] // padded[1])
    return x[..., :rows, :cols]


@dataclass
class DGMPMConfig:
    """What defines a DGMPM's architecture: the one definition the model, the training config
    (:class:`dgmpm_lite.config.TrainConfig` extends it) and checkpoints (``model_config``) share.
    Initial weights are not part of it (``DGMPM(weights=...)``)."""

    backbone: str = "resnet18"  # III-A: "resnet18", "resnet34", "resnet50" or "efficientnet_lite0"
    use_distance: bool = True  # III-B embedding distance module (False = -EDM)
    use_prev_mask: bool = True  # III-C the previous frame's mask as a guide (False = -PM)
    attention: str = "spatial"  # III-C-2 "spatial"; "channel" = -SAB+CAB, "none" = -SAB
    embed_dim: int = 64  # channels of the embedding (64 in the paper)
    width: int = 128  # channels of the decoder's residual blocks (128 in the paper)


MODEL_KEYS = tuple(f.name for f in dataclasses.fields(DGMPMConfig))
"""The keys of :attr:`DGMPM.config` (and of a checkpoint's ``model_config``)."""


def guide_names(config: dict) -> list[str]:
    """The guide maps a model with this :attr:`DGMPM.config` feeds its decoder, in the order
    :meth:`DGMPM.decode` stacks them after the side outputs: ``"E"`` (distance map) unless
    -EDM, then ``"P"`` (previous mask) unless -PM. Missing keys count as the defaults."""
    use = {"E": config.get("use_distance", True), "P": config.get("use_prev_mask", True)}
    return [name for name, on in use.items() if on]


class DGMPM(nn.Module):
    """Distance-Guided Mask Propagation Model.

    Args:
        backbone: ``"resnet18"``, ``"resnet34"``, ``"resnet50"`` or ``"efficientnet_lite0"``.
        weights: ``"imagenet"`` or ``None`` (see :class:`.backbone.FeatureExtractor`).
        use_distance: use the embedding distance module (False = -EDM ablation).
        use_prev_mask: feed the previous frame's mask (False = -PM ablation).
        attention: ``"spatial"`` (paper), ``"channel"`` (-SAB+CAB) or ``"none"`` (-SAB).
        embed_dim: channels of the embedding (64 in the paper).
        width: channels of the decoder's residual blocks (128 in the paper).
    """

    def __init__(
        self,
        backbone: str = "resnet18",
        weights: str | None = "imagenet",
        use_distance: bool = True,
        use_prev_mask: bool = True,
        attention: str = "spatial",
        embed_dim: int = 64,
        width: int = 128,
    ) -> None:
        super().__init__()
        self.config = dataclasses.asdict(
            DGMPMConfig(backbone, bool(use_distance), bool(use_prev_mask), attention, embed_dim, width)
        )
        self.use_distance = bool(use_distance)
        self.use_prev_mask = bool(use_prev_mask)
        self.working_short_side: int | None = None
        """Short side inference runs the model at: that of the frames it was trained on unless its
        training config set ``working_size``; set when loaded from a checkpoint
        (:mod:`dgmpm_lite.infer` runs the model at that scale). Not part of :attr:`config`."""
        self.features = FeatureExtractor(backbone, weights, embed_dim, with_embedding=self.use_distance)
        self.decoder = FeatureIntegrationNetwork(
            self.features.side_channels,
            num_guides=len(guide_names(self.config)),
            attention=attention,
            width=width,
        )

    @classmethod
    def from_config(cls, config: dict | DGMPMConfig, weights: str | None = None) -> DGMPM:
        """Rebuild a model from :attr:`config` (e.g. stored in a checkpoint) or a :class:`DGMPMConfig`."""
        if isinstance(config, DGMPMConfig):
            config = dataclasses.asdict(config)
        return cls(weights=weights, **config)

    # -- the two encoders -------------------------------------------------------------------

    def encode_target(self, frames: torch.Tensor) -> TargetFeatures:
        """Run the feature extractor on (B, 3, H, W) frames in [0, 1] (padded inside)."""
        check_frames(frames, "frames")
        h, w = frames.shape[-2:]
        padded = pad_to_multiple(frames)
        sides = self.features.side_outputs(padded)
        emb = None
        if self.use_distance:
            emb = self.features.embed(sides, padded.shape[-2:])[..., :h, :w]
        return TargetFeatures(sides, emb, (h, w))

    def encode_reference(self, ref_frame: torch.Tensor, ref_masks: torch.Tensor) -> ReferenceEncoding:
        """Encode the annotated reference frame once: anchors per object (eq. 1-4).

        Args:
            ref_frame: (B, 3, H, W) in [0, 1]; B = 1 to share one frame among K objects.
            ref_masks: (K, 1, H, W) binary masks, one per object (each needs foreground
                and background pixels).
        """
        check_frames(ref_frame, "ref_frame")
        check_masks(ref_masks, "ref_masks", like=ref_frame, binary=True)
        size = tuple(ref_frame.shape[-2:])
        if not self.use_distance:
            if (ref_masks.sum(dim=(1, 2, 3)) == 0).any():
                raise ValueError("ref_masks contain an empty mask: every object needs foreground pixels")
            return ReferenceEncoding(None, None, ref_masks.shape[0], size)
        emb = self.encode_target(ref_frame).embedding
        a_f, a_b = anchors(emb, ref_masks.to(emb.dtype))
        return ReferenceEncoding(a_f, a_b, ref_masks.shape[0], size)

    # -- decoding one object batch -----------------------------------------------------------

    def decode(
        self,
        target: TargetFeatures,
        reference: ReferenceEncoding,
        prev_masks: torch.Tensor | None = None,
        return_maps: bool = False,
        distance_override: torch.Tensor | None = None,
    ) -> DGMPMOutput:
        """Segment each of the K reference objects in an already encoded target frame.

        ``distance_override`` (K, 1, H, W) replaces the eq. 5 map; it exists for knock-out
        experiments (:func:`dgmpm_lite.explore.knockout`), not for normal use.
        """
        h, w = target.size
        if (h, w) != reference.size:
            raise ValueError(
                f"target frame is {h}x{w} but the reference frame was "
                f"{reference.size[0]}x{reference.size[1]}: frames of a video must share one size"
            )
        k = reference.num_objects
        guides = []  # in guide_names order: E, then P
        dist = None
        if self.use_distance:
            dist = distance_map(target.embedding, reference.fg_anchor, reference.bg_anchor)
            if distance_override is not None:
                if distance_override.shape != dist.shape:
                    raise ValueError(
                        f"distance_override must have shape {tuple(dist.shape)}, got {tuple(distance_override.shape)}"
                    )
                dist = distance_override.to(dist.dtype)
            guides.append(dist)
        if self.use_prev_mask:
            if prev_masks is None:
                raise ValueError("prev_masks is required (the model was built with use_prev_mask=True)")
            check_masks(prev_masks, "prev_masks", like=target.side_outputs[0].new_empty(1, 1, h, w))
            if prev_masks.shape[0] != k:
                raise ValueError(f"prev_masks has {prev_masks.shape[0]} masks but the reference has {k} objects")
            guides.append(prev_masks.to(target.side_outputs[0].dtype))
        padded = None
        if guides:
            padded = pad_to_multiple(torch.cat(guides, dim=1), mode="constant")
        pad_size = (h + (-h) % SIZE_MULTIPLE, w + (-w) % SIZE_MULTIPLE)
        logits, att = self.decoder(target.side_outputs, padded, pad_size, batch=k)
        logits = logits[..., :h, :w]
        if not return_maps:
            return DGMPMOutput(logits)
        att = [crop_padding(a, (h, w), pad_size) for a in att]
        return DGMPMOutput(logits, dist, reference.fg_anchor, reference.bg_anchor, att)

    def segment(
        self,
        target_frame: torch.Tensor,
        reference: ReferenceEncoding,
        prev_masks: torch.Tensor | None = None,
        return_maps: bool = False,
    ) -> DGMPMOutput:
        """Encode one target frame (B = 1, shared by all objects) and decode every object."""
        return self.decode(self.encode_target(target_frame), reference, prev_masks, return_maps)

    def forward(
        self,
        target_frame: torch.Tensor,
        ref_frame: torch.Tensor,
        ref_mask: torch.Tensor,
        prev_mask: torch.Tensor | None = None,
        return_maps: bool = False,
    ) -> DGMPMOutput:
        """Training-style forward on a batch of B (reference, target) pairs.

        Args:
            target_frame, ref_frame: (B, 3, H, W) in [0, 1].
            ref_mask: (B, 1, H, W) binary reference masks.
            prev_mask: (B, 1, H, W) previous-frame masks in [0, 1] (ignored for -PM).
        """
        check_frames(target_frame, "target_frame")
        check_frames(ref_frame, "ref_frame")
        if target_frame.shape != ref_frame.shape:
            raise ValueError(
                f"target_frame {tuple(target_frame.shape)} and ref_frame "
                f"{tuple(ref_frame.shape)} must have the same shape"
            )
        reference = self.encode_reference(ref_frame, ref_mask)
        return self.decode(self.encode_target(target_frame), reference, prev_mask, return_maps)

    def num_parameters(self, trainable_only: bool = True) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)
