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
"""

from __future__ import annotations

import csv
from pathlib import Path

from .compare import evaluate_methods, results_table
from .metrics import GLOBAL_COLUMNS

VARIANTS: dict[str, dict] = {
    "DGMPM": {},
    "-EDM": {"use_distance": False},
    "-PM": {"use_prev_mask": False},
    "-SAB": {"attention": "none"},
    "-SAB+CAB": {"attention": "channel"},
}

PAPER_TABLE_IV = {"DGMPM": 62.1, "-EDM": 51.9, "-PM": 47.9, "-SAB": 57.7, "-SAB+CAB": 60.0}
"""J&F (%) of Table IV, DAVIS-2017 val, for comparison."""


def run_ablation(
    config: str = "cpu",
    out_dir: str | Path = "runs/ablation",
    variants: list[str] | None = None,
    baselines: bool = True,
    max_frames: int = 0,
    overwrite: bool = False,
    **overrides,
):
    """Train (or resume) each variant into ``out_dir/<name>`` and score them all.

    Returns ``(results, table_markdown)``; also writes ``out_dir/ablation.csv`` and
    ``out_dir/ablation.md``.
    """
    from .data import DavisDataset
    from .train import export_model, load_config, load_model, resolve_path, train

    names = variants or list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise ValueError(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    out = Path(out_dir)
    methods = {}
    for name in names:
        cfg = load_config(config, **{**overrides, **VARIANTS[name]})
        run = out / name.replace("+", "_plus_").lstrip("-").lower()
        # all variants are scored together below: no per-run validation
        ckpt = train(load_config(config, **{**overrides, **VARIANTS[name], "val_data": "", "val_every": 0}), run, overwrite=overwrite)
        model_file = export_model(ckpt, run / "model.pt", overwrite=True)
        methods[name] = load_model(model_file)
    if baselines:
        methods["flow baseline"] = "flow"
        methods["copy baseline"] = "copy"
    videos = DavisDataset(resolve_path(cfg.val_data), split=cfg.val_split)
    results = evaluate_methods(videos, methods, max_frames or cfg.val_max_frames)
    table = results_table(results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ablation.md").write_text(table + "\n")
    with open(out / "ablation.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["method", *GLOBAL_COLUMNS, "paper_J&F"])
        for name, res in results.items():
            w.writerow([name, *(f"{res.global_metrics[c]:.4f}" for c in GLOBAL_COLUMNS), PAPER_TABLE_IV.get(name, "")])
    return results, table
