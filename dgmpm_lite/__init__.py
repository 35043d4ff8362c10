"""dgmpm_lite: a teaching re-implementation of the Distance-Guided Mask Propagation Model.

Liu, Li, Dai, Tang, "Distance-Guided Mask Propagation Model for Efficient Video Object
Segmentation". No public code exists; this package is rebuilt from the paper.

Sub-packages follow the paper:
- :mod:`dgmpm_lite.model` - section III (feature extractor, embedding distance module,
  spatial attention blocks, feature integration network, the whole model);
- :mod:`dgmpm_lite.data` - videos and masks (synthetic, DAVIS, your own video).
"""

from pathlib import Path

__version__ = "0.1.0"

REPO_ROOT = Path(__file__).resolve().parent.parent
"""Repository root when installed in editable mode (``pip install -e .``)."""

SAMPLES_ROOT = REPO_ROOT / "data_samples"
"""The shipped models and sample data: ``data_samples/`` of a clone (or an editable install);
in a regular install (``pip install .`` or ``pip install git+URL``, e.g. on Colab) the copy
the wheel carries inside the package (``dgmpm_lite/data_samples``)."""
if not SAMPLES_ROOT.is_dir():
    SAMPLES_ROOT = Path(__file__).resolve().parent / "data_samples"


def _in_clone() -> bool:
    """A clone or an editable install (the repository around the package), not site-packages."""
    return (REPO_ROOT / "pyproject.toml").is_file()


def work_dir(*parts: str) -> Path:
    """Where notebooks and commands put what they make: generated data, training runs and the
    figures of interactive runs (only the instructor's ``dgmpm-lite figures`` writes the
    committed ``figures/``).

    In a clone that is its git-ignored ``build/``; in a regular install (Colab, ``pip install
    git+URL``) it is ``dgmpm_lite_build/`` in the current folder, as ``site-packages`` is no place
    for a user's files.
    """
    root = REPO_ROOT / "build" if _in_clone() else Path.cwd() / "dgmpm_lite_build"
    return root.joinpath(*parts)


def runs_dir(*parts: str) -> Path:
    """Where training runs go by default: the clone's git-ignored ``runs/``, else ``work_dir("runs")``."""
    root = REPO_ROOT / "runs" if _in_clone() else work_dir("runs")
    return root.joinpath(*parts)


def shipped_path(path: str | Path) -> Path:
    """A path as a user or a preset wrote it, resolved against the shipped files.

    ``data_samples/...`` always means the shipped copy (:data:`SAMPLES_ROOT`), wherever the
    package is installed; any other relative path that does not exist in the working
    directory but does in the repository is the repository's, as the presets write them. A
    path found in neither comes back as written, so that errors name what the user typed.
    """
    p = Path(path)
    if not p.is_absolute() and p.parts and p.parts[0] == "data_samples":
        return SAMPLES_ROOT.joinpath(*p.parts[1:])
    if p.is_absolute() or p.exists() or not (REPO_ROOT / p).exists():
        return p
    return REPO_ROOT / p
