"""Attention blocks of the feature integration network (paper section III-C-2, eq. 6-8).

:class:`SpatialAttentionBlock` is the paper's block (Fig. 5). A deep feature ``F_d`` (coarse,
semantic) decides *where* to look in a shallow feature ``F_l`` (fine, detailed)::

    alpha = sigmoid(f(cat(up(F_d), F_l)))        eq. 6
    f(x)  = W2 * relu(W1 * x)                     eq. 7   (W1: 3x3 -> 32, W2: 3x3 -> 1)
    F_o   = cat(up(F_d), alpha (x) F_l)           eq. 8

``alpha`` is one weight per pixel, shared by all channels.

:class:`ChannelAttentionBlock` is the channel attention block of DFN (Yu et al., CVPR 2018),
used for the paper's -SAB+CAB ablation: one weight per *channel* of ``F_l``, computed from
the globally pooled concatenation. DFN adds the weighted shallow feature to the deep one; we
concatenate as in eq. 8, so that the two blocks differ only in how the weights are computed
and the rest of the decoder is identical.

:class:`NoAttentionBlock` (the -SAB ablation) just returns ``cat(up(F_d), F_l)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .backbone import upsample


def upsample_to(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Bilinear interpolation ``Up(.)`` of ``x`` to the spatial size of ``like``."""
    return upsample(x, like.shape[-2:])


class SpatialAttentionBlock(nn.Module):
    """Spatial attention block, eq. 6-8.

    Args:
        deep_channels: channels of ``F_d``.
        shallow_channels: channels of ``F_l``.
        hidden_channels: output channels of ``W1`` (32 in the paper).

    ``forward(shallow, deep)`` returns ``(F_o, alpha)``: F_o has
    ``deep_channels + shallow_channels`` channels at the shallow resolution, alpha is
    (B, 1, h, w) in (0, 1).
    """

    def __init__(self, deep_channels: int, shallow_channels: int, hidden_channels: int = 32) -> None:
        super().__init__()
        self.out_channels = deep_channels + shallow_channels
        self.w1 = nn.Conv2d(deep_channels + shallow_channels, hidden_channels, 3, padding=1)
        self.w2 = nn.Conv2d(hidden_channels, 1, 3, padding=1)

    def attention(self, shallow: torch.Tensor, deep_up: torch.Tensor) -> torch.Tensor:
        """alpha of eq. 6-7 from the shallow feature and the already upsampled deep one."""
        return torch.sigmoid(self.w2(F.relu(self.w1(torch.cat([deep_up, shallow], dim=1)))))

    def forward(self, shallow: torch.Tensor, deep: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        deep_up = upsample_to(deep, shallow)
        alpha = self.attention(shallow, deep_up)
        return torch.cat([deep_up, alpha * shallow], dim=1), alpha  # eq. 8


class ChannelAttentionBlock(nn.Module):
    """DFN channel attention block (for the -SAB+CAB ablation).

    ``w = sigmoid(conv1x1(relu(conv1x1(avgpool(cat(up(F_d), F_l))))))`` has one weight per
    channel of ``F_l``; the output is ``cat(up(F_d), w (x) F_l)`` (see the module docstring
    for why we concatenate). Returns ``(F_o, w)`` with w of shape (B, C_l, 1, 1).
    """

    def __init__(self, deep_channels: int, shallow_channels: int, hidden_channels: int = 32) -> None:
        super().__init__()
        self.out_channels = deep_channels + shallow_channels
        self.fc1 = nn.Conv2d(deep_channels + shallow_channels, hidden_channels, 1)
        self.fc2 = nn.Conv2d(hidden_channels, shallow_channels, 1)

    def forward(self, shallow: torch.Tensor, deep: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        deep_up = upsample_to(deep, shallow)
        pooled = F.adaptive_avg_pool2d(torch.cat([deep_up, shallow], dim=1), 1)
        w = torch.sigmoid(self.fc2(F.relu(self.fc1(pooled))))
        return torch.cat([deep_up, w * shallow], dim=1), w


class NoAttentionBlock(nn.Module):
    """-SAB ablation: plain ``cat(up(F_d), F_l)``; the attention output is ``None``."""

    def __init__(self, deep_channels: int, shallow_channels: int) -> None:
        super().__init__()
        self.out_channels = deep_channels + shallow_channels

    def forward(self, shallow: torch.Tensor, deep: torch.Tensor) -> tuple[torch.Tensor, None]:
        return torch.cat([upsample_to(deep, shallow), shallow], dim=1), None


ATTENTION_BLOCKS = {
    "spatial": SpatialAttentionBlock,
    "channel": ChannelAttentionBlock,
    "none": NoAttentionBlock,
}
