"""The paper's ablation study (Table IV): train each variant the same way, score them together.

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

What notebook 08 builds on top of it (tested in ``tests/test_ablation.py``):

* :func:`table_iv_rows` (written by :mod:`dgmpm_lite.viz.tables`) /
  :func:`describe_table_iv`: our Table IV beside the paper's, and sentences computed from it;
* :func:`plot_table_iv`: J&F bars, ours vs the paper's;
* :func:`load_variants`, :func:`segment_frames`, :func:`variant_mask_grid`,
  :func:`fig8_cases`, :func:`instance_masks`, :func:`case_grid`, :func:`plot_mask_grid`: the
  Fig. 8 analogue (each variant's masks on the same frames of a video with an occlusion and
  one with a distractor);
* the Fig. 6 analogue (J&F vs seconds per frame) is :func:`dgmpm_lite.viz.plots.runtime_points`
  and :func:`dgmpm_lite.viz.plots.plot_accuracy_vs_runtime`, shared with notebook 07;
* :func:`smoke_val_data`: a tiny validation set for smoke runs (CI).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from . import shipped_path
from .checkpoints import default_checkpoint, export_model, load_checkpoint, load_model, model_from_checkpoint
from .compare import BASELINES, evaluate_methods
from .config import config_differences, load_config
from .data import SyntheticConfig, data_samples_root, occlusion_case, read_instances, read_metadata
from .data.synthetic import generate_dataset
from .infer import propagate
from .model import DGMPM
from .train import train
from .train_data import validation_videos
from .viz import overlay, plot_grid, savefig
from .viz.tables import results_table, write_per_sequence_csv, write_results, write_table_iv

VARIANTS: dict[str, dict] = {
    "DGMPM": {},
    "-EDM": {"use_distance": False},
    "-PM": {"use_prev_mask": False},
    "-SAB": {"attention": "none"},
    "-SAB+CAB": {"attention": "channel"},
}

PAPER_TABLE_IV_FULL: dict[str, dict[str, float]] = {
    "DGMPM": {"J": 59.1, "F": 65.1, "J&F": 62.1},
    "-EDM": {"J": 50.6, "F": 53.2, "J&F": 51.9},
    "-PM": {"J": 44.2, "F": 51.5, "J&F": 47.9},
    "-SAB": {"J": 55.0, "F": 60.3, "J&F": 57.7},
    "-SAB+CAB": {"J": 57.2, "F": 62.7, "J&F": 60.0},
}
"""J-Mean, F-Mean and J&F-Mean (%) of every column of Table IV (DAVIS-2017 val)."""

PAPER_TABLE_IV = {name: row["J&F"] for name, row in PAPER_TABLE_IV_FULL.items()}
"""J&F (%) of Table IV, DAVIS-2017 val, for comparison."""


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
        ckpt = train(
            load_config(config, **{**overrides, **VARIANTS[name], "val_data": "", "val_every": 0}),
            run,
            overwrite=overwrite,
        )
        model_file = export_model(ckpt, run / "model.pt", overwrite=True)
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
    """Load an exported model to stand for variant ``name`` of an ablation run with ``config``.

    Raises ``ValueError`` naming every setting in which its recorded training config (the
    ``trained_with`` of :func:`dgmpm_lite.checkpoints.export_model`) differs from ``config`` with
    the variant's switches, runtime keys aside: a model trained otherwise would not be a fair
    row of the table. ``dest``: where to copy the file, so that :func:`load_variants` finds it.
    """

    _check_variants([name])
    want = load_config(config, **{**overrides, **VARIANTS[name]})
    model_file = default_checkpoint(model_file)  # a file, or a shipped model's name (davis, synthetic)
    ckpt = load_checkpoint(model_file)
    meta = ckpt.get("meta")
    trained_with = json.loads(meta).get("trained_with") if isinstance(meta, str) else None
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

SWITCH_DESCRIPTIONS: dict[str, str] = {
    "DGMPM": "full model",
    "-EDM": "no embedding distance module",
    "-PM": "no previous-frame mask",
    "-SAB": "no spatial attention",
    "-SAB+CAB": "channel instead of spatial attention",
    "flow baseline": "optical-flow warping",
    "copy baseline": "first mask repeated",
}
"""One-line description of every row of our Table IV."""


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
    found = {name: shipped_path(f"{SHIPPED_VARIANTS_DIR}/{variant_dir('', name).name}.pt") for name in names}
    missing = [str(path) for path in found.values() if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"shipped ablation variants not found: {', '.join(missing)}; train them instead "
            "(ABLATION_RETRAIN=True in notebook 08, or `make figures RETRAIN_ABLATION=1`)"
        )
    return found


def variant_dir(out_dir: str | Path, name: str) -> Path:
    """The run folder of a variant under ``out_dir`` (``-SAB+CAB`` -> ``sab_plus_cab``)."""
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; choose from {list(VARIANTS)}")
    return Path(out_dir) / name.replace("+", "_plus_").lstrip("-").lower()


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


def table_iv_rows(results) -> list[dict]:
    """Our Table IV: one row per method of ``results`` (as returned by :func:`run_ablation`).

    J, F and J&F are the DAVIS J-Mean, F-Mean and J&F-Mean in percent; ``delta`` is the
    method's J&F minus the full ``DGMPM``'s (None for DGMPM itself, or when it is absent),
    like the last line of Table IV. ``paper_*`` hold the paper's numbers where the paper has
    that variant (None for the baselines). ``s_per_frame`` is the measured segmentation time
    (NaN when the result has none).
    """
    if not results:
        raise ValueError("no results to tabulate")
    ref = results.get("DGMPM")
    ref_jf = 100 * ref.global_metrics["J&F-Mean"] if ref is not None else None
    rows = []
    for name, res in results.items():
        g = res.global_metrics
        jf = 100 * g["J&F-Mean"]
        paper = PAPER_TABLE_IV_FULL.get(name)
        rows.append(
            {
                "method": name,
                "what": SWITCH_DESCRIPTIONS.get(name, ""),
                "J": 100 * g["J-Mean"],
                "F": 100 * g["F-Mean"],
                "J&F": jf,
                "delta": None if ref_jf is None or name == "DGMPM" else jf - ref_jf,
                "paper_J": paper["J"] if paper else None,
                "paper_F": paper["F"] if paper else None,
                "paper_J&F": paper["J&F"] if paper else None,
                "paper_delta": (
                    round(paper["J&F"] - PAPER_TABLE_IV_FULL["DGMPM"]["J&F"], 1) if paper and name != "DGMPM" else None
                ),
                "s_per_frame": float(getattr(res, "seconds_per_frame", float("nan"))),
            }
        )
    return rows


def _harm_order(rows: list[dict], key: str) -> str:
    """``"-PM > -EDM = -SAB"``: methods by increasing ``key`` (most harmful first), ties (to 0.1) as ``=``."""
    ranked = sorted(rows, key=lambda r: (round(r[key], 1), r["method"]))
    text = ranked[0]["method"]
    for prev, r in zip(ranked, ranked[1:]):
        text += (" = " if round(r[key], 1) == round(prev[key], 1) else " > ") + r["method"]
    return text


def describe_table_iv(rows: list[dict], data: str = "our synthetic validation videos") -> str:
    """Plain-language reading of our Table IV, computed from the numbers (true whatever they are).

    Compares each ablation's change of J&F with the paper's, counts how many ablations hurt,
    compares the order of harm with the paper's, and places the full model against the
    baselines. Needs the ``DGMPM`` row.
    """
    by = {r["method"]: r for r in rows}
    if "DGMPM" not in by:
        raise ValueError("describe_table_iv needs the full 'DGMPM' row")
    full = by["DGMPM"]
    out = [
        f"The full DGMPM scores J&F = {full['J&F']:.1f} on {data} "
        f"(the paper: {PAPER_TABLE_IV_FULL['DGMPM']['J&F']:.1f} on DAVIS-2017 val)."
    ]
    ablated = [r for r in rows if r["method"] in VARIANTS and r["method"] != "DGMPM"]
    if ablated:
        parts = [f"{r['method']} {r['delta']:+.1f} (paper {r['paper_delta']:+.1f})" for r in ablated]
        out.append("Change of J&F when a part is removed or replaced: " + ", ".join(parts) + ".")
        hurt = [r["method"] for r in ablated if r["delta"] < 0]
        out.append(
            f"In the paper every ablation lowers J&F; here {len(hurt)} of {len(ablated)} do"
            + (f" ({', '.join(hurt)})." if hurt else ".")
        )
        ours, paper = _harm_order(ablated, "delta"), _harm_order(ablated, "paper_delta")
        same = "the same as" if ours == paper else "different from"
        out.append(f"Most harmful first, ours: {ours}; the paper's: {paper} ({same} the paper's order).")
        if len(ablated) > 1:
            best = max(ablated, key=lambda r: r["J&F"])
            if best["J&F"] > full["J&F"]:
                out.append(
                    f"{best['method']} even beats the full model here, by {best['J&F'] - full['J&F']:.1f} points."
                )
    for name in BASELINES:
        if name in by:
            diff = full["J&F"] - by[name]["J&F"]
            verdict = "above" if diff > 0 else "below" if diff < 0 else "level with"
            out.append(f"The full model is {abs(diff):.1f} points {verdict} the {name} ({by[name]['J&F']:.1f}).")
    out.append(
        "Each variant is trained once, with one seed, so differences of a point or two "
        "may be noise rather than an effect of the switch."
    )
    return "\n".join(out)


def plot_table_iv(
    rows: list[dict], ax=None, title: str | None = "J&F: our ablation vs Table IV", data: str = "synthetic val"
):
    """Grouped bars of J&F per variant, ours beside the paper's; baselines as dashed lines.

    Returns the figure.
    """

    variants = [r for r in rows if r["method"] in VARIANTS]
    if not variants:
        raise ValueError("no ablation variant among the rows")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.2, 3.4))
    else:
        fig = ax.figure
    x = np.arange(len(variants))
    ours = [r["J&F"] for r in variants]
    paper = [r["paper_J&F"] for r in variants]
    b1 = ax.bar(x - 0.2, ours, 0.4, label=f"ours ({data})", color="tab:blue")
    b2 = ax.bar(x + 0.2, paper, 0.4, label="paper (DAVIS-2017 val)", color="tab:gray")
    for bars in (b1, b2):
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=1)
    for (name, _), colour in zip(BASELINES.items(), ("tab:green", "tab:red")):
        base = next((r for r in rows if r["method"] == name), None)
        if base is not None:
            ax.axhline(base["J&F"], ls="--", lw=1, color=colour, label=f"{name} (ours) {base['J&F']:.1f}")
    ax.set_xticks(x, [r["method"] for r in variants])
    ax.set_ylabel("J&F-Mean (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


# -- Fig. 8: the variants' masks on the same frames ---------------------------------------------


@dataclass
class MaskGrid:
    """Label maps of several methods on chosen frames of one video (rows = frames).

    ``columns[0]`` is ``"GT"`` (the ground truth); ``labels[i, j]`` is column ``j`` on frame
    ``frame_ids[i]``; ``notes[i]`` says why that frame was chosen (may be empty); ``marks``
    (F, H, W) bool, optional: pixels to outline in the GT column (e.g. a look-alike distractor).
    """

    sequence: str
    frame_ids: list[int]
    columns: list[str]
    frames: np.ndarray  # (F, H, W, 3) uint8
    labels: np.ndarray  # (F, C, H, W) uint8
    notes: list[str] = field(default_factory=list)
    marks: np.ndarray | None = None


def segment_frames(seq, frame_ids, methods, device="auto", notes=None, marks=None) -> MaskGrid:
    """Run every method on ``seq`` from its first-frame mask and keep the frames ``frame_ids``.

    ``methods``: name -> :class:`~dgmpm_lite.model.DGMPM` or ``"flow"`` / ``"copy"``; each
    runs through :func:`dgmpm_lite.infer.propagate` on frames ``0 .. max(frame_ids)`` (only
    the kept label maps are stored). Returns a :class:`MaskGrid` with the ground truth first;
    ``notes`` (one string per frame) and ``marks`` ((F, H, W) masks) are stored with it.
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
        preds = propagate(kind, (seq.frame(t) for t in range(last + 1)), seq.mask(0), model, device)
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
    methods = dict(load_variants(out_dir, variants))
    if baselines:
        methods.update(BASELINES)
    return segment_frames(seq, frame_ids, methods, device, notes, marks)


def plot_mask_grid(grids, size: float = 1.9, title: str | None = None):
    """Draw one or more :class:`MaskGrid` stacked: rows = frames, columns = GT + methods.

    Each cell is the frame with that column's label map overlaid (DAVIS colours); a grid's
    ``marks`` are outlined (white, dashed) in the GT column. All grids must have the same
    columns. Returns the figure.
    """

    grids = [grids] if isinstance(grids, MaskGrid) else list(grids)
    if not grids:
        raise ValueError("no grids to plot")
    columns = grids[0].columns
    for g in grids[1:]:
        if g.columns != columns:
            raise ValueError(f"all grids need the same columns: {g.columns} vs {columns}")
    cells = [(g, i) for g in grids for i in range(len(g.frame_ids))]
    rows = [
        [(name if r == 0 else "", overlay(g.frames[i], g.labels[i, c])) for c, name in enumerate(columns)]
        for r, (g, i) in enumerate(cells)
    ]
    row_titles = []
    for g, i in cells:
        note = g.notes[i] if i < len(g.notes) and g.notes[i] else ""
        row_titles.append(f"{g.sequence}, frame {g.frame_ids[i]}" + (f"\n{note}" if note else ""))
    fig, axes = plot_grid(rows, row_titles=row_titles, size=size, title=title)
    for r, (g, i) in enumerate(cells):  # the look-alike (not a target) outlined in the GT column
        if g.marks is not None and g.marks[i].any():
            axes[r, 0].contour(g.marks[i], levels=[0.5], colors="white", linestyles="--", linewidths=1.0)
    return fig


def _spread(candidates: list[int], k: int) -> list[int]:
    """``k`` items spread over ``candidates`` (all of them when there are at most ``k``), ending with the last."""
    if len(candidates) <= k:
        return list(candidates)
    return [candidates[round(j * (len(candidates) - 1) / (k - 1))] for j in range(k)] if k > 1 else [candidates[-1]]


def fig8_cases(dataset, max_frames: int = 0, num_frames: int = 3) -> dict:
    """Pick, from a synthetic dataset's metadata, a video with an occlusion and one with a distractor.

    ``dataset`` is a :class:`~dgmpm_lite.data.DavisDataset` of generated videos (each has
    ``Metadata/<res>/<seq>.json``). Only frames below ``max_frames`` are used (0 = all).

    Returns ``{"occlusion": case, "distractor": case}`` where a case is ``{"sequence",
    "object_id", "frame_ids", "notes", "distractor_ids"}`` or None when no video qualifies:

    * occlusion: the first target that disappears completely and comes back
      (:func:`dgmpm_lite.data.occlusion_case`); frames = last one before, middle of the
      hidden run, first one back. Videos without distractors are preferred.
    * distractor: a target with a look-alike distractor (``mimics``), in another video than
      the occlusion case if possible, the pair with the largest first-frame areas;
      ``num_frames`` frames spread over the last two thirds of the frames where both are
      visible (over all of them when too few).
    """

    metas = {name: read_metadata(dataset, name) for name in dataset.names}

    def limit(meta):
        return min(meta["num_frames"], max_frames) if max_frames else meta["num_frames"]

    occlusion = None
    order = sorted(metas, key=lambda n: any(o.get("role") == "distractor" for o in metas[n]["objects"]))
    for name in order:  # videos without look-alikes first: the occlusion alone decides there
        case = occlusion_case(metas[name], need_distractor=False, max_frames=max_frames)
        if case is not None:
            obj = case["object_id"]
            occlusion = {
                "sequence": name,
                "object_id": obj,
                "frame_ids": [case["before"], case["hidden"], case["back"]],
                "notes": [f"target {obj} visible", f"target {obj} hidden", f"target {obj} back"],
                "distractor_ids": [],
            }
            break

    distractor, best = None, None
    for name, meta in metas.items():
        objs = {o["id"]: o for o in meta["objects"]}
        for d in meta["objects"]:
            target = objs.get(d.get("mimics")) if d.get("role") == "distractor" else None
            if target is None or target.get("role") != "target":
                continue
            tv, dv = target["per_frame"]["visible_px"], d["per_frame"]["visible_px"]
            n = limit(meta)
            both = [t for t in range(1, n) if tv[t] > 0 and dv[t] > 0]
            later = [t for t in both if t >= n // 3]
            if not both or tv[0] <= 0:
                continue
            # another video than the occlusion's first, then the largest pair (easiest to see)
            key = (occlusion is None or name != occlusion["sequence"], min(tv[0], dv[0]))
            if best is None or key > best:
                best = key
                frames = _spread(later if len(later) >= num_frames else both, num_frames)
                distractor = {
                    "sequence": name,
                    "object_id": target["id"],
                    "frame_ids": frames,
                    "notes": [f"target {target['id']},\nlook-alike dashed"] * len(frames),
                    "distractor_ids": [d["id"]],
                }
    return {"occlusion": occlusion, "distractor": distractor}


def instance_masks(dataset, sequence: str, frame_ids, instance_ids) -> np.ndarray:
    """(F, H, W) bool: where any of ``instance_ids`` is visible in each frame of a generated video.

    Reads ``Instances/<res>/<sequence>/<frame>.png`` (every instance: targets, distractors,
    occluders), which the synthetic generator writes beside the target annotations.
    """

    out = [np.isin(read_instances(dataset, sequence, t), list(instance_ids)) for t in frame_ids]
    return np.stack(out) if out else np.zeros((0, 1, 1), dtype=bool)


def case_grid(out_dir, dataset, case: dict, variants=None, baselines: bool = True, device="auto") -> MaskGrid:
    """:func:`variant_mask_grid` for one case of :func:`fig8_cases`, look-alikes outlined."""
    marks = (
        instance_masks(dataset, case["sequence"], case["frame_ids"], case["distractor_ids"])
        if case.get("distractor_ids")
        else None
    )
    return variant_mask_grid(
        out_dir, dataset[case["sequence"]], case["frame_ids"], variants, baselines, device, case["notes"], marks
    )


# -- smoke runs -------------------------------------------------------------------------------------


def smoke_val_data(root: str | Path, overwrite: bool = True, seed: int = 0) -> Path:
    """Generate a tiny validation set for smoke runs: 2 videos, 64x96, 8 frames (``<root>``).

    Every video has a scripted occlusion (a target passing behind a pillar) and a look-alike
    distractor, so the notebook's Fig. 8 analogue finds both cases. Returns ``root``.
    """

    config = SyntheticConfig(
        height=64,
        width=96,
        num_frames=8,
        num_targets=(1, 2),
        num_distractors=(1, 1),
        p_occluder_pass=1.0,
        camera_pan=5.0,
    )
    generate_dataset(root, {"val": 2}, config, seed=seed, resolution="64p", overwrite=overwrite, progress=False)
    return Path(root)


def larger_val_data(root: str | Path, num_videos: int = 16, seed: int = 2027) -> Path:
    """A larger synthetic validation set with the committed one's knobs: ``<root>`` (split ``val``).

    The 4 committed validation videos are too few to tell variants apart: one video more
    or less moves J&F by several points. This generates ``num_videos`` more (same generator
    settings as ``data_samples/synthetic``, 192x320, 24 frames; another seed, so none of
    them is a committed or a training video) into ``root``, once: an existing set made with
    the same settings is reused. Nothing here is committed; generation takes seconds.
    """

    if num_videos < 1:
        raise ValueError(f"num_videos must be >= 1, got {num_videos}")
    root = Path(root)
    shipped = json.loads((data_samples_root() / "manifest.json").read_text())
    wanted = {"config": shipped["config"], "seed": seed, "splits": {"val": num_videos}}
    stamp = root / "larger_val.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return root
    config = SyntheticConfig(**shipped["config"])
    generate_dataset(
        root,
        {"val": num_videos},
        config,
        seed=seed,
        resolution=shipped["resolution"],
        overwrite=True,
        jpeg_quality=shipped["jpeg_quality"],
        progress=True,
    )
    stamp.write_text(json.dumps(wanted))
    return root
