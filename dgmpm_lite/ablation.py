"""The paper's ablation study (Table IV): train each variant the same way, score them together,
and show methods side by side on the frames where they differ (the Fig. 8 analogue, and the
look-alike figure of ``dgmpm-lite compare``).

| name     | what is removed or replaced (paper IV-D)             | DGMPM switches            |
|----------|------------------------------------------------------|---------------------------|
| DGMPM    | nothing                                              |                           |
| -EDM     | the embedding distance module                        | ``use_distance=False``    |
| -PM      | the previous frame's mask as guidance                | ``use_prev_mask=False``   |
| -SAB     | the spatial attention blocks                         | ``attention="none"``      |
| -SAB+CAB | spatial attention replaced by DFN channel attention  | ``attention="channel"``   |

:func:`run_ablation` trains every variant with the same config and seed (only the switches
differ), exports each model, then scores all of them and both baselines on the same
validation videos with :func:`dgmpm_lite.compare.evaluate_methods`.

This module is the orchestration only: which variants exist, where their runs and the shipped
models live (:func:`variant_dir`, :func:`shipped_variants`, :func:`reuse_variant`), and running
them on the frames of the Fig. 8 analogue (:func:`segment_frames`, :func:`case_grid`, :func:`case_scores`,
:func:`variant_spread`, which picks the frames where the variants differ, and :func:`gain_score` and
:func:`lookalike_grid`, where one model keeps a target beside its look-alike and another loses it;
:func:`case_mask_grid` runs any methods on a case). The
rest of the study lives with its kind: the table and its sentences in
:mod:`dgmpm_lite.viz.tables` (``table_iv_rows``, ``describe_table_iv``), the bars and the mask
grids in :mod:`dgmpm_lite.viz.ablation`, the choice of frames and the validation videos in
:mod:`dgmpm_lite.data.metadata` (``fig8_cases``) and :mod:`dgmpm_lite.data.sets`
(``smoke_val_data``, ``larger_val_data``).
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from . import shipped_path
from .checkpoints import (
    default_checkpoint,
    export_model,
    load_checkpoint,
    load_model,
    model_from_checkpoint,
    trained_config,
)
from .compare import BASELINES, evaluate_methods
from .config import config_differences, load_config
from .data.metadata import fig8_cases, instance_masks, read_metadata
from .infer import propagate
from .model import DGMPM
from .train import train
from .train_data import validation_videos
from .viz import savefig
from .viz.ablation import MaskGrid, plot_table_iv
from .viz.tables import (
    PAPER_TABLE_IV,
    results_table,
    table_iv_rows,
    write_per_sequence_csv,
    write_results,
    write_table_iv,
)

VARIANTS: dict[str, dict] = {
    "DGMPM": {},
    "-EDM": {"use_distance": False},
    "-PM": {"use_prev_mask": False},
    "-SAB": {"attention": "none"},
    "-SAB+CAB": {"attention": "channel"},
}


def _check_variants(names, hint: str = "") -> None:
    """Raise ``ValueError`` naming every entry of ``names`` that is not in :data:`VARIANTS`."""
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown variants {unknown}; choose from {list(VARIANTS)}{hint}")


def run_ablation(
    config: str = "cpu",
    out_dir: str | Path = "runs/ablation",
    variants: list[str] | None = None,
    baselines: bool = True,
    max_frames: int = 0,
    overwrite: bool = False,
    reuse: dict[str, str | Path] | None = None,
    **overrides,
):
    """Train (or resume) each variant into ``out_dir/<name>`` and score them all.

    ``reuse`` maps variant names to exported models (e.g. ``{"DGMPM":
    "data_samples/checkpoints/dgmpm_davis.pt"}``) that stand for those variants instead of
    being trained again; each must have been trained with this config and that variant's
    switches (:func:`reuse_variant` checks, and copies it to ``out_dir/<name>/model.pt``).

    Returns ``(results, table_markdown)``; also writes ``out_dir/ablation.csv``,
    ``out_dir/ablation.md``, ``out_dir/per-sequence.csv`` (J and F per sequence and method),
    and, when the full model is among the variants, our Table IV
    beside the paper's as ``out_dir/table_iv.{csv,md,png}``.
    """

    names = variants or list(VARIANTS)
    _check_variants(names)
    reuse = dict(reuse or {})
    _check_variants(list(reuse))
    if set(reuse) - set(names):
        raise ValueError(
            f"reused variants {sorted(set(reuse) - set(names))} are not among the variants asked for {names}"
        )
    cfg = load_config(config, **overrides)  # what every variant shares, validation included
    out = Path(out_dir)
    # checked (and loaded) before any training, so a wrong file costs nothing
    reused = {
        name: reuse_variant(path, config, name, variant_dir(out, name) / "model.pt", **overrides)
        for name, path in reuse.items()
    }
    methods = {}
    for name in names:
        run = variant_dir(out, name)
        if name in reused:
            methods[name] = reused[name]
            continue
        # all variants are scored together below: no per-run validation
        variant_cfg = load_config(config, **{**overrides, **VARIANTS[name], "val_data": "", "val_every": 0})
        ckpt = train(variant_cfg, run, overwrite=overwrite)
        model_file = export_model(ckpt, run / "model.pt", overwrite=True, config=variant_cfg.to_dict())
        methods[name] = load_model(model_file)
    if baselines:
        methods.update(BASELINES)
    results = evaluate_methods(validation_videos(cfg), methods, max_frames or cfg.val_max_frames)
    table = results_table(results)
    write_results(results, out / "ablation.csv", extra={"paper_J&F": PAPER_TABLE_IV})
    write_per_sequence_csv(results, out / "per-sequence.csv")
    if "DGMPM" in results and len(names) > 1:
        rows = table_iv_rows(results)
        write_table_iv(rows, out, "table_iv")
        data = f"{Path(cfg.val_data).name}, {Path(cfg.val_split).stem}"
        fig = plot_table_iv(rows, title=f"J&F: our ablation ({config}) vs Table IV", data=data)
        savefig(fig, "table_iv", out)
        plt.close(fig)
    return results, table


def reuse_variant(model_file: str | Path, config: str, name: str, dest: str | Path | None = None, **overrides):
    """Load an exported model (or a training checkpoint) to stand for variant ``name`` of an
    ablation run with ``config``.

    Raises ``ValueError`` naming every setting in which its recorded training config (the
    ``trained_with`` of :func:`dgmpm_lite.checkpoints.export_model`) differs from ``config`` with
    the variant's switches, runtime keys aside: a model trained otherwise would not be a fair
    row of the table. ``dest``: where to copy the file, so that :func:`load_variants` finds it.
    """

    _check_variants([name])
    want = load_config(config, **{**overrides, **VARIANTS[name]})
    model_file = default_checkpoint(model_file)  # a file, or a shipped model's name (davis, synthetic)
    ckpt = load_checkpoint(model_file)
    trained_with = trained_config(ckpt)
    if not trained_with:
        raise ValueError(
            f"{model_file} does not record its training config, so it cannot stand for {name!r}; "
            "train that variant instead"
        )
    diffs = config_differences(trained_with, want.to_dict())
    if diffs:
        raise ValueError(f"{model_file} cannot stand for {name!r} of the {config!r} ablation: {'; '.join(diffs)}")
    if dest is not None and Path(dest).resolve() != Path(model_file).resolve():
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model_file, dest)
    return model_from_checkpoint(ckpt, model_file)


# -- where each variant lives -----------------------------------------------------------------


def parse_variants(text: str) -> list[str] | None:
    """``"DGMPM,EDM,-PM"`` -> ``["DGMPM", "-EDM", "-PM"]``; empty or ``"all"`` -> None (all five).

    Comma-separated names of :data:`VARIANTS`; the leading dash may be left out (``-EDM``
    looks like an option on a command line). Raises ``ValueError`` naming unknown names.
    """
    text = text.strip()
    if text in ("", "all"):
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    names = [n if n in VARIANTS or f"-{n}" not in VARIANTS else f"-{n}" for n in names]
    _check_variants(names, " (the dash may be left out)")
    return names


SHIPPED_VARIANTS_CONFIG = "ablation_cpu"
"""The preset the shipped variants were trained with (all five alike; the same seed)."""

SHIPPED_VARIANTS_DIR = "data_samples/checkpoints/ablation"
"""Where the shipped variants live: ``<variant_dir name>.pt`` (``dgmpm.pt``, ``edm.pt``, ...), int8."""


def shipped_variants(variants: list[str] | None = None) -> dict[str, Path]:
    """The shipped model of each variant (all five when ``variants`` is None), for
    :func:`run_ablation`'s ``reuse``: notebook 08 scores them instead of training for hours.

    Trained with :data:`SHIPPED_VARIANTS_CONFIG`; a ``run_ablation`` with another config
    refuses them (:func:`reuse_variant`). Raises ``FileNotFoundError`` naming the missing files.
    """
    names = variants or list(VARIANTS)
    _check_variants(names)
    found = {name: shipped_path(f"{SHIPPED_VARIANTS_DIR}/{variant_slug(name)}.pt") for name in names}
    missing = [str(path) for path in found.values() if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"shipped ablation variants not found: {', '.join(missing)}; train them instead "
            "(ABLATION_RETRAIN=True in notebook 08, or `make figures RETRAIN_ABLATION=1`)"
        )
    return found


def variant_slug(name: str) -> str:
    """A variant's name in file names (``-SAB+CAB`` -> ``sab_plus_cab``): its run folder, its shipped file."""
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; choose from {list(VARIANTS)}")
    return name.replace("+", "_plus_").lstrip("-").lower()


def variant_dir(out_dir: str | Path, name: str) -> Path:
    """The run folder of a variant under ``out_dir`` (:func:`variant_slug`)."""
    return Path(out_dir) / variant_slug(name)


def load_variants(out_dir: str | Path, variants: list[str] | None = None, device="cpu") -> dict:
    """Load the exported models ``<out_dir>/<variant>/model.pt`` written by :func:`run_ablation`.

    Returns name -> :class:`~dgmpm_lite.model.DGMPM` (eval mode), in the order asked for
    (default: every variant of :data:`VARIANTS`). Raises ``ValueError`` for an unknown variant
    and ``FileNotFoundError`` naming the missing file (and how to make it).
    """

    names = list(VARIANTS) if variants is None else list(variants)
    if not names:
        raise ValueError("no variants asked for")
    _check_variants(names)
    models = {}
    for name in names:
        path = variant_dir(out_dir, name) / "model.pt"
        if not path.is_file():
            raise FileNotFoundError(
                f"no exported model for variant {name!r}: {path} is missing "
                f"(train the variants with run_ablation(config, {str(out_dir)!r}) or "
                f"`dgmpm-lite ablation --out {out_dir}`)"
            )
        models[name] = load_model(path, device)
    return models


# -- Table IV -------------------------------------------------------------------------------


# -- Fig. 8: the variants' masks on the same frames ---------------------------------------------


def segment_frames(seq, frame_ids, methods, device="auto", notes=None, marks=None, working_size=None) -> MaskGrid:
    """Run every method on ``seq`` from its first-frame mask and keep the frames ``frame_ids``.

    ``methods``: name -> :class:`~dgmpm_lite.model.DGMPM` or ``"flow"`` / ``"copy"``; each
    runs through :func:`dgmpm_lite.infer.propagate` on frames ``0 .. max(frame_ids)`` (only
    the kept label maps are stored), DGMPM at ``working_size`` (``None``: each model's recorded
    one). Returns a :class:`MaskGrid` with the ground truth first; ``notes`` (one string per
    frame) and ``marks`` ((F, H, W) masks) are stored with it.
    """

    ids = [int(t) for t in frame_ids]
    if not ids:
        raise ValueError("no frames asked for")
    bad = [t for t in ids if not 0 <= t < len(seq)]
    if bad:
        raise ValueError(f"frames {bad} are outside the video {seq.name!r} (frames 0..{len(seq) - 1})")
    if not methods:
        raise ValueError("no methods given")
    notes = [""] * len(ids) if notes is None else [str(n) for n in notes]
    if len(notes) != len(ids):
        raise ValueError(f"{len(notes)} notes for {len(ids)} frames")
    if marks is not None:
        marks = np.asarray(marks, dtype=bool)
        h, w = seq.frame(0).shape[:2]
        if marks.shape != (len(ids), h, w):
            raise ValueError(f"marks must have shape {(len(ids), h, w)} (frames, H, W), got {marks.shape}")
    last = max(ids)
    wanted = set(ids)
    columns = ["GT", *methods]
    per_method = []
    for name, method in methods.items():
        kind = "dgmpm" if isinstance(method, DGMPM) else method
        model = method if kind == "dgmpm" else None
        kept = {}
        preds = propagate(kind, (seq.frame(t) for t in range(last + 1)), seq.mask(0), model, device, working_size)
        for t, labels in enumerate(preds):
            if t in wanted:
                kept[t] = labels
        per_method.append(kept)
    frames = np.stack([seq.frame(t) for t in ids])
    labels = np.stack([np.stack([seq.mask(t), *(kept[t] for kept in per_method)]) for t in ids]).astype(np.uint8)
    return MaskGrid(seq.name, ids, columns, frames, labels, notes, marks)


def variant_mask_grid(
    out_dir, seq, frame_ids, variants=None, baselines: bool = True, device="auto", notes=None, marks=None
) -> MaskGrid:
    """:func:`segment_frames` with the exported variants of ``out_dir`` (and both baselines)."""
    return segment_frames(seq, frame_ids, _variant_methods(out_dir, variants, baselines), device, notes, marks)


def _variant_methods(out_dir, variants=None, baselines: bool = True) -> dict:
    """The exported variants of ``out_dir`` by name (and both baselines): what
    :func:`segment_frames` runs."""
    methods = dict(load_variants(out_dir, variants))
    if baselines:
        methods.update(BASELINES)
    return methods


def case_scores(results, case: dict, names=None) -> dict[str, float]:
    """Mean J of each method of ``results`` (default: all) on a case of
    :func:`~dgmpm_lite.data.metadata.fig8_cases`: its object, over its frames.

    ``results`` is what :func:`run_ablation` returned (method -> DAVIS results with per-frame
    J). Frames the scores skip (the first and the last of each video) are left out; a method
    without that video, object or any scored frame of the case is left out too.
    """

    out = {}
    for name in names or results:
        seq = results[name].sequences.get(case["sequence"]) if name in results else None
        if seq is None or case["object_id"] not in seq.object_ids:
            continue
        cols = [seq.frames.index(t) for t in case["frame_ids"] if t in seq.frames]
        if cols:
            out[name] = float(np.mean(seq.J[seq.object_ids.index(case["object_id"]), cols]))
    return out


def variant_spread(results, variants=None):
    """A ``score`` for :func:`~dgmpm_lite.data.metadata.fig8_cases`: how much the variants differ
    on a case, so that the Fig. 8 analogue shows frames where the switches matter.

    The score of a case is the largest minus the smallest of the variants' :func:`case_scores`
    (the baselines do not count); -1 when a variant has no score on it.
    """

    names = [n for n in (variants or VARIANTS) if n in results]

    def score(case: dict) -> float:
        means = case_scores(results, case, names)
        return max(means.values()) - min(means.values()) if means and len(means) == len(names) else -1.0

    return score


def gain_score(results, better: str, worse: str, dataset=None, min_targets: int = 1):
    """A ``score`` for :func:`~dgmpm_lite.data.metadata.fig8_cases`: how much higher ``better``'s
    J is than ``worse``'s on a case (:func:`case_scores`), so that a figure shows a target one
    method keeps and the other loses.

    The score is ``(preferred, gain)``: with ``dataset`` (the generated videos), a case where
    ``better`` gains in a video with at least ``min_targets`` targets ranks above every other,
    and the largest gain anywhere is the fallback; a case either method has no score on ranks
    last (gain ``-inf``).
    """

    @functools.cache
    def targets(name: str) -> int:
        return read_metadata(dataset, name)["num_objects"]  # the generator counts the targets

    def score(case: dict) -> tuple[bool, float]:
        means = case_scores(results, case, [better, worse])
        gain = means[better] - means[worse] if len(means) == 2 else float("-inf")
        return (gain > 0 and (dataset is None or targets(case["sequence"]) >= min_targets), gain)

    return score


def lookalike_grid(
    dataset, results, methods, better: str, worse: str, device="auto", max_frames: int = 0, working_size=None
) -> tuple[dict, MaskGrid] | None:
    """The look-alike case of ``dataset`` (generated videos) where ``better`` gains the most J
    over ``worse``, preferring videos with at least two targets (:func:`gain_score`), and every
    method of ``methods`` run on its frames (:func:`case_mask_grid`): ``(case, grid)``, or None
    when no target is in view with its look-alike. ``results`` are those methods' scores on
    ``dataset`` (:func:`~dgmpm_lite.compare.evaluate_methods` with the same ``max_frames``).
    """

    score = gain_score(results, better, worse, dataset, min_targets=2)
    case = fig8_cases(dataset, max_frames, score=score)["distractor"]
    return None if case is None else (case, case_mask_grid(dataset, case, methods, device, working_size))


def case_mask_grid(dataset, case: dict, methods, device="auto", working_size=None) -> MaskGrid:
    """:func:`segment_frames` on a case of :func:`fig8_cases` (its video, frames and notes), its
    look-alikes outlined."""
    marks = (
        instance_masks(dataset, case["sequence"], case["frame_ids"], case["distractor_ids"])
        if case.get("distractor_ids")
        else None
    )
    seq = dataset[case["sequence"]]
    return segment_frames(seq, case["frame_ids"], methods, device, case["notes"], marks, working_size)


def case_grid(out_dir, dataset, case: dict, variants=None, baselines: bool = True, device="auto") -> MaskGrid:
    """:func:`case_mask_grid` with the exported variants of ``out_dir`` (and both baselines)."""
    return case_mask_grid(dataset, case, _variant_methods(out_dir, variants, baselines), device)


# -- smoke runs -------------------------------------------------------------------------------------
