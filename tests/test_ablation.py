"""Ablation harness (Table IV): every variant trained the same way and scored together."""

import csv
from types import SimpleNamespace

import pytest

from dgmpm_lite.ablation import VARIANTS, run_ablation
from dgmpm_lite.model import DGMPM


def test_variants_are_the_papers_switches():
    assert list(VARIANTS) == ["DGMPM", "-EDM", "-PM", "-SAB", "-SAB+CAB"]
    assert DGMPM(weights=None, **VARIANTS["-EDM"]).features.side_convs is None
    assert DGMPM(weights=None, **VARIANTS["-PM"]).decoder.num_guides == 1


def test_run_ablation_trains_and_scores_each_variant(tmp_path):
    results, table = run_ablation(
        "smoke",
        tmp_path,
        variants=["DGMPM", "-EDM"],
        max_frames=4,
        size=(48, 64),
        val_data="data_samples/synthetic",
        val_every=0,
        checkpoint_every=0,
    )
    assert list(results) == ["DGMPM", "-EDM", "flow baseline", "copy baseline"]
    for name in ("dgmpm", "edm"):
        assert (tmp_path / name / "model.pt").is_file()
    with open(tmp_path / "ablation.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["method"] for r in rows] == list(results)
    assert rows[1]["paper_J&F"] == "51.9" and rows[2]["paper_J&F"] == ""
    assert float(rows[0]["J&F-Mean"]) == pytest.approx(results["DGMPM"].global_metrics["J&F-Mean"], abs=1e-4)
    with open(tmp_path / "per-sequence.csv") as f:
        per_seq = list(csv.DictReader(f))
    assert len(per_seq) == sum(len(res.per_object) for res in results.values())
    edm_rows = [r for r in per_seq if r["method"] == "-EDM"]
    assert [float(r["J-Mean"]) for r in edm_rows] == pytest.approx(
        [o["J-Mean"] for o in results["-EDM"].per_object], abs=1e-4
    )
    assert "| -EDM |" in (tmp_path / "ablation.md").read_text()
    with open(tmp_path / "table_iv.csv") as f:
        table_iv = {r["method"]: r for r in csv.DictReader(f)}
    jf = {name: 100 * res.global_metrics["J&F-Mean"] for name, res in results.items()}
    assert float(table_iv["-EDM"]["delta"]) == pytest.approx(jf["-EDM"] - jf["DGMPM"], abs=0.01)
    assert (tmp_path / "table_iv.png").stat().st_size > 0 and "| -EDM |" in (tmp_path / "table_iv.md").read_text()
    with pytest.raises(ValueError, match="unknown variants"):
        run_ablation("smoke", tmp_path, variants=["-XYZ"])

    # exported models can stand for their variants in another run: nothing is trained again
    again = tmp_path / "again"
    reuse = {"DGMPM": tmp_path / "dgmpm" / "model.pt", "-EDM": tmp_path / "edm" / "model.pt"}
    kw = dict(max_frames=4, size=(48, 64), val_data="data_samples/synthetic", val_every=0, checkpoint_every=0)
    results2, _ = run_ablation("smoke", again, variants=["DGMPM", "-EDM"], baselines=False, reuse=reuse, **kw)
    assert not list(again.rglob("last.pt"))
    assert (again / "edm" / "model.pt").read_bytes() == reuse["-EDM"].read_bytes()
    for name in ("DGMPM", "-EDM"):
        assert results2[name].global_metrics["J&F-Mean"] == pytest.approx(results[name].global_metrics["J&F-Mean"])
    # a model trained with other switches or another config is refused, naming the difference
    with pytest.raises(ValueError, match="use_distance: checkpoint False vs config True"):
        run_ablation("smoke", again, variants=["DGMPM"], reuse={"DGMPM": reuse["-EDM"]}, **kw)
    with pytest.raises(ValueError, match="size"):
        run_ablation("smoke", again, variants=["DGMPM"], reuse={"DGMPM": reuse["DGMPM"]}, **{**kw, "size": (64, 64)})
    with pytest.raises(ValueError, match="not among the variants"):
        run_ablation("smoke", again, variants=["DGMPM"], reuse={"-EDM": reuse["-EDM"]}, **kw)
    # the reused file is checked before any variant is trained
    with pytest.raises(ValueError, match="use_prev_mask"):
        run_ablation("smoke", tmp_path / "third", variants=["-EDM", "-PM"], reuse={"-PM": reuse["-EDM"]}, **kw)
    assert not (tmp_path / "third" / "edm").exists()


# -- Table IV, Fig. 8 and Fig. 6 helpers (notebook 08) --------------------------------------------

import numpy as np  # noqa: E402
import torch  # noqa: E402

from dgmpm_lite.ablation import (  # noqa: E402
    case_grid,
    gain_score,
    load_variants,
    segment_frames,
    variant_dir,
    variant_mask_grid,
    variant_spread,
)
from dgmpm_lite.data.metadata import fig8_candidates, fig8_cases, instance_masks  # noqa: E402
from dgmpm_lite.data.sets import smoke_val_data  # noqa: E402
from dgmpm_lite.infer import propagate  # noqa: E402
from dgmpm_lite.metrics import GLOBAL_COLUMNS, DatasetResults, SequenceScores  # noqa: E402
from dgmpm_lite.viz.ablation import MaskGrid, plot_mask_grid, plot_table_iv  # noqa: E402
from dgmpm_lite.viz.plots import plot_accuracy_vs_runtime, runtime_points  # noqa: E402
from dgmpm_lite.viz.tables import (  # noqa: E402  # noqa: E402
    PAPER_TABLE_IV,
    PAPER_TABLE_IV_FULL,
    describe_table_iv,
    table_iv_markdown,
    table_iv_rows,
    write_table_iv,
)


def _result(j: float, f: float) -> DatasetResults:
    g = {c: 0.0 for c in GLOBAL_COLUMNS}
    g.update({"J-Mean": j, "F-Mean": f, "J&F-Mean": (j + f) / 2})
    return DatasetResults(global_metrics=g, per_object=[])


def _hand_made_results() -> dict:
    return {
        "DGMPM": _result(0.60, 0.70),  # J&F 65.0
        "-EDM": _result(0.50, 0.56),  # 53.0, delta -12.0
        "-PM": _result(0.62, 0.70),  # 66.0, delta +1.0 (beats the full model)
        "-SAB": _result(0.58, 0.66),  # 62.0, delta -3.0
        "-SAB+CAB": _result(0.59, 0.69),  # 64.0, delta -1.0
        "flow baseline": _result(0.40, 0.44),  # 42.0
        "copy baseline": _result(0.20, 0.24),  # 22.0
    }


def _hand_made_timings() -> dict:  # seconds per frame, as benchmark.time_methods reports them
    spf = {"DGMPM": 0.3, "-EDM": 0.2, "-PM": 0.25, "-SAB": 0.28, "-SAB+CAB": 0.29}
    spf.update({"flow baseline": 0.01, "copy baseline": 0.001})
    return {name: SimpleNamespace(seconds_per_frame=v) for name, v in spf.items()}


def test_paper_numbers_are_consistent():
    for name, row in PAPER_TABLE_IV_FULL.items():
        assert row["J&F"] == PAPER_TABLE_IV[name]
        assert abs((row["J"] + row["F"]) / 2 - row["J&F"]) <= 0.05 + 1e-9  # rounding in the paper


def test_variant_dir_matches_run_ablation_layout(tmp_path):
    assert [variant_dir(tmp_path, n).name for n in VARIANTS] == ["dgmpm", "edm", "pm", "sab", "sab_plus_cab"]
    with pytest.raises(ValueError, match="unknown variant"):
        variant_dir(tmp_path, "flow baseline")


def test_table_iv_rows_from_hand_made_results(tmp_path):
    rows = table_iv_rows(_hand_made_results())
    by = {r["method"]: r for r in rows}
    assert [r["method"] for r in rows] == list(_hand_made_results())
    assert by["DGMPM"]["J"] == pytest.approx(60.0) and by["DGMPM"]["F"] == pytest.approx(70.0)
    assert by["DGMPM"]["J&F"] == pytest.approx(65.0) and by["DGMPM"]["delta"] is None
    assert by["-EDM"]["delta"] == pytest.approx(-12.0)
    assert by["-PM"]["delta"] == pytest.approx(1.0)
    assert by["-EDM"]["paper_J&F"] == 51.9 and by["-EDM"]["paper_delta"] == pytest.approx(-10.2)
    assert by["-PM"]["paper_delta"] == pytest.approx(-14.2)
    assert by["-SAB+CAB"]["paper_J"] == 57.2 and by["-SAB+CAB"]["paper_F"] == 62.7
    assert by["DGMPM"]["paper_delta"] is None
    assert by["flow baseline"]["paper_J&F"] is None and by["flow baseline"]["delta"] == pytest.approx(-23.0)
    assert all("s_per_frame" not in r for r in rows)  # Table IV has no speed; notebook 07 times

    md = table_iv_markdown(rows)
    lines = md.splitlines()
    assert len(lines) == 2 + len(rows)
    assert "| -EDM | no embedding distance module | 50.0 | 56.0 | 53.0 | -12.0 | 50.6 | 53.2 | 51.9 | -10.2 |" in lines
    assert lines[-1].startswith("| copy baseline |") and "| – |" in lines[-1]

    csv_path, md_path = write_table_iv(rows, tmp_path / "figs")
    assert csv_path.name == "08_table_iv.csv" and md_path.read_text() == md + "\n"
    with open(csv_path) as f:
        got = list(csv.DictReader(f))
    assert [g["method"] for g in got] == list(by)
    assert float(got[1]["J&F"]) == pytest.approx(53.0) and float(got[1]["paper_J&F"]) == 51.9
    assert got[0]["delta"] == "" and got[5]["paper_J&F"] == ""
    with pytest.raises(ValueError, match="stem"):
        write_table_iv(rows, tmp_path, "a/b")
    with pytest.raises(ValueError, match="no results"):
        table_iv_rows({})


def test_no_dgmpm_row_means_no_deltas():
    rows = table_iv_rows({"-EDM": _result(0.5, 0.5)})
    assert rows[0]["delta"] is None and rows[0]["paper_delta"] == pytest.approx(-10.2)
    with pytest.raises(ValueError, match="DGMPM"):
        describe_table_iv(rows)


def test_describe_table_iv_follows_the_numbers():
    text = describe_table_iv(table_iv_rows(_hand_made_results()))
    assert "J&F = 65.0" in text
    assert "-EDM -12.0 (paper -10.2)" in text and "-PM +1.0 (paper -14.2)" in text
    assert "here 3 of 4 do (-EDM, -SAB, -SAB+CAB)" in text
    assert "ours: -EDM > -SAB > -SAB+CAB > -PM" in text and "the paper's: -PM > -EDM > -SAB > -SAB+CAB" in text
    assert "different from the paper's order" in text
    assert "-PM even beats the full model here, by 1.0 points" in text
    assert "23.0 points above the flow baseline" in text
    # a table that agrees with the paper is described as agreeing
    agree = {n: _result(v / 100, v / 100) for n, v in PAPER_TABLE_IV.items()}
    text = describe_table_iv(table_iv_rows(agree))
    assert "here 4 of 4 do" in text and "(the same as the paper's order)" in text and "even beats" not in text
    # ties are shown as ties, not as an order
    tied = {"DGMPM": _result(0.5, 0.5), "-EDM": _result(0.5, 0.5), "-PM": _result(0.4, 0.4), "-SAB": _result(0.5, 0.5)}
    text = describe_table_iv(table_iv_rows(tied))
    assert "ours: -PM > -EDM = -SAB;" in text and "here 1 of 3 do (-PM)" in text


def test_runtime_points_and_table_plot():
    results = _hand_made_results()
    pts = runtime_points(results, _hand_made_timings())
    assert pts["DGMPM"] == pytest.approx((0.65, 0.30)) and pts["copy baseline"] == pytest.approx((0.22, 0.001))
    with pytest.raises(ValueError, match="no timing for"):
        runtime_points({"x": _result(0.5, 0.5)}, _hand_made_timings())
    fig = plot_table_iv(table_iv_rows(results))
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights[:5] == pytest.approx([65.0, 53.0, 66.0, 62.0, 64.0])  # ours
    assert heights[5:] == pytest.approx([PAPER_TABLE_IV[n] for n in VARIANTS])  # the paper's
    assert sorted(line.get_ydata()[0] for line in ax.lines) == pytest.approx([22.0, 42.0])
    with pytest.raises(ValueError, match="no ablation variant"):
        plot_table_iv(table_iv_rows({"flow baseline": _result(0.4, 0.4)}))
    import matplotlib.pyplot as plt

    plt.close("all")


def _save_untrained_variants(root, names):
    """Untrained tiny models exported like run_ablation does (<root>/<variant>/model.pt)."""
    from dgmpm_lite.checkpoints import CHECKPOINT_FORMAT, atomic_save, export_model

    for name in names:
        torch.manual_seed(len(name))
        model = DGMPM(weights=None, width=8, **VARIANTS[name])
        run = variant_dir(root, name)
        run.mkdir(parents=True)
        atomic_save(
            {"format": CHECKPOINT_FORMAT, "model_config": model.config, "model": model.state_dict()}, run / "last.pt"
        )
        export_model(run / "last.pt", run / "model.pt")


@pytest.fixture
def tiny_video():
    from dgmpm_lite.data import SyntheticConfig, generate_video

    cfg = SyntheticConfig(height=48, width=64, num_frames=5, num_targets=(2, 2), num_distractors=(0, 0))
    return generate_video(cfg, seed=3, name="tiny").to_sequence()


def test_load_variants_errors(tmp_path):
    _save_untrained_variants(tmp_path, ["DGMPM"])
    models = load_variants(tmp_path, ["DGMPM"])
    assert list(models) == ["DGMPM"] and isinstance(models["DGMPM"], DGMPM) and not models["DGMPM"].training
    with pytest.raises(ValueError, match=r"unknown variants \['-XYZ'\]"):
        load_variants(tmp_path, ["DGMPM", "-XYZ"])
    with pytest.raises(FileNotFoundError, match=r"variant '-EDM'.*edm/model\.pt is missing"):
        load_variants(tmp_path, ["DGMPM", "-EDM"])
    with pytest.raises(FileNotFoundError, match="dgmpm/model.pt is missing"):
        load_variants(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="no variants"):
        load_variants(tmp_path, [])


def test_variant_mask_grid_matches_propagate(tmp_path, tiny_video):
    names = ["DGMPM", "-PM"]
    _save_untrained_variants(tmp_path, names)
    grid = variant_mask_grid(tmp_path, tiny_video, [1, 3], variants=names, device="cpu", notes=["a", "b"])
    assert isinstance(grid, MaskGrid)
    assert grid.columns == ["GT", "DGMPM", "-PM", "flow baseline", "copy baseline"]
    assert grid.labels.shape == (2, 5, 48, 64) and grid.labels.dtype == np.uint8
    assert grid.frames.shape == (2, 48, 64, 3) and grid.sequence == "tiny" and grid.notes == ["a", "b"]
    ids = set(np.unique(tiny_video.mask(0)).tolist())
    assert set(np.unique(grid.labels).tolist()) <= ids
    for i, t in enumerate([1, 3]):
        np.testing.assert_array_equal(grid.labels[i, 0], tiny_video.mask(t))
        np.testing.assert_array_equal(grid.labels[i, 4], tiny_video.mask(0))  # copy baseline
        np.testing.assert_array_equal(grid.frames[i], tiny_video.frame(t))
    # the same maps as running the model through the video directly
    model = load_variants(tmp_path, ["-PM"])["-PM"]
    direct = list(propagate("dgmpm", (tiny_video.frame(t) for t in range(4)), tiny_video.mask(0), model, "cpu"))
    np.testing.assert_array_equal(grid.labels[0, 2], direct[1])
    np.testing.assert_array_equal(grid.labels[1, 2], direct[3])

    fig = plot_mask_grid([grid, grid], title="t")
    assert len(fig.axes) == 4 * 5 and fig.axes[0].get_title() == "GT" and fig.axes[4].get_title() == "copy baseline"
    row_labels = [t.get_text() for t in fig.axes[5].texts]  # the second row's label, left of its first panel
    assert any("frame 3" in t and "b" in t for t in row_labels), row_labels
    import matplotlib.pyplot as plt

    plt.close("all")
    with pytest.raises(ValueError, match="outside the video"):
        segment_frames(tiny_video, [1, 5], {"copy": "copy"})
    with pytest.raises(ValueError, match="no frames"):
        segment_frames(tiny_video, [], {"copy": "copy"})
    with pytest.raises(ValueError, match="notes"):
        segment_frames(tiny_video, [1], {"copy": "copy"}, notes=["a", "b"])
    marks = np.zeros((1, 48, 64), bool)
    marks[0, 10:20, 10:30] = True
    marked = segment_frames(tiny_video, [2], {"copy": "copy"}, marks=marks)
    fig = plot_mask_grid(marked)
    assert all(len(ax.collections) >= 1 for ax in fig.axes)  # outlined in the GT and in every method's column
    plt.close("all")
    fig = plot_mask_grid(segment_frames(tiny_video, [2], {"copy": "copy"}))
    assert all(len(ax.collections) == 0 for ax in fig.axes)  # no marks, no outline
    plt.close("all")
    with pytest.raises(ValueError, match="marks must have shape"):
        segment_frames(tiny_video, [2], {"copy": "copy"}, marks=marks[:, :10])
    with pytest.raises(ValueError, match="same columns"):
        plot_mask_grid([grid, segment_frames(tiny_video, [1], {"copy": "copy"})])
    with pytest.raises(FileNotFoundError, match="sab/model.pt"):
        variant_mask_grid(tmp_path, tiny_video, [1], variants=["-SAB"])


def test_variant_spread_scores_how_much_the_variants_differ_on_a_case():
    def scored(j_obj2):  # one video, objects 1 and 2, scored frames 1..4
        res = _result(0.5, 0.5)
        j = np.array([[0.9, 0.9, 0.9, 0.9], j_obj2])
        res.sequences = {"v": SequenceScores(J=j, F=j, object_ids=[1, 2], frames=[1, 2, 3, 4])}
        return res

    results = {
        "DGMPM": scored([0.8, 0.8, 0.8, 0.8]),
        "-PM": scored([0.8, 0.1, 0.1, 0.8]),  # loses object 2 in frames 2-3 only
        "flow baseline": scored([0.0, 0.0, 0.0, 0.0]),  # baselines do not count
    }
    score = variant_spread(results)
    assert score({"sequence": "v", "object_id": 2, "frame_ids": [2, 3]}) == pytest.approx(0.7)
    assert score({"sequence": "v", "object_id": 2, "frame_ids": [1, 4]}) == pytest.approx(0.0)
    assert score({"sequence": "v", "object_id": 1, "frame_ids": [2, 3, 5]}) == pytest.approx(0.0)
    # frame 5 (the video's last, not scored) and unknown videos or objects are no case at all
    assert score({"sequence": "v", "object_id": 2, "frame_ids": [5]}) == -1.0
    assert score({"sequence": "w", "object_id": 2, "frame_ids": [2]}) == -1.0
    assert score({"sequence": "v", "object_id": 3, "frame_ids": [2]}) == -1.0


def test_gain_score_prefers_a_gain_in_a_video_with_two_targets():
    from dgmpm_lite.data import DavisDataset, data_samples_root

    data = DavisDataset(data_samples_root(), split="val")  # val_001 has 4 targets, val_003 one

    def scored(j1, j2, j3):
        res = _result(0.5, 0.5)
        two, one = np.array([[j1] * 4, [j2] * 4]), np.full((1, 4), j3)
        res.sequences = {
            "val_001": SequenceScores(J=two, F=two, object_ids=[1, 2], frames=[1, 2, 3, 4]),
            "val_003": SequenceScores(J=one, F=one, object_ids=[1], frames=[1, 2, 3, 4]),
        }
        return res

    results = {"new": scored(0.3, 0.6, 0.9), "old": scored(0.5, 0.4, 0.1)}
    big_gain_one_target = {"sequence": "val_003", "object_id": 1, "frame_ids": [2, 3]}
    gain_four_targets = {"sequence": "val_001", "object_id": 2, "frame_ids": [2, 3]}
    loss_four_targets = {"sequence": "val_001", "object_id": 1, "frame_ids": [2, 3]}
    score = gain_score(results, "new", "old", data, min_targets=2)
    assert score(gain_four_targets) == (True, pytest.approx(0.2))
    assert score(big_gain_one_target) == (False, pytest.approx(0.8))
    assert score(loss_four_targets) == (False, pytest.approx(-0.2))
    assert score(gain_four_targets) > score(big_gain_one_target) > score(loss_four_targets)
    # with no gain in a video of two targets, the largest gain anywhere is shown
    assert max([big_gain_one_target, loss_four_targets], key=score) is big_gain_one_target
    # without the dataset, only the gain counts; a case a method has no score on ranks last
    plain = gain_score(results, "new", "old")
    assert plain(big_gain_one_target) > plain(gain_four_targets)
    assert score({"sequence": "val_001", "object_id": 3, "frame_ids": [2]}) == (False, float("-inf"))


def test_fig8_cases_on_the_smoke_set(tmp_path):
    from dgmpm_lite.data import DavisDataset

    root = smoke_val_data(tmp_path / "val")
    data = DavisDataset(root, split="val")
    assert len(data) == 2 and data[0].frame(0).shape == (64, 96, 3) and len(data[0]) == 8
    cases = fig8_cases(data)
    occ, dis = cases["occlusion"], cases["distractor"]
    assert occ is not None and dis is not None and occ["sequence"] != dis["sequence"]
    seq = data[occ["sequence"]]
    obj = occ["object_id"]
    before, back = occ["frame_ids"][:2]
    hidden_between = [t for t in range(before + 1, back) if not (seq.mask(t) == obj).any()]
    assert hidden_between and occ["notes"][0].endswith("before it hides")
    # every frame shown has the target at least half as visible as in frame 0 (none hidden)
    area0 = (seq.mask(0) == obj).sum()
    assert all((seq.mask(t) == obj).sum() >= 0.5 * area0 for t in occ["frame_ids"])
    seq = data[dis["sequence"]]
    assert len(dis["frame_ids"]) == 3 and all((seq.mask(t) == dis["object_id"]).any() for t in dis["frame_ids"])
    assert len(dis["notes"]) == 3 and "look-alike" in dis["notes"][0]
    assert occ["distractor_ids"] == [] and len(dis["distractor_ids"]) == 1
    # the look-alike's pixels, from the instance maps, are visible and never a target
    marks = instance_masks(data, dis["sequence"], dis["frame_ids"], dis["distractor_ids"])
    assert marks.shape == (3, 64, 96) and marks.dtype == bool and marks.any(axis=(1, 2)).all()
    assert not any((seq.mask(t)[marks[i]] > 0).any() for i, t in enumerate(dis["frame_ids"]))
    # case_grid wires it together (untrained tiny variants, baselines)
    _save_untrained_variants(tmp_path / "runs", ["DGMPM"])
    grid = case_grid(tmp_path / "runs", data, dis, variants=["DGMPM"], device="cpu")
    assert grid.columns == ["GT", "DGMPM", "flow baseline", "copy baseline"] and grid.labels.shape == (3, 4, 64, 96)
    np.testing.assert_array_equal(grid.marks, marks)
    assert case_grid(tmp_path / "runs", data, occ, variants=["DGMPM"], baselines=False, device="cpu").marks is None
    with pytest.raises(FileNotFoundError, match="Instances"):
        instance_masks(_without_instances(tmp_path, root), "val_000", [0], [1])
    # a score picks among the candidates: here the one whose first frame is latest
    cands = fig8_candidates(data)
    assert occ in cands["occlusion"] and dis in cands["distractor"]
    # a look-alike case shows only frames that DAVIS scores (neither the first nor the last)
    assert all(0 < t < len(data[c["sequence"]]) - 1 for c in cands["distractor"] for t in c["frame_ids"])
    late = fig8_cases(data, score=lambda c: c["frame_ids"][0])
    assert late["distractor"]["frame_ids"][0] == max(c["frame_ids"][0] for c in cands["distractor"])
    # frames beyond max_frames are never used: the occlusion cannot be seen in 3 frames
    short = fig8_cases(data, max_frames=3)
    assert short["occlusion"] is None
    assert short["distractor"] is not None and set(short["distractor"]["frame_ids"]) == {1}  # the one scored
    # deterministic and refusing a folder without the generator's metadata
    assert fig8_cases(data) == cases
    (root / "Metadata").rename(root / "Metadata_moved")
    with pytest.raises(FileNotFoundError, match="metadata"):
        fig8_cases(data)


def test_a_lookalike_case_shows_only_frames_that_davis_scores(monkeypatch):
    """Target and look-alike visible in all six frames: the case spreads over 2..4, the later
    scored frames, never the last (5), which DAVIS does not score."""
    import dgmpm_lite.data.metadata as metadata

    def obj(i, role, mimics=None):
        return {"id": i, "role": role, "mimics": mimics, "per_frame": {"visible_px": [100] * 6}}

    meta = {"num_frames": 6, "objects": [obj(1, "target"), obj(2, "distractor", mimics=1)]}
    monkeypatch.setattr(metadata, "read_metadata", lambda dataset, name: meta)
    (case,) = metadata.fig8_candidates(SimpleNamespace(names=["v"]))["distractor"]
    assert case["frame_ids"] == [2, 3, 4] and case["distractor_ids"] == [2]


def test_accuracy_vs_runtime_plot():
    pts = runtime_points(_hand_made_results(), _hand_made_timings())
    fig, ax = plot_accuracy_vs_runtime(pts)
    offsets = np.concatenate([c.get_offsets() for c in ax.collections])
    assert offsets.shape == (7, 2)
    np.testing.assert_allclose(offsets, [[spf, 100 * jf] for jf, spf in pts.values()])
    markers = [c.get_paths()[0].vertices.shape[0] for c in ax.collections]
    assert markers[0] != markers[-1]  # a circle for a variant, a square for a baseline
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "DGMPM: 65.0, 0.3 s" and legend[-1] == "copy baseline: 22.0, 0.001 s"
    assert len(legend) == 7 and ax.get_xscale() == "log"
    with pytest.raises(ValueError, match="positive"):
        plot_accuracy_vs_runtime({"a": (0.5, 0.0)})
    with pytest.raises(ValueError, match="no points"):
        plot_accuracy_vs_runtime({})
    import matplotlib.pyplot as plt

    plt.close("all")


def _without_instances(tmp_path, root):
    """A copy of a generated set without its Instances folder."""
    import shutil

    from dgmpm_lite.data import DavisDataset

    copy = tmp_path / "no_instances"
    shutil.copytree(root, copy)
    shutil.rmtree(copy / "Instances")
    return DavisDataset(copy, split="val")


def test_parse_variants():
    from dgmpm_lite.ablation import parse_variants

    assert parse_variants("") is None and parse_variants(" all ") is None
    assert parse_variants("DGMPM, EDM,-PM,SAB+CAB") == ["DGMPM", "-EDM", "-PM", "-SAB+CAB"]
    with pytest.raises(ValueError, match=r"unknown variants \['NOPE'\]"):
        parse_variants("EDM,NOPE")


def test_larger_val_data_is_made_once_with_the_committed_settings(tmp_path):
    import json

    from dgmpm_lite.data import DavisDataset, data_samples_root
    from dgmpm_lite.data.sets import larger_val_data

    root = larger_val_data(tmp_path / "val", num_videos=1)
    videos = DavisDataset(root, split="val")
    committed = DavisDataset(data_samples_root(), split="val")
    assert len(videos) == 1 and videos[0].size == committed[0].size and len(videos[0]) == len(committed[0])
    assert not np.array_equal(videos[0].frame(0), committed[0].frame(0))  # another seed
    stamp = (root / "larger_val.json").stat().st_mtime_ns
    assert (
        larger_val_data(tmp_path / "val", num_videos=1) == root
        and (root / "larger_val.json").stat().st_mtime_ns == stamp
    )
    assert (
        json.loads((root / "larger_val.json").read_text())["config"]
        == json.loads((data_samples_root() / "manifest.json").read_text())["config"]
    )
    with pytest.raises(ValueError, match="num_videos"):
        larger_val_data(tmp_path / "v0", num_videos=0)
