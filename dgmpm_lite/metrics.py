"""DAVIS-style evaluation metrics: region similarity J, contour accuracy F, and friends.

This module re-implements, from the written description in ``docs/DAVIS_METRICS.md`` (in the repository), the
numbers that the official DAVIS-2017 evaluation toolkit reports, so that scores produced
by ``dgmpm_lite`` can be compared with the DGMPM paper (and any other DAVIS paper).

The metrics in plain words
--------------------------
**Region similarity J** (the Jaccard index, "intersection over union", IoU). Take one object
in one frame. ``G`` is the set of pixels the ground truth says belong to the object, ``S``
the set your method says. ``J = |S ∩ G| / |S ∪ G|``: 1 for a perfect mask, 0 when the two
do not overlap at all. When both masks are empty (the object is absent and you correctly
predicted nothing) the union is empty and J is defined as 1.

**Contour accuracy F** looks only at the outlines. Each mask is turned into a one-pixel-wide
boundary map (:func:`seg2bmap`). A predicted boundary pixel counts as correct when a
ground-truth boundary pixel lies within a small tolerance radius ``r``
(:func:`boundary_radius`; 0.8 % of the image diagonal, 8 pixels at 854x480). *Precision*
``P`` is the fraction of predicted boundary pixels that are correct, *recall* ``R`` the
fraction of ground-truth boundary pixels that the prediction comes close to, and ``F`` is
their harmonic mean ``2PR / (P + R)``. F forgives small misalignments (within ``r``) but
punishes ragged or missing outlines that J barely notices on large objects.

**Per object over a video** (:func:`db_statistics`): the per-frame scores of one object are
summarised by three numbers. *Mean*: the average. *Recall*: the fraction of frames scoring
strictly above 0.5. *Decay*: the average over the first quarter of the video minus the
average over the last quarter, i.e. how much the method degrades over time (positive =
worse at the end).

**Over a dataset** (:func:`summarize`): every (sequence, object) pair is one entry and the
reported numbers are plain means over all entries. A sequence with three objects therefore
weighs three times as much as a sequence with one object. ``J&F-Mean`` is the average of
J-Mean and F-Mean and is the single number most papers quote.

Rules taken from ``DAVIS_METRICS.md`` (and the toolkit it describes)
-------------------------------------------------------------------
* The first frame is given to the method and the last frame is dropped by the toolkit, so
  frames ``1 .. T-2`` are scored (:func:`evaluate_sequence`).
* The number of objects ``K`` is the largest label in the *first* ground-truth frame.
  Label 255 in the ground truth ("void") is treated as background.
* A result that never predicts some object scores that object as empty masks; a result
  that uses a label larger than ``K`` is an error.
* Results are PNG label maps named exactly like the ground-truth files.

"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from .data.io import read_label_png

__all__ = [
    "db_eval_iou",
    "seg2bmap",
    "boundary_radius",
    "disk_kernel",
    "boundary_precision_recall",
    "db_eval_boundary",
    "db_statistics",
    "decay_bin_ids",
    "SequenceScores",
    "DatasetResults",
    "evaluate_sequence",
    "summarize",
    "evaluate_folders",
    "GLOBAL_COLUMNS",
    "PER_SEQUENCE_COLUMNS",
]

GLOBAL_COLUMNS: tuple[str, ...] = (
    "J&F-Mean",
    "J-Mean",
    "J-Recall",
    "J-Decay",
    "F-Mean",
    "F-Recall",
    "F-Decay",
)
"""Column order of ``global_results.csv`` (same as the DAVIS toolkit)."""

PER_SEQUENCE_COLUMNS: tuple[str, ...] = ("Sequence", "J-Mean", "F-Mean")
"""Column order of ``per-sequence_results.csv`` (same as the DAVIS toolkit)."""

VOID_LABEL = 255
"""Ground-truth label for "void" pixels; treated as background (DAVIS_METRICS.md)."""


# --------------------------------------------------------------------------------------
# input checking
# --------------------------------------------------------------------------------------
def _as_binary_mask(mask, name: str) -> np.ndarray:
    """Return ``mask`` as a boolean array; accept bool or 0/1 numbers, reject the rest."""
    arr = np.asarray(mask)
    if arr.dtype == bool:
        return arr
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"{name} must be a boolean or 0/1 numeric mask, got dtype {arr.dtype}")
    if arr.size and np.any((arr != 0) & (arr != 1)):
        bad = np.unique(arr[(arr != 0) & (arr != 1)])[:5]
        raise ValueError(
            f"{name} must be a binary mask (bool or values 0/1), found values such as "
            f"{bad.tolist()}; for a label map use (labels == object_id)"
        )
    return arr.astype(bool)


def _check_pair_2d(gt, pred) -> tuple[np.ndarray, np.ndarray]:
    gt_b = _as_binary_mask(gt, "gt")
    pred_b = _as_binary_mask(pred, "pred")
    if gt_b.ndim != 2 or pred_b.ndim != 2:
        raise ValueError(f"expected 2-D (H, W) masks, got gt shape {gt_b.shape} and pred shape {pred_b.shape}")
    if gt_b.shape != pred_b.shape:
        raise ValueError(f"shape mismatch: gt {gt_b.shape} vs pred {pred_b.shape}")
    return gt_b, pred_b


def _as_label_map(labels, name: str) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (H, W) label map, got shape {arr.shape}")
    if arr.dtype == bool:
        return arr.astype(np.uint8)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must hold integer labels (0 = background, 1..K = objects), got dtype {arr.dtype}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} contains negative labels (min {int(arr.min())})")
    return arr


# --------------------------------------------------------------------------------------
# J: region similarity
# --------------------------------------------------------------------------------------
def db_eval_iou(gt, pred) -> float:
    """Region similarity J (intersection over union) of two 2-D binary masks.

    Args:
        gt: ground-truth mask, shape (H, W), bool or 0/1 numbers.
        pred: predicted mask, same shape and conventions.

    Returns:
        ``|gt & pred| / |gt | pred|`` as a Python float; 1.0 when both masks are empty.

    Raises:
        ValueError: if an input is not 2-D, the shapes differ, or values are not 0/1.

    Example: two 2x2 squares overlapping in one pixel give 1 / 7.
    """
    gt_b, pred_b = _check_pair_2d(gt, pred)
    union = np.count_nonzero(gt_b | pred_b)
    if union == 0:
        return 1.0
    return float(np.count_nonzero(gt_b & pred_b) / union)


# --------------------------------------------------------------------------------------
# F: contour accuracy
# --------------------------------------------------------------------------------------
def seg2bmap(seg) -> np.ndarray:
    """One-pixel-wide boundary map of a binary mask, as in DAVIS_METRICS.md step 1.

    A pixel is on the boundary when it differs from its neighbour to the east, to the
    south, or to the south-east (pixels beyond the image count as 0). In the last row only
    the east neighbour is compared, in the last column only the south neighbour, and the
    bottom-right pixel is never a boundary pixel. Note that this puts the boundary of a
    square partly *outside* it (on its top and left sides) and partly inside it (its right
    and bottom rows), and that a mask covering the whole image has no boundary.

    Args:
        seg: (H, W) binary mask (bool or 0/1).

    Returns:
        (H, W) boolean boundary map.
    """
    seg = _as_binary_mask(seg, "seg")
    if seg.ndim != 2:
        raise ValueError(f"seg2bmap expects a 2-D (H, W) mask, got shape {seg.shape}")
    h, w = seg.shape
    if h == 0 or w == 0:
        return np.zeros_like(seg)
    east = np.zeros_like(seg)
    south = np.zeros_like(seg)
    south_east = np.zeros_like(seg)
    east[:, :-1] = seg[:, 1:]
    south[:-1, :] = seg[1:, :]
    south_east[:-1, :-1] = seg[1:, 1:]
    b = (seg ^ east) | (seg ^ south) | (seg ^ south_east)
    b[-1, :] = seg[-1, :] ^ east[-1, :]
    b[:, -1] = seg[:, -1] ^ south[:, -1]
    b[-1, -1] = False
    return b


def boundary_radius(shape: Sequence[int], bound_th: float = 0.008) -> int:
    """Tolerance radius (pixels) used by the contour accuracy F.

    Args:
        shape: image shape; the first two entries are (H, W).
        bound_th: below 1, a fraction of the image diagonal, and the radius is
            ``ceil(bound_th * sqrt(H^2 + W^2))`` (DAVIS uses 0.008: 8 px at 854x480).
            At 1 or above it is a radius in pixels (rounded up if fractional).

    Returns:
        The radius as an int (>= 0).
    """
    if bound_th < 0 or not math.isfinite(bound_th):
        raise ValueError(f"bound_th must be a finite number >= 0, got {bound_th}")
    if bound_th >= 1:
        return int(math.ceil(bound_th))
    h, w = int(shape[0]), int(shape[1])
    return int(math.ceil(bound_th * math.hypot(h, w)))


def disk_kernel(radius: int) -> np.ndarray:
    """Structuring element: a (2r+1) x (2r+1) uint8 disk with the pixels x^2 + y^2 <= r^2."""
    r = int(radius)
    if r < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return (xx * xx + yy * yy <= r * r).astype(np.uint8)


def _dilate(mask: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)


def boundary_precision_recall(gt, pred, bound_th: float = 0.008) -> tuple[float, float]:
    """Boundary precision and recall of ``pred`` against ``gt`` (DAVIS_METRICS.md step 4).

    ``P`` = fraction of predicted boundary pixels within radius ``r`` of a ground-truth
    boundary pixel; ``R`` = fraction of ground-truth boundary pixels within ``r`` of a
    predicted boundary pixel. Empty boundaries: none predicted but some in the ground truth
    gives P=1, R=0; some predicted but none in the ground truth gives P=0, R=1; neither
    gives P=R=1.

    Returns:
        ``(precision, recall)`` as Python floats.
    """
    gt_b, pred_b = _check_pair_2d(gt, pred)
    kernel = disk_kernel(boundary_radius(gt_b.shape, bound_th))
    gt_bd = seg2bmap(gt_b)
    pred_bd = seg2bmap(pred_b)
    n_gt = int(np.count_nonzero(gt_bd))
    n_pred = int(np.count_nonzero(pred_bd))
    if n_pred == 0 and n_gt == 0:
        return 1.0, 1.0
    if n_pred == 0:
        return 1.0, 0.0
    if n_gt == 0:
        return 0.0, 1.0
    pred_match = np.count_nonzero(pred_bd & _dilate(gt_bd, kernel))
    gt_match = np.count_nonzero(gt_bd & _dilate(pred_bd, kernel))
    return float(pred_match / n_pred), float(gt_match / n_gt)


def db_eval_boundary(gt, pred, bound_th: float = 0.008) -> float:
    """Contour accuracy F of two 2-D binary masks.

    ``F = 2 P R / (P + R)`` with ``P, R`` from :func:`boundary_precision_recall`, and 0 when
    ``P + R = 0``. Identical masks give 1; two empty masks give 1; exactly one empty mask
    gives 0.

    Args:
        gt, pred: (H, W) binary masks (bool or 0/1).
        bound_th: tolerance, see :func:`boundary_radius`.
    """
    p, r = boundary_precision_recall(gt, pred, bound_th)
    if p + r == 0:
        return 0.0
    return float(2.0 * p * r / (p + r))


# --------------------------------------------------------------------------------------
# per-object statistics
# --------------------------------------------------------------------------------------
def decay_bin_ids(n: int) -> np.ndarray:
    """Bin edges for the decay statistic: ``round(linspace(1, n, 5)) - 1``.

    Halves are rounded *up* (as the DAVIS toolkit effectively does), not to even as
    ``np.round`` would. Bin ``i`` is ``X[ids[i] : ids[i+1] + 1]``, so neighbouring bins
    share their edge frame. Example: n = 10 gives ids [0, 2, 5, 7, 9] and bins
    {0,1,2}, {2,3,4,5}, {5,6,7}, {7,8,9}.
    """
    if n < 1:
        raise ValueError(f"need at least one frame, got n={n}")
    return (np.floor(np.linspace(1, n, 5) + 0.5) - 1).astype(np.int64)


def db_statistics(per_frame_scores) -> tuple[float, float, float]:
    """Mean, recall and decay of one object's per-frame scores (J or F).

    * mean   = nanmean(X)
    * recall = nanmean(X > 0.5) -- *strictly* above 0.5; a NaN frame counts as a miss.
    * decay  = nanmean(first bin) - nanmean(last bin), bins from :func:`decay_bin_ids`.

    Args:
        per_frame_scores: 1-D sequence of scores (NaN allowed).

    Returns:
        ``(mean, recall, decay)`` as Python floats; all NaN for an empty input.
    """
    x = np.asarray(per_frame_scores, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"per_frame_scores must be 1-D, got shape {x.shape}")
    if x.size == 0:
        return math.nan, math.nan, math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # all-NaN slices
        mean = float(np.nanmean(x))
        recall = float(np.nanmean(x > 0.5))
        ids = decay_bin_ids(x.size)
        bins = [x[ids[i] : ids[i + 1] + 1] for i in range(4)]
        decay = float(np.nanmean(bins[0]) - np.nanmean(bins[3]))
    return mean, recall, decay


# --------------------------------------------------------------------------------------
# sequences and datasets
# --------------------------------------------------------------------------------------
@dataclass
class SequenceScores:
    """Per-object, per-frame scores of one sequence.

    Attributes:
        J: float array (K, N): region similarity of object ``object_ids[k]`` in frame
            ``frames[n]``.
        F: float array (K, N): contour accuracy, same layout.
        object_ids: the object labels 1..K.
        frames: indices (into the original sequence) of the scored frames.
    """

    J: np.ndarray
    F: np.ndarray
    object_ids: list[int]
    frames: list[int]

    def object_statistics(self) -> list[dict[str, float]]:
        """Per object: J/F mean, recall and decay (see :func:`db_statistics`)."""
        rows = []
        for k in range(len(self.object_ids)):
            jm, jr, jd = db_statistics(self.J[k])
            fm, fr, fd = db_statistics(self.F[k])
            rows.append(
                {
                    "J-Mean": jm,
                    "J-Recall": jr,
                    "J-Decay": jd,
                    "F-Mean": fm,
                    "F-Recall": fr,
                    "F-Decay": fd,
                }
            )
        return rows


@dataclass
class DatasetResults:
    """What :func:`summarize` returns.

    Attributes:
        global_metrics: dict with the keys of :data:`GLOBAL_COLUMNS`, in that order.
        per_object: list of dicts ``{"Sequence": "<seq>_<obj_id>", "J-Mean", "F-Mean"}``
            (the rows of the toolkit's per-sequence table).
        sequences: the :class:`SequenceScores` of each sequence, by name.
    """

    global_metrics: dict[str, float]
    per_object: list[dict[str, object]]
    sequences: dict[str, SequenceScores] = field(default_factory=dict)

    def __str__(self) -> str:
        head = "  ".join(f"{c:>9s}" for c in GLOBAL_COLUMNS)
        vals = "  ".join(f"{self.global_metrics[c]:9.3f}" for c in GLOBAL_COLUMNS)
        return f"{head}\n{vals}"


def _iter_label_pairs(gt_labels, pred_labels) -> tuple[int, Iterator[tuple[object, object]]]:
    n_gt, n_pred = len(gt_labels), len(pred_labels)
    if n_gt != n_pred:
        raise ValueError(f"ground truth has {n_gt} frames but the prediction has {n_pred}; they must match")
    return n_gt, zip(gt_labels, pred_labels)


def _score_label_pairs(
    pairs: Iterable[tuple[object, object]],
    num_frames: int,
    *,
    bound_th: float,
    drop_first_last: bool,
    names: Sequence[str] | None = None,
) -> SequenceScores:
    """Core of :func:`evaluate_sequence`, streaming over (gt, pred) frame pairs."""
    if num_frames < 1:
        raise ValueError("the sequence has no frames")
    if drop_first_last and num_frames < 3:
        raise ValueError(
            f"the DAVIS protocol drops the first and the last frame, so a sequence needs at "
            f"least 3 frames (got {num_frames}); pass drop_first_last=False to score all"
        )
    scored = range(1, num_frames - 1) if drop_first_last else range(num_frames)
    scored_set = set(scored)
    num_objects = None
    shape = None
    j_cols: list[np.ndarray] = []
    f_cols: list[np.ndarray] = []
    for t, (gt, pred) in enumerate(pairs):
        where = f" (frame {t}{', ' + names[t] if names is not None else ''})"
        gt = _as_label_map(gt, "ground truth" + where)
        pred = _as_label_map(pred, "prediction" + where)
        if shape is None:
            shape = gt.shape
        if gt.shape != shape:
            raise ValueError(f"ground truth{where} has shape {gt.shape}, first frame {shape}")
        if pred.shape != gt.shape:
            raise ValueError(f"shape mismatch{where}: ground truth {gt.shape} vs prediction {pred.shape}")
        gt = np.where(gt == VOID_LABEL, 0, gt)
        if num_objects is None:
            num_objects = int(gt.max()) if gt.size else 0
            if num_objects == 0:
                raise ValueError("the first ground-truth frame contains no object (only background/void)")
        pmax = int(pred.max()) if pred.size else 0
        if pmax > num_objects:
            raise ValueError(
                f"prediction{where} uses label {pmax} but the first ground-truth frame has "
                f"only {num_objects} object(s) (labels 1..{num_objects})"
            )
        if t in scored_set:
            jc = np.empty(num_objects)
            fc = np.empty(num_objects)
            for k in range(1, num_objects + 1):
                g, p = gt == k, pred == k
                jc[k - 1] = db_eval_iou(g, p)
                fc[k - 1] = db_eval_boundary(g, p, bound_th)
            j_cols.append(jc)
            f_cols.append(fc)
    assert num_objects is not None
    return SequenceScores(
        J=np.stack(j_cols, axis=1),
        F=np.stack(f_cols, axis=1),
        object_ids=list(range(1, num_objects + 1)),
        frames=list(scored),
    )


def evaluate_sequence(
    gt_labels,
    pred_labels,
    *,
    bound_th: float = 0.008,
    drop_first_last: bool = True,
) -> SequenceScores:
    """Score one video: J and F for every object in every evaluated frame.

    Args:
        gt_labels: ground-truth label maps, a list of (H, W) integer arrays or a (T, H, W)
            array; 0 = background, 1..K = objects, 255 = void (treated as background).
        pred_labels: predicted label maps, same length and shapes. Labels 1..K; an object
            that is never predicted simply scores as an empty mask.
        bound_th: tolerance of F, see :func:`boundary_radius`.
        drop_first_last: DAVIS protocol (default): frames 0 and T-1 are not scored. Set to
            False to score every frame (e.g. for short home-made clips).

    Returns:
        :class:`SequenceScores` with ``J`` and ``F`` of shape (K, number of scored frames).

    Raises:
        ValueError: frame count or shape mismatch, non-integer labels, an empty first
            ground-truth frame, or a predicted label larger than K (checked on every frame,
            including the unscored first and last).
    """
    n, pairs = _iter_label_pairs(gt_labels, pred_labels)
    return _score_label_pairs(pairs, n, bound_th=bound_th, drop_first_last=drop_first_last)


def summarize(sequences: Mapping[str, SequenceScores]) -> DatasetResults:
    """Pool per-sequence scores into the DAVIS global and per-object tables.

    Every (sequence, object) pair is one entry; each global number is the plain mean of
    that statistic over all entries (so a sequence with 2 objects weighs twice as much as
    one with 1). ``J&F-Mean = (J-Mean + F-Mean) / 2``. Per-object rows are named
    ``<sequence>_<object id>`` like the toolkit's ``per-sequence_results.csv``.
    """
    if not sequences:
        raise ValueError("no sequences to summarize")
    stats = {c: [] for c in GLOBAL_COLUMNS if c != "J&F-Mean"}
    rows: list[dict[str, object]] = []
    for name, sc in sequences.items():
        for obj_id, st in zip(sc.object_ids, sc.object_statistics()):
            for key in stats:
                stats[key].append(st[key])
            rows.append({"Sequence": f"{name}_{obj_id}", "J-Mean": st["J-Mean"], "F-Mean": st["F-Mean"]})
    g = {key: float(np.mean(vals)) for key, vals in stats.items()}
    global_metrics = {"J&F-Mean": (g["J-Mean"] + g["F-Mean"]) / 2.0}
    global_metrics.update(g)
    global_metrics = {c: global_metrics[c] for c in GLOBAL_COLUMNS}
    return DatasetResults(global_metrics=global_metrics, per_object=rows, sequences=dict(sequences))


# --------------------------------------------------------------------------------------
# folders and CSV files
# --------------------------------------------------------------------------------------
class _LazyFrames(Sequence):
    """A list-like of label maps read from PNG files only when indexed/iterated."""

    def __init__(self, paths: list[Path], reader):
        self._paths = paths
        self._reader = reader

    def __len__(self) -> int:
        return len(self._paths)

    def __getitem__(self, i):
        return np.asarray(self._reader(self._paths[i]))


def evaluate_folders(
    gt_root,
    results_root,
    sequences: Iterable[str] | None = None,
    *,
    bound_th: float = 0.008,
    drop_first_last: bool = True,
    progress: bool = False,
) -> DatasetResults:
    """Evaluate PNG results on disk against PNG ground truth, DAVIS style.

    Layout: ``gt_root/<seq>/00000.png, 00001.png, ...`` (for DAVIS point ``gt_root`` at
    ``Annotations/480p``) and ``results_root/<seq>/<same file names>``. Every ground-truth
    file needs a result file of the same name; frames are read one at a time, so memory
    does not grow with video length.

    Args:
        gt_root: folder with one sub-folder of label PNGs per sequence.
        results_root: folder with the results, same layout and file names.
        sequences: names to evaluate; default every sub-folder of ``gt_root`` (sorted).
        bound_th, drop_first_last: see :func:`evaluate_sequence`.
        progress: show a tqdm progress bar over sequences.

    Raises:
        FileNotFoundError: a missing folder or a missing result file (named in the message).
        ValueError: see :func:`evaluate_sequence`; messages name the offending file.
    """
    gt_root, results_root = Path(gt_root), Path(results_root)
    if not gt_root.is_dir():
        raise FileNotFoundError(f"ground-truth folder not found: {gt_root}")
    if not results_root.is_dir():
        raise FileNotFoundError(f"results folder not found: {results_root}")
    if sequences is None:
        seq_names = sorted(p.name for p in gt_root.iterdir() if p.is_dir())
        if not seq_names:
            raise FileNotFoundError(f"no sequence folders in {gt_root}")
    else:
        seq_names = [str(s) for s in sequences]
    reader = read_label_png
    iterator: Iterable[str] = seq_names
    if progress:
        iterator = tqdm(seq_names, desc="evaluating", unit="seq")
    scores: dict[str, SequenceScores] = {}
    for seq in iterator:
        gt_dir, res_dir = gt_root / seq, results_root / seq
        if not gt_dir.is_dir():
            raise FileNotFoundError(f"ground-truth folder for sequence {seq!r} not found: {gt_dir}")
        gt_paths = sorted(gt_dir.glob("*.png"))
        if not gt_paths:
            raise FileNotFoundError(f"no PNG files in {gt_dir}")
        if not res_dir.is_dir():
            raise FileNotFoundError(f"results folder for sequence {seq!r} not found: {res_dir}")
        res_paths = [res_dir / p.name for p in gt_paths]
        for p in res_paths:
            if not p.is_file():
                raise FileNotFoundError(
                    f"missing result file {p} (results must be named like the ground truth {gt_dir / p.name})"
                )
        pairs = zip(_LazyFrames(gt_paths, reader), _LazyFrames(res_paths, reader))
        names = [str(p) for p in res_paths]
        scores[seq] = _score_label_pairs(
            pairs, len(gt_paths), bound_th=bound_th, drop_first_last=drop_first_last, names=names
        )
    return summarize(scores)
