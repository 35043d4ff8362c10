"""Notebooks 06 and 09 on real footage: held-out DAVIS-2016 frames from ../shared/data.

Skipped where ../shared/data is absent. The figures of such a run go to build/, never to the
committed figures/ (DAVIS is CC BY-NC), and the DAVIS-trained model is the one loaded.
"""

import json
import time

import pytest
from conftest import REPO_ROOT


def _run(name, tmp_path, **parameters):
    pm = pytest.importorskip("papermill")
    figures_before = {p: p.stat().st_mtime_ns for p in (REPO_ROOT / "figures").iterdir()}
    out = tmp_path / name
    pm.execute_notebook(
        str(REPO_ROOT / "notebooks" / name),
        str(out),
        parameters=dict(SMOKE=True, DEVICE="cpu", **parameters),
        kernel_name="python3",
        cwd=str(REPO_ROOT / "notebooks"),
        progress_bar=False,
    )
    assert {p: p.stat().st_mtime_ns for p in (REPO_ROOT / "figures").iterdir()} == figures_before
    return json.loads(out.read_text())


def _source(nb) -> str:
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


@pytest.mark.slow
def test_exploration_lab_on_held_out_davis_frames(shared_data, tmp_path):
    started = time.time()
    nb = _run(
        "09_exploration_lab.ipynb",
        tmp_path,
        DATA_ROOT=str(shared_data / "DAVIS2016-train-240p"),
        SPLIT=str(REPO_ROOT / "data_samples/davis2016_split/val.txt"),
        VIDEO=0,
    )
    assert 'DATA_ROOT = "' in _source(nb)  # papermill injected the real data
    assert "real_footage=bool(DATA_ROOT)" in _source(nb)
    pictures = sum(
        "image/png" in o.get("data", {}) for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
    )
    assert pictures >= 2  # the attention maps (Fig. 4) and the anchor explorer, on real frames
    written = [p for p in (REPO_ROOT / "build" / "own_data_figures").glob("09_*.png") if p.stat().st_mtime > started]
    assert len(written) >= 2


def test_real_footage_default_is_the_multi_object_model(monkeypatch):
    import dgmpm_lite.checkpoints as checkpoints

    loaded = []
    monkeypatch.setattr(checkpoints, "load_model", lambda path, device="cpu": loaded.append(path.name))
    checkpoints.load_default_model(real_footage=True)
    checkpoints.load_default_model()
    checkpoints.load_default_model("davis")
    assert loaded == ["dgmpm_multi.pt", "dgmpm_synthetic.pt", "dgmpm_davis.pt"]


@pytest.mark.slow
def test_inference_notebook_on_a_real_davis_sequence(shared_data, tmp_path):
    root = shared_data / "DAVIS2016-train-240p"
    frames, first = root / "JPEGImages" / "240p" / "bear", root / "Annotations" / "240p" / "bear" / "00000.png"
    if not frames.is_dir() or not first.is_file():
        pytest.skip(f"{frames} not present")
    nb = _run("06_inference.ipynb", tmp_path, OWN_VIDEO=str(frames), OWN_MASK=str(first))
    assert "own_model = load_default_model(CHECKPOINT, cfg.device, real_footage=True)" in _source(nb)
    printed = "".join(
        "".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
    )
    assert f"frames read from {frames}" in printed
