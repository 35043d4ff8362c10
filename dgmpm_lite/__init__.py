"""dgmpm_lite: a teaching re-implementation of the Distance-Guided Mask Propagation Model.

Liu, Li, Dai, Tang, "Distance-Guided Mask Propagation Model for Efficient Video Object
Segmentation". No public code exists; this package is rebuilt from the paper.

Sub-packages follow the paper:
- :mod:`dgmpm_lite.model` - section III (feature extractor, embedding distance module,
  spatial attention blocks, feature integration network, the whole model);
- :mod:`dgmpm_lite.data` - videos and masks (synthetic, DAVIS, your own video).
"""

from pathlib import Path

__version__ = "0.1.0"

REPO_ROOT = Path(__file__).resolve().parent.parent
"""Repository root when installed in editable mode (``pip install -e .``)."""
