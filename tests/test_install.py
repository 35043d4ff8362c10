"""A regular (non-editable) install carries the shipped models and sample data (Colab, pip install git+URL)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO_ROOT
from PIL import Image


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``pip install --no-deps --target`` of this checkout, built offline with the venv's setuptools."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(REPO_ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return target


def run_installed(installed, cwd, *code_or_args, module=False):
    env = {**os.environ, "PYTHONPATH": str(installed)}
    env.pop("DGMPM_CHECKPOINT", None)
    cmd = [sys.executable, "-m", *code_or_args] if module else [sys.executable, "-c", code_or_args[0]]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_installed_copy_finds_models_and_samples(installed, tmp_path):
    r = run_installed(
        installed,
        tmp_path,
        """
import dgmpm_lite
from dgmpm_lite.data import DavisDataset, data_samples_root
from dgmpm_lite.checkpoints import load_default_model
assert str(dgmpm_lite.__file__).startswith(%r), dgmpm_lite.__file__
assert dgmpm_lite.SAMPLES_ROOT.parent == __import__("pathlib").Path(dgmpm_lite.__file__).parent
print(load_default_model().working_short_side, load_default_model(real_footage=True).working_short_side)
print(len(DavisDataset(data_samples_root(), split="val")))
"""
        % str(installed),
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["128", "240", "4"]  # the working sizes they record


@pytest.mark.slow
def test_installed_segment_runs_on_a_sample_video(installed, tmp_path):
    samples = installed / "dgmpm_lite" / "data_samples" / "synthetic"
    frames = samples / "JPEGImages" / "192p" / "val_000"
    first = samples / "Annotations" / "192p" / "val_000" / "00000.png"
    r = run_installed(
        installed,
        tmp_path,
        "dgmpm_lite",
        "segment",
        "--frames",
        str(frames),
        "--first-mask",
        str(first),
        "--out",
        "masks",
        module=True,
    )
    assert r.returncode == 0, r.stderr
    masks = sorted((tmp_path / "masks").iterdir())
    assert len(masks) == len(list(frames.iterdir()))
    assert np.asarray(Image.open(masks[-1])).shape == (192, 320)
