"""What the generator recorded about a video, read and mined: its objects, their roles (target,
look-alike, occluder, salient non-target) and per-frame visibility (:func:`read_metadata`),
every object's pixels (:func:`read_instances`), and the frames where something happens: a
target hidden and back (:func:`occlusion_case`), the cases of the Fig. 8 analogue
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


def _spread(candidates: list[int], k: int) -> list[int]:
    """``k`` items spread over ``candidates`` (all of them when there are at most ``k``), ending with the last."""
    if len(candidates) <= k:
        return list(candidates)
    return [candidates[round(j * (len(candidates) - 1) / (k - 1))] for j in range(k)] if k > 1 else [candidates[-1]]


def fig8_cases(dataset, max_frames: int = 0, num_frames: int = 3) -> dict:
    """Pick, from a synthetic dataset's metadata, a video with an occlusion and one with a distractor.

    ``dataset`` is a :class:`~dgmpm_lite.data.DavisDataset` of generated videos (each has
    ``Metadata/<res>/<seq>.json``). Only frames below ``max_frames`` are used (0 = all).

    Returns ``{"occlusion": case, "distractor": case}`` where a case is ``{"sequence",
    "object_id", "frame_ids", "notes", "distractor_ids"}`` or None when no video qualifies:

    * occlusion: the first target that disappears completely and comes back
      (:func:`dgmpm_lite.data.occlusion_case`); frames = last one before, middle of the
      hidden run, first one back. Videos without distractors are preferred.
    * distractor: a target with a look-alike distractor (``mimics``), in another video than
      the occlusion case if possible, the pair with the largest first-frame areas;
      ``num_frames`` frames spread over the last two thirds of the frames where both are
      visible (over all of them when too few).
    """

    metas = {name: read_metadata(dataset, name) for name in dataset.names}

    def limit(meta):
        return min(meta["num_frames"], max_frames) if max_frames else meta["num_frames"]

    occlusion = None
    order = sorted(metas, key=lambda n: any(o.get("role") == "distractor" for o in metas[n]["objects"]))
    for name in order:  # videos without look-alikes first: the occlusion alone decides there
        case = occlusion_case(metas[name], need_distractor=False, max_frames=max_frames)
        if case is not None:
            obj = case["object_id"]
            occlusion = {
                "sequence": name,
                "object_id": obj,
                "frame_ids": [case["before"], case["hidden"], case["back"]],
                "notes": [f"target {obj} visible", f"target {obj} hidden", f"target {obj} back"],
                "distractor_ids": [],
            }
            break

    distractor, best = None, None
    for name, meta in metas.items():
        objs = {o["id"]: o for o in meta["objects"]}
        for d in meta["objects"]:
            target = objs.get(d.get("mimics")) if d.get("role") == "distractor" else None
            if target is None or target.get("role") != "target":
                continue
            tv, dv = target["per_frame"]["visible_px"], d["per_frame"]["visible_px"]
            n = limit(meta)
            both = [t for t in range(1, n) if tv[t] > 0 and dv[t] > 0]
            later = [t for t in both if t >= n // 3]
            if not both or tv[0] <= 0:
                continue
            # another video than the occlusion's first, then the largest pair (easiest to see)
            key = (occlusion is None or name != occlusion["sequence"], min(tv[0], dv[0]))
            if best is None or key > best:
                best = key
                frames = _spread(later if len(later) >= num_frames else both, num_frames)
                distractor = {
                    "sequence": name,
                    "object_id": target["id"],
                    "frame_ids": frames,
                    "notes": [f"target {target['id']},\nlook-alike dashed"] * len(frames),
                    "distractor_ids": [d["id"]],
                }
    return {"occlusion": occlusion, "distractor": distractor}


def instance_masks(dataset, sequence: str, frame_ids, instance_ids) -> np.ndarray:
    """(F, H, W) bool: where any of ``instance_ids`` is visible in each frame of a generated video.

    Reads ``Instances/<res>/<sequence>/<frame>.png`` (every instance: targets, distractors,
    occluders), which the synthetic generator writes beside the target annotations.
    """

    out = [np.isin(read_instances(dataset, sequence, t), list(instance_ids)) for t in frame_ids]
    return np.stack(out) if out else np.zeros((0, 1, 1), dtype=bool)
