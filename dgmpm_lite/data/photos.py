"""Real-photo textures for the synthetic generator: public-domain and CC0 photos that ship.

The procedural textures of :mod:`.synthetic` (stripes, checker, noise, spots, gradients)
teach a model what procedural textures look like; real footage has the structure of real
surfaces. DAVIS frames cannot ship (CC BY-NC), but a few photographs whose licence allows
it can: these eight come from scikit-image's sample data, each public domain or CC0
(``data_samples/photos/README.md`` names the source and licence of each). Each photo is one
more texture kind, ``"photo/<name>"`` (:data:`PHOTO_TEXTURES`), that
:func:`~dgmpm_lite.data.synthetic.make_texture` paints with:

* a random crop of the photo, zoomed in (1 to 2 times past covering the patch) and maybe
  flipped, so every draw is another part of the same photo; a distractor that copies a
  target's texture kind is then another part of the same photo (like its colour statistics);
* grey photos (brick, grass, gravel, camera) are tinted between the object's first two
  colours, so their structure comes with the generator's colours.

A config uses them by listing the kinds, e.g.
``SyntheticConfig(textures=TEXTURE_KINDS + PHOTO_TEXTURES)``; configs that do not list them
render the same pixels as before.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from .. import SAMPLES_ROOT

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "brick", "grass", "gravel", "camera")
"""The shipped photos (``data_samples/photos/<name>.jpg``)."""

PHOTO_TEXTURES = tuple(f"photo/{name}" for name in PHOTOS)
"""Their texture kinds, for ``SyntheticConfig.textures`` and ``background_textures``."""


@functools.cache
def load_photo(name: str) -> np.ndarray:
    """The photo ``name`` as uint8, ``(h, w, 3)`` for colour photos and ``(h, w)`` for grey ones."""
    path = SAMPLES_ROOT / "photos" / f"{name}.jpg"
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(f"{path} is missing: reinstall dgmpm_lite, or restore data_samples/photos from git")
    if image.ndim == 3:
        image = np.ascontiguousarray(image[..., ::-1])  # BGR -> RGB
    image.setflags(write=False)
    return image


def photo_texture(kind: str, height: int, width: int, colours: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A ``float32 (height, width, 3)`` patch in 0..255 of the photo named by ``kind`` (``"photo/<name>"``)."""
    name = kind.split("/", 1)[1]
    if name not in PHOTOS:
        raise ValueError(f"unknown photo texture {kind!r}; choose from {PHOTO_TEXTURES}")
    photo = load_photo(name)
    h, w = photo.shape[:2]
    scale = max(height / h, width / w) * rng.uniform(1.0, 2.0)
    size = (max(width, math.ceil(w * scale)), max(height, math.ceil(h * scale)))
    big = cv2.resize(photo, size, interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA)
    y = int(rng.integers(size[1] - height + 1))
    x = int(rng.integers(size[0] - width + 1))
    patch = big[y : y + height, x : x + width].astype(np.float32)
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    if patch.ndim == 2:  # grey: tinted between the object's first two colours
        v = (patch / 255.0)[..., None]
        colours = np.asarray(colours, np.float32)
        patch = colours[0] * (1 - v) + colours[1] * v
    return np.ascontiguousarray(patch, dtype=np.float32)
