"""Training DGMPM (paper section IV-B-1): the losses and the loop.

This module owns what a training step computes (:func:`segmentation_loss`, the soft
aggregation of several objects :func:`aggregate_objects`, :func:`clip_loss` for clips
unrolled with the model's own predictions) and :func:`train`, the loop that runs a
:class:`~dgmpm_lite.config.TrainConfig`. What it samples is :mod:`dgmpm_lite.train_data`,
where it writes is :mod:`dgmpm_lite.runs`, the files it saves are :mod:`dgmpm_lite.checkpoints`.

The paper trains in three stages with Adam on the cross-entropy of the 2-channel logits:

1. static-image triplets (COCO + lucid-dreaming references), lr 1e-5;
2. video triplets (YouTube-VOS), lr 5e-6;
3. video triplets (DAVIS-2017), lr 1e-6.

Those learning rates suit an ImageNet-pretrained backbone; they are the ``paper`` preset. The
``synthetic`` preset trains a ResNet-18 **from scratch** on the project's synthetic
occlusion/distractor videos (an endless in-memory generator, nothing written to disk);
``smoke`` is a few steps for tests and CI (all presets: :data:`dgmpm_lite.config.PRESETS`).

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
  AVX512-BF16 or AMX, float32 elsewhere; channels_last convolutions; several GPUs with
  ``torchrun --nproc_per_node N -m dgmpm_lite train ...`` (DistributedDataParallel; gloo on CPU).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from .checkpoints import CHECKPOINT_FORMAT, atomic_save, default_checkpoint, dequantize_state, load_checkpoint
from .compare import evaluate_methods
from .config import LOSSES, TrainConfig
from .device import autocast, autocast_dtype, precision_name, resolve_device
from .infer import fuse_labels, object_masks
from .model import DGMPM, TargetFeatures, guide_names
from .runs import RUN_LOGS, append_csv, logged, open_run_folder, truncate_csv
from .train_data import resolve_path, stage_dataset, validation_videos


def segmentation_loss(
    logits: torch.Tensor, target: torch.Tensor, kind: str = "ce", hard_fraction: float = 0.2
) -> torch.Tensor:
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


def clip_loss(model: DGMPM, batch: dict, device: torch.device, cfg: TrainConfig) -> torch.Tensor:
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
            losses.append(
                segmentation_loss(aggregate_objects(logits)[None], labels[t][None], cfg.loss, cfg.hard_fraction)
            )
            with torch.no_grad():
                prev = object_masks(fuse_labels(logits.detach().float().softmax(dim=1)[:, 1], ids), ids)
    return torch.stack(losses).mean()


def _triplet_loss(net, batch: dict, device: torch.device, cfg: TrainConfig) -> torch.Tensor:
    """Loss of a batch of (reference, previous mask, target) triplets, one object each."""
    x = {
        k: batch[k].to(device, non_blocking=True)
        for k in ("ref_frame", "ref_mask", "prev_mask", "target_frame", "target_mask")
    }
    for k in ("ref_frame", "target_frame"):
        x[k] = x[k].contiguous(memory_format=torch.channels_last)
    logits = net(x["target_frame"], x["ref_frame"], x["ref_mask"], x["prev_mask"]).logits
    return segmentation_loss(logits.float(), x["target_mask"][:, 0].long(), cfg.loss, cfg.hard_fraction)


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
    variant started from the full model) gets the side-output part and the weights of every
    guide both models have (-PM keeps E's, -EDM keeps P's); a guide the checkpoint lacks keeps
    its own initialisation. Returns the names not copied in full.
    """
    ckpt = load_checkpoint(path)
    state = dequantize_state(ckpt["model"])
    src_guides, own_guides = guide_names(ckpt.get("model_config", {})), guide_names(model.config)
    own = model.state_dict()
    skipped = []
    for name, value in own.items():
        src = state.get(name)
        if src is not None and src.shape == value.shape:
            own[name] = src
        elif (
            src is not None
            and src.dim() == 4
            and src.shape[0] == value.shape[0]
            and src.shape[2:] == value.shape[2:]
            and src.shape[1] - len(src_guides) == value.shape[1] - len(own_guides)
        ):
            side = value.shape[1] - len(own_guides)  # side-output channels first, guides last
            own[name] = value.clone()
            own[name][:, :side] = src[:, :side]
            for i, guide in enumerate(own_guides):
                if guide in src_guides:
                    own[name][:, side + i] = src[:, side + src_guides.index(guide)]
            if not set(own_guides) <= set(src_guides):
                skipped.append(name + " (guide channels)")
        else:
            skipped.append(name)
    model.load_state_dict(own)
    return skipped


def distributed_context() -> tuple[int, int]:
    """(rank, world size); initialises the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def validate(model: DGMPM, cfg: TrainConfig, device: torch.device) -> dict[str, float]:
    """J&F of the model on the validation videos (DAVIS rules, :mod:`dgmpm_lite.compare`)."""
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


def train(
    cfg: TrainConfig,
    out_dir: str | os.PathLike,
    overwrite: bool = False,
    max_steps: int | None = None,
    progress: bool = True,
    max_minutes: float | None = None,
) -> Path:
    """Run (or resume) the training described by ``cfg`` into ``out_dir``; returns ``last.pt``.

    ``out_dir/last.pt`` present: the run resumes from it (its config must match ``cfg``; the
    logs are cut back to its step; a finished run changes nothing unless ``cfg`` appends stages
    to its schedule, which trains it longer), unless ``overwrite=True``,
    which starts again from scratch. A folder holding another run's files but no checkpoint
    raises ``FileExistsError`` unless ``overwrite=True`` (:func:`open_run_folder`).
    ``max_steps`` stops after that many optimiser steps in this call (used to test resuming);
    ``max_minutes`` after the step that reaches that many minutes of this call (a Colab session
    or a lent GPU with a time limit). Either way the checkpoint is saved and the same call goes
    on from it; :func:`finished` tells whether the run is done.
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
        print(
            f"dgmpm-lite train: device {device}, "
            + (f"{precision_name(amp_dtype)} mixed precision" if amp_dtype else "float32")
            + (f", {world} processes" if world > 1 else "")
        )

    torch.manual_seed(cfg.seed)
    # channels_last (NHWC) runs convolutions faster on oneDNN and cuDNN; same values
    model = DGMPM(weights=cfg.weights, **cfg.model_config)
    if cfg.init:
        left = init_weights(model, default_checkpoint(cfg.init))
        if rank == 0:
            print(
                f"initialised from {cfg.init}"
                + (f"; {len(left)} tensors kept their own initialisation" if left else "")
            )
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
                truncate_csv(out / name, global_step)
            print(
                f"{ckpt_path} is a finished run (step {global_step}); nothing to train (--overwrite starts again)"
                if stage_index >= len(cfg.stages)
                else f"resuming from {ckpt_path} at step {global_step}"
            )

    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )

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
            append_csv(
                out / "val_log.csv", {"global_step": global_step, **{k: round(v, 5) for k, v in metrics.items()}}
            )
            tqdm.write(f"step {global_step}: validation J&F {metrics['J&F']:.3f}")

    steps_this_call = 0
    started = time.monotonic()

    def out_of_budget() -> bool:
        if max_steps is not None and steps_this_call >= max_steps:
            return True
        late = max_minutes is not None and time.monotonic() - started >= 60 * max_minutes
        if max_minutes is not None and world > 1:  # every process stops at the same step
            flag = torch.tensor([float(late)], device=device if dist.get_backend() == "nccl" else "cpu")
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            late = bool(flag.item())
        return late

    total = sum(s.steps for s in cfg.stages)
    bar = tqdm(total=total, initial=global_step, desc="train", disable=not progress or rank != 0, unit="step")
    model.train()
    if cfg.freeze_bn:
        freeze_batchnorm(model)
    while stage_index < len(cfg.stages):
        if step_in_stage == 0 and steps_this_call and out_of_budget():  # before building the next stage's data
            bar.close()
            save()
            return ckpt_path
        stage = cfg.stages[stage_index]
        for group in optimizer.param_groups:
            group["lr"] = stage.lr
        dataset = stage_dataset(cfg, stage, length=stage.steps * cfg.batch_size * world)
        sampler = _StepSampler(step_in_stage, stage.steps, cfg.batch_size, rank, world)
        loader = DataLoader(
            dataset,
            batch_size=cfg.batch_size,
            sampler=sampler,
            num_workers=cfg.num_workers,
            pin_memory=device.type == "cuda",
            persistent_workers=False,
        )
        bar.set_description(f"train [{stage.name}]")
        for batch in loader:
            if out_of_budget():
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
                append_csv(
                    out / "train_log.csv",
                    {
                        "global_step": global_step,
                        "stage": stage.name,
                        "loss": round(loss.item(), 6),
                        "lr": stage.lr,
                        "seconds": round(time.perf_counter() - t0, 4),
                    },
                )
            if cfg.val_every and global_step % cfg.val_every == 0:
                run_validation()  # before the save: a resume from that save never lacks this row
            if cfg.checkpoint_every and global_step % cfg.checkpoint_every == 0:
                save()
        stage_index += 1
        step_in_stage = 0
    bar.close()
    if steps_this_call or ckpt is None or ckpt["stage"] < len(cfg.stages):
        save()  # the checkpoint says the run is finished
    if not logged(out / "val_log.csv", global_step):  # a finished run re-run: validated already
        run_validation()
    return ckpt_path


def finished(checkpoint: dict) -> bool:
    """Whether a run's ``last.pt`` (loaded) has trained every stage of its config."""
    return checkpoint["stage"] >= len(checkpoint["config"]["stages"])
