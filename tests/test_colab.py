"""The Colab cell: the same in every notebook, inert outside Colab, and (with a fake
``google.colab`` and a file URL of this repository) an install from which notebook 00 runs."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO_ROOT

from dgmpm_lite.notebooks import COLAB_REPO, colab_cell, colab_url, notebook_paths

FAKE_COLAB = """
import pathlib
def enable_custom_widget_manager():
    pathlib.Path({marker!r}).write_text("enabled")
"""


def test_every_notebook_starts_with_the_colab_cell_and_badge():
    for path in notebook_paths():
        nb = json.loads(path.read_text())
        first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
        assert "".join(first_code["source"]) == colab_cell(), (
            f"{path.name}: regenerate its first code cell from colab_cell()"
        )
        assert colab_url(path.name) in "".join(nb["cells"][0]["source"]), f"{path.name}: its Colab badge"
    assert f"github.com/{COLAB_REPO}" in colab_cell()


def test_outside_colab_the_cell_does_nothing(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "check_call", lambda *a, **k: calls.append(a))
    exec(colab_cell(), {})
    assert calls == []


@pytest.mark.slow
def test_the_cell_installs_a_copy_notebook_00_runs_from(tmp_path):
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout (the cell installs from a git URL)")
    fake = tmp_path / "fake"
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "__init__.py").write_text("")
    marker = tmp_path / "widgets_enabled"
    (fake / "google" / "colab" / "output.py").write_text(FAKE_COLAB.format(marker=str(marker)))
    site, work = tmp_path / "site", tmp_path / "content"
    work.mkdir()
    # git+file:// installs the checkout's last commit (CI tests a clean clone: the same thing)
    cell = colab_cell().replace(f"git+https://github.com/{COLAB_REPO}", f"git+file://{REPO_ROOT}")
    # pip reads its options from the environment: install into a folder, without dependencies
    # (the test's environment has them), offline with the venv's setuptools
    # (PIP_NO_BUILD_ISOLATION=0 *disables* isolation: pip's negated variables read backwards).
    env = {
        **os.environ,
        "PYTHONPATH": str(fake),
        "PIP_TARGET": str(site),
        "PIP_NO_DEPS": "1",
        "PIP_NO_BUILD_ISOLATION": "0",
        "PIP_NO_INDEX": "1",
    }
    r = subprocess.run([sys.executable, "-c", cell], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert marker.read_text() == "enabled"
    assert (site / "dgmpm_lite" / "data_samples" / "checkpoints").is_dir()

    env = {**os.environ, "PYTHONPATH": str(site), "DGMPM_SMOKE": "1"}
    env.pop("DGMPM_FIG_DIR", None)
    nb = notebook_paths()[0]
    check = "import dgmpm_lite; assert dgmpm_lite.__file__.startswith(%r), dgmpm_lite.__file__" % str(site)
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            f"{check}\nimport papermill as pm; pm.execute_notebook({str(nb)!r}, "
            f"{str(tmp_path / 'out.ipynb')!r}, cwd={str(work)!r}, kernel_name='python3', progress_bar=False)",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    figures = sorted(p.name for p in (work / "dgmpm_lite_build" / "smoke_figures").glob("*.png"))
    assert figures, "notebook 00 of the installed copy writes its figures under the working folder"
