"""Speed of DGMPM and the baselines: time per frame and memory (``dgmpm-lite benchmark``).

Measured the way inference runs (paper IV-B-2): the reference frame is encoded once, then
each target frame is encoded once and decoded for every object, through the same
:class:`~dgmpm_lite.infer.VideoSegmenter` that ``dgmpm-lite segment`` uses (frame upload and
label fusion included). The baselines run through the same loop. Reported numbers are the
median over ``repeats`` frames after ``warmup`` frames; nothing here is asserted by tests.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from .device import resolve_device
from .model import DGMPM


@dataclass
class Timing:
    method: str
    backbone: str
    height: int
    width: int
    objects: int
    device: str
    precision: str
    """float32, or the autocast type (bfloat16 on a CPU with native bfloat16, float16 on CUDA)."""
    parameters: int
    seconds_per_frame: float
    peak_memory_mb: float
    """CUDA: peak allocated memory. CPU: growth of the process's peak RSS during the run
    (0 when an earlier, larger run already reached a higher peak)."""

    @property
    def fps(self) -> float:
        return 1.0 / self.seconds_per_frame


def _boxes(objects: int, h: int, w: int) -> np.ndarray:
    """A label map with ``objects`` boxes side by side (ids 1..K)."""
    labels = np.zeros((h, w), dtype=np.uint8)
    for k in range(objects):
        labels[h // 4 : 3 * h // 4, k * w // objects + 2 : (k + 1) * w // objects - 2] = k + 1
    return labels


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_method(
    method: str = "dgmpm",
    backbone: str = "resnet18",
    size: tuple[int, int] = (240, 432),
    objects: int = 1,
    device: str = "auto",
    repeats: int = 10,
    warmup: int = 2,
    model: DGMPM | None = None,
    amp: bool = True,
    channels_last: bool = True,
    compile: bool = False,
) -> Timing:
    """Median seconds per frame of streaming inference (reference encoded once).

    ``method`` is ``"dgmpm"`` (:class:`~dgmpm_lite.infer.VideoSegmenter` with its defaults:
    mixed precision where native, channels_last; ``amp`` and ``channels_last`` switch them
    off to see what each brings), ``"flow"`` or ``"copy"`` (the baselines). Frames are
    random noise: speed does not depend on content.
    """
    from .baselines import CopyFirstMask, FlowPropagation
    from .infer import VideoSegmenter

    dev = resolve_device(device)
    h, w = size
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(2)]
    labels = _boxes(objects, h, w)
    params = 0
    precision = "float32"
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
    rss0 = _peak_rss_mb()
    if method == "dgmpm":
        model = model or DGMPM(backbone, weights=None)
        params = model.num_parameters()
        runner = VideoSegmenter(model, dev, amp=amp, channels_last=channels_last)
        precision = runner.precision
        if compile:
            runner.model = torch.compile(runner.model)
        runner.start(frames[0], labels)
        step = runner.step
    elif method in ("flow", "copy"):
        runner = (FlowPropagation if method == "flow" else CopyFirstMask)(frames[0], labels)
        step = runner.step
        backbone = "-"
    else:
        raise ValueError(f"unknown method {method!r}")
    times = []
    for i in range(warmup + repeats):
        t0 = time.perf_counter()
        step(frames[1 - i % 2])  # VideoSegmenter.step returns on the CPU: synchronised
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    if dev.type == "cuda" and method == "dgmpm":
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = max(0.0, _peak_rss_mb() - rss0)
    device_name = str(dev) if method == "dgmpm" else "cpu"
    return Timing(method, backbone, h, w, objects, device_name, precision, params, statistics.median(times), peak)


def run_benchmark(
    backbones=("resnet18",),
    sizes=((240, 432), (480, 854)),
    objects=(1, 3),
    methods=("dgmpm", "flow", "copy"),
    device: str = "auto",
    repeats: int = 10,
    amp: bool = True,
    channels_last: bool = True,
    compile: bool = False,
) -> list[Timing]:
    """Time every (method, backbone, size, objects) combination; returns the rows."""
    combos = []
    for m in methods:
        for b in (backbones if m == "dgmpm" else ("-",)):
            combos += [(m, b, s, k) for s in sizes for k in objects]
    rows = []
    for m, b, s, k in tqdm(combos, desc="benchmark", unit="config"):
        rows.append(time_method(m, b if b != "-" else "resnet18", s, k, device, repeats, amp=amp, channels_last=channels_last, compile=compile))
    return rows


def format_table(rows: list[Timing]) -> str:
    """A markdown table of the rows (pasted into the README as is)."""
    lines = [
        "| method | backbone | parameters | size | objects | device | precision | ms / frame | fps | peak memory (MB) |",
        "|---|---|---:|---|---:|---|---|---:|---:|---:|",
    ]
    for r in rows:
        params = f"{r.parameters / 1e6:.1f} M" if r.parameters else "-"
        lines.append(
            f"| {r.method} | {r.backbone} | {params} | {r.height}x{r.width} | {r.objects} | {r.device} | {r.precision} | "
            f"{1000 * r.seconds_per_frame:.1f} | {r.fps:.1f} | {r.peak_memory_mb:.0f} |"
        )
    return "\n".join(lines)
