"""The exploration lab: pure functions of dgmpm_lite.explore and the widgets that wrap them."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from dgmpm_lite import explore, widgets
from dgmpm_lite.data import InMemorySequence
from dgmpm_lite.model import DGMPM, anchors
from dgmpm_lite.viz import explore as figures
from dgmpm_lite.viz import readability_problems


def tiny_video(t=4, h=64, w=96):
    """Two discs (objects 1 and 2) drifting right over a striped background."""
    yy, xx = np.mgrid[:h, :w]
    frames = np.zeros((t, h, w, 3), np.uint8)
    masks = np.zeros((t, h, w), np.uint8)
    for i in range(t):
        frames[i] = ((np.sin(xx / 3.0) > 0) * 60 + 40)[..., None]
        for obj, (cy, cx, colour) in enumerate(
            [(20, 20 + 3 * i, (220, 40, 40)), (44, 60 + 2 * i, (40, 200, 60))], start=1
        ):
            disc = (yy - cy) ** 2 + (xx - cx) ** 2 < 100
            frames[i][disc] = colour
            masks[i][disc] = obj
    return InMemorySequence(frames, masks, name="two_discs")


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return DGMPM("resnet18", weights=None).eval()


@pytest.fixture(scope="module")
def maps(model):
    return explore.run_with_maps(model, tiny_video())


def test_embedding_pca_anchor_is_the_projected_class_mean():
    torch.manual_seed(0)
    emb = torch.randn(1, 8, 10, 12)
    mask = torch.zeros(1, 1, 10, 12)
    mask[..., 2:6, 3:8] = 1
    a_f, a_b = anchors(emb, mask)
    proj = explore.embedding_pca(emb[0], mask[0, 0], a_f[0], a_b[0], max_points=10_000)
    np.testing.assert_allclose(proj.fg_anchor, proj.points[proj.is_foreground].mean(0), atol=1e-5)
    np.testing.assert_allclose(proj.bg_anchor, proj.points[~proj.is_foreground].mean(0), atol=1e-5)
    assert proj.points.shape == (120, 2) and proj.is_foreground.sum() == 20
    with pytest.raises(ValueError, match="anchors must have 8 channels"):
        explore.embedding_pca(emb[0], mask[0, 0], a_f[0, :4], a_b[0])
    with pytest.raises(ValueError, match="mask is"):
        explore.embedding_pca(emb[0], mask[0, 0, :5], a_f[0], a_b[0])


def test_run_with_maps_keeps_what_the_widgets_need(maps):
    assert len(maps) == 4 and maps.object_ids == [1, 2]
    assert maps.reference_masks.shape == (2, 64, 96)
    assert maps.reference_embedding.shape == (64, 64, 96)
    assert maps.fg_anchors.shape == (2, 64) and maps.bg_anchors.shape == (2, 64)
    assert maps.outputs[0] is None and maps.outputs[1].distance_map.shape == (2, 1, 64, 96)
    assert [a.shape[1] for a in maps.outputs[2].attention_maps] == [1, 1, 1]
    np.testing.assert_array_equal(maps.labels[0], maps.ground_truth[0])


def test_pixel_distances_match_brute_force(maps):
    t, obj, y, x = 2, 2, 44, 64
    d = explore.pixel_distances(maps, t, obj, y, x)
    v = maps.embeddings[t][:, y, x].astype(np.float64)
    d_fg = np.linalg.norm(v - maps.fg_anchors[1])
    d_bg = np.linalg.norm(v - maps.bg_anchors[1])
    assert d.d_fg == pytest.approx(d_fg) and d.d_bg == pytest.approx(d_bg)
    assert d.e == pytest.approx(1 / (1 + np.exp(-(d_bg - d_fg))))
    # and the model's own eq. 5 map (float16 embeddings here: loose tolerance) agrees
    assert d.e == pytest.approx(float(maps.outputs[t].distance_map[1, 0, y, x]), abs=2e-2)


def test_images_have_the_frame_size(maps):
    assert figures.scrubber_image(maps, 0).shape == (64, 96, 3)
    assert figures.distance_map_image(maps, 1, 1).dtype == np.uint8
    atts = figures.attention_images(maps, 3, 2)
    assert len(atts) == 3 and all(a.shape == (64, 96, 3) for a in atts)


def test_bad_requests_are_named(maps):
    with pytest.raises(IndexError, match="frame 9 is out of range"):
        figures.scrubber_image(maps, 9)
    with pytest.raises(IndexError, match="frames 1..3"):
        figures.distance_map_image(maps, 0, 1)
    with pytest.raises(ValueError, match="object 7 is not in this video"):
        figures.attention_images(maps, 1, 7)
    with pytest.raises(IndexError, match="outside the 64x96 frame"):
        explore.pixel_distances(maps, 1, 1, 64, 0)
    with pytest.raises(ValueError, match="show must be"):
        figures.scrubber_image(maps, 1, show="both")


def test_knockout_none_is_the_model_itself_and_each_switch_changes_it(model, maps):
    own = maps.outputs[2].logits.softmax(1)[:, 1].numpy()
    np.testing.assert_allclose(explore.knockout(model, maps, 2, "none"), own, atol=1e-5)
    for switch in explore.KNOCKOUTS[1:]:
        probs = explore.knockout(model, maps, 2, switch)
        assert probs.shape == own.shape
        assert np.abs(probs - own).max() > 1e-4, switch
    with pytest.raises(ValueError, match="switch_off must be one of"):
        explore.knockout(model, maps, 2, "decoder")


def test_knockout_refuses_a_component_the_model_lacks():
    torch.manual_seed(0)
    no_edm = DGMPM("resnet18", weights=None, use_distance=False).eval()
    maps = explore.run_with_maps(no_edm, tiny_video(t=2))
    with pytest.raises(ValueError, match="no distance map"):
        explore.knockout(no_edm, maps, 1, "distance map")
    with pytest.raises(ValueError, match="no embedding distance module"):
        figures.distance_map_image(maps, 1, 1)


@pytest.mark.parametrize(
    "make", [widgets.frame_scrubber, widgets.anchor_explorer, widgets.distance_map_viewer, widgets.attention_viewer]
)
def test_moving_the_frame_slider_changes_the_picture(make, maps):
    w = make(maps)
    before = w.image.value
    assert before[:8] == b"\x89PNG\r\n\x1a\n"
    w.controls["frame"].value = 3  # fires the observer, as a student dragging the slider
    assert w.image.value != before


def test_widgets_report_bad_choices_instead_of_crashing(maps):
    w = widgets.anchor_explorer(maps)
    before = w.image.value
    w.controls["x"].max = 200
    w.controls["x"].value = 150  # outside the 96-pixel-wide frame
    assert "outside the 64x96 frame" in w.status.value and w.image.value == before


def test_knockout_toggle_redraws(model, maps):
    w = widgets.knockout_toggle(model, maps)
    before = w.image.value
    w.controls["switch_off"].value = "previous mask"
    assert w.image.value != before and "previous mask switched off" in w.status.value


def test_at_working_size_gives_the_video_as_the_model_sees_it(model):
    video = tiny_video()  # 64x96, objects 1 and 2
    small = explore.at_working_size(video, SimpleNamespace(working_short_side=32))
    assert len(small) == 4 and small.name == "two_discs" and small.object_ids == [1, 2]
    assert small.size == (32, 48) and small.frame(1).shape == (32, 48, 3) and small.frame(1).dtype == np.uint8
    mask = small.mask(1)
    assert mask.shape == (32, 48) and np.unique(mask).tolist() == [0, 1, 2]  # nearest: ids, never blends
    relabelled = np.where(video.mask(1) == 2, 7, video.mask(1))  # any other id map of the video
    np.testing.assert_array_equal(small.label_map(relabelled) == 7, mask == 2)  # lands on the same grid
    np.testing.assert_array_equal(small.label_map(mask), mask)  # already at the working size: unchanged
    native = explore.at_working_size(video, model)  # no recorded working size: the video's own frames
    assert native.size == (64, 96)
    np.testing.assert_array_equal(native.frame(2), video.frame(2))
    np.testing.assert_array_equal(native.mask(2), video.mask(2))


def test_run_with_maps_keeps_everything_at_the_models_working_size():
    torch.manual_seed(0)
    model = DGMPM("resnet18", weights=None).eval()
    model.working_short_side = 32  # as a trained checkpoint records it
    video = tiny_video()  # 64x96
    small = explore.run_with_maps(model, video)
    assert small.frames[1].shape == (32, 48, 3) and small.ground_truth[2].shape == (32, 48)
    assert small.labels[1].shape == (32, 48) and small.reference_masks.shape == (2, 32, 48)
    assert small.embeddings[1].shape == (64, 32, 48) and small.reference_embedding.shape == (64, 32, 48)
    assert small.outputs[1].distance_map.shape[-2:] == (32, 48)
    # a pixel indexes the same place everywhere: the distances agree with the model's own E
    y, x = 10, 12
    d = explore.pixel_distances(small, 1, 1, y, x)
    k = small.object_index(1)
    assert d.e == pytest.approx(float(small.outputs[1].distance_map[k, 0, y, x]), abs=2e-2)


def test_fig4_has_a_row_per_frame_headers_and_colour_bars(maps):
    fig = figures.fig4_figure(maps, 1, [1, 3])
    fig.canvas.draw()
    assert readability_problems(fig) == []
    pictures = [ax for ax in fig.axes if ax.get_images()]
    assert len(pictures) == 12  # 2 frames x (prediction, E, 3 attention maps, P(fg))
    assert [ax.get_title() for ax in pictures[:2]] == ["prediction (fill), truth (dashed)", "distance map E (eq. 5)"]
    row_labels = [t.get_text() for t in pictures[0].texts + pictures[6].texts]
    assert row_labels == ["frame 1", "frame 3"]
    k = maps.object_index(1)
    np.testing.assert_allclose(pictures[1].images[0].get_array(), maps.outputs[1].distance_map[k, 0].numpy())
    # every map is on the 0..1 scale, with a labelled colour bar
    maps_2d = [ax.images[0] for ax in pictures if ax.images[0].get_array().ndim == 2]
    assert len(maps_2d) == 10 and all(im.get_clim() == (0.0, 1.0) and im.colorbar is not None for im in maps_2d)
    # the truth is outlined on the prediction picture
    assert len(pictures[0].collections) == 1
    with pytest.raises(ValueError, match="visible_frames"):
        figures.fig4_figure(maps, 1, [])


def test_visible_frames_skip_a_hidden_object():
    video = tiny_video(t=8)
    masks = [video.mask(t) for t in range(8)]
    for t in (3, 4):
        masks[t] = np.where(masks[t] == 1, 0, masks[t])  # object 1 fully hidden in frames 3 and 4
    masks[5] = np.where((masks[5] == 1) & (np.arange(96) < 40)[None, :], 0, masks[5])  # mostly hidden
    frames = np.stack([video.frame(t) for t in range(8)])
    hidden = InMemorySequence(frames, np.stack(masks), name="hide")
    torch.manual_seed(0)
    maps = explore.run_with_maps(DGMPM("resnet18", weights=None).eval(), hidden)
    area = [int((gt == 1).sum()) for gt in maps.ground_truth]
    assert area[3] == area[4] == 0 and 0 < area[5] < 0.5 * area[0]
    chosen = explore.visible_frames(maps, 1, k=4)
    assert len(chosen) == 4 and not {3, 4, 5} & set(chosen) and chosen[0] == 1 and chosen[-1] == 7
    assert explore.visible_frames(maps, 1, k=20) == [1, 2, 5, 6, 7]  # too few: any visible frame
