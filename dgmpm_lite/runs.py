"""A training run's folder: when it resumes, starts afresh or is refused, and its CSV logs.

A run folder (``--out``) holds ``last.pt`` (:mod:`dgmpm_lite.checkpoints`), its readable
``config.json`` and the logs :data:`RUN_LOGS`. :func:`open_run_folder` treats it as a
transaction (see there); the log helpers append rows, read the complete ones and cut a log
back to a checkpoint's step on resume, so an interrupted run rerun ends exactly where an
uninterrupted one does.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from .checkpoints import atomic_write_text, load_checkpoint, temporary_path
from .config import TrainConfig, canonical_stages, config_differences

RUN_LOGS = ("train_log.csv", "val_log.csv")


def remove_stale_temporaries(folder: Path) -> None:
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


def open_run_folder(out: Path, cfg: TrainConfig, overwrite: bool) -> dict | None:
    """Decide whether ``out`` resumes, starts afresh or is refused; returns the checkpoint to resume.

    A run folder is a transaction: ``last.pt`` holds the state *and* the config it was
    trained with, ``config.json`` is its readable copy, the logs are cut back to the
    checkpoint's step on resume. Files go in an order that no interruption can leave
    disagreeing: ``--overwrite`` deletes the old checkpoint before anything else and writes
    the new ``config.json`` last; without it, a folder holding another run's files and no
    checkpoint is refused, and one holding this run's ``config.json`` (an earlier start of
    the same command, stopped before its first checkpoint) starts again. A config that is
    the checkpoint's with stages appended (:func:`extends_stages`) resumes it: a finished run
    trained longer.
    """
    ckpt_path = out / "last.pt"
    remove_stale_temporaries(out)
    if not overwrite and ckpt_path.exists():
        ckpt = load_checkpoint(ckpt_path)
        diffs = resume_differences(ckpt.get("config", {}), cfg)
        if diffs:
            raise ValueError(
                f"{ckpt_path} was made with another config ({'; '.join(diffs)}); "
                "use another --out folder, or --overwrite to start again"
            )
        atomic_write_text(out / "config.json", json.dumps(cfg.to_dict(), indent=2))
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
    atomic_write_text(out / "config.json", json.dumps(cfg.to_dict(), indent=2))
    return None


def extends_stages(saved: dict, wanted: dict) -> bool:
    """Whether ``wanted`` is the saved config's schedule with stages appended: a run that is
    resumed (even when finished) to be trained longer keeps its checkpoint and goes on."""
    old, new = canonical_stages(saved.get("stages", [])), canonical_stages(wanted.get("stages", []))
    return bool(old) and len(new) > len(old) and new[: len(old)] == old


def resume_differences(saved: dict, cfg: TrainConfig) -> list[str]:
    """Why a checkpoint saved with config ``saved`` cannot be resumed by ``cfg`` (empty: it can).
    Runtime keys may differ, and ``cfg`` may append stages (:func:`extends_stages`)."""
    wanted = cfg.to_dict()
    if extends_stages(saved, wanted):  # trained longer: compare the rest as if not
        wanted = {**wanted, "stages": wanted["stages"][: len(saved["stages"])]}
    return config_differences(saved, wanted)


def _same_run(config_json: Path, cfg: TrainConfig) -> bool:
    """Whether ``config_json`` describes the same run as ``cfg`` (runtime keys aside)."""
    try:
        saved = json.loads(config_json.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(saved, dict) and not config_differences(saved, cfg.to_dict())


def append_csv(path: Path, row: dict) -> None:
    new = not path.exists()
    with path.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(row))
        if new:
            w.writeheader()
        w.writerow(row)


def log_rows(path: Path) -> list[dict]:
    """A log's complete rows (a row cut short by a kill is dropped)."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return [r for r in csv.DictReader(f) if None not in r.values() and str(r.get("global_step", "")).isdigit()]


def logged(path: Path, step: int) -> bool:
    return any(int(r["global_step"]) == step for r in log_rows(path))


def truncate_csv(path: Path, max_step: int) -> None:
    """On resume, drop log rows written after the checkpoint (they will be written again)."""
    if not path.exists():
        return
    kept = [r for r in log_rows(path) if int(r["global_step"]) <= max_step]
    if not kept:
        path.unlink()
        return
    tmp = temporary_path(path)
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(kept[0]))
        w.writeheader()
        w.writerows(kept)
    os.replace(tmp, path)
