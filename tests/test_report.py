from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from dgmpm_lite.metrics import GLOBAL_COLUMNS, DatasetResults
from dgmpm_lite.viz.plots import plot_accuracy_vs_runtime, runtime_points
from dgmpm_lite.viz.tables import describe_results, read_results_csv, write_results


def _result(jf, decay=0.1):
    gm = {c: 0.0 for c in GLOBAL_COLUMNS}
    gm.update({c: 0.1 * (i + 1) for i, c in enumerate(GLOBAL_COLUMNS)})
    gm["J&F-Mean"], gm["J-Decay"] = jf, decay
    return DatasetResults(global_metrics=gm, per_object=[])


def _timing(spf):  # what benchmark.time_methods returns, as far as runtime_points reads it
    return SimpleNamespace(seconds_per_frame=spf)


def test_plot_data_equal_inputs():
    pts = {"a": (0.5, 0.01), "b": (0.75, 0.2)}
    fig, ax = plot_accuracy_vs_runtime(pts)
    offsets = [c.get_offsets()[0] for c in ax.collections]
    assert np.allclose(offsets, [[0.01, 50.0], [0.2, 75.0]])
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.texts] == ["a", "b"]


@pytest.mark.parametrize("bad", [{}, {"a": (1.5, 0.1)}, {"a": (0.5, 0.0)}, {"a": (0.5,)}])
def test_plot_bad_input(bad):
    with pytest.raises(ValueError):
        plot_accuracy_vs_runtime(bad)


def test_csv_round_trip_and_markdown(tmp_path):
    results = {"DGMPM": _result(0.6), "copy": _result(0.3)}
    cs, md = write_results(results, tmp_path / "07_results.csv")
    back = read_results_csv(cs)
    assert list(back) == ["DGMPM", "copy"]
    for name, res in results.items():
        assert set(back[name]) == set(GLOBAL_COLUMNS)  # no timing column: speed is the benchmark's
        for c in GLOBAL_COLUMNS:
            assert back[name][c] == pytest.approx(res.global_metrics[c], abs=5e-5)  # 4 decimals
    text = md.read_text()
    assert "| DGMPM | 60.0 |" in text and "| copy | 30.0 |" in text and "frame" not in text
    timings = {"DGMPM": _timing(0.05), "copy": _timing(0.001), "unused": _timing(1.0)}
    assert runtime_points(results, timings) == {"DGMPM": (0.6, 0.05), "copy": (0.3, 0.001)}


def test_describe_results_reads_the_table_in_words():
    results = {"DGMPM": _result(0.6, decay=0.05), "flow": _result(0.4, decay=0.3), "copy": _result(0.6, decay=0.2)}
    text = describe_results(results)
    assert text.splitlines() == [
        "DGMPM scores J&F = 60.0.",
        "It is 20.0 points above flow (40.0).",
        "It is 0.0 points level with copy (60.0).",
        "flow loses the most J from the first quarter of the frames to the last (decay 30.0; DGMPM: 5.0).",
    ]
    assert describe_results(results, ours="flow").startswith("flow scores J&F = 40.0.")
    with pytest.raises(ValueError, match="'x' is not among"):
        describe_results(results, ours="x")


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError):
        write_results({}, tmp_path / "r.csv")
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a results CSV"):
        read_results_csv(tmp_path / "x.csv")
    with pytest.raises(ValueError, match=r"no timing for \['m'\]: time them with"):
        runtime_points({"m": DatasetResults(global_metrics={"J&F-Mean": 0.5}, per_object=[])}, {})


def test_training_curves(tmp_path):
    from dgmpm_lite.viz.plots import plot_training_curves, read_log_csv

    p = tmp_path / "train_log.csv"
    p.write_text("global_step,stage,loss\n1,static,0.9\n2,static,0.5\n3,video,0.4\n4,video,0.2\n")
    log = read_log_csv(p)
    assert log["loss"] == [0.9, 0.5, 0.4, 0.2] and log["stage"][2] == "video"
    fig, axes = plot_training_curves(log, {"global_step": [2.0, 4.0], "J&F": [0.25, 0.5]})
    x, y = axes[0].lines[0].get_data()
    assert list(x) == [1, 2, 3, 4] and np.allclose(y, [0.9, 0.5, 0.4, 0.2])
    assert axes[0].lines[1].get_xdata()[0] == 3  # stage boundary
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == ["static", "video"]  # stages named
    assert np.allclose(axes[1].lines[0].get_ydata(), [25, 50])
    _, axes = plot_training_curves(log, smooth=2)
    assert np.allclose(axes[0].lines[0].get_ydata(), [0.7, 0.45, 0.3])
    with pytest.raises(ValueError):
        plot_training_curves({"loss": [1.0]})
    with pytest.raises(FileNotFoundError):
        read_log_csv(tmp_path / "missing.csv")
