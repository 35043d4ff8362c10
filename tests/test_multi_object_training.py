"""Multi-object training on real cut-outs: the cut-out source, clips, the fused loss, working size."""

import dataclasses
import json
import subprocess

import numpy as np
import pytest
import torch

from dgmpm_lite import REPO_ROOT
from dgmpm_lite.checkpoints import export_model, load_model, working_short_side
from dgmpm_lite.config import config_differences, load_config
from dgmpm_lite.data import DavisDataset, SyntheticConfig, generate_video, write_jpeg, write_label_png
from dgmpm_lite.data.cutouts import CutoutSource, look_alike
from dgmpm_lite.data.samples import ClipDataset
from dgmpm_lite.data.synthetic import generate_dataset, sample_scene
from dgmpm_lite.infer import VideoSegmenter, segment_video
from dgmpm_lite.model import DGMPM
from dgmpm_lite.runs import extends_stages, resume_differences
from dgmpm_lite.train import aggregate_objects, freeze_encoder_levels, init_weights, segmentation_loss, train
from dgmpm_lite.train_data import stage_dataset, video_source


@pytest.fixture
def fake_davis(tmp_path):
    """A DAVIS-2016-layout folder: 3 sequences of 6 frames, one coloured ellipse each (palette masks, id 1)."""
    root = tmp_path / "davis"
    rng = np.random.default_rng(0)
    names = ["cat", "dog", "owl"]
    for k, name in enumerate(names):
        colour = np.array([[200, 40, 40], [40, 200, 40], [40, 40, 200]][k], np.uint8)
        for t in range(6):
            frame = rng.integers(0, 80, (60, 100, 3)).astype(np.uint8)
            yy, xx = np.mgrid[0:60, 0:100]
            mask = ((yy - 30) / 14.0) ** 2 + ((xx - 30 - 5 * t) / 20.0) ** 2 <= 1
            frame[mask] = colour
            (root / "JPEGImages" / "240p" / name).mkdir(parents=True, exist_ok=True)
            (root / "Annotations" / "240p" / name).mkdir(parents=True, exist_ok=True)
            write_jpeg(root / "JPEGImages" / "240p" / name / f"{t:05d}.jpg", frame, quality=95)
            write_label_png(root / "Annotations" / "240p" / name / f"{t:05d}.png", mask.astype(np.uint8))
    (root / "train.txt").write_text("cat\ndog\n")
    (root / "held_out.txt").write_text("owl\n")
    return root


SCENE = SyntheticConfig(
    height=64,
    width=96,
    num_frames=8,
    num_targets=(2, 3),
    num_distractors=(1, 1),
    num_salient=(1, 1),
    num_occluders=(0, 0),
    min_first_visible=0.3,
)


def test_cutout_source_reads_only_its_split(fake_davis):
    src = CutoutSource(fake_davis, str(fake_davis / "train.txt"), frame_step=2)
    assert src.sequences == ["cat", "dog"]
    assert {o[2].split("/")[0] for o in src.objects} == {"cat", "dog"}
    assert len(src.frames) == 6  # 3 frames of each of the two sequences
    alpha, rgb, name = src.sprite(np.random.default_rng(0), radius=10)
    assert max(alpha.shape) == 24 and rgb.shape == alpha.shape + (3,)  # 2 * radius, plus 2 pixels each side
    assert 0 <= alpha.min() and alpha.max() <= 1 and alpha[alpha.shape[0] // 2, alpha.shape[1] // 2] > 0.9
    bg = src.background(np.random.default_rng(1), 70, 130)
    assert bg.shape == (70, 130, 3) and bg.dtype == np.float32


def test_cutout_source_rejects_a_split_with_nothing_to_cut(tmp_path, fake_davis):
    (fake_davis / "none.txt").write_text("cat\n")
    for p in (fake_davis / "Annotations" / "240p" / "cat").iterdir():
        write_label_png(p, np.zeros((60, 100), np.uint8))
    with pytest.raises(ValueError, match="first-frame mask is empty|no object"):
        CutoutSource(fake_davis, str(fake_davis / "none.txt"))


def test_look_alike_is_the_same_object_changed():
    rng = np.random.default_rng(3)
    alpha = np.zeros((20, 30), np.float32)
    alpha[5:15, 2:12] = 1
    rgb = np.zeros((20, 30, 3), np.float32)
    rgb[..., 0] = 200
    hows = set()
    for _ in range(20):
        a, c, how = look_alike(alpha, rgb, rng, jitter=0.2)
        hows |= set(how.split(", "))
        assert a.shape == c.shape[:2] and abs(a.shape[1] / 30 - 1) <= 0.21
    assert {"flipped", "recoloured"} <= {h.split(" ")[0] for h in hows}


def test_real_cutout_videos_annotate_only_the_targets(fake_davis):
    src = CutoutSource(fake_davis, str(fake_davis / "train.txt"), frame_step=1)
    a = generate_video(SCENE, seed=4, source=src)
    b = generate_video(SCENE, seed=4, source=src)
    np.testing.assert_array_equal(a.frames, b.frames)  # deterministic in (config, seed, source)
    roles = {o["id"]: o["role"] for o in a.objects}
    assert sorted(set(roles.values())) == ["distractor", "salient", "target"]
    targets = {i for i, r in roles.items() if r == "target"}
    assert set(np.unique(a.labels)) - {0} <= targets  # look-alikes and salient objects are background
    others = [i for i, r in roles.items() if r != "target"]
    assert any((a.instances == i).any() for i in others)  # ... but they are in the picture
    assert all(o["family"] == "cutout" for o in a.objects if o["role"] in ("target", "salient"))


def test_the_background_object_can_be_a_target_that_changes_no_pixel(fake_davis):
    src = CutoutSource(fake_davis, str(fake_davis / "train.txt"), frame_step=1)
    cfg = dataclasses.replace(SCENE, height=112, width=192, p_background_target=1.0)  # its object under half the frame
    scenes = [sample_scene(cfg, seed, src) for seed in range(8)]
    with_object = [s for s in scenes if s.layers[s.num_targets - 1].event == "background_object"]
    assert with_object, "no scene made its background's object a target"
    scene = with_object[0]
    k = scene.num_targets
    assert [l.instance_id for l in scene.layers if l.role == "target"] == list(range(1, k + 1))
    frame, labels, _inst, stats = scene.render(0)
    assert stats[k]["visible_px"] > 0 and (labels == k).any()  # the background's object is annotated
    unlabelled = dataclasses.replace(scene, layers=[l for l in scene.layers if l.instance_id != k])
    plain, plain_labels, _, _ = unlabelled.render(0)
    assert np.abs(frame.astype(int) - plain.astype(int)).max() <= 1  # ... and only annotated
    assert not (plain_labels == k).any()
    with pytest.raises(ValueError, match="p_background_target"):
        dataclasses.replace(SCENE, p_background_target=1.5)


def test_procedural_videos_keep_their_pixels_without_salient_objects():
    cfg = SyntheticConfig(height=48, width=64, num_frames=3)
    assert cfg.num_salient == (0, 0)
    a = generate_video(cfg, seed=9)
    with_salient = generate_video(SyntheticConfig(height=48, width=64, num_frames=3, num_salient=(1, 1)), seed=9)
    assert any(o["role"] == "salient" for o in with_salient.objects)
    assert not any(o["role"] == "salient" for o in a.objects)


def test_clip_dataset_renumbers_objects_and_is_reproducible(fake_davis, tmp_path):
    src = CutoutSource(fake_davis, str(fake_davis / "train.txt"), frame_step=1)
    generate_dataset(tmp_path / "clips", {"train": 2}, SCENE, seed=1, progress=False, source=src)
    videos = DavisDataset(tmp_path / "clips", split="train")
    ds = ClipDataset(videos, size=(48, 72), length=6, clip_length=3, max_objects=2, max_skip=2, seed=5)
    s = ds[3]
    k = s["num_objects"]
    assert 1 <= k <= 2
    assert s["frames"].shape == (3, 3, 48, 72) and s["labels"].shape == (3, 48, 72)
    assert s["ref_frame"].shape == (3, 48, 72) and 0 <= float(s["frames"].min()) and float(s["frames"].max()) <= 1
    assert set(torch.unique(s["ref_labels"]).tolist()) == set(range(k + 1))
    assert set(torch.unique(s["labels"]).tolist()) <= set(range(k + 1))
    idx = s["frame_indices"].tolist()
    assert idx == sorted(idx) and len(set(np.diff(idx))) == 1
    t = ds[3]
    for key in ("frames", "labels", "prev_labels", "ref_labels"):
        torch.testing.assert_close(s[key], t[key], rtol=0, atol=0)


def test_fused_loss_punishes_claiming_another_objects_pixels():
    # two objects; the true label map has object 1 on the left, object 2 on the right
    labels = torch.zeros(1, 4, 8, dtype=torch.long)
    labels[:, :, :4], labels[:, :, 4:] = 1, 2
    good = torch.zeros(2, 2, 4, 8)
    good[0, 1, :, :4], good[1, 1, :, 4:] = 6, 6
    greedy = good.clone()
    greedy[0, 1] = 6  # object 1 also paints object 2's half (a per-object loss on object 1's mask would not care more)
    agg = aggregate_objects(good)
    assert agg.shape == (3, 4, 8)
    torch.testing.assert_close(agg.softmax(0).sum(0), torch.ones(4, 8))
    assert agg.argmax(0).equal(labels[0])
    loss_good = segmentation_loss(aggregate_objects(good)[None], labels)
    loss_greedy = segmentation_loss(aggregate_objects(greedy)[None], labels)
    assert loss_greedy > loss_good + 0.3


def test_ablation_variant_starts_from_the_full_model(tmp_path):
    full = DGMPM("resnet18", weights=None, width=32)
    torch.save(
        {"format": "dgmpm_lite.model/1", "model_config": full.config, "model": full.state_dict()}, tmp_path / "f.pt"
    )
    no_pm = DGMPM("resnet18", weights=None, width=32, use_prev_mask=False)
    assert init_weights(no_pm, tmp_path / "f.pt") == []  # the full model has every layer and guide -PM has
    w_full = full.decoder.lateral[0].project.weight
    w_pm = no_pm.decoder.lateral[0].project.weight
    side = w_pm.shape[1] - 1
    torch.testing.assert_close(w_pm[:, :side], w_full[:, :side])  # side outputs
    torch.testing.assert_close(w_pm[:, side], w_full[:, side])  # E's weights (the full model's first guide)
    no_edm = DGMPM("resnet18", weights=None, width=32, use_distance=False)
    assert init_weights(no_edm, tmp_path / "f.pt") == []
    w_edm = no_edm.decoder.lateral[0].project.weight
    torch.testing.assert_close(w_edm[:, side], w_full[:, side + 1])  # P's weights (its second guide)
    torch.save(
        {"format": "dgmpm_lite.model/1", "model_config": no_pm.config, "model": no_pm.state_dict()}, tmp_path / "p.pt"
    )
    back = DGMPM("resnet18", weights=None, width=32)
    left = init_weights(back, tmp_path / "p.pt")  # -PM has no P to give: those channels stay as they were
    assert left and all(n.endswith("project.weight (guide channels)") for n in left)
    torch.testing.assert_close(back.decoder.lateral[0].project.weight[:, side], w_pm[:, side])
    first = next(iter(full.features.state_dict()))
    torch.testing.assert_close(no_pm.features.state_dict()[first], full.features.state_dict()[first])


def test_a_clip_stage_trains_and_resumes(tmp_path):
    cfg = load_config(
        "smoke",
        size=(48, 64),
        batch_size=2,
        synthetic={"num_frames": 6, "num_salient": [0, 1]},
        val_data="",
        checkpoint_every=1,
        num_workers=0,
        clip_length=2,
        max_objects=2,
        stages=[{"name": "clip", "kind": "clip", "steps": 3, "lr": 1e-3}],
    )
    straight = train(cfg, tmp_path / "a", progress=False)
    train(cfg, tmp_path / "b", max_steps=2, progress=False)
    resumed = train(cfg, tmp_path / "b", progress=False)
    a = torch.load(straight, weights_only=True)["model"]
    b = torch.load(resumed, weights_only=True)["model"]
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0, msg=k)
    # the model remembers the scale it was trained at, through export too
    assert working_short_side(torch.load(straight, weights_only=True)) == 48
    exported = export_model(straight, tmp_path / "m.pt")
    assert load_model(exported).working_short_side == 48
    assert json.loads(torch.load(exported, weights_only=True)["meta"])["trained_with"]["size"] == [48, 64]


@pytest.mark.parametrize("backbone", ["resnet18", "efficientnet_lite0"])
def test_frozen_encoder_levels_get_no_gradient_and_the_rest_do(backbone):
    model = DGMPM(backbone, weights=None, width=32)
    levels = model.features.encoder_levels()
    assert len(levels) == 5
    frozen = freeze_encoder_levels(model, 2)
    assert frozen == sum(p.numel() for g in levels[:2] for m in g for p in m.parameters())
    frame, mask = torch.rand(1, 3, 64, 64), (torch.rand(1, 1, 64, 64) > 0.5).float()
    model(frame, frame, mask, mask).logits.sum().backward()
    assert all(p.grad is None for m in levels[1] for p in m.parameters())
    assert all(p.grad is not None for m in levels[2] for p in m.parameters())
    assert model.features.side_convs[0].weight.grad is not None  # the embedding still learns from level 1


def test_clip_training_config_checks():
    with pytest.raises(ValueError, match="real_fraction > 0 needs data"):
        load_config("smoke", real_fraction=0.5)
    with pytest.raises(ValueError, match="clip_length and max_objects"):
        load_config("smoke", clip_length=0)
    with pytest.raises(ValueError, match="freeze_encoder counts the encoder's five levels"):
        load_config("smoke", freeze_encoder=6)
    clip = {"name": "clip", "kind": "clip", "steps": 1, "lr": 1e-3}
    with pytest.raises(ValueError, match="procedural is a share in"):
        load_config("smoke", objects={"root": "x", "split": "y"}, stages=[{**clip, "procedural": 1.5}])
    with pytest.raises(ValueError, match="needs kind 'clip', objects"):
        load_config("smoke", stages=[{**clip, "procedural": 0.5}])
    with pytest.raises(ValueError, match="needs kind 'clip', objects"):
        load_config("smoke", objects={"root": "x", "split": "y"}, stages=[{**clip, "kind": "video", "procedural": 0.5}])
    with pytest.raises(ValueError, match="and real_fraction < 1"):
        load_config(
            "smoke",
            objects={"root": "x", "split": "y"},
            data="x",
            real_fraction=1.0,
            stages=[{**clip, "procedural": 0.5}],
        )


@pytest.mark.parametrize(
    ("real_fraction", "sources"),
    [
        (0.0, "PpPpPpPp"),  # P: painted with cut-outs, p: procedural, r: real
        (0.25, "PpPrpPpr"),  # the procedural share counts among the generated clips only
        (0.5, "PrprPrpr"),
    ],
)
def test_a_clip_stage_mixes_procedural_videos_into_its_cut_out_videos(fake_davis, real_fraction, sources):
    objects = {"root": str(fake_davis), "split": str(fake_davis / "train.txt"), "frame_step": 2}
    stage = {"name": "mix", "kind": "clip", "steps": 4, "lr": 1e-3, "procedural": 0.5}
    cfg = load_config(
        "smoke",
        size=(48, 64),
        synthetic={"num_frames": 6},
        objects=objects,
        data=str(fake_davis),
        split=str(fake_davis / "train.txt"),
        real_fraction=real_fraction,
        stages=[stage],
    )
    mixed = stage_dataset(cfg, cfg.stages[0], 8)
    kw = dict(size=(48, 64), length=8, clip_length=cfg.clip_length, max_objects=cfg.max_objects, seed=0)
    source = {
        "P": ClipDataset(video_source(cfg, data="synthetic"), **kw),
        "p": ClipDataset(video_source(cfg, data="synthetic", painted=False), **kw),
        "r": ClipDataset(video_source(cfg), **kw),
    }
    for i, want in enumerate(sources):
        torch.testing.assert_close(mixed[i]["frames"], source[want][i]["frames"], msg=f"clip {i}")
        for other in set(source) - {want}:
            assert not torch.equal(mixed[i]["frames"], source[other][i]["frames"]), (i, other)


def test_a_stage_can_train_at_a_frame_size_of_its_own(fake_davis):
    """A stage's ``size`` (lower resolution early, larger frames late) sets its frames' size and the
    size its generated videos are drawn at; the other stages keep the config's."""
    objects = {"root": str(fake_davis), "split": str(fake_davis / "train.txt"), "frame_step": 2}
    clip = {"name": "small", "kind": "clip", "steps": 2, "lr": 1e-3, "size": [32, 48]}
    cfg = load_config(
        "smoke",
        size=(48, 64),
        synthetic={"num_frames": 6},
        objects=objects,
        stages=[clip, {**clip, "name": "full", "size": None}, {"name": "v", "kind": "video", "steps": 2, "lr": 1e-3}],
    )
    small, full = (stage_dataset(cfg, s, 2)[0] for s in cfg.stages[:2])
    assert small["frames"].shape[-2:] == (32, 48) and small["labels"].shape[-2:] == (32, 48)
    assert full["frames"].shape[-2:] == (48, 64)
    # generated videos are drawn at the stage's size, not drawn at the config's and resized
    cfg.real_fraction = 0.0
    for stage, shape in zip(cfg.stages[:2], [(32, 48), (48, 64)]):
        assert stage_dataset(cfg, stage, 2).videos[0].frame(0).shape[:2] == shape
    cfg.stages[2].size = [40, 56]
    assert stage_dataset(cfg, cfg.stages[2], 2)[0]["target_frame"].shape[-2:] == (40, 56)  # triplet stages too
    assert json.loads(json.dumps(cfg.to_dict()))["stages"][0]["size"] == [32, 48]
    # inference runs at the short side trained on last, unless the config names a working size
    assert working_short_side({"config": cfg.to_dict()}) == 40
    cfg.stages[2].size = None
    assert working_short_side({"config": cfg.to_dict()}) == 48
    assert working_short_side({"config": {**cfg.to_dict(), "working_size": 96}}) == 96
    for bad in ([32], [16, 48], "small", [32.0, 48]):
        with pytest.raises(ValueError, match="size must be \\[height, width\\].*or null"):
            load_config("smoke", stages=[{**clip, "size": bad}])


def test_a_checkpoint_saved_before_stages_had_procedural_still_resumes():
    cfg = load_config("smoke")
    saved = cfg.to_dict()
    saved["stages"] = [{k: v for k, v in s.items() if k != "procedural"} for s in saved["stages"]]
    assert resume_differences(saved, cfg) == []
    longer = load_config("smoke", stages=[*saved["stages"], {"name": "more", "kind": "video", "steps": 2, "lr": 1e-4}])
    assert extends_stages(saved, longer.to_dict()) and resume_differences(saved, longer) == []
    changed = load_config("smoke", stages=[{**saved["stages"][0], "lr": 0.5}, saved["stages"][1]])
    assert resume_differences(saved, changed)


def test_inference_runs_at_the_working_size_and_answers_at_native_size():
    torch.manual_seed(0)
    model = DGMPM("resnet18", weights=None, width=16).eval()
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (64, 96, 3)).astype(np.uint8) for _ in range(3)]
    first = np.zeros((64, 96), np.uint8)
    first[10:30, 10:40], first[40:60, 50:90] = 1, 2
    seg = VideoSegmenter(model, "cpu", amp=False, working_size=32)
    seg.start(frames[0], first)
    assert seg.work_size == (32, 48) and seg.prev_masks.shape[-2:] == (32, 48)
    pred = seg.step(frames[1], return_probabilities=True)
    assert pred.labels.shape == (64, 96) and pred.probabilities.shape == (2, 64, 96)
    # the recorded working size is the default; 0 forces the frames' own size
    model.working_short_side = 32
    small = [p.labels for p in segment_video(model, frames, first, device="cpu", amp=False)]
    native = [p.labels for p in segment_video(model, frames, first, device="cpu", amp=False, working_size=0)]
    np.testing.assert_array_equal(small[1], pred.labels)
    assert all(p.shape == (64, 96) for p in native)
    with pytest.raises(ValueError, match="working_size must be >= 0"):
        VideoSegmenter(model, "cpu", working_size=-1)
    with pytest.raises(ValueError, match="must share one size"):
        seg.step(frames[1][:32])


def test_a_tiny_object_survives_the_working_size():
    model = DGMPM("resnet18", weights=None, width=16).eval()
    first = np.zeros((128, 192), np.uint8)
    first[5, 5] = 1  # one pixel, a quarter of a working-size pixel
    first[40:90, 40:120] = 2
    seg = VideoSegmenter(model, "cpu", amp=False, working_size=32)
    seg.start(np.zeros((128, 192, 3), np.uint8), first)
    assert (seg.prev_masks.flatten(1).sum(1) > 0).all()


def test_real_multi_object_benchmark_uses_held_out_sequences_only(shared_data, tmp_path):
    from dgmpm_lite.data.sets import REAL_MULTI_HELD_OUT, make_real_multi

    held_out = (REPO_ROOT / REAL_MULTI_HELD_OUT).read_text().split()
    train_split = (REPO_ROOT / "data_samples/davis2016_split/train.txt").read_text().split()
    assert not set(held_out) & set(train_split)
    src = CutoutSource(shared_data / "DAVIS2016-train-240p", str(REPO_ROOT / REAL_MULTI_HELD_OUT))
    assert sorted(src.sequences) == sorted(held_out)
    assert {o[2].split("/")[0] for o in src.objects} <= set(held_out)
    cfg = load_config("davis_multi_cpu")
    assert cfg.objects["split"] == "data_samples/davis2016_split/train.txt" and cfg.split == cfg.objects["split"]
    assert callable(make_real_multi)


def test_the_gpu_recipe_is_the_cpu_recipe_at_gpu_size():
    # same data, splits, stages and working size (config_differences names every other key)
    cpu, gpu = load_config("davis_multi_cpu").to_dict(), load_config("davis_multi_gpu").to_dict()
    assert {d.split(":")[0] for d in config_differences(cpu, gpu)} == {"preset", "size", "batch_size"}
    assert gpu["working_size"] == 240 and gpu["size"][0] <= 240  # crops of the 240p frames, run at 240
    subprocess.run(["bash", "-n", str(REPO_ROOT / "scripts" / "gpu_multi.sh")], check=True)  # the script parses
