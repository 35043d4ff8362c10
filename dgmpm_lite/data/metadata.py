"""What the generator recorded about a video, read and mined: its objects, their roles (target,
look-alike, occluder, salient non-target) and per-frame visibility (:func:`read_metadata`),
every object's pixels (:func:`read_instances`), whether a dataset has both for
every video (:func:`has_metadata`), and the frames where something happens: a
target hidden and back (:func:`occlusion_case`, :func:`largest_occlusion_case`), the cases
the Fig. 8 analogue can show (:func:`fig8_candidates`) and the two it shows
(:func:`fig8_cases`). Files are written by :mod:`dgmpm_lite.data.synthetic`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .io import read_label_png
from .synthetic import instances_dir, metadata_path


def read_metadata(dataset, sequence: str) -> dict[str, Any]:
    """The generator's record of a video of ``dataset`` (a :class:`~dgmpm_lite.data.DavisDataset`
    of generated videos): its objects with their roles (target, distractor, occluder, salient),
    which target a look-alike ``mimics``, and per frame each object's visible area and state."""
    path = metadata_path(dataset.root, dataset.resolution, sequence)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: only generated synthetic videos have metadata")
    return json.loads(path.read_text())


def has_metadata(dataset) -> bool:
    """Whether every video of ``dataset`` has the generator's record (:func:`read_metadata`) and
    its instance maps (:func:`read_instances`), as generated videos do."""
    return bool(dataset.names) and all(
        metadata_path(dataset.root, dataset.resolution, n).is_file()
        and instances_dir(dataset.root, dataset.resolution, n).is_dir()
        for n in dataset.names
    )


def read_instances(dataset, sequence: str, frame: int) -> np.ndarray:
    """(H, W) uint8 map of *every* object of a generated video in frame ``frame`` (the ids of
    :func:`read_metadata`'s objects: look-alikes and occluders too, unlike the annotation)."""
    folder = instances_dir(dataset.root, dataset.resolution, sequence)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is missing: instance maps exist only for generated synthetic videos")
    stem = Path(dataset[sequence].frame_names[int(frame)]).stem
    return read_label_png(folder / f"{stem}.png")


def occlusion_frames(visible_px, min_fraction: float = 0.5) -> tuple[int, int, int] | None:
    """Frames that show an object disappearing and coming back, from its per-frame visible area.

    Returns ``(before, hidden, back)``: the last frame before the first fully hidden run
    where at least ``min_fraction`` of the first frame's area is visible, the middle of that
    run (0 pixels visible), and the first later frame that is visible again by that much.
    None if the object is never hidden, or never comes back that visible.
    """
    v = np.asarray(visible_px, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"visible_px must be a non-empty 1-D sequence, got shape {v.shape}")
    if v[0] <= 0:
        raise ValueError("the object is not visible in frame 0 (the reference frame)")
    enough = v >= min_fraction * v[0]
    zeros = np.flatnonzero(v == 0)
    if zeros.size == 0:
        return None
    start = zeros[0]
    end = start
    while end + 1 < v.size and v[end + 1] == 0:
        end += 1
    before = [t for t in range(start) if enough[t]]
    back = [t for t in range(end + 1, v.size) if enough[t]]
    if not before or not back:
        return None
    return before[-1], (start + end) // 2, back[0]


def occlusion_case(
    meta: dict, need_distractor: bool = True, min_fraction: float = 0.5, max_frames: int = 0
) -> dict | None:
    """Find a target that disappears and comes back in a synthetic video's metadata.

    ``meta`` is the JSON of ``<root>/Metadata/<res>/<seq>.json`` written by the synthetic
    generator. Returns ``{"object_id", "before", "hidden", "back", "distractor_ids",
    "reference_px"}`` (the last: its visible pixels in frame 0) for the
    first target whose visible area drops to 0 and recovers (:func:`occlusion_frames`) and,
    with ``need_distractor``, that has a look-alike distractor (``mimics`` = its id); else None.
    Only the first ``max_frames`` frames count (0 = all); targets hidden in frame 0 are skipped.
    """
    if "objects" not in meta:
        raise ValueError("meta has no 'objects': pass the JSON of a synthetic video's Metadata file")
    for obj in meta["objects"]:
        visible = obj["per_frame"]["visible_px"][: max_frames or None]
        if obj.get("role") != "target" or not visible or visible[0] <= 0:
            continue
        frames = occlusion_frames(visible, min_fraction)
        lookalikes = [
            o["id"] for o in meta["objects"] if o.get("role") == "distractor" and o.get("mimics") == obj["id"]
        ]
        if frames is None or (need_distractor and not lookalikes):
            continue
        before, hidden, back = frames
        return {
            "object_id": obj["id"],
            "before": before,
            "hidden": hidden,
            "back": back,
            "distractor_ids": lookalikes,
            "reference_px": int(obj["per_frame"]["visible_px"][0]),
        }
    return None


def largest_occlusion_case(dataset, names=None, min_fraction: float = 0.5) -> tuple[str, dict]:
    """The video of ``dataset`` (among ``names``; default all) whose :func:`occlusion_case` has
    the largest target, as ``(name, case)`` (notebooks 02 and 04 study that target).

    Raises ``ValueError`` when no video has a target that vanishes, returns and has a look-alike.
    """

    names = list(names or dataset.names)
    cases = {n: occlusion_case(read_metadata(dataset, n), min_fraction=min_fraction) for n in names}
    cases = {n: c for n, c in cases.items() if c is not None}
    if not cases:
        raise ValueError(
            f"no video among {names} has a target that vanishes and returns (visible on at least "
            f"{min_fraction:.0%} of its first-frame area) with a look-alike: lower min_fraction or pick other videos"
        )
    name = max(cases, key=lambda n: cases[n]["reference_px"])
    return name, cases[name]


def spread_evenly(candidates: list[int], k: int) -> list[int]:
    """``k`` items spread over ``candidates`` (all of them when there are at most ``k``), ending with the last."""
    if len(candidates) <= k:
        return list(candidates)
    return [candidates[round(j * (len(candidates) - 1) / (k - 1))] for j in range(k)] if k > 1 else [candidates[-1]]


def fig8_candidates(dataset, max_frames: int = 0, num_frames: int = 3) -> dict[str, list[dict]]:
    """Every case the Fig. 8 analogue could show, from a synthetic dataset's metadata.

    ``dataset`` is a :class:`~dgmpm_lite.data.DavisDataset` of generated videos (each has
    ``Metadata/<res>/<seq>.json``); only frames below ``max_frames`` count (0 = all). A case is
    ``{"sequence", "object_id", "frame_ids", "notes", "distractor_ids", "size"}``, and every
    frame it shows has the target visible on at least half its first-frame area (a hidden
    target shows nothing to compare). ``size`` is the smaller first-frame area involved.

    * ``"occlusion"``: each target that disappears completely and comes back
      (:func:`occlusion_frames`): the last frame before, the first frame back, and the last
      frame after that which is still visible enough (where a variant that lost the object
      after the occlusion has had time to show it). Videos without look-alikes come first.
    * ``"distractor"``: each target with a look-alike (``mimics``) visible in ``num_frames``
      frames spread over the last two thirds of the frames where both are visible (over all of
      them when too few), where drift onto the look-alike has had time to build up; only frames
      that DAVIS scores (neither the first nor the last), so that a figure shows what its J measures.
    """

    out: dict[str, list[dict]] = {"occlusion": [], "distractor": []}
    metas = {name: read_metadata(dataset, name) for name in dataset.names}
    order = sorted(metas, key=lambda n: any(o.get("role") == "distractor" for o in metas[n]["objects"]))
    for name in order:
        meta = metas[name]
        n = min(meta["num_frames"], max_frames) if max_frames else meta["num_frames"]
        objs = {o["id"]: o for o in meta["objects"]}
        for obj in meta["objects"]:
            visible = obj["per_frame"]["visible_px"][:n]
            if obj.get("role") != "target" or not visible or visible[0] <= 0:
                continue
            frames = occlusion_frames(visible)
            if frames is None:
                continue
            before, _, back = frames
            later = [t for t in range(back + 1, n) if visible[t] >= 0.5 * visible[0]]
            ids = [before, back] + later[-1:]
            notes = ["before it hides", "back", "later"][: len(ids)]
            out["occlusion"].append(
                {
                    "sequence": name,
                    "object_id": obj["id"],
                    "frame_ids": ids,
                    "notes": [f"target {obj['id']}\n{note}" for note in notes],
                    "distractor_ids": [],
                    "size": int(visible[0]),
                }
            )
        for d in meta["objects"]:
            target = objs.get(d.get("mimics")) if d.get("role") == "distractor" else None
            if target is None or target.get("role") != "target":
                continue
            tv, dv = target["per_frame"]["visible_px"], d["per_frame"]["visible_px"]
            if tv[0] <= 0:
                continue
            both = [t for t in range(1, n - 1) if tv[t] >= 0.5 * tv[0] and dv[t] > 0]  # the scored frames
            later = [t for t in both if t >= n // 3]
            if not both:
                continue
            frames = spread_evenly(later if len(later) >= num_frames else both, num_frames)
            out["distractor"].append(
                {
                    "sequence": name,
                    "object_id": target["id"],
                    "frame_ids": frames,
                    "notes": [f"target {target['id']}\nlook-alike\ndashed"] * len(frames),
                    "distractor_ids": [d["id"]],
                    "size": int(min(tv[0], dv[0])),
                }
            )
    return out


def fig8_cases(dataset, max_frames: int = 0, num_frames: int = 3, score=None) -> dict:
    """The two cases of the Fig. 8 analogue: ``{"occlusion": case, "distractor": case}``.

    Each is the best of :func:`fig8_candidates` (None when there is none) by ``score`` (a
    function of a case, higher is better; e.g. :func:`dgmpm_lite.ablation.variant_spread`,
    how much the variants differ on it). Without ``score``, or among equal scores: the
    largest objects (easiest to see), the distractor case in another video than the occlusion's.
    """

    cands = fig8_candidates(dataset, max_frames, num_frames)
    score = score or (lambda case: 0.0)
    occlusion = max(cands["occlusion"], key=lambda c: (score(c), c["size"]), default=None)
    distractor = max(
        cands["distractor"],
        key=lambda c: (score(c), occlusion is None or c["sequence"] != occlusion["sequence"], c["size"]),
        default=None,
    )
    return {"occlusion": occlusion, "distractor": distractor}


def instance_masks(dataset, sequence: str, frame_ids, instance_ids) -> np.ndarray:
    """(F, H, W) bool: where any of ``instance_ids`` is visible in each frame of a generated video.

    Reads ``Instances/<res>/<sequence>/<frame>.png`` (every instance: targets, distractors,
    occluders), which the synthetic generator writes beside the target annotations.
    """

    out = [np.isin(read_instances(dataset, sequence, t), list(instance_ids)) for t in frame_ids]
    return np.stack(out) if out else np.zeros((0, 1, 1), dtype=bool)
