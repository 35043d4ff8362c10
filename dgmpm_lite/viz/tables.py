"""Results tables: the one writer (and reader) of every table of scores the project makes.

A *results* table has one row per method: the DAVIS global columns (fractions in [0, 1])
and optional extra columns (no timings: speed is :mod:`dgmpm_lite.benchmark`'s alone), as
CSV beside its markdown rendering in percent (:func:`write_results`,
:func:`read_results_csv`, :func:`results_table`, read in words by :func:`describe_results`);
the per-(sequence, object) scores go to :func:`write_per_sequence_csv`. *Table IV* (our ablation
beside the paper's) has its own columns (:func:`write_table_iv`, :func:`read_table_iv`,
:func:`table_iv_markdown`; the rows come from :func:`dgmpm_lite.ablation.table_iv_rows`).
:func:`write_davis_csv` writes the DAVIS toolkit's own two files (``dgmpm-lite evaluate``).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path

from ..compare import BASELINES
from ..metrics import GLOBAL_COLUMNS, PER_SEQUENCE_COLUMNS, DatasetResults

CSV_COLUMNS = ("method", *GLOBAL_COLUMNS)
"""The first columns of a results CSV (:func:`write_results`); extra columns may follow."""


def results_table(
    results: Mapping[str, DatasetResults],
    columns=("J&F-Mean", "J-Mean", "J-Recall", "J-Decay", "F-Mean", "F-Recall", "F-Decay"),
) -> str:
    """A markdown table, one row per method, values in percent like the paper."""
    for c in columns:
        if c not in GLOBAL_COLUMNS:
            raise ValueError(f"unknown column {c!r}; choose from {GLOBAL_COLUMNS}")
    lines = ["| method | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for name, res in results.items():
        vals = " | ".join(f"{100 * res.global_metrics[c]:.1f}" for c in columns)
        lines.append(f"| {name} | {vals} |")
    return "\n".join(lines)


def write_results(
    results: Mapping[str, DatasetResults],
    csv_path: str | os.PathLike,
    extra: Mapping[str, Mapping[str, object]] | None = None,
) -> tuple[Path, Path]:
    """Write ``csv_path`` (one row per method: :data:`CSV_COLUMNS` with metrics as fractions,
    then ``extra`` columns: column name -> method name -> value, blank where a method has
    none) and the :func:`results_table` beside it as ``.md``; returns both paths."""
    if not results:
        raise ValueError("no results to write")
    csv_path = Path(csv_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    extra = dict(extra or {})
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([*CSV_COLUMNS, *extra])
        for name, res in results.items():
            w.writerow(
                [
                    name,
                    *(f"{res.global_metrics[c]:.4f}" for c in GLOBAL_COLUMNS),
                    *(col.get(name, "") for col in extra.values()),
                ]
            )
    md_path = csv_path.with_suffix(".md")
    md_path.write_text(results_table(results) + "\n")
    return csv_path, md_path


def _points_against(ours: float, other: float) -> str:
    """``"3.2 points above"`` / ``"below"`` / ``"level with"``: how ``ours`` stands against ``other``."""
    diff = ours - other
    return f"{abs(diff):.1f} points " + ("above" if diff > 0 else "below" if diff < 0 else "level with")


def describe_results(results: Mapping[str, DatasetResults], ours: str | None = None) -> str:
    """Plain-language reading of a results table, computed from the numbers: the J&F of
    ``ours`` (default: the first method), how far it is above or below each other method,
    and which method's J decays most from the first quarter of the frames to the last."""

    if not results:
        raise ValueError("no results to describe")
    ours = ours or next(iter(results))
    if ours not in results:
        raise ValueError(f"{ours!r} is not among the methods {list(results)}")
    jf = {name: 100 * r.global_metrics["J&F-Mean"] for name, r in results.items()}
    out = [f"{ours} scores J&F = {jf[ours]:.1f}."]
    out += [
        f"It is {_points_against(jf[ours], value)} {name} ({value:.1f})." for name, value in jf.items() if name != ours
    ]
    decay = {name: 100 * r.global_metrics["J-Decay"] for name, r in results.items()}
    worst = max(decay, key=decay.get)
    out.append(
        f"{worst} loses the most J from the first quarter of the frames to the last "
        f"(decay {decay[worst]:.1f}; {ours}: {decay[ours]:.1f})."
    )
    return "\n".join(out)


def read_results_csv(path: str | os.PathLike) -> dict[str, dict[str, float]]:
    """Read a CSV written by :func:`write_results`: ``method -> {column: value}`` for the
    :data:`CSV_COLUMNS` (extra columns are left out)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or tuple(rows[0][: len(CSV_COLUMNS)]) != CSV_COLUMNS:
        raise ValueError(f"{path} is not a results CSV (expected header {CSV_COLUMNS})")
    return {row[0]: {col: float(v) for col, v in zip(CSV_COLUMNS[1:], row[1:])} for row in rows[1:]}


def write_per_sequence_csv(results: Mapping[str, DatasetResults], path: str | os.PathLike) -> None:
    """One row per (method, ``<sequence>_<object id>``): the toolkit's per-sequence columns."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["method", *PER_SEQUENCE_COLUMNS])
        for name, res in results.items():
            for row in res.per_object:
                w.writerow([name, row["Sequence"], *(f"{row[c]:.4f}" for c in PER_SEQUENCE_COLUMNS[1:])])


TABLE_IV_FIELDS = (
    "method",
    "what",
    "J",
    "F",
    "J&F",
    "delta",
    "paper_J",
    "paper_F",
    "paper_J&F",
    "paper_delta",
)
"""Keys of a :func:`table_iv_rows` row (J, F in percent; delta = J&F minus the full model's)."""


def _cell(v, fmt: str = "{:.1f}", signed: bool = False) -> str:
    if v is None:
        return "–"
    return ("{:+.1f}" if signed else fmt).format(v)


def table_iv_markdown(rows: list[dict]) -> str:
    """The rows of :func:`table_iv_rows` as a markdown table, ours beside the paper's."""
    lines = [
        "| method | what changes | J | F | J&F | Δ J&F | paper J | paper F | paper J&F | paper Δ |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cells = [
            r["method"],
            r["what"],
            _cell(r["J"]),
            _cell(r["F"]),
            _cell(r["J&F"]),
            _cell(r["delta"], signed=True),
            _cell(r["paper_J"]),
            _cell(r["paper_F"]),
            _cell(r["paper_J&F"]),
            _cell(r["paper_delta"], signed=True),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_table_iv(rows: list[dict], out_dir: str | Path, stem: str = "08_table_iv") -> tuple[Path, Path]:
    """Write ``<out_dir>/<stem>.csv`` (numbers, 2 decimals, empty = not in the paper) and ``<stem>.md``."""
    if not stem or any(sep in stem for sep in "/\\"):
        raise ValueError(f"stem must be a plain file stem, got {stem!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = out / f"{stem}.csv", out / f"{stem}.md"
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(TABLE_IV_FIELDS)
        for r in rows:
            w.writerow(
                [r[k] if isinstance(r[k], str) else ("" if r[k] is None else f"{r[k]:.2f}") for k in TABLE_IV_FIELDS]
            )
    md_path.write_text(table_iv_markdown(rows) + "\n")
    return csv_path, md_path


def read_table_iv(path: str | Path) -> list[dict]:
    """The rows of a table written by :func:`write_table_iv` (e.g. the committed
    ``figures/davis_table_iv.csv``), numbers as floats and empty cells as None."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or set(rows[0]) != set(TABLE_IV_FIELDS):
        raise ValueError(f"{path} is not a Table IV written by write_table_iv (columns {TABLE_IV_FIELDS})")
    text = ("method", "what")
    return [{k: r[k] if k in text else (float(r[k]) if r[k] else None) for k in TABLE_IV_FIELDS} for r in rows]


def write_davis_csv(
    out_dir,
    results: DatasetResults,
    *,
    overwrite: bool = False,
    split: str | None = None,
    float_format: str = "%.3f",
) -> tuple[Path, Path]:
    """Write ``global_results.csv`` and ``per-sequence_results.csv`` like the DAVIS toolkit.

    Args:
        out_dir: folder to write into (created if missing).
        results: what :func:`summarize` / :func:`evaluate_folders` returned.
        overwrite: refuse (FileExistsError) to replace existing files unless True.
        split: if given, files are named ``global_results-<split>.csv`` and
            ``per-sequence_results-<split>.csv`` as the toolkit does.
        float_format: number format (the toolkit writes 3 decimals).

    Returns:
        The two paths written (global, per-sequence).
    """
    out_dir = Path(out_dir)
    suffix = f"-{split}" if split else ""
    g_path = out_dir / f"global_results{suffix}.csv"
    s_path = out_dir / f"per-sequence_results{suffix}.csv"
    if not overwrite:
        for p in (g_path, s_path):
            if p.exists():
                raise FileExistsError(f"{p} already exists; pass --overwrite (overwrite=True in Python) to replace it")
    out_dir.mkdir(parents=True, exist_ok=True)

    def fmt(v) -> str:
        return float_format % v

    # write to temporary files then rename, so a failure never leaves half-written files
    tmp_g, tmp_s = g_path.with_suffix(".csv.tmp"), s_path.with_suffix(".csv.tmp")
    try:
        with open(tmp_g, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(GLOBAL_COLUMNS)
            w.writerow([fmt(results.global_metrics[c]) for c in GLOBAL_COLUMNS])
        with open(tmp_s, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(PER_SEQUENCE_COLUMNS)
            for row in results.per_object:
                w.writerow([row["Sequence"], fmt(row["J-Mean"]), fmt(row["F-Mean"])])
        os.replace(tmp_g, g_path)
        os.replace(tmp_s, s_path)
    finally:
        for tmp in (tmp_g, tmp_s):
            if tmp.exists():
                tmp.unlink()
    return g_path, s_path


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


def table_iv_rows(results) -> list[dict]:
    """Our Table IV: one row per method of ``results`` (as returned by :func:`run_ablation`).

    J, F and J&F are the DAVIS J-Mean, F-Mean and J&F-Mean in percent; ``delta`` is the
    method's J&F minus the full ``DGMPM``'s (None for DGMPM itself, or when it is absent),
    like the last line of Table IV. ``paper_*`` hold the paper's numbers where the paper has
    that variant (None for the baselines).
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
    ablated = [r for r in rows if r["method"] in PAPER_TABLE_IV_FULL and r["method"] != "DGMPM"]
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
            out.append(
                f"The full model is {_points_against(full['J&F'], by[name]['J&F'])} the {name} ({by[name]['J&F']:.1f})."
            )
    out.append(
        "Each variant is trained once, with one seed, so differences of a point or two "
        "may be noise rather than an effect of the switch."
    )
    return "\n".join(out)


def describe_knockouts(scores: Mapping[str, float], frames) -> str:
    """Plain-language reading of :func:`dgmpm_lite.explore.knockout_scores` (``switch -> J``,
    ``"none"`` = nothing switched off) on ``frames``, computed from the numbers."""

    if "none" not in scores:
        raise ValueError("describe_knockouts needs the 'none' score (nothing switched off)")
    base = 100 * scores["none"]
    out = [f"Nothing switched off: J = {base:.1f} on frames {list(frames)}."]
    drops = {k: base - 100 * v for k, v in scores.items() if k != "none"}
    for switch, drop in drops.items():
        out.append(f"Without the {switch}: J = {base - drop:.1f} ({-drop:+.1f}).")
    if drops:
        worst = max(drops, key=drops.get)
        if drops[worst] > 0:
            out.append(f"On these frames the trained model relies most on the {worst}.")
        else:
            out.append("No knock-out lowers J on these frames.")
    return "\n".join(out)
