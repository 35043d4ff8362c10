"""Figures helper, command line, device selection."""

import hashlib
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from dgmpm_lite.cli import main
from dgmpm_lite.data import DAVIS_PALETTE
from dgmpm_lite.device import resolve_device
from dgmpm_lite.viz import colour_name, overlay, plot_grid, savefig


def test_savefig_is_byte_identical_on_rerun(tmp_path):
    digests = []
    for run in range(2):
        fig, _ = plot_grid([[("a map", np.arange(12).reshape(3, 4) / 11)]])
        path = savefig(fig, "demo", tmp_path / str(run))
        plt.close(fig)
        digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
    assert path.name == "demo.png" and digests[0] == digests[1]


def test_savefig_rejects_paths_as_names(tmp_path):
    fig = plt.figure()
    with pytest.raises(ValueError, match="plain file stem"):
        savefig(fig, "../evil", tmp_path)
    plt.close(fig)


def test_overlay_colours_objects_only():
    frame = torch.full((3, 4, 5), 0.5)
    labels = np.zeros((4, 5), dtype=np.uint8)
    labels[1, 2] = 1
    img = overlay(frame, labels, alpha=1.0, contour=False)
    assert img.dtype == np.uint8
    np.testing.assert_array_equal(img[1, 2], DAVIS_PALETTE[1])
    np.testing.assert_array_equal(img[0, 0], [128, 128, 128])
    with pytest.raises(ValueError, match="labels are"):
        overlay(frame, np.zeros((3, 3)))


def test_colour_names_describe_the_palette_colours():
    """A caption's colour name must fit the colour drawn: each channel off (0) or on (>0) as named."""
    channels = {
        "black": (0, 0, 0),
        "dark red": (1, 0, 0),
        "green": (0, 1, 0),
        "olive": (1, 1, 0),
        "navy": (0, 0, 1),
        "purple": (1, 0, 1),
        "teal": (0, 1, 1),
        "grey": (1, 1, 1),
    }
    for object_id in range(8):
        assert tuple(int(c > 0) for c in DAVIS_PALETTE[object_id]) == channels[colour_name(object_id)]
    assert colour_name(9) == "palette colour 9"


def test_resolve_device():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in {"cpu", "cuda", "mps"}
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        resolve_device("gpu0")


def test_benchmark_command_prints_a_table(capsys):
    assert (
        main(
            [
                "benchmark",
                "--backbones",
                "resnet18",
                "--sizes",
                "64x96",
                "--objects",
                "1",
                "2",
                "--repeats",
                "1",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    rows = [l for l in out.splitlines() if l.startswith("| ") and "64x96" in l]
    assert len(rows) == 6  # 3 methods x 2 object counts
    assert {r.split("|")[1].strip() for r in rows} == {"dgmpm", "flow", "copy"}
    assert "| dgmpm | resnet18 | 128 |" in out and "ms / frame" in out and "| flow | - | - |" in out


def test_benchmark_times_each_decoder_width():
    from dgmpm_lite.benchmark import run_benchmark

    rows = run_benchmark(["resnet18"], [(64, 96)], [1], ["dgmpm"], "cpu", repeats=1, widths=(128, 64))
    assert [r.decoder_width for r in rows] == [128, 64]
    # the 64-wide decoder: 1x1 and 3x3 convolutions with half the channels, fewer parameters
    assert rows[1].parameters < rows[0].parameters
    with pytest.raises(ValueError, match="decoder widths must be positive"):
        run_benchmark(["resnet18"], [(64, 96)], [1], ["dgmpm"], "cpu", widths=(0,))


@pytest.mark.parametrize("option,value", [("--objects", "0"), ("--widths", "-64"), ("--repeats", "two")])
def test_benchmark_rejects_counts_below_one(option, value):
    proc = subprocess.run(
        [sys.executable, "-m", "dgmpm_lite", "benchmark", option, value], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert option in proc.stderr and ("must be at least 1" in proc.stderr or "expected a whole number" in proc.stderr)


def test_bad_size_argument_exits_nonzero():
    proc = subprocess.run(
        [sys.executable, "-m", "dgmpm_lite", "benchmark", "--sizes", "big"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "size must look like 240x432" in proc.stderr


def test_unknown_notebook_prefix(tmp_path, capsys):
    assert main(["figures", "--only", "99", "--fig-dir", str(tmp_path / "f"), "--build-dir", str(tmp_path / "b")]) == 2
    assert "no notebook matches ['99']" in capsys.readouterr().err


def test_notebook_setup_smoke_mode_never_touches_committed_figures(monkeypatch):
    from dgmpm_lite import REPO_ROOT
    from dgmpm_lite.notebooks import setup

    monkeypatch.setenv("DGMPM_SMOKE", "1")
    cfg = setup(smoke=False, device="cpu", fig_dir="", seed=3)
    assert cfg.smoke and cfg.fig_dir == REPO_ROOT / "build" / "smoke_figures"
    assert torch.initial_seed() == 3
    monkeypatch.delenv("DGMPM_SMOKE")
    cfg = setup(smoke=False, device="cpu", fig_dir="/tmp/x", seed=0)
    assert not cfg.smoke and str(cfg.fig_dir) == "/tmp/x"


def test_notebook_setup_keeps_figures_of_own_data_out_of_the_repository(monkeypatch):
    from dgmpm_lite import REPO_ROOT
    from dgmpm_lite.notebooks import setup

    monkeypatch.delenv("DGMPM_SMOKE", raising=False)
    monkeypatch.delenv("DGMPM_FIG_DIR", raising=False)
    assert setup(fig_dir="", device="cpu").fig_dir == REPO_ROOT / "build" / "figures"  # a hand run: git-ignored
    assert setup(fig_dir="", device="cpu", own_data=True).fig_dir == REPO_ROOT / "build" / "own_data_figures"
    assert str(setup(fig_dir="/tmp/mine", device="cpu", own_data=True).fig_dir) == "/tmp/mine"  # asked for explicitly


def test_figures_smoke_never_writes_into_the_committed_figures(monkeypatch):
    import dgmpm_lite.notebooks as notebooks
    from dgmpm_lite import REPO_ROOT

    seen = []
    monkeypatch.setattr(notebooks, "run_series", lambda **kw: seen.append(kw["fig_dir"]) or [])
    assert main(["figures", "--smoke"]) == 0
    assert main(["figures"]) == 0
    assert seen == [str(REPO_ROOT / "build" / "smoke_figures"), str(REPO_ROOT / "figures")]
