"""Run the notebook series with papermill: the instructor's ``dgmpm-lite figures`` command.

Every ``notebooks/NN_*.ipynb`` is executed in order into the git-ignored ``build/``; each
notebook saves its figures through :func:`dgmpm_lite.viz.savefig` into ``FIG_DIR``.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from tqdm.auto import tqdm

from . import REPO_ROOT, work_dir

NOTEBOOK_PATTERN = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")


def notebook_paths(root: Path = REPO_ROOT / "notebooks") -> list[Path]:
    """The numbered notebooks of the series, in teaching order."""
    return sorted(p for p in root.glob("*.ipynb") if NOTEBOOK_PATTERN.match(p.name))


def notebook_title(path: Path) -> str:
    """The heading of a notebook's first cell without its ``#``: ``"02 · The embedding distance module"``."""
    first = json.loads(Path(path).read_text())["cells"][0]
    heading = "".join(first["source"]).splitlines()[0]
    return heading.lstrip("#").strip()


def navigation_cell(path: Path) -> str:
    """The last cell of every notebook: links to the previous and the next one of the series
    (``tests/test_notebooks_structure.py`` keeps them in step with the notebooks' titles)."""
    paths = notebook_paths(Path(path).parent)
    i = [p.name for p in paths].index(Path(path).name)
    links = []
    if i > 0:
        links.append(f"Previous: [{notebook_title(paths[i - 1])}]({paths[i - 1].name})")
    if i + 1 < len(paths):
        links.append(f"Next: [{notebook_title(paths[i + 1])}]({paths[i + 1].name})")
    else:
        links.append(f"Back to the start: [{notebook_title(paths[0])}]({paths[0].name})")
    return (
        "---\n\n"
        + "  \n".join(links)
        + "\n\nThe map of the series (goals, prerequisites, times): [README](../README.md#the-notebooks)."
    )


def run_series(
    fig_dir: Path = REPO_ROOT / "figures",
    build_dir: Path | None = None,
    smoke: bool = False,
    device: str = "auto",
    seed: int = 0,
    only: list[str] | None = None,
    extra_parameters: dict[str, dict] | None = None,
) -> list[Path]:
    """Execute the series with papermill; returns the executed notebook paths.

    Every notebook gets ``SMOKE``, ``DEVICE``, ``FIG_DIR`` and ``SEED``; ``extra_parameters``
    maps a notebook's number prefix to more of its parameters (e.g. ``{"08":
    {"ABLATION_RETRAIN": True}}``). Prints each notebook's wall time and the total.
    """
    import papermill as pm

    fig_dir, build_dir = Path(fig_dir).resolve(), Path(build_dir or work_dir()).resolve()
    fig_dir.mkdir(parents=True, exist_ok=True)
    build_dir.mkdir(parents=True, exist_ok=True)
    paths = notebook_paths()
    if only:
        paths = [p for p in paths if any(p.name.startswith(o) for o in only)]
        if not paths:
            raise ValueError(f"no notebook matches {only}; have {[p.name for p in notebook_paths()]}")
    done = []
    first = time.perf_counter()
    bar = tqdm(paths, desc="notebooks", unit="nb")
    for nb in bar:
        out = build_dir / nb.name
        start = time.perf_counter()
        pm.execute_notebook(
            str(nb),
            str(out),
            parameters={
                "SMOKE": smoke,
                "DEVICE": device,
                "FIG_DIR": str(fig_dir),
                "SEED": seed,
                **(extra_parameters or {}).get(nb.name[:2], {}),
            },
            kernel_name="python3",
            cwd=str(nb.parent),
            progress_bar=False,
        )
        bar.write(f"{nb.name}: {time.perf_counter() - start:.1f} s")
        done.append(out)
    bar.write(f"total: {time.perf_counter() - first:.1f} s for {len(done)} notebooks")
    return done


TIMED_OUTPUTS = ("07_accuracy_vs_runtime.png",)
"""Figures that plot measured run times: the only outputs two runs with the same seed may draw
differently (``tests/test_figures_reproducible.py``); tables hold no timings."""


COLAB_REPO = "dgmpm-lite/dgmpm_lite"
"""GitHub ``owner/name`` of the project: the one place it is written. The Colab badges and the
Colab cell (:func:`colab_cell`) are made from it; ``tests/test_colab.py`` keeps every notebook
in step."""


def colab_cell(repository: str = COLAB_REPO) -> str:
    """The first code cell of every notebook: on Colab only, install the package and turn widgets on.

    A regular install from GitHub carries the shipped models and sample data (package data),
    so no clone is needed; Colab already has torch, which is not reinstalled. Its widget
    manager is switched on for the sliders of notebook 09. Outside Colab the cell
    does nothing.
    """
    url = f"git+https://github.com/{repository}"
    return f"""\
# On Colab only (elsewhere this cell does nothing): install dgmpm_lite with its models and
# sample data, and switch on Colab's widget manager for the interactive figures.
import importlib
import importlib.util
import subprocess
import sys

google = importlib.util.find_spec("google")
if google is not None and importlib.util.find_spec("google.colab") is not None:
    url = "{url}"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", url])
    importlib.invalidate_caches()
    from google.colab import output

    output.enable_custom_widget_manager()"""


def colab_url(notebook_name: str) -> str:
    """The "Open in Colab" address of ``notebooks/<notebook_name>``."""
    return f"https://colab.research.google.com/github/{COLAB_REPO}/blob/main/notebooks/{notebook_name}"


class Settings:
    """What the cell after ``parameters`` derives: smoke mode, device, figure folder, seed."""

    def __init__(self, smoke: bool, device, fig_dir: Path, seed: int) -> None:
        self.smoke, self.device, self.fig_dir, self.seed = smoke, device, fig_dir, seed

    def __repr__(self) -> str:
        return f"Settings(smoke={self.smoke}, device={self.device}, fig_dir={self.fig_dir}, seed={self.seed})"


def setup(
    smoke: bool = False, device: str = "auto", fig_dir: str = "", seed: int = 0, own_data: bool = False
) -> Settings:
    """Resolve a notebook's parameters.

    ``DGMPM_SMOKE=1`` in the environment forces smoke mode (nbval cannot inject parameters).
    An empty ``fig_dir`` means a git-ignored folder of :func:`dgmpm_lite.work_dir`
    (``build/`` in a clone): ``figures`` (see :func:`dgmpm_lite.viz.default_fig_dir`),
    ``smoke_figures`` in smoke mode, ``own_data_figures`` with ``own_data=True`` (a notebook
    pointed at DAVIS or your own video, whose frames the project may not redistribute).
    Only ``dgmpm-lite figures`` (the instructor's command) passes the committed
    ``figures/``. In a clone, paths never depend on the working directory (nbval runs in
    ``notebooks/``, papermill in the caller's folder). Seeds Python, NumPy and torch.
    """
    import random

    import numpy as np
    import torch

    from .device import resolve_device
    from .viz import default_fig_dir

    smoke = bool(smoke) or os.environ.get("DGMPM_SMOKE", "") == "1"
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if fig_dir:
        out = Path(fig_dir)
    elif own_data:
        out = work_dir("own_data_figures")
    else:
        out = work_dir("smoke_figures") if smoke else default_fig_dir()
    return Settings(smoke, resolve_device(device), out, seed)
