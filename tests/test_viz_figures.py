"""Picture helpers of the component notebooks 01-04 (dgmpm_lite.viz)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from dgmpm_lite import REPO_ROOT
from dgmpm_lite.data import occlusion_case, occlusion_frames
from dgmpm_lite.explore import (
    boundary_regions,
    central_pixel,
    embedding_contributions,
    embedding_pca,
    record_shapes,
    region_means,
    shift_mask,
    video_distance_maps,
)
from dgmpm_lite.model import DGMPM, FeatureExtractor
from dgmpm_lite.viz import (
    MIN_DPI,
    FigureReadabilityWarning,
    feature_image,
    plot_embedding_pca,
    plot_feature_levels,
    plot_grid,
    plot_region_timeline,
    readability_problems,
    savefig,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# -- feature_image ---------------------------------------------------------------------------


def test_feature_image_pca_colours_follow_the_features():
    # two regions with different 8-d features: two colours, identical inside each region
    f = torch.zeros(8, 6, 10)
    f[:, :, :5] = torch.arange(8.0)[:, None, None]
    f[:, :, 5:] = -torch.arange(8.0)[:, None, None]
    img = feature_image(f)
    assert img.shape == (6, 10, 3) and img.dtype == np.float32
    assert img.min() >= 0 and img.max() <= 1
    np.testing.assert_allclose(img[:, :5], img[0, 0] * np.ones((6, 5, 3)))
    assert np.abs(img[0, 0] - img[0, 9]).max() > 0.5


def test_feature_image_pca_sign_rule_red_grows_with_the_dominant_channel():
    # channel 0 varies most: the first component is ~ channel 0 with a positive loading,
    # so red grows with channel 0's value whichever way the features point
    g = torch.Generator().manual_seed(0)
    base = torch.randn(1, 6, 7, 9, generator=g) * 0.1
    base[0, 0] = torch.linspace(-5, 5, 63).reshape(7, 9)
    for f in (base, -base):
        img = feature_image(f)
        assert img.shape == (7, 9, 3)
        corr = np.corrcoef(img[..., 0].reshape(-1), f[0, 0].reshape(-1).numpy())[0, 1]
        assert corr > 0.95
    np.testing.assert_allclose(feature_image(base), feature_image(base[0].clone()))


def test_feature_image_mean_mode():
    f = torch.stack([torch.arange(12.0).reshape(3, 4)] * 5)
    img = feature_image(f, mode="mean")
    assert img.shape == (3, 4)
    assert img[0, 0] == 0 and img[-1, -1] == 1
    assert np.all(np.diff(img.reshape(-1)) >= 0)


def test_feature_image_errors():
    with pytest.raises(ValueError, match=r"must be \(C, h, w\)"):
        feature_image(torch.zeros(4, 4))
    with pytest.raises(ValueError, match="mode must be"):
        feature_image(torch.zeros(3, 4, 4), mode="max")
    with pytest.raises(ValueError, match="empty"):
        feature_image(torch.zeros(3, 0, 4))


# -- embedding_contributions / plot_feature_levels -------------------------------------------


def test_embedding_contributions_sum_to_the_embedding():
    ext = FeatureExtractor("resnet18", weights=None).eval()
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        out = ext(x)
        parts = embedding_contributions(ext, out.side_outputs, (64, 96))
    assert len(parts) == 5 and all(p.shape == (1, 64, 64, 96) for p in parts)
    torch.testing.assert_close(sum(parts), out.embedding, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="expected 5 side outputs"):
        embedding_contributions(ext, out.side_outputs[:4], (64, 96))
    bare = FeatureExtractor("resnet18", weights=None, with_embedding=False)
    with pytest.raises(ValueError, match="no embedding head"):
        embedding_contributions(bare, out.side_outputs, (64, 96))


def test_plot_feature_levels_grid_shape():
    ext = FeatureExtractor("resnet18", weights=None).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = ext(x)
    fig, axes = plot_feature_levels(x[0], {"a": (out.side_outputs, out.embedding), "b": (out.side_outputs, None)})
    assert axes.shape == (2, 7)
    assert axes[0, 1].get_title().startswith("conv1 64ch 32x32")
    assert axes[0, 5].get_title().startswith("res5 512ch 2x2")
    assert not axes[1, 6].images  # no embedding in row b: blank panel
    with pytest.raises(ValueError, match="rows is empty"):
        plot_feature_levels(x[0], {})
    with pytest.raises(ValueError, match="4 side outputs for 5 names"):
        plot_feature_levels(x[0], {"a": (out.side_outputs[:4], None)})


# -- plot_grid -------------------------------------------------------------------------------


def test_plot_grid_shapes_ragged_rows_and_blank_panels():
    rgb = np.zeros((4, 6, 3), np.uint8)
    gray = np.linspace(0, 1, 24).reshape(4, 6)
    fig, axes = plot_grid([[("a", rgb), ("b", gray), ("c", None)], [("d", gray)]], row_titles=["r1", "r2"])
    assert axes.shape == (2, 3)
    assert len(axes[0, 0].images) == 1 and len(axes[0, 1].images) == 1
    assert not axes[0, 2].images and not axes[1, 1].images
    np.testing.assert_allclose(axes[0, 1].images[0].get_clim(), (0, 1))
    fig, axes = plot_grid([[("x", gray * 5)]], vlim=None)
    np.testing.assert_allclose(axes[0, 0].images[0].get_clim(), (0, 5))


def test_plot_grid_gives_every_map_a_labelled_colour_bar():
    gray = np.linspace(0, 1, 24).reshape(4, 6)
    fig, axes = plot_grid([[("frame", np.zeros((4, 6, 3))), ("distance map E", gray, "E"), ("alpha", gray)]])
    bars = [axes[0, j].images[0].colorbar for j in range(3)]
    assert bars[0] is None  # an RGB picture has no colour scale
    assert bars[1].ax.get_ylabel() == "E" and bars[2].ax.get_ylabel() == "alpha"  # default: the title
    np.testing.assert_allclose(bars[1].get_ticks(), [0, 0.5, 1])
    fig, axes = plot_grid([[("mask", gray)]], colorbars=False)
    assert axes[0, 0].images[0].colorbar is None
    with pytest.raises(ValueError, match=r"\(title, image\) or \(title, image, quantity\)"):
        plot_grid([[("a", gray, "q", "extra")]])


def test_readability_problems_names_what_keeps_a_figure_from_being_read():
    gray = np.linspace(0, 1, 24).reshape(4, 6)
    fig, axes = plot_grid([[("E", gray), ("frame", np.zeros((4, 6, 3)))]])
    fig.canvas.draw()
    assert readability_problems(fig) == []
    fig, ax = plt.subplots(1, 2)
    ax[0].imshow(gray)  # a heat map without a colour bar, and no header
    ax[1].imshow(gray)
    fig.colorbar(ax[1].images[0], ax=ax[1])  # a colour bar without a label
    ax[1].set_title("tiny", fontsize=6)
    fig.canvas.draw()
    problems = readability_problems(fig)
    assert any("heat map without a colour bar" in p for p in problems)
    assert any("colour bar without a label" in p for p in problems)
    assert any("column of pictures without a header" in p for p in problems)
    assert any("smaller than 8 pt: 'tiny' at 6.0 pt" in p for p in problems)
    fig.suptitle("a title serves as the header")
    fig.canvas.draw()
    assert not any("header" in p for p in readability_problems(fig))


def test_savefig_checks_readability_and_resolution(tmp_path, monkeypatch):
    fig, ax = plt.subplots()
    ax.imshow(np.eye(3))
    ax.set_title("no colour bar")
    monkeypatch.delenv("DGMPM_CHECK_FIGURES", raising=False)
    with pytest.warns(FigureReadabilityWarning, match="heat map without a colour bar"):
        assert savefig(fig, "warned", tmp_path).is_file()
    monkeypatch.setenv("DGMPM_CHECK_FIGURES", "1")
    with pytest.raises(ValueError, match="'refused' cannot be read alone: heat map without a colour bar"):
        savefig(fig, "refused", tmp_path)
    assert not (tmp_path / "refused.png").exists()
    fig, axes = plot_grid([[("fine", np.eye(3))]])
    with pytest.raises(ValueError, match="dpi=80 is below 110"):
        savefig(fig, "low", tmp_path, dpi=80)
    path = savefig(fig, "fine", tmp_path)
    assert Image.open(path).info["dpi"][0] == pytest.approx(110, abs=0.1)


def test_every_committed_figure_is_saved_at_110_dpi_or_more():
    figures = sorted((REPO_ROOT / "figures").glob("*.png"))
    assert len(figures) >= 25
    low = [p.name for p in figures if Image.open(p).info.get("dpi", (0, 0))[0] < MIN_DPI - 0.1]
    assert not low, f"saved below {MIN_DPI} dpi (regenerate with dgmpm-lite figures): {low}"


def test_plot_grid_errors():
    with pytest.raises(ValueError, match="at least one panel"):
        plot_grid([])
    with pytest.raises(ValueError, match="1 row titles for 2 rows"):
        plot_grid([[("a", np.zeros((2, 2)))], [("b", np.zeros((2, 2)))]], row_titles=["x"])
    with pytest.raises(ValueError, match=r"\(h, w\) or \(h, w, 3\)"):
        plot_grid([[("a", np.zeros((2, 2, 4)))]])


# -- plot_embedding_pca ----------------------------------------------------------------------


def test_plot_embedding_pca_draws_pixels_anchors_and_extra_points():
    emb = torch.randn(8, 10, 12)
    mask = torch.zeros(10, 12)
    mask[2:6, 3:8] = 1
    a_f = (emb * mask).sum((1, 2)) / mask.sum()
    a_b = (emb * (1 - mask)).sum((1, 2)) / (1 - mask).sum()
    proj = embedding_pca(emb, mask, a_f, a_b, extra=emb[:, 0, :2].T)
    ax = plot_embedding_pca(proj, extra_labels=["p", "q"])
    # background, foreground, two anchors, two extra points
    assert len(ax.collections) == 6
    offsets = ax.collections[3].get_offsets()
    np.testing.assert_allclose(np.asarray(offsets)[0], proj.fg_anchor)
    with pytest.raises(ValueError, match="1 labels for 2 extra points"):
        plot_embedding_pca(proj, extra_labels=["p"])


# -- occlusion_frames ------------------------------------------------------------------------


def test_occlusion_frames_finds_disappearance_and_return():
    v = [100, 95, 90, 40, 0, 0, 0, 0, 20, 70, 100]
    assert occlusion_frames(v) == (2, 5, 9)
    assert occlusion_frames(v, min_fraction=0.9) == (2, 5, 10)


def test_occlusion_frames_none_when_never_hidden_or_never_back():
    assert occlusion_frames([100, 80, 50, 60]) is None
    assert occlusion_frames([100, 80, 0, 0, 10]) is None


def test_occlusion_frames_errors():
    with pytest.raises(ValueError, match="non-empty 1-D"):
        occlusion_frames([])
    with pytest.raises(ValueError, match="not visible in frame 0"):
        occlusion_frames([0, 10, 0, 10])


# -- video_distance_maps ---------------------------------------------------------------------


def test_video_distance_maps_match_the_model_output():
    model = DGMPM("resnet18", weights=None).eval()
    ref = torch.rand(1, 3, 64, 64)
    masks = torch.zeros(2, 1, 64, 64)
    masks[0, :, 10:30, 10:30] = 1
    masks[1, :, 40:60, 5:50] = 1
    frames = [torch.rand(1, 3, 64, 64) for _ in range(3)]
    maps = video_distance_maps(model, frames, ref, masks)
    assert maps.shape == (3, 2, 64, 64)
    with torch.no_grad():
        out = model.segment(frames[1], model.encode_reference(ref, masks), masks, return_maps=True)
    torch.testing.assert_close(maps[1], out.distance_map[:, 0])
    with pytest.raises(ValueError, match="no target frames"):
        video_distance_maps(model, [], ref, masks)
    with pytest.raises(ValueError, match="-EDM"):
        video_distance_maps(DGMPM("resnet18", weights=None, use_distance=False), frames, ref, masks)


# -- boundary_regions / region_means ---------------------------------------------------------


def test_boundary_regions_partition_the_frame():
    m = np.zeros((40, 40))
    m[10:30, 10:30] = 1
    r = boundary_regions(m, width=2)
    total = r["boundary"].astype(int) + r["interior"] + r["background"]
    assert np.all(total == 1)  # every pixel in exactly one region
    assert r["interior"][20, 20] and r["background"][0, 0] and r["boundary"][10, 20] and r["boundary"][9, 20]
    assert not r["interior"][11, 20]  # 1 px inside the contour is in the band
    with pytest.raises(ValueError, match="mask must be"):
        boundary_regions(np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match="width must be"):
        boundary_regions(m, width=0)


def test_region_means_resizes_coarse_maps():
    coarse = torch.zeros(1, 1, 4, 4)
    coarse[..., :2, :] = 1.0  # top half
    top = np.zeros((16, 16), bool)
    top[:6] = True
    bottom = np.zeros((16, 16), bool)
    bottom[10:] = True
    r = region_means(coarse, {"top": top, "bottom": bottom, "none": np.zeros((16, 16), bool)})
    assert r["top"] == pytest.approx(1.0) and r["bottom"] == pytest.approx(0.0)
    assert np.isnan(r["none"])
    r2 = region_means(np.ones((16, 16)) * 0.25, {"top": top})
    assert r2["top"] == pytest.approx(0.25)


# -- shift_mask ------------------------------------------------------------------------------


def test_shift_mask_moves_without_wrapping():
    m = np.zeros((5, 6), np.float32)
    m[1, 1] = 1
    m[4, 5] = 2
    s = shift_mask(m, 2, 3)
    assert s[3, 4] == 1 and s.sum() == 1  # the bottom-right pixel fell off, nothing wrapped
    t = shift_mask(torch.from_numpy(m)[None, None], -1, -1)
    assert isinstance(t, torch.Tensor) and t.shape == (1, 1, 5, 6)
    assert t[0, 0, 0, 0] == 1 and t[0, 0, 3, 4] == 2
    assert shift_mask(m, 0, 0) is not m and np.array_equal(shift_mask(m, 0, 0), m)
    assert shift_mask(m, 10, 0).sum() == 0
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        shift_mask(np.zeros(4), 1, 1)


# -- record_shapes ---------------------------------------------------------------------------


class _Pair(nn.Module):
    def forward(self, x):
        return x * 2, None


def test_record_shapes_of_submodules_and_hook_cleanup():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), _Pair())
    x = torch.zeros(1, 3, 16, 16)
    shapes = record_shapes(net, ["0", "2"], lambda: net(x))
    assert shapes == {"0": (1, 8, 8, 8), "2": ((1, 8, 8, 8), None)}
    assert not net[0]._forward_hooks and not net[2]._forward_hooks
    with pytest.raises(KeyError, match="no submodule 'decoder'"):
        record_shapes(net, ["decoder"], lambda: net(x))

    def boom():
        raise RuntimeError("x")

    with pytest.raises(RuntimeError):
        record_shapes(net, ["0"], boom)
    assert not net[0]._forward_hooks


# -- central_pixel / occlusion_case / plot_region_timeline ------------------------------------


def test_central_pixel_is_the_deepest_pixel_inside_the_mask():
    m = np.zeros((21, 21))
    m[5:16, 5:16] = 1
    assert central_pixel(m) == (10, 10)
    ring = m.copy()
    ring[9:12, 9:12] = 0  # the centroid (10, 10) is now outside the mask
    y, x = central_pixel(torch.from_numpy(ring)[None, None])
    assert ring[y, x] == 1
    # brute force: the chosen pixel is as far from every outside pixel as any mask pixel is
    outside = np.argwhere(np.pad(ring, 1) == 0) - 1
    depth = lambda p: np.sqrt(((outside - p) ** 2).sum(1)).min()
    best = max(depth(p) for p in np.argwhere(ring == 1))
    assert depth(np.array([y, x])) == pytest.approx(best, abs=0.5)
    # a mask touching the frame edge: the edge counts as border
    edge = np.zeros((30, 30))
    edge[:, :6] = 1  # a 6-px wide strip along the left edge, full height
    assert central_pixel(edge)[1] in (2, 3)
    with pytest.raises(ValueError, match="empty"):
        central_pixel(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"must be \(H, W\)"):
        central_pixel(np.zeros((2, 4, 4)))


def _meta(objects):
    return {"objects": objects}


def _obj(i, role, vis, mimics=None):
    return {"id": i, "role": role, "mimics": mimics, "per_frame": {"visible_px": vis}}


def test_occlusion_case_picks_a_hidden_target_with_a_lookalike():
    meta = _meta(
        [
            _obj(1, "target", [100, 100, 100, 100]),  # never hidden
            _obj(2, "target", [100, 90, 0, 0, 0, 80]),  # hidden, no look-alike
            _obj(3, "target", [50, 40, 0, 0, 45]),  # hidden, has a look-alike
            _obj(4, "distractor", [30, 30, 30, 30, 30], mimics=3),
            _obj(5, "occluder", [0, 0, 0, 0, 0]),
        ]
    )
    assert occlusion_case(meta) == {
        "object_id": 3,
        "before": 1,
        "hidden": 2,
        "back": 4,
        "distractor_ids": [4],
        "reference_px": 50,
    }
    assert occlusion_case(meta, need_distractor=False)["object_id"] == 2
    assert occlusion_case(_meta([_obj(1, "target", [5, 5])])) is None
    with pytest.raises(ValueError, match="no 'objects'"):
        occlusion_case({})


def test_occlusion_case_on_the_shipped_metadata():
    # notebook 02 picks its video this way
    import json

    from dgmpm_lite.data import data_samples_root

    files = sorted((data_samples_root() / "Metadata").glob("*/val_*.json"))
    if not files:
        pytest.skip("no synthetic metadata in data_samples")
    found = [c for c in (occlusion_case(json.loads(f.read_text())) for f in files) if c]
    assert found, "notebook 02 needs a validation video with an occluded target and a look-alike"
    for c in found:
        assert c["before"] < c["hidden"] < c["back"]


def test_plot_region_timeline_lines_and_shading():
    ax = plot_region_timeline(
        [0, 1, 2, 3], {"a": [0.1, 0.2, np.nan, 0.4], "b": [1, 1, 1, 1]}, hidden=[False, False, True, False]
    )
    assert len(ax.lines) == 2 and len(ax.patches) == 1
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [1, 1, 1, 1])
    with pytest.raises(ValueError, match="3 values for 4 frames"):
        plot_region_timeline([0, 1, 2, 3], {"a": [1, 2, 3]})
    with pytest.raises(ValueError, match="series is empty"):
        plot_region_timeline([0], {})
    with pytest.raises(ValueError, match="hidden has 2 values"):
        plot_region_timeline([0, 1, 2], {"a": [1, 2, 3]}, hidden=[True, False])


def test_the_notebooks_small_figures_draw_what_they_are_given():
    import matplotlib.pyplot as plt

    from dgmpm_lite.viz import boundary_tolerance_image, plot_counts, plot_grouped_bars

    fig = plot_grouped_bars({"res2": {"in": 0.2, "out": 0.4}, "res3": {"in": 0.6, "out": 0.8}}, "alpha", (0, 1))
    heights = sorted(round(p.get_height(), 3) for p in fig.axes[0].patches)
    assert heights == [0.2, 0.4, 0.6, 0.8] and fig.axes[0].get_ylim() == (0, 1)
    plt.close(fig)
    fig = plot_counts({"encoder": 3_000_000, "decoder": 1_000_000}, "million parameters", scale=1e6)
    assert sorted(p.get_width() for p in fig.axes[0].patches) == [1.0, 3.0]
    plt.close(fig)
    band = np.zeros((4, 4), bool)
    band[1:3, 1:3] = True
    gt, pred = np.zeros((4, 4)), np.zeros((4, 4))
    gt[1, 1], pred[2, 2] = 1, 1
    img = boundary_tolerance_image(gt, pred, band)
    assert img.shape == (4, 4, 3)
    assert tuple(img[1, 1]) == (1, 1, 1) and tuple(img[2, 2]) == (1, 0.3, 0.2) and tuple(img[1, 2]) == (0.3, 0.3, 0.6)
    assert tuple(img[0, 0]) == (0, 0, 0)
