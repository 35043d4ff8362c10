"""The DGMPM model, one module per idea of the paper (section III).

- :mod:`.backbone`  - III-A feature extractor (Siamese ResNet, multi-level embedding)
- :mod:`.distance`  - III-B embedding distance module, eq. 1-5
- :mod:`.attention` - III-C-2 spatial attention block, eq. 6-8 (and DFN channel attention)
- :mod:`.decoder`   - III-C-1 feature integration network
- :mod:`.dgmpm`     - the whole model with its ablation switches
"""

from .attention import ChannelAttentionBlock, NoAttentionBlock, SpatialAttentionBlock
from .backbone import FeatureExtractor, FeatureExtractorOutput, load_resnet
from .decoder import FeatureIntegrationNetwork, ResidualBlock
from .dgmpm import DGMPM, MODEL_KEYS, DGMPMConfig, DGMPMOutput, ReferenceEncoding, TargetFeatures, guide_names
from .distance import EmbeddingDistance, anchors, distance_map, embedding_distance

__all__ = [
    "DGMPM",
    "DGMPMConfig",
    "MODEL_KEYS",
    "guide_names",
    "DGMPMOutput",
    "ReferenceEncoding",
    "TargetFeatures",
    "FeatureExtractor",
    "FeatureExtractorOutput",
    "load_resnet",
    "EmbeddingDistance",
    "anchors",
    "distance_map",
    "embedding_distance",
    "SpatialAttentionBlock",
    "ChannelAttentionBlock",
    "NoAttentionBlock",
    "FeatureIntegrationNetwork",
    "ResidualBlock",
]
