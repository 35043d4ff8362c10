"""A tiny two-frame toy clip for unit tests and the model tour.

Not the synthetic video generator (see :mod:`dgmpm_lite.data.synthetic`): just one textured
disc moving a few pixels over a noisy background, made with torch alone, so a model test or
a first forward pass needs no files.
"""

from __future__ import annotations

import torch


def toy_clip(height: int = 64, width: int = 64, shift: int = 4, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(frames, masks)``: frames (2, 3, H, W) in [0, 1], masks (2, 1, H, W) in {0, 1}.

    Frame 0 has a striped disc of radius ~H/5 left of the centre; in frame 1 it has moved
    ``shift`` pixels right and down. The background is smooth coloured noise.
    """
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(
        torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32), indexing="ij"
    )
    coarse = torch.rand(1, 3, max(2, height // 8), max(2, width // 8), generator=g)
    background = torch.nn.functional.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)[0]
    background = 0.15 + 0.5 * background
    radius = max(3.0, min(height, width) / 5)
    stripes = 0.5 + 0.5 * torch.sin((xx + yy) / 2.0)
    colour = torch.tensor([0.9, 0.3, 0.2]).view(3, 1, 1)
    frames, masks = [], []
    for t in range(2):
        cy, cx = height * 0.45 + t * shift, width * 0.4 + t * shift
        mask = (((yy - cy) ** 2 + (xx - cx) ** 2) <= radius**2).float()
        obj = colour * (0.6 + 0.4 * stripes)
        frames.append(background * (1 - mask) + obj * mask)
        masks.append(mask[None])
    return torch.stack(frames).clamp(0, 1), torch.stack(masks)
