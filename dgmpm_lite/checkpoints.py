"""Model files: the checkpoint formats, safe loading, shipping (int8 / float16), the shipped models.

Two formats: a *training* checkpoint (``last.pt`` of a run folder: model, optimiser, stage,
step, the run's config) and an *exported* model (``train --export``: weights, possibly
quantised, the model's config and the config it was trained with; :func:`average_models` writes
one as the mean of several, a model soup). Both are read with
``weights_only=True`` (:func:`load_checkpoint`), turned into a model by :func:`load_model`,
and written atomically (:func:`atomic_save`). :data:`SHIPPED_CHECKPOINTS` names the models
that come with the package, found by :func:`default_checkpoint` (a path, a shipped name, or
``$DGMPM_CHECKPOINT``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from . import shipped_path
from .model import DGMPM

CHECKPOINT_FORMAT = "dgmpm_lite.train/1"


MODEL_FORMAT = "dgmpm_lite.model/1"


def temporary_path(path: Path) -> Path:
    """Where an atomic write of ``path`` goes first (the same folder, so the rename is atomic);
    :func:`dgmpm_lite.runs.remove_stale_temporaries` recognises these names."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def atomic_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename over ``path``."""
    tmp = temporary_path(path)
    torch.save(obj, tmp)
    os.replace(tmp, path)


def atomic_write_text(path: Path, text: str) -> None:
    tmp = temporary_path(path)
    tmp.write_text(text)
    os.replace(tmp, path)


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a training or model checkpoint safely (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated file, not a torch file, unsafe pickle
        if any(
            w in str(err).lower() for w in ("unsupported global", "unsupported class")
        ):  # torch advises turning safety off
            raise ValueError(
                f"checkpoint {path} holds Python objects besides weights, and dgmpm_lite loads weights "
                "only, for safety; use a model file written by dgmpm-lite (train --export)"
            ) from None
        raise ValueError(
            f"checkpoint {path} cannot be read: it is damaged or not a torch file ({type(err).__name__})"
        ) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") not in (CHECKPOINT_FORMAT, MODEL_FORMAT):
        raise ValueError(f"{path} is not a dgmpm_lite checkpoint")
    return ckpt


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
    "multi": "data_samples/checkpoints/dgmpm_multi.pt",
}
"""The shipped models, by the name that may replace a path anywhere a checkpoint is asked for.

* ``synthetic``: ResNet-18 from scratch on the synthetic train split (``--config cpu``); the
  notebooks' default, fast and right for the generated videos.
* ``davis``: EfficientNet-Lite0 from ImageNet, trained on 24 DAVIS-2016 train sequences
  (``--config davis_cpu``): one salient object per video, so it follows what is salient.
  The starting point of ``multi`` and of the ablation variants.
* ``multi``: ``davis`` trained further on multi-object clips painted with DAVIS cut-outs
  (several targets, look-alikes, salient non-targets, occlusions) and real DAVIS clips,
  unrolled with its own previous masks (``--config davis_multi_cpu``); ``dgmpm-lite
  segment``'s default, for real footage: it follows the objects it was given.

The weights of ``davis`` and ``multi`` derive from DAVIS (CC BY-NC 4.0): non-commercial use,
with credit to the DAVIS authors.
"""


DEFAULT_CHECKPOINT = SHIPPED_CHECKPOINTS["synthetic"]
"""The notebooks' model (and ``compare``'s, whose default data is the synthetic set)."""


REAL_FOOTAGE_CHECKPOINT = SHIPPED_CHECKPOINTS["multi"]
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
        p = shipped_path(chosen) if chosen else shipped_path(default)
    if not p.is_file():
        hint = (
            ""
            if chosen
            else " (a shipped default; train one with `dgmpm-lite train --config cpu --export FILE` and pass its path)"
        )
        raise FileNotFoundError(f"checkpoint not found: {p}{hint}")
    return p


def load_default_model(
    path: str | os.PathLike = "", device: str | torch.device = "cpu", real_footage: bool = False
) -> DGMPM:
    """:func:`load_model` on :func:`default_checkpoint` (what the notebooks use).

    Without ``path``: the synthetic model, or the real-footage one (``multi``) with
    ``real_footage=True`` (a notebook pointed at DAVIS frames or your own video).
    """
    return load_model(default_checkpoint(path, REAL_FOOTAGE_CHECKPOINT if real_footage else DEFAULT_CHECKPOINT), device)


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> DGMPM:
    """Build a :class:`DGMPM` from a checkpoint (training or exported), in float32, eval mode.

    The model carries ``working_short_side`` (:func:`working_short_side`), which
    :class:`~dgmpm_lite.infer.VideoSegmenter` runs it at (see :mod:`dgmpm_lite.infer`).
    """
    return model_from_checkpoint(load_checkpoint(path), path, device)


def model_from_checkpoint(ckpt: dict, path: str | os.PathLike, device: str | torch.device = "cpu") -> DGMPM:
    """:func:`load_model` for a checkpoint already read by :func:`load_checkpoint` from ``path``."""
    missing = [k for k in ("model_config", "model") if k not in ckpt]
    if missing:
        raise ValueError(
            f"checkpoint {path} is incomplete (no {' or '.join(missing)}); export it again or use another file"
        )
    model_config = ckpt["model_config"]
    model = DGMPM.from_config(model_config)
    try:
        model.load_state_dict(dequantize_state(ckpt["model"]))
    except RuntimeError as err:
        raise ValueError(
            f"checkpoint {path} does not fit its own model config {model_config}: {str(err)[:300]}"
        ) from None
    model.working_short_side = working_short_side(ckpt)
    return model.to(device).eval()


def working_short_side(ckpt: dict) -> int | None:
    """The short side inference runs a checkpoint's model at: its config's ``working_size``
    where set, else the short side of the frames it was trained on last (the last stage's
    ``size`` where it has one, else the config's).

    A training checkpoint records its config; an exported one the config it was trained with.
    """
    cfg = trained_config(ckpt)
    if cfg.get("working_size"):
        return int(cfg["working_size"])
    stages = cfg.get("stages") or [{}]
    size = stages[-1].get("size") or cfg.get("size")
    return int(min(size)) if size else None


def export_model(
    train_checkpoint: str | os.PathLike,
    out: str | os.PathLike,
    meta: dict | None = None,
    overwrite: bool = False,
    precision: str = "float16",
    config: dict | None = None,
) -> Path:
    """Write a small inference checkpoint: the model weights (see :func:`quantize_state`) + config.

    ``config`` is the training config to record (``trained_with``, where :func:`working_short_side`
    reads the working size); by default the checkpoint's own. A command that exports passes its
    config, so that its runtime keys (``working_size``) count.
    """
    _refuse_existing(out, overwrite)
    ckpt = load_checkpoint(train_checkpoint)
    info = {
        "trained_with": ckpt.get("config", {}) if config is None else config,
        "global_step": ckpt.get("global_step", 0),
        **(meta or {}),
    }
    return _write_model(ckpt["model_config"], ckpt["model"], info, out, precision)


def average_models(
    paths: list[str | os.PathLike],
    out: str | os.PathLike,
    overwrite: bool = False,
    precision: str = "float16",
    working_size: int | None = None,
) -> Path:
    """Write one model whose weights are the mean of several models' (a *model soup*, Wortsman
    et al., 2022), as :func:`export_model` writes a model.

    It is meant for models fine-tuned from one starting point, such as continuations of one run
    with other learning rates or data mixes: they stay in one basin of the loss, and their mean
    can score as well as the best of them on some sets (whether it does must be measured).
    Models trained apart do not average into a working model, and nothing here can tell, so know
    where they came from. A path given twice counts twice (a weighted mean). BatchNorm's running
    statistics are averaged like weights, which is exact when training froze them (``freeze_bn``).

    Refused: fewer than two models, ``out`` among them, models of different architectures
    (``model_config``) or weights, and models that run at different working sizes unless
    ``working_size`` says which one the soup runs at (a training checkpoint saved before its
    run set ``working_size`` reads as its training size).

    ``paths`` are training or exported checkpoints (quantised ones are read back to float32).
    The file records the sources (``averaged_from``) and the first one's training config.
    """
    if len(paths) < 2:
        raise ValueError(f"averaging needs at least two models, got {len(paths)}")
    if Path(out).resolve() in {Path(p).resolve() for p in paths}:
        raise ValueError(f"the output {out} is one of the models to average; write the mean to a new file")
    _refuse_existing(out, overwrite)
    ckpts = [load_checkpoint(p) for p in paths]
    for ckpt, path in zip(ckpts, paths):
        if "model" not in ckpt or "model_config" not in ckpt:
            raise ValueError(f"checkpoint {path} holds no model weights or no model config; export it again")
    states = [dequantize_state(c["model"]) for c in ckpts]
    first, first_path = ckpts[0], paths[0]
    for ckpt, state, path in zip(ckpts[1:], states[1:], paths[1:]):
        config, first_config = ckpt["model_config"], first["model_config"]
        differ = sorted(k for k in set(config) | set(first_config) if config.get(k) != first_config.get(k))
        if differ:
            said = ", ".join(f"{k} {config.get(k)!r} vs {first_config.get(k)!r}" for k in differ)
            raise ValueError(f"{path} is another architecture than {first_path} ({said}); average one run's models")
        odd = sorted(k for k in set(state) | set(states[0]) if k not in state or k not in states[0])
        odd += sorted(k for k in set(state) & set(states[0]) if state[k].shape != states[0][k].shape)
        if odd:
            raise ValueError(f"the weights of {path} do not match {first_path}'s ({odd[0]}); average one run's models")
    sizes = sorted({working_short_side(c) or 0 for c in ckpts})
    if working_size is None and len(sizes) > 1:
        raise ValueError(
            f"the models run at different working sizes ({', '.join(str(s or 'unknown') for s in sizes)}); "
            "pass --working-size to say which one the mean runs at"
        )
    mean = {
        k: torch.stack([s[k] for s in states]).mean(0) if v.is_floating_point() else v for k, v in states[0].items()
    }
    trained_with = dict(trained_config(first))
    if working_size is not None:
        trained_with["working_size"] = working_size
    info = {
        "trained_with": trained_with,
        "global_step": max(_global_step(c) for c in ckpts),
        "averaged_from": [{"file": str(p), "global_step": _global_step(c)} for p, c in zip(paths, ckpts)],
    }
    return _write_model(first["model_config"], mean, info, out, precision)


def trained_config(ckpt: dict) -> dict:
    """The training config a checkpoint records: a training checkpoint's own, an exported
    model's ``trained_with`` ({} when neither is there)."""
    cfg = ckpt.get("config")
    if cfg is None:
        cfg = _meta(ckpt).get("trained_with")
    return cfg if isinstance(cfg, dict) else {}


def _meta(ckpt: dict) -> dict:
    try:
        meta = json.loads(ckpt.get("meta", "{}"))
    except (TypeError, json.JSONDecodeError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _global_step(ckpt: dict) -> int:
    step = ckpt["global_step"] if "global_step" in ckpt else _meta(ckpt).get("global_step", 0)
    return step if isinstance(step, int) else 0


def _refuse_existing(out: str | os.PathLike, overwrite: bool) -> None:
    if Path(out).is_dir():
        raise FileExistsError(f"{out} is a folder; give the model a file name, e.g. {Path(out) / 'model.pt'}")
    if Path(out).exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite (overwrite=True in Python) to replace it")


def _write_model(model_config: dict, state: dict, info: dict, out: str | os.PathLike, precision: str) -> Path:
    """The one writer of exported models: ``state`` shrunk to ``precision``, with ``info`` as meta."""
    out = Path(out)
    state = quantize_state(state, precision)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_save(
        {
            "format": MODEL_FORMAT,
            "model_config": model_config,
            "model": state,
            "meta": json.dumps({**info, "precision": precision}),
        },
        out,
    )
    return out
