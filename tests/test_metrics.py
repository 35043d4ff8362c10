"""Tests for dgmpm_lite.metrics, with hand-worked expected values (see DAVIS_METRICS.md)."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from PIL import Image

from dgmpm_lite.metrics import (
    GLOBAL_COLUMNS,
    PER_SEQUENCE_COLUMNS,
    boundary_precision_recall,
    boundary_radius,
    db_eval_boundary,
    db_eval_iou,
    db_statistics,
    decay_bin_ids,
    disk_kernel,
    evaluate_folders,
    evaluate_sequence,
    seg2bmap,
    summarize,
)
from dgmpm_lite.viz.tables import write_davis_csv


def rect(shape, y0, y1, x0, x1):
    """Boolean mask with rows y0..y1-1 and columns x0..x1-1 set."""
    m = np.zeros(shape, dtype=bool)
    m[y0:y1, x0:x1] = True
    return m


# ----------------------------------------------------------------------------- J
def test_iou_two_rectangles():
    gt = rect((10, 10), 0, 4, 0, 4)  # 16 px
    pred = rect((10, 10), 2, 6, 2, 6)  # 16 px, overlap rows 2-3 x cols 2-3 = 4 px
    j = db_eval_iou(gt, pred)
    assert isinstance(j, float)
    assert j == pytest.approx(4 / 28)


def test_iou_empty_cases_and_int_input():
    empty = np.zeros((5, 5), dtype=np.uint8)
    some = empty.copy()
    some[1:3, 1:3] = 1
    assert db_eval_iou(empty, empty) == 1.0
    assert db_eval_iou(empty, some) == 0.0
    assert db_eval_iou(some, empty) == 0.0
    assert db_eval_iou(some, some) == 1.0  # 0/1 integers are accepted


@pytest.mark.parametrize(
    "gt, pred, match",
    [
        (np.zeros((4, 4), bool), np.zeros((4, 5), bool), r"\(4, 4\).*\(4, 5\)"),
        (np.zeros((2, 4, 4), bool), np.zeros((2, 4, 4), bool), "2-D"),
        (np.full((4, 4), 2), np.zeros((4, 4), bool), "binary"),
    ],
)
def test_iou_and_boundary_bad_input(gt, pred, match):
    with pytest.raises(ValueError, match=match):
        db_eval_iou(gt, pred)
    with pytest.raises(ValueError, match=match):
        db_eval_boundary(gt, pred)


# ----------------------------------------------------------------------------- seg2bmap
def test_seg2bmap_square_pixel_by_pixel():
    seg = rect((6, 6), 1, 4, 1, 4)  # 3x3 square, rows/cols 1..3
    # Worked by hand: a pixel is boundary if it differs from its E, S or SE neighbour.
    # The top/left sides land outside the square, the right/bottom sides inside it.
    expected = np.array(
        [
            [1, 1, 1, 1, 0, 0],
            [1, 0, 0, 1, 0, 0],
            [1, 0, 0, 1, 0, 0],
            [1, 1, 1, 1, 0, 0],
            [0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0],
        ],
        dtype=bool,
    )
    np.testing.assert_array_equal(seg2bmap(seg), expected)


def test_seg2bmap_last_row_and_column_rules():
    seg = rect((4, 4), 2, 4, 2, 4)  # square touching the bottom-right corner
    # (1,3): last column, seg^south = 0^1 -> 1.  (3,1): last row, seg^east = 0^1 -> 1.
    # (2,3) and (3,2): 1^1 -> 0.  (3,3) is always 0.
    expected = np.array(
        [
            [0, 0, 0, 0],
            [0, 1, 1, 1],
            [0, 1, 0, 0],
            [0, 1, 0, 0],
        ],
        dtype=bool,
    )
    np.testing.assert_array_equal(seg2bmap(seg), expected)


def test_seg2bmap_full_and_empty_masks_have_no_boundary():
    assert not seg2bmap(np.ones((5, 7), bool)).any()
    assert not seg2bmap(np.zeros((5, 7), bool)).any()


# ----------------------------------------------------------------------------- radius
def test_boundary_radius():
    assert boundary_radius((480, 854)) == 8  # ceil(0.008 * 979.65) = ceil(7.84)
    assert boundary_radius((854, 480)) == 8
    assert boundary_radius((100, 100)) == 2  # ceil(0.008 * 141.42) = ceil(1.13)
    assert boundary_radius((3, 4)) == 1  # ceil(0.008 * 5) = ceil(0.04)
    assert boundary_radius((480, 854), bound_th=3) == 3  # >= 1: pixels
    assert boundary_radius((480, 854), bound_th=1) == 1
    assert boundary_radius((480, 854, 3)) == 8  # extra trailing dims ignored


def test_disk_kernel():
    np.testing.assert_array_equal(disk_kernel(1), [[0, 1, 0], [1, 1, 1], [0, 1, 0]])
    k2 = disk_kernel(2)
    assert k2.shape == (5, 5) and k2.sum() == 13  # corners and their neighbours excluded
    assert k2[0, 1] == 0 and k2[0, 2] == 1 and k2[1, 1] == 1


# ----------------------------------------------------------------------------- F
def test_f_identical_masks():
    m = rect((48, 64), 10, 30, 5, 40)
    assert db_eval_boundary(m, m) == 1.0


def test_f_empty_cases_precision_recall_rules():
    empty = np.zeros((20, 20), bool)
    some = rect((20, 20), 5, 10, 5, 10)
    assert boundary_precision_recall(gt=some, pred=empty) == (1.0, 0.0)
    assert boundary_precision_recall(gt=empty, pred=some) == (0.0, 1.0)
    assert boundary_precision_recall(gt=empty, pred=empty) == (1.0, 1.0)
    assert db_eval_boundary(some, empty) == 0.0
    assert db_eval_boundary(empty, some) == 0.0
    assert db_eval_boundary(empty, empty) == 1.0
    # The rules look at boundaries, not masks: a full mask has no boundary either.
    assert db_eval_boundary(np.ones((20, 20), bool), empty) == 1.0


def test_f_shift_within_and_beyond_radius():
    shape = (480, 854)  # r = 8
    gt = rect(shape, 100, 200, 100, 200)
    near = rect(shape, 105, 205, 103, 203)  # every boundary pixel moves <= sqrt(34) < 8
    far = rect(shape, 100, 200, 160, 260)  # shifted 60 px >> 8
    assert db_eval_boundary(gt, near) == 1.0
    f_far = db_eval_boundary(gt, far)
    assert 0.0 < f_far < 0.7
    assert db_eval_iou(gt, near) < 1.0  # J does see the shift


def test_f_hand_worked_shifted_squares():
    # bound_th=1 -> r=1, disk = plus shape.
    gt = rect((10, 10), 2, 5, 2, 5)  # boundary: 4x4 ring rows 1..4, cols 1..4 (12 px)
    pred = rect((10, 10), 2, 5, 4, 7)  # shifted 2 east: ring rows 1..4, cols 3..6
    # Pred ring pixels within 1 (4-neighbourhood) of the gt ring: rows 1 and 4 at
    # cols 3,4,5 (6 px) plus (2,3),(3,3) -> 8 of 12. By symmetry recall is 8/12 too.
    p, r = boundary_precision_recall(gt, pred, bound_th=1)
    assert p == pytest.approx(2 / 3)
    assert r == pytest.approx(2 / 3)
    assert db_eval_boundary(gt, pred, bound_th=1) == pytest.approx(2 / 3)


def test_f_hand_worked_extra_blob():
    gt = rect((12, 12), 2, 5, 2, 5)  # 12 boundary px
    pred = gt.copy()
    pred[9, 9] = True  # one stray pixel: boundary 2x2 at rows/cols 8..9 (4 px), far away
    p, r = boundary_precision_recall(gt, pred, bound_th=1)
    assert p == pytest.approx(12 / 16)
    assert r == 1.0
    assert db_eval_boundary(gt, pred, bound_th=1) == pytest.approx(2 * 0.75 / 1.75)  # 6/7


# ----------------------------------------------------------------------------- statistics
def test_statistics_mean_and_strict_recall():
    mean, recall, _ = db_statistics([0.5, 0.5, 0.6, 0.4])
    assert mean == pytest.approx(0.5)
    assert recall == pytest.approx(0.25)  # exactly 0.5 does not count


def test_decay_bin_ids():
    np.testing.assert_array_equal(decay_bin_ids(10), [0, 2, 5, 7, 9])  # linspace 1,3.25,5.5,7.75,10
    np.testing.assert_array_equal(decay_bin_ids(3), [0, 1, 1, 2, 2])  # 1.5 and 2.5 round up
    np.testing.assert_array_equal(decay_bin_ids(1), [0, 0, 0, 0, 0])
    np.testing.assert_array_equal(decay_bin_ids(5), [0, 1, 2, 3, 4])


def test_decay_overlapping_bins():
    # N=10: bin0 = X[0:3] = {0,1,2}, bin3 = X[7:10] = {7,8,9}; bins share edge frames.
    x = [1, 1, 0, 0.5, 0.5, 0.5, 0.5, 1, 0, 0]
    _, _, decay = db_statistics(x)
    assert decay == pytest.approx(2 / 3 - 1 / 3)
    # Non-overlapping bins (X[0:2], X[8:10]) would give 1 - 0 = 1 instead.


def test_statistics_nan_and_edge_cases():
    mean, recall, decay = db_statistics([1.0, np.nan, 0.0])
    assert mean == pytest.approx(0.5)
    assert recall == pytest.approx(1 / 3)  # NaN > 0.5 is False: counts as a miss
    assert decay == pytest.approx(1.0)  # ids [0,1,1,2,2]: bin0 {1, nan}, bin3 {0}
    assert db_statistics([0.7]) == pytest.approx((0.7, 1.0, 0.0))
    assert all(math.isnan(v) for v in db_statistics([]))


# ----------------------------------------------------------------------------- sequences
def _labels(shape, *objects):
    """Label map with object k+1 on the rectangle objects[k] = (y0, y1, x0, x1)."""
    lab = np.zeros(shape, np.uint8)
    for k, box in enumerate(objects):
        if box is not None:
            lab[rect(shape, *box)] = k + 1
    return lab


def test_first_and_last_frames_excluded():
    shape = (20, 20)
    gt = [_labels(shape, (2, 8, 2, 8)) for _ in range(5)]
    pred = [np.zeros(shape, np.uint8)] + [g.copy() for g in gt[1:4]] + [np.zeros(shape, np.uint8)]
    sc = evaluate_sequence(gt, pred)
    assert sc.J.shape == (1, 3) and sc.F.shape == (1, 3)
    assert sc.frames == [1, 2, 3] and sc.object_ids == [1]
    np.testing.assert_array_equal(sc.J, 1.0)
    np.testing.assert_array_equal(sc.F, 1.0)
    # scoring every frame sees the two empty predictions
    allf = evaluate_sequence(gt, pred, drop_first_last=False)
    np.testing.assert_array_equal(allf.J[0], [0, 1, 1, 1, 0])
    # (T, H, W) arrays work as well as lists
    sc2 = evaluate_sequence(np.stack(gt), np.stack(pred))
    np.testing.assert_array_equal(sc2.J, sc.J)


def test_label_above_k_is_an_error_even_in_first_frame():
    shape = (10, 10)
    gt = [_labels(shape, (1, 4, 1, 4)) for _ in range(3)]
    pred = [g.copy() for g in gt]
    pred[0][8, 8] = 2  # K = 1
    with pytest.raises(ValueError, match="label 2.*only 1 object"):
        evaluate_sequence(gt, pred)


def test_missing_object_scored_as_empty():
    shape = (20, 20)
    gt = [_labels(shape, (1, 6, 1, 6), (10, 16, 10, 16)) for _ in range(4)]
    pred = [_labels(shape, (1, 6, 1, 6)) for _ in range(4)]  # object 2 never predicted
    sc = evaluate_sequence(gt, pred)
    assert sc.object_ids == [1, 2]
    np.testing.assert_array_equal(sc.J, [[1, 1], [0, 0]])
    np.testing.assert_array_equal(sc.F, [[1, 1], [0, 0]])


def test_void_255_is_background_and_k_from_first_frame():
    shape = (12, 12)
    g = _labels(shape, (2, 6, 2, 6))
    g[8:, 8:] = 255
    gt = [g.copy() for _ in range(3)]
    pred = [_labels(shape, (2, 6, 2, 6)) for _ in range(3)]
    sc = evaluate_sequence(gt, pred)
    assert sc.object_ids == [1]
    np.testing.assert_array_equal(sc.J, 1.0)
    only_void = np.where(g == 255, 255, 0).astype(np.uint8)
    with pytest.raises(ValueError, match="no object"):
        evaluate_sequence([only_void] * 3, [np.zeros(shape, np.uint8)] * 3)


def test_sequence_bad_inputs():
    shape = (8, 8)
    gt = [_labels(shape, (1, 4, 1, 4))] * 3
    with pytest.raises(ValueError, match="3 frames.*2"):
        evaluate_sequence(gt, gt[:2])
    with pytest.raises(ValueError, match="shape mismatch"):
        evaluate_sequence(gt, [np.zeros((8, 9), np.uint8)] * 3)
    with pytest.raises(ValueError, match="integer"):
        evaluate_sequence(gt, [g.astype(np.float32) for g in gt])
    with pytest.raises(ValueError, match="at least 3 frames"):
        evaluate_sequence(gt[:2], gt[:2])


def _two_sequences():
    shape = (20, 20)
    # A: two objects, both perfect.  B: one object, never predicted.
    gt_a = [_labels(shape, (1, 6, 1, 6), (10, 16, 10, 16)) for _ in range(4)]
    gt_b = [_labels(shape, (3, 12, 3, 12)) for _ in range(4)]
    pred_b = [np.zeros(shape, np.uint8) for _ in range(4)]
    return {"a": (gt_a, [g.copy() for g in gt_a]), "b": (gt_b, pred_b)}


def test_dataset_pooled_means_weight_objects():
    res = summarize({name: evaluate_sequence(gt, pred) for name, (gt, pred) in _two_sequences().items()})
    g = res.global_metrics
    assert list(g) == list(GLOBAL_COLUMNS)
    # entries: a_1 (J=1), a_2 (J=1), b_1 (J=0) -> 2/3, not the per-sequence mean 1/2
    assert g["J-Mean"] == pytest.approx(2 / 3)
    assert g["F-Mean"] == pytest.approx(2 / 3)
    assert g["J&F-Mean"] == pytest.approx(2 / 3)
    assert g["J-Recall"] == pytest.approx(2 / 3)
    assert g["J-Decay"] == pytest.approx(0.0)
    assert [r["Sequence"] for r in res.per_object] == ["a_1", "a_2", "b_1"]
    assert [r["J-Mean"] for r in res.per_object] == [1.0, 1.0, 0.0]
    assert "J&F-Mean" in str(res)


def test_summarize_j_and_f_mean_is_average():
    from dgmpm_lite.metrics import SequenceScores

    sc = SequenceScores(J=np.array([[0.2, 0.4]]), F=np.array([[0.6, 1.0]]), object_ids=[1], frames=[1, 2])
    g = summarize({"s": sc}).global_metrics
    assert g["J-Mean"] == pytest.approx(0.3)
    assert g["F-Mean"] == pytest.approx(0.8)
    assert g["J&F-Mean"] == pytest.approx(0.55)


# ----------------------------------------------------------------------------- files
def _write_palette_png(path, labels):
    im = Image.fromarray(labels.astype(np.uint8), mode="P")
    palette = [0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * (256 * 3 - 9)
    im.putpalette(palette)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)


def _write_dataset(root, sequences, which):
    for name, pair in sequences.items():
        for t, lab in enumerate(pair[which]):
            _write_palette_png(root / name / f"{t:05d}.png", lab)


def test_evaluate_folders_and_csv(tmp_path):
    seqs = _two_sequences()
    _write_dataset(tmp_path / "gt", seqs, 0)
    _write_dataset(tmp_path / "res", seqs, 1)
    res = evaluate_folders(tmp_path / "gt", tmp_path / "res")
    assert res.global_metrics["J-Mean"] == pytest.approx(2 / 3)
    assert list(res.sequences) == ["a", "b"]
    only_a = evaluate_folders(tmp_path / "gt", tmp_path / "res", sequences=["a"])
    assert only_a.global_metrics["J&F-Mean"] == 1.0

    out = tmp_path / "eval"
    g_path, s_path = write_davis_csv(out, res)
    assert g_path.name == "global_results.csv" and s_path.name == "per-sequence_results.csv"
    with open(g_path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(GLOBAL_COLUMNS)
    assert rows[1][1] == "0.667"
    with open(s_path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(PER_SEQUENCE_COLUMNS)
    assert rows[1:] == [["a_1", "1.000", "1.000"], ["a_2", "1.000", "1.000"], ["b_1", "0.000", "0.000"]]

    # refuses to overwrite, and leaves the existing file alone
    g_path.write_text("precious")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_davis_csv(out, only_a)
    assert g_path.read_text() == "precious"
    write_davis_csv(out, only_a, overwrite=True)
    assert g_path.read_text().splitlines()[1].startswith("1.000")
    g2, s2 = write_davis_csv(out, res, split="val")
    assert g2.name == "global_results-val.csv" and s2.name == "per-sequence_results-val.csv"
    assert not list(out.glob("*.tmp"))


def test_evaluate_folders_missing_result_file(tmp_path):
    seqs = _two_sequences()
    _write_dataset(tmp_path / "gt", seqs, 0)
    _write_dataset(tmp_path / "res", seqs, 1)
    (tmp_path / "res" / "b" / "00002.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"b[/\\]00002\.png"):
        evaluate_folders(tmp_path / "gt", tmp_path / "res")
    with pytest.raises(FileNotFoundError, match="results folder"):
        evaluate_folders(tmp_path / "gt", tmp_path / "nope")


def test_evaluate_folders_label_error_names_file(tmp_path):
    seqs = _two_sequences()
    _write_dataset(tmp_path / "gt", seqs, 0)
    bad = {k: (g, [p.copy() for p in r]) for k, (g, r) in seqs.items()}
    bad["b"][1][2][0, 0] = 3
    _write_dataset(tmp_path / "res", bad, 1)
    with pytest.raises(ValueError, match=r"00002\.png.*label 3"):
        evaluate_folders(tmp_path / "gt", tmp_path / "res")


def test_evaluate_folders_davis2016_grayscale_gt(tmp_path):
    """DAVIS-2016 masks are 8-bit grayscale with 255 = the object (not void)."""
    shape = (16, 16)
    for t in range(3):
        m = np.zeros(shape, np.uint8)
        m[4:10, 4:10] = 255
        (tmp_path / "gt" / "s").mkdir(parents=True, exist_ok=True)
        Image.fromarray(m, mode="L").save(tmp_path / "gt" / "s" / f"{t:05d}.png")
        _write_palette_png(tmp_path / "res" / "s" / f"{t:05d}.png", (m > 0).astype(np.uint8))
    res = evaluate_folders(tmp_path / "gt", tmp_path / "res")
    assert res.global_metrics["J&F-Mean"] == 1.0


def test_evaluate_folders_real_davis_gt_against_itself():
    """Ground truth scored against itself is perfect (skipped without the shared data)."""
    from dgmpm_lite import REPO_ROOT

    ann = REPO_ROOT.parent / "shared" / "data" / "DAVIS2016-train-240p" / "Annotations" / "240p"
    if not (ann / "bear").is_dir():
        pytest.skip("shared DAVIS-2016 sample data not available")
    res = evaluate_folders(ann, ann, sequences=["bear"])
    assert res.global_metrics["J&F-Mean"] == 1.0
    assert res.global_metrics["J-Decay"] == 0.0
    assert [r["Sequence"] for r in res.per_object] == ["bear_1"]
