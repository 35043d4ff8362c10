"""Speed of DGMPM and the baselines: time per frame and memory (``dgmpm-lite benchmark``).

Measured the way inference runs (paper IV-B-2): the reference frame is encoded once, then
each target frame is encoded once and decoded for every object, through the same
:class:`~dgmpm_lite.infer.VideoSegmenter` that ``dgmpm-lite segment`` uses (frame upload and
label fusion included). The baselines run through the same loop. Reported numbers are the
median over ``repeats`` frames after ``warmup`` frames; nothing here is asserted by tests.
This is the project's one way of measuring speed: the README's tables and notebook 07's
accuracy-against-runtime figure (:func:`time_methods`) both come from :func:`time_method`.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from .baselines import CopyFirstMask, FlowPropagation
from .device import resolve_device
from .infer import VideoSegmenter
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
    """Working memory of inference: the peak while encoding the reference and segmenting the
    frames, minus what was held before (the model's weights are not counted). CUDA: allocated
    tensors. CPU on Linux: resident memory (the peak mark is reset before the loop through
    ``/proc/self/clear_refs``); elsewhere the growth of the process's all-time peak RSS,
    which reads 0 when an earlier, larger run already went higher."""
    decoder_width: int = 0
    """Channels of DGMPM's decoder blocks (128 in the paper, ``--widths``); 0 for the baselines."""

    @property
    def fps(self) -> float:
        return 1.0 / self.seconds_per_frame


def _boxes(objects: int, h: int, w: int) -> np.ndarray:
    """A label map with ``objects`` boxes side by side (ids 1..K)."""
    labels = np.zeros((h, w), dtype=np.uint8)
    for k in range(objects):
        labels[h // 4 : 3 * h // 4, k * w // objects + 2 : (k + 1) * w // objects - 2] = k + 1
    return labels


def _proc_status_mb(field: str) -> float | None:
    """``VmRSS`` (resident now) or ``VmHWM`` (resident peak) of this process in MB; None off Linux."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return None


class _MemoryMeter:
    """Peak memory above the level at :meth:`start` (see :attr:`Timing.peak_memory_mb`):
    allocated CUDA tensors with ``cuda=True``, else the process's resident memory."""

    def __init__(self, cuda: bool) -> None:
        self.cuda = cuda

    def start(self) -> None:
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated() / 2**20
            return
        self.exact = False
        try:  # Linux >= 4.0: "5" resets the peak mark VmHWM to the current RSS
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self.exact = _proc_status_mb("VmHWM") is not None
        except OSError:
            pass
        self.base = _proc_status_mb("VmRSS") if self.exact else self._maxrss()

    def peak_above_start(self) -> float:
        if self.cuda:
            return torch.cuda.max_memory_allocated() / 2**20 - self.base
        return max(0.0, (_proc_status_mb("VmHWM") if self.exact else self._maxrss()) - self.base)

    @staticmethod
    def _maxrss() -> float:
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
    width: int = 128,
) -> Timing:
    """Median seconds per frame of streaming inference (reference encoded once).

    ``method`` is ``"dgmpm"`` (:class:`~dgmpm_lite.infer.VideoSegmenter` with its defaults:
    mixed precision where native, channels_last; ``amp`` and ``channels_last`` switch them
    off to see what each brings), ``"flow"`` or ``"copy"`` (the baselines). Frames are
    random noise: speed does not depend on content, nor on the weights, so an untrained
    model of the same architecture (``backbone``, decoder ``width``) times a trained one.
    """

    dev = resolve_device(device)
    h, w = size
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(2)]
    labels = _boxes(objects, h, w)
    params = 0
    precision = "float32"
    meter = _MemoryMeter(cuda=dev.type == "cuda" and method == "dgmpm")
    if method == "dgmpm":
        model = model or DGMPM(backbone, weights=None, width=width)
        params = model.num_parameters()
        width = model.config["width"]
        runner = VideoSegmenter(model, dev, amp=amp, channels_last=channels_last)
        precision = runner.precision
        if compile:
            # inference calls these, not forward: compiling the module would wrap forward only
            model.features.side_outputs = torch.compile(model.features.side_outputs)
            model.decoder.forward = torch.compile(model.decoder.forward)
        meter.start()  # the model's weights are not counted
        runner.start(frames[0], labels)
        step = runner.step
    elif method in ("flow", "copy"):
        meter.start()
        runner = (FlowPropagation if method == "flow" else CopyFirstMask)(frames[0], labels)
        step = runner.step
        backbone, width = "-", 0
    else:
        raise ValueError(f"unknown method {method!r}")
    times = []
    for i in range(warmup + repeats):
        t0 = time.perf_counter()
        step(frames[1 - i % 2])  # VideoSegmenter.step returns on the CPU: synchronised
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    device_name = str(dev) if method == "dgmpm" else "cpu"
    return Timing(
        method,
        backbone,
        h,
        w,
        objects,
        device_name,
        precision,
        params,
        statistics.median(times),
        meter.peak_above_start(),
        width,
    )


def time_methods(
    methods, size: tuple[int, int], objects: int = 1, device: str = "auto", repeats: int = 10
) -> dict[str, Timing]:
    """:func:`time_method` for each of ``methods`` (display name -> a :class:`DGMPM` model, or
    ``"flow"`` / ``"copy"``, as :func:`dgmpm_lite.compare.evaluate_methods` takes them), at one
    frame size and number of objects: the timings the Fig. 6 analogue of notebook 07 plots."""

    out = {}
    for name, method in tqdm(list(methods.items()), desc="timing", unit="method"):
        kind, model = ("dgmpm", method) if isinstance(method, DGMPM) else (method, None)
        out[name] = time_method(kind, size=size, objects=objects, device=device, repeats=repeats, model=model)
    return out


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
    widths=(128,),
) -> list[Timing]:
    """Time every (method, backbone, decoder width, size, objects) combination; returns the rows.

    On the CPU each combination runs in a fresh process (same number of threads): memory
    freed by one run stays in the process's heap and would hide the next run's working
    memory, which is what the "memory per extra object" comparison needs.
    """
    if any(int(w) < 1 for w in widths):
        raise ValueError(f"decoder widths must be positive, got {list(widths)}")
    combos = []
    for m in methods:
        for b in backbones if m == "dgmpm" else ("-",):
            for wd in widths if m == "dgmpm" else (128,):
                combos += [(m, b, wd, s, k) for s in sizes for k in objects]
    fresh_process = resolve_device(device).type == "cpu"
    rows = []
    for m, b, wd, s, k in tqdm(combos, desc="benchmark", unit="config"):
        kwargs = dict(
            method=m,
            backbone=b if b != "-" else "resnet18",
            size=s,
            objects=k,
            device=device,
            repeats=repeats,
            amp=amp,
            channels_last=channels_last,
            compile=compile,
            width=int(wd),
        )
        if fresh_process:
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                rows.append(pool.submit(_time_in_fresh_process, torch.get_num_threads(), kwargs).result())
        else:
            rows.append(time_method(**kwargs))
    return rows


def _time_in_fresh_process(threads: int, kwargs: dict) -> Timing:
    torch.set_num_threads(threads)
    return time_method(**kwargs)


def format_table(rows: list[Timing]) -> str:
    """A markdown table of the rows (pasted into the README as is)."""
    lines = [
        "| method | backbone | decoder width | parameters | size | objects | device | precision "
        "| ms / frame | fps | working memory (MB) |",
        "|---|---|---:|---:|---|---:|---|---|---:|---:|---:|",
    ]
    for r in rows:
        params = f"{r.parameters / 1e6:.1f} M" if r.parameters else "-"
        lines.append(
            f"| {r.method} | {r.backbone} | {r.decoder_width or '-'} | {params} | {r.height}x{r.width} "
            f"| {r.objects} | {r.device} | {r.precision} | "
            f"{1000 * r.seconds_per_frame:.1f} | {r.fps:.1f} | {r.peak_memory_mb:.0f} |"
        )
    return "\n".join(lines)
