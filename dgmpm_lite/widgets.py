"""Interactive widgets of the exploration lab (notebook 09), core ipywidgets only.

Every widget only wires sliders to a pure function of :mod:`dgmpm_lite.explore` and shows the
image it returns; tests set a slider's ``value`` (which fires its observers) and check that
the picture changed.
"""

from __future__ import annotations

import io

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from . import explore
from .viz import explore as figures


def png_bytes(image) -> bytes:
    """A uint8 RGB array or a matplotlib figure as PNG bytes (figures are closed)."""
    if isinstance(image, np.ndarray):
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="PNG")
        return buf.getvalue()

    buf = io.BytesIO()
    image.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(image)
    return buf.getvalue()


class ImageWidget(W.VBox):
    """Controls on top, one image below, redrawn by ``render(**values)`` on every change."""

    def __init__(self, controls: dict[str, W.ValueWidget], render, width: int | None = None) -> None:
        self.controls = controls
        self.render = render
        self.image = W.Image(format="png")
        if width:
            self.image.layout.width = f"{width}px"
        self.status = W.HTML()
        for c in controls.values():
            c.observe(self._update, names="value")
        super().__init__([W.HBox(list(controls.values())), self.image, self.status])
        self._update()

    def _update(self, *_):
        values = {k: c.value for k, c in self.controls.items()}
        try:
            picture, text = self.render(**values)
        except (ValueError, IndexError) as err:
            self.status.value = f"<b>{err}</b>"
            return
        self.image.value = png_bytes(picture)
        self.status.value = text or ""


def _frame_slider(maps: explore.VideoMaps, first: int = 1) -> W.IntSlider:
    return W.IntSlider(value=first, min=first, max=len(maps) - 1, description="frame", continuous_update=False)


def _object_picker(maps: explore.VideoMaps) -> W.Dropdown:
    return W.Dropdown(options=maps.object_ids, value=maps.object_ids[0], description="object")


def frame_scrubber(maps: explore.VideoMaps) -> ImageWidget:
    """Scrub through the video with the predicted or the ground-truth masks over the frames."""
    show = W.ToggleButtons(options=["prediction", "ground truth"], description="masks")

    def render(frame, show):
        return figures.scrubber_image(maps, frame, show), f"frame {frame} of {len(maps) - 1}, {show}"

    return ImageWidget({"frame": _frame_slider(maps, first=0), "show": show}, render, width=480)


def anchor_explorer(maps: explore.VideoMaps) -> ImageWidget:
    """Reference embeddings in a PCA plane with both anchors, and a target pixel you move."""
    h, w = maps.frames[0].shape[:2]
    ys, xs = np.nonzero(maps.labels[1] == maps.object_ids[0])
    y0, x0 = (int(np.median(ys)), int(np.median(xs))) if len(ys) else (h // 2, w // 2)

    def render(frame, object, y, x):
        d = explore.pixel_distances(maps, frame, object, y, x)
        text = (
            f"||t-a_f|| = {d.d_fg:.2f}, ||t-a_b|| = {d.d_bg:.2f}, e = sigmoid({d.d_bg:.2f} - {d.d_fg:.2f}) = {d.e:.3f}"
        )
        return figures.anchor_explorer_figure(maps, frame, object, y, x), text

    controls = {
        "frame": _frame_slider(maps),
        "object": _object_picker(maps),
        "y": W.IntSlider(value=y0, min=0, max=h - 1, description="pixel y", continuous_update=False),
        "x": W.IntSlider(value=x0, min=0, max=w - 1, description="pixel x", continuous_update=False),
    }
    return ImageWidget(controls, render, width=720)


def distance_map_viewer(maps: explore.VideoMaps) -> ImageWidget:
    """The eq. 5 distance map of one object, frame by frame, beside the frame."""

    def render(frame, object):
        pic = np.concatenate(
            [figures.scrubber_image(maps, frame), figures.distance_map_image(maps, frame, object)], axis=1
        )
        return (
            pic,
            f"left: frame {frame} with the prediction; right: distance map of object {object} (bright = near a_f)",
        )

    return ImageWidget({"frame": _frame_slider(maps), "object": _object_picker(maps)}, render, width=720)


def attention_viewer(maps: explore.VideoMaps) -> ImageWidget:
    """The three spatial attention maps, shallow (res2) to deep (res4): the paper's Fig. 4."""

    def render(frame, object):
        pics = [maps.frames[frame], *figures.attention_images(maps, frame, object)]
        return np.concatenate(pics, axis=1), "frame, then attention of the res2 (shallow), res3 and res4 (deep) blocks"

    return ImageWidget({"frame": _frame_slider(maps), "object": _object_picker(maps)}, render, width=900)


def knockout_toggle(model, maps: explore.VideoMaps) -> ImageWidget:
    """Re-run a frame with one component of the trained model switched off."""
    switch = W.ToggleButtons(options=list(explore.KNOCKOUTS), description="switch off")

    def render(frame, switch_off, object):
        probs = explore.knockout(model, maps, frame, switch_off)
        k = maps.object_index(object)
        pic = np.concatenate([maps.frames[frame], figures.colormap(probs[k])], axis=1)
        return (
            pic,
            f"foreground probability of object {object} with {switch_off} switched off (mean {probs[k].mean():.3f})",
        )

    return ImageWidget(
        {"frame": _frame_slider(maps), "switch_off": switch, "object": _object_picker(maps)}, render, width=640
    )
