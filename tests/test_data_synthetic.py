"""Synthetic video generator: determinism, the occlusion/distractor events, disk layout, data_samples."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dgmpm_lite.cli import main
from dgmpm_lite.data import (
    DavisDataset,
    LazySyntheticSequence,
    SyntheticConfig,
    generate_video,
    photos,
    read_image,
    read_label_png,
    sets,
    write_davis,
)
from dgmpm_lite.data import synthetic as syn
from dgmpm_lite.data.photos import PHOTO_TEXTURES
from dgmpm_lite.viz import ROLE_STYLES, plot_synthetic_videos, readability_problems, savefig, video_grid

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "data_samples" / "synthetic"

SMALL = dict(height=96, width=160, num_frames=12)


def test_generate_video_shapes_and_determinism() -> None:
    cfg = SyntheticConfig(**SMALL, num_targets=(2, 3))
    a = generate_video(cfg, seed=11)
    b = generate_video(cfg, seed=11)
    c = generate_video(cfg, seed=12)
    assert a.frames.shape == (12, 96, 160, 3) and a.frames.dtype == np.uint8
    assert a.labels.shape == (12, 96, 160) and a.labels.dtype == np.uint8
    assert a.instances.shape == a.labels.shape
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.objects == b.objects and a.visibility == b.visibility
    assert not np.array_equal(a.frames, c.frames)
    k = a.num_objects
    assert 2 <= k <= 3
    assert set(np.unique(a.labels).tolist()) <= set(range(k + 1))
    # every target is clearly visible in frame 0 (semi-supervised VOS starts from it)
    for oid in range(1, k + 1):
        st = a.visibility[0][oid]
        assert st["visible_px"] > 0 and st["visible_px"] >= cfg.min_first_visible * st["area_px"]
        assert (a.labels[0] == oid).sum() == st["visible_px"]


def test_textures_are_not_flat() -> None:
    v = generate_video(SyntheticConfig(**SMALL, num_targets=(3, 3), illumination_change=0, noise_std=0), seed=4)
    for oid in range(1, 4):
        pix = v.frames[0][v.labels[0] == oid].astype(float)
        assert pix.std(axis=0).max() > 4.0, f"object {oid} looks flat"
    bg = v.frames[0][v.instances[0] == 0].astype(float)
    assert bg.std(axis=0).max() > 4.0


def test_photo_textures_are_crops_of_the_shipped_photos() -> None:
    colours = np.array([[20, 40, 200], [240, 200, 10]], np.float32)
    for kind in PHOTO_TEXTURES:
        a = photos.photo_texture(kind, 40, 60, colours, np.random.default_rng(1))
        again = photos.photo_texture(kind, 40, 60, colours, np.random.default_rng(1))
        other = photos.photo_texture(kind, 40, 60, colours, np.random.default_rng(2))
        assert a.shape == (40, 60, 3) and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 255
        np.testing.assert_array_equal(a, again)  # seeded
        assert not np.array_equal(a, other)  # another part of the photo
        assert a.std(axis=(0, 1)).max() > 4.0, f"{kind} looks flat"
        if photos.load_photo(kind.split("/")[1]).ndim == 2:  # grey photos take the object's colours
            lo, hi = colours.min(0), colours.max(0)
            assert ((a >= lo - 1e-3) & (a <= hi + 1e-3)).all()
    with pytest.raises(ValueError, match="unknown photo texture"):
        photos.photo_texture("photo/moon", 8, 8, colours, np.random.default_rng(0))


def test_photos_ship_with_their_licences() -> None:
    readme = (REPO / "data_samples" / "photos" / "README.md").read_text()
    for name in photos.PHOTOS:
        assert (REPO / "data_samples" / "photos" / f"{name}.jpg").is_file()
        (row,) = [line for line in readme.splitlines() if line.startswith(f"| {name}.jpg |")]
        assert "CC0" in row or "public domain" in row, row


def test_a_video_painted_with_photos_shows_them_and_stays_seeded(monkeypatch) -> None:
    every = syn.TEXTURE_KINDS + PHOTO_TEXTURES
    cfg = SyntheticConfig(**SMALL, textures=PHOTO_TEXTURES, background_textures=every, num_distractors=(1, 1))
    v = generate_video(cfg, seed=5)
    np.testing.assert_array_equal(v.frames[3], generate_video(cfg, seed=5).frames[3])
    # with every colour photo replaced by one flat colour, the targets show that colour
    flat = np.zeros((50, 80, 3), np.uint8)
    flat[:] = (200, 30, 120)
    monkeypatch.setattr(photos, "load_photo", lambda name: flat)
    quiet = dict(SMALL, illumination_change=0.0, noise_std=0.0, num_occluders=(0, 0), p_occluder_pass=0.0)
    cfg = SyntheticConfig(**quiet, textures=PHOTO_TEXTURES[:4], num_targets=(2, 2))
    v = generate_video(cfg, seed=5)
    for oid in (1, 2):
        pix = v.frames[0][v.labels[0] == oid].astype(float)
        assert len(pix) > 20 and np.abs(pix.mean(0) - (200, 30, 120)).max() < 12, (oid, pix.mean(0))
    with pytest.raises(ValueError, match="textures must be a non-empty subset"):
        SyntheticConfig(textures=("photo/nope",))


def _first_gap(area: np.ndarray) -> tuple[int, int]:
    zero = np.nonzero(area == 0)[0]
    assert zero.size, "the visible area never drops to zero"
    return int(zero[0]), int(zero[-1])


def test_full_occlusion_behind_pillar_and_back() -> None:
    cfg = SyntheticConfig(
        **{**SMALL, "num_frames": 24},
        num_targets=(1, 1),
        p_occluder_pass=1.0,
        p_exit=0.0,
        num_distractors=(0, 0),
        num_occluders=(0, 0),
    )
    for seed in range(3):
        v = generate_video(cfg, seed)
        assert v.objects[0]["event"] == "behind_occluder"
        pillar = [o for o in v.objects if o["event"] == "scripted_pillar"]
        assert len(pillar) == 1 and pillar[0]["role"] == "occluder"
        area = v.visible_area(1)
        first, last = _first_gap(area)
        assert area[0] > 0 and area[first - 1] > 0 and area[last + 1 :].max() > 0  # disappears, then comes back
        st = v.visibility[first][1]
        assert st["state"] == "occluded" and st["inframe_px"] > 0 and pillar[0]["id"] in st["occluded_by"]
        assert (v.labels[first] == 1).sum() == 0


def test_target_passes_fully_behind_another_target() -> None:
    cfg = SyntheticConfig(
        **{**SMALL, "num_frames": 20},
        num_targets=(2, 2),
        p_target_cross=1.0,
        p_occluder_pass=0.0,
        p_exit=0.0,
        num_distractors=(0, 0),
        num_occluders=(0, 0),
    )
    for seed in range(3):
        v = generate_video(cfg, seed)
        assert v.objects[1]["event"] == "behind_target"
        area = v.visible_area(2)
        first, _ = _first_gap(area)
        assert area[0] > 0
        assert v.visibility[first][2]["occluded_by"] == [1]  # hidden by the other target, not by the border
        assert v.visibility[first][2]["state"] == "occluded"


def test_leaves_and_reenters_the_frame() -> None:
    cfg = SyntheticConfig(
        **{**SMALL, "num_frames": 24},
        num_targets=(1, 1),
        p_exit=1.0,
        p_occluder_pass=0.0,
        num_distractors=(0, 0),
        num_occluders=(0, 0),
    )
    v = generate_video(cfg, 5)
    assert v.objects[0]["event"] == "exit_reenter"
    states = v.states(1)
    assert states[0] in ("visible", "partly_out")
    out = [i for i, s in enumerate(states) if s == "out_of_frame"]
    assert out and out[-1] < len(states) - 1
    assert v.visible_area(1)[out[-1] + 1 :].max() > 0


def test_distractor_looks_like_its_target() -> None:
    cfg = SyntheticConfig(
        **SMALL,
        num_targets=(1, 2),
        num_distractors=(1, 1),
        p_occluder_pass=0.0,
        num_occluders=(0, 0),
        illumination_change=0.0,
        noise_std=0.0,
        p_exit=0.0,
    )
    checked = 0
    for seed in range(6):
        v = generate_video(cfg, seed)
        (d,) = [o for o in v.objects if o["role"] == "distractor"]
        t = v.objects[d["mimics"] - 1]
        assert t["role"] == "target"
        assert (d["family"], d["texture"], d["colours"]) == (t["family"], t["texture"], t["colours"])
        # distractors are background in the annotation, but visible in the instance map
        for frame in range(len(v)):
            assert not (v.labels[frame][v.instances[frame] == d["id"]]).any()
        inst, img = v.instances[0], v.frames[0].astype(float)
        dp, tp, bg = img[inst == d["id"]], img[inst == t["id"]], img[inst == 0]
        if len(dp) < 50 or len(tp) < 50:
            continue
        checked += 1
        gap_dt = np.abs(dp.mean(0) - tp.mean(0)).max()
        gap_tb = np.abs(bg.mean(0) - tp.mean(0)).max()
        assert gap_dt < 25.0, f"seed {seed}: mean colours differ by {gap_dt}"
        assert gap_dt < gap_tb, f"seed {seed}: the distractor is less like its target than the background"
        assert np.abs(dp.std(0) - tp.std(0)).max() < 25.0
    assert checked >= 3


def test_lazy_sequence_matches_full_render() -> None:
    cfg = SyntheticConfig(**SMALL)
    v = generate_video(cfg, 21)
    lazy = LazySyntheticSequence(cfg, 21)
    assert len(lazy) == len(v) and lazy.num_objects == v.num_objects
    for i in (7, 0, 11):
        np.testing.assert_array_equal(lazy.frame(i), v.frames[i])
        np.testing.assert_array_equal(lazy.mask(i), v.labels[i])


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="num_targets"):
        SyntheticConfig(num_targets=(0, 2))
    with pytest.raises(ValueError, match="shape_families"):
        SyntheticConfig(shape_families=("cube",))
    with pytest.raises(ValueError, match="unknown SyntheticConfig knobs"):
        SyntheticConfig.from_dict({"nope": 1})
    cfg = SyntheticConfig(**SMALL)
    assert SyntheticConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_write_davis_layout_and_refuses_overwrite(tmp_path: Path) -> None:
    v = generate_video(SyntheticConfig(**{**SMALL, "num_frames": 4}, num_targets=(2, 2)), 3, name="seqA")
    write_davis(v, tmp_path, resolution="96p")
    jpg = tmp_path / "JPEGImages" / "96p" / "seqA" / "00003.jpg"
    png = tmp_path / "Annotations" / "96p" / "seqA" / "00000.png"
    assert jpg.is_file() and png.is_file()
    assert Image.open(png).mode == "P"
    np.testing.assert_array_equal(read_label_png(png), v.labels[0])
    assert np.abs(read_image(jpg).astype(int) - v.frames[3]).mean() < 8.0  # JPEG q90 of busy textures
    meta = json.loads((tmp_path / "Metadata" / "96p" / "seqA.json").read_text())
    assert meta["seed"] == 3 and meta["num_objects"] == 2 and len(meta["objects"][0]["per_frame"]["state"]) == 4
    with pytest.raises(FileExistsError, match="overwrite=True"):
        write_davis(v, tmp_path, resolution="96p")
    user_file = tmp_path / "JPEGImages" / "96p" / "seqA" / "notes.txt"
    user_file.write_text("mine")
    with pytest.raises(FileExistsError, match="did not write"):
        write_davis(v, tmp_path, resolution="96p", overwrite=True)
    assert user_file.read_text() == "mine"
    user_file.unlink()
    write_davis(v, tmp_path, resolution="96p", overwrite=True)


def test_cli_generates_a_dataset(tmp_path: Path) -> None:
    cfg = json.dumps({"height": 64, "width": 96, "num_frames": 3})
    args = ["generate", "--root", str(tmp_path), "--train", "2", "--val", "1", "--seed", "5", "--config", cfg]
    assert main(args) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["config"]["num_frames"] == 3 and "--seed 5" in manifest["command"]
    ds = DavisDataset(tmp_path, split="train")
    assert ds.names == ["train_000", "train_001"] and len(ds[1]) == 3


# ----------------------------------------------------------------------------- data_samples


def test_data_samples_manifest_and_size() -> None:
    manifest = json.loads((SAMPLES / "manifest.json").read_text())
    assert manifest["command"] == sets.DATA_SAMPLES_COMMAND
    assert manifest["seed"] == sets.DATA_SAMPLES_SEED
    assert SyntheticConfig.from_dict(manifest["config"]) == sets.DATA_SAMPLES_CONFIG
    assert {s: len(v) for s, v in manifest["splits"].items()} == sets.DATA_SAMPLES_SPLITS
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 6 * 1024 * 1024, f"data_samples/synthetic is {total / 2**20:.1f} MB"
    for split in ("train", "val"):
        ds = DavisDataset(SAMPLES, split=split)
        assert ds.names == [e["name"] for e in manifest["splits"][split]]
        for e in manifest["splits"][split]:
            assert (SAMPLES / "Metadata" / manifest["resolution"] / f"{e['name']}.json").is_file()


def test_data_samples_regenerate_identically() -> None:
    """Regenerating a committed sequence gives identical masks and identical (decoded) JPEG pixels.

    The pixels depend on the versions of the libraries that draw and encode them (OpenCV's
    warps and blurs, NumPy's random streams, Pillow's libjpeg), which the manifest records and
    ``constraints.txt`` pins: with those versions the JPEG bytes must be identical. With other
    versions (a user's own install) the labels must still be identical and the decoded pixels
    close: OpenCV 5.1 against 5.0 moves them by about 5 grey levels on average.
    """
    manifest = json.loads((SAMPLES / "manifest.json").read_text())
    entry = manifest["splits"]["val"][0]
    res = manifest["resolution"]
    cfg = SyntheticConfig.from_dict(manifest["config"])
    assert entry["seed"] == syn.sequence_seed(manifest["seed"], "val", 0)
    v = generate_video(cfg, entry["seed"], name=entry["name"])
    import io as _io

    installed = syn.library_versions()
    same_versions = manifest["versions"] == installed
    for t in range(len(v)):
        np.testing.assert_array_equal(
            read_label_png(SAMPLES / "Annotations" / res / entry["name"] / f"{t:05d}.png"), v.labels[t]
        )
        np.testing.assert_array_equal(
            read_label_png(SAMPLES / "Instances" / res / entry["name"] / f"{t:05d}.png"), v.instances[t]
        )
        committed = (SAMPLES / "JPEGImages" / res / entry["name"] / f"{t:05d}.jpg").read_bytes()
        buf = _io.BytesIO()
        Image.fromarray(v.frames[t]).save(
            buf, format="JPEG", quality=manifest["jpeg_quality"], subsampling=2, optimize=False
        )
        a = np.asarray(Image.open(_io.BytesIO(committed)).convert("RGB"), dtype=int)
        b = np.asarray(Image.open(buf).convert("RGB"), dtype=int)
        if same_versions:
            assert buf.getvalue() == committed, f"frame {t}: JPEG bytes differ (versions {installed})"
        else:
            assert np.abs(a - b).mean() < 8.0, f"frame {t}: pixels far from the committed ones ({installed})"
    meta = json.loads((SAMPLES / "Metadata" / res / f"{entry['name']}.json").read_text())
    assert meta["objects"] == json.loads(json.dumps(v.metadata()["objects"]))


def test_constraints_pin_the_versions_the_samples_were_generated_with() -> None:
    """``make`` installs with ``constraints.txt``: it must pin the NumPy, OpenCV and Pillow that
    drew ``data_samples/synthetic`` (its manifest says which), or a fresh clone regenerates other pixels."""
    recorded = json.loads((SAMPLES / "manifest.json").read_text())["versions"]
    pins = dict(line.split("==", 1) for line in (REPO / "constraints.txt").read_text().split() if "==" in line)
    assert pins["numpy"] == recorded["numpy"]
    assert pins["pillow"] == recorded["pillow"]
    assert pins["opencv-python"].startswith(recorded["opencv"] + "."), (pins["opencv-python"], recorded["opencv"])


def test_data_samples_contain_the_hard_cases() -> None:
    for split in ("train", "val"):
        res = json.loads((SAMPLES / "manifest.json").read_text())["resolution"]
        states, distractors = set(), 0
        for p in sorted((SAMPLES / "Metadata" / res).glob(f"{split}_*.json")):
            meta = json.loads(p.read_text())
            for o in meta["objects"]:
                if o["role"] == "target":
                    states |= set(o["per_frame"]["state"])
                distractors += o["role"] == "distractor"
        assert {"occluded", "out_of_frame", "partly_occluded"} <= states, split
        assert distractors >= 1


def test_grid_figure(tmp_path: Path) -> None:
    v = generate_video(SyntheticConfig(**SMALL), 1)
    grid = video_grid([v, v], frames=3)
    assert grid.dtype == np.uint8 and grid.shape[2] == 3 and grid.shape[0] > 2 * 96


def test_synthetic_videos_figure_marks_every_role(tmp_path: Path) -> None:
    cfg = SyntheticConfig(**{**SMALL, "num_distractors": (1, 1), "num_occluders": (1, 1)})
    videos = [generate_video(cfg, s, name=f"seed {s}") for s in (1, 2)]
    fig = plot_synthetic_videos(videos, frames=3, title="roles")
    fig.canvas.draw()
    assert readability_problems(fig) == []
    # one outline per visible non-target object and frame, in its role's colour
    expected = [
        ROLE_STYLES[o["role"]][0]
        for v in videos
        for t in (0, len(v) // 2, len(v) - 1)
        for o in v.objects
        if o["role"] in ROLE_STYLES and (v.instances[t] == o["id"]).any()
    ]
    assert set(expected) == {"yellow", "cyan"}
    picture_axes = [ax for ax in fig.axes if ax.get_images()]
    assert len(picture_axes) == 6 and sum(len(ax.collections) for ax in picture_axes) == len(expected)
    legend = fig.legends[0].get_texts()
    assert [t.get_text().split(" ")[0] for t in legend] == ["targets", "look-alike", "occluder"]
    out = savefig(fig, "grid", tmp_path, palette=True)
    assert Image.open(out).mode == "P" and Image.open(out).info["dpi"][0] >= 109.9
