"""Speed of the model: parameters and time per frame (``dgmpm-lite benchmark``).

Measured the way inference runs (paper IV-B-2): the reference frame is encoded once, then
each target frame is encoded once and decoded for every object. Reported numbers are the
median over ``repeats`` frames after ``warmup`` frames; nothing here is asserted by tests.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from .device import resolve_device
from .model import DGMPM


@dataclass
class ForwardTiming:
    backbone: str
    height: int
    width: int
    objects: int
    device: str
    parameters: int
    seconds_per_frame: float

    @property
    def fps(self) -> float:
        return 1.0 / self.seconds_per_frame


def time_forward(
    backbone: str = "resnet18",
    size: tuple[int, int] = (240, 432),
    objects: int = 1,
    device: str = "auto",
    repeats: int = 10,
    warmup: int = 2,
    model: DGMPM | None = None,
) -> ForwardTiming:
    """Median seconds per target frame of ``DGMPM.segment`` with a cached reference."""
    dev = resolve_device(device)
    model = (model or DGMPM(backbone, weights=None)).to(dev).eval()
    h, w = size
    g = torch.Generator().manual_seed(0)
    frame = torch.rand(1, 3, h, w, generator=g).to(dev)
    masks = torch.zeros(objects, 1, h, w)
    for k in range(objects):  # K boxes side by side
        masks[k, :, h // 4 : 3 * h // 4, k * w // objects + 2 : (k + 1) * w // objects - 2] = 1
    masks = masks.to(dev)
    times = []
    with torch.inference_mode():
        reference = model.encode_reference(frame, masks)
        for i in range(warmup + repeats):
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            model.segment(frame, reference, masks)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            if i >= warmup:
                times.append(time.perf_counter() - t0)
    return ForwardTiming(backbone, h, w, objects, str(dev), model.num_parameters(), statistics.median(times))


def run_benchmark(
    backbones=("resnet18", "resnet50"),
    sizes=((240, 432), (480, 854)),
    objects=(1,),
    device: str = "auto",
    repeats: int = 10,
) -> list[ForwardTiming]:
    """Time every (backbone, size, objects) combination; returns the rows."""
    rows = []
    combos = [(b, s, k) for b in backbones for s in sizes for k in objects]
    for b, s, k in tqdm(combos, desc="benchmark", unit="config"):
        model = DGMPM(b, weights=None)
        rows.append(time_forward(b, s, k, device, repeats, model=model))
    return rows


def format_table(rows: list[ForwardTiming]) -> str:
    """A markdown table of the rows (pasted into the README as is)."""
    lines = [
        "| backbone | parameters | size | objects | device | ms / frame | fps |",
        "|---|---:|---|---:|---|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.backbone} | {r.parameters / 1e6:.1f} M | {r.height}x{r.width} | {r.objects} | "
            f"{r.device} | {1000 * r.seconds_per_frame:.0f} | {r.fps:.1f} |"
        )
    return "\n".join(lines)
