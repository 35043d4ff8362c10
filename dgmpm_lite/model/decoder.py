"""Feature integration network (paper section III-C-1).

The decoder turns the ResNet side outputs of the *target* frame into a mask for *one*
object, guided by two maps: the embedding distance map ``E`` (where the object's appearance
is, III-B) and the previous frame's mask ``P`` (where the object was, against distractors).
It follows the smooth network of DFN (Yu et al., CVPR 2018), deep to shallow::

    res5 ──[cat E,P]── RRB ───────────────────────────┐ deep (stride 32, 128 ch)
    res4 ──[cat E,P]── RRB ── attention(shallow, deep) ── RRB ──┐ (stride 16)
    res3 ──[cat E,P]── RRB ── attention(shallow, deep) ── RRB ──┐ (stride 8)
    res2 ──[cat E,P]── RRB ── attention(shallow, deep) ── RRB ──┐ (stride 4)
                               conv3x3 -> 32, ReLU, upsample to input size, conv3x3 -> 2 logits

Choices where the paper is silent (each written down so a student can change it):

* **Stages.** Four stages on res2..res5, hence three attention blocks, matching the three
  attention maps the paper shows per frame in Fig. 4. ``conv1`` is used only by the
  feature extractor's embedding (stride 2 would make the decoder several times slower).
* **Guides.** ``E`` and ``P`` are down-sampled to each stage's resolution by area averaging
  (``F.interpolate(mode="area")``): averaging, rather than picking pixels, turns a thin or
  slightly wrong mask into a soft, blurred cue, which is the paper's stated reason for
  down-sampling them ("to mitigate the effect of inaccurate guidance").
* **Residual blocks.** DFN's refinement residual block: a 1x1 projection to 128 channels,
  then 3x3 conv, BatchNorm, ReLU, 3x3 conv, added to the projection, ReLU. One block reads
  each stage's input (side output + guides), one merges the attention block's output.
* **Head.** The paper's "up-sampling layer and two convolutional layers": we reduce to 32
  channels *before* upsampling from stride 4 to the input size, because a 3x3 convolution
  with 128 channels at full resolution would cost more than the whole ResNet-18 encoder.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .attention import ATTENTION_BLOCKS
from .backbone import upsample


class ResidualBlock(nn.Module):
    """DFN refinement residual block: 1x1 projection + (3x3, BN, ReLU, 3x3) residual, ReLU."""

    def __init__(self, in_channels: int, out_channels: int = 128) -> None:
        super().__init__()
        self.project = nn.Conv2d(in_channels, out_channels, 1)
        self.body = nn.Sequential(
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.project(x)
        return F.relu(x + self.body(x))


def downsample_guides(guides: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Area-average (B, G, H, W) guide maps down to the spatial size of ``like``."""
    return F.interpolate(guides, size=like.shape[-2:], mode="area")


class FeatureIntegrationNetwork(nn.Module):
    """Deep-to-shallow decoder with guide maps and attention blocks (III-C-1).

    Args:
        side_channels: channels of the side outputs ``(conv1, res2, res3, res4, res5)``; the
            decoder uses the last four.
        num_guides: number of guide maps concatenated at every stage (2 = distance map and
            previous mask; 1 or 0 for the -EDM / -PM ablations).
        attention: ``"spatial"`` (paper), ``"channel"`` (DFN, -SAB+CAB) or ``"none"`` (-SAB).
        width: output channels of the residual blocks (128 in the paper).

    ``forward(side_outputs, guides, out_size, batch)`` returns ``(logits, attention_maps)``:
    logits (batch, 2, *out_size) and the three attention maps from shallow (res2) to deep
    (res4), each None for ``attention="none"``. Side outputs with batch size 1 are shared
    by all ``batch`` objects (one target frame, several objects: IV-B-2).
    """

    def __init__(
        self,
        side_channels: tuple[int, ...],
        num_guides: int = 2,
        attention: str = "spatial",
        width: int = 128,
    ) -> None:
        super().__init__()
        if attention not in ATTENTION_BLOCKS:
            raise ValueError(f"attention must be one of {sorted(ATTENTION_BLOCKS)}, got {attention!r}")
        res2_to_res5 = side_channels[1:]
        self.num_guides = num_guides
        # index 0..3 = res2..res5
        self.lateral = nn.ModuleList(ResidualBlock(c + num_guides, width) for c in res2_to_res5)
        block = ATTENTION_BLOCKS[attention]
        self.attention = nn.ModuleList(block(width, width) for _ in range(3))  # res2, res3, res4
        self.merge = nn.ModuleList(ResidualBlock(2 * width, width) for _ in range(3))
        self.head_reduce = nn.Conv2d(width, 32, 3, padding=1)
        self.head_out = nn.Conv2d(32, 2, 3, padding=1)

    def forward(
        self,
        side_outputs: list[torch.Tensor],
        guides: torch.Tensor | None,
        out_size: tuple[int, int],
        batch: int | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
        feats = side_outputs[1:]  # res2..res5
        if batch is None:
            batch = feats[0].shape[0] if guides is None else guides.shape[0]

        def stage_input(i: int) -> torch.Tensor:
            f = feats[i]
            if f.shape[0] != batch:  # one target frame shared by several objects
                f = f.expand(batch, -1, -1, -1)
            if guides is None:
                return f
            return torch.cat([f, downsample_guides(guides, f)], dim=1)

        deep = self.lateral[3](stage_input(3))
        attention_maps: list[torch.Tensor | None] = [None, None, None]
        for i in (2, 1, 0):  # res4, res3, res2
            shallow = self.lateral[i](stage_input(i))
            fused, attention_maps[i] = self.attention[i](shallow, deep)
            deep = self.merge[i](fused)
        x = F.relu(self.head_reduce(deep))
        x = upsample(x, out_size)
        return self.head_out(x), attention_maps
