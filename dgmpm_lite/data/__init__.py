"""Videos and masks for DGMPM: synthetic occlusion/distractor videos, DAVIS, your own video.

Three lines each::

    from dgmpm_lite.data import generate_video, SyntheticConfig
    from dgmpm_lite.viz import show_video
    video = generate_video(SyntheticConfig(num_frames=24), seed=3)   # in memory
    show_video(video)

    from dgmpm_lite.data import DavisDataset
    from dgmpm_lite.viz import show_video
    davis = DavisDataset("data_samples/synthetic", split="val")      # or a real DAVIS-2016/2017 root
    show_video(davis[0])

    from dgmpm_lite.data import load_own_video
    from dgmpm_lite.viz import show_video
    clip = load_own_video("clip.mp4", "clip_first_mask.png")         # or a folder of frames
    show_video(clip, frames=[0])

Training samples (paper IV-B-1): :class:`VideoTripletDataset` (any video source, including an
endless :class:`SyntheticVideoSource`) and :class:`StaticTripletDataset` (lucid-dreaming-like
triplets from single images).
"""

from .davis import DavisDataset, DavisSequence, load_davis
from .download import DAVIS_2017_TRAINVAL_480P_URL, DownloadResult, download_davis
from .io import DAVIS_PALETTE, colorize_labels, read_image, read_label_png, write_jpeg, write_label_png
from .metadata import largest_occlusion_case, occlusion_case, occlusion_frames, read_instances, read_metadata
from .own_video import FrameFolderSequence, VideoFileSequence, extract_frames, load_own_video
from .samples import (
    AugmentConfig,
    StaticTripletDataset,
    VideoTripletDataset,
    erode_mask,
    lucid_dream,
    synthesize_prev_mask,
)
from .sequence import InMemorySequence, VideoSequence
from .sets import data_samples_root, make_data_samples
from .synthetic import (
    LazySyntheticSequence,
    SyntheticConfig,
    SyntheticVideo,
    SyntheticVideoSource,
    generate_dataset,
    generate_video,
    write_davis,
)

__all__ = [
    "AugmentConfig",
    "DAVIS_2017_TRAINVAL_480P_URL",
    "DAVIS_PALETTE",
    "DavisDataset",
    "DavisSequence",
    "DownloadResult",
    "FrameFolderSequence",
    "InMemorySequence",
    "LazySyntheticSequence",
    "StaticTripletDataset",
    "SyntheticConfig",
    "SyntheticVideo",
    "SyntheticVideoSource",
    "VideoFileSequence",
    "VideoSequence",
    "VideoTripletDataset",
    "colorize_labels",
    "data_samples_root",
    "download_davis",
    "erode_mask",
    "extract_frames",
    "generate_dataset",
    "generate_video",
    "load_davis",
    "load_own_video",
    "lucid_dream",
    "make_data_samples",
    "largest_occlusion_case",
    "occlusion_case",
    "occlusion_frames",
    "read_image",
    "read_instances",
    "read_metadata",
    "read_label_png",
    "synthesize_prev_mask",
    "write_davis",
    "write_jpeg",
    "write_label_png",
]
