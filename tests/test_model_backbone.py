"""Feature extractor (III-A): side outputs, embedding, Siamese weights, offline weights."""

import urllib.error
import warnings

import pytest
import torch
from torchvision.models import ResNet18_Weights

from dgmpm_lite.model import FeatureExtractor, load_resnet


@pytest.mark.parametrize(
    "arch,channels",
    [
        ("resnet18", (64, 64, 128, 256, 512)),
        ("resnet50", (64, 256, 512, 1024, 2048)),
        ("efficientnet_lite0", (16, 24, 40, 112, 320)),
    ],
)
def test_side_outputs_and_embedding(arch, channels):
    fx = FeatureExtractor(arch, weights=None).eval()
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        emb, sides = fx(x)
    assert emb.shape == (2, 64, 64, 96)  # same resolution as the input, 64 channels
    assert [s.shape[1] for s in sides] == list(channels)
    assert [s.shape[-2:] for s in sides] == [(64 // s, 96 // s) for s in (2, 4, 8, 16, 32)]
    assert not hasattr(fx, "fc") and not hasattr(fx, "avgpool")


def _up(x, size):
    return torch.nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False)


def test_embedding_is_sum_of_upsampled_side_convs():
    """Levels summed on conv1's stride-2 grid, the sum upsampled to the input size."""
    fx = FeatureExtractor("resnet18", weights=None).eval()
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        emb, sides = fx(x)
        convs = [conv(s) for conv, s in zip(fx.side_convs, sides)]
        manual = _up(sum(_up(c, (32, 48)) for c in convs), (64, 96))
        # the paper's literal order: every level straight to the input size, then the sum
        direct = sum(_up(c, (64, 96)) for c in convs)
    assert all(c.kernel_size == (3, 3) and c.out_channels == 64 for c in fx.side_convs)
    assert emb.shape == (1, 64, 64, 96)
    torch.testing.assert_close(emb, manual)
    # two-step interpolation of the deep levels changes little: a few % of the spread
    spread = direct.std()
    assert (emb - direct).abs().mean() < 0.05 * spread
    assert not torch.allclose(emb, direct)  # but it is a different interpolation


def test_siamese_branches_share_weights():
    """Encoding two frames separately or as one batch gives the same features (eval mode)."""
    fx = FeatureExtractor("resnet18", weights=None).eval()
    a, b = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        both = fx(torch.cat([a, b])).embedding
        torch.testing.assert_close(both[1:], fx(b).embedding, rtol=1e-4, atol=1e-5)


def test_offline_imagenet_weights_warn_and_fall_back(monkeypatch):
    def no_network(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(ResNet18_Weights.IMAGENET1K_V1.__class__, "get_state_dict", no_network, raising=False)
    monkeypatch.setattr("torch.hub.load_state_dict_from_url", no_network)
    with pytest.warns(
        UserWarning, match="could not download ImageNet weights for resnet18.*random initialisation"
    ) as rec:
        net = load_resnet("resnet18", "imagenet")
    assert len(rec) == 1 and "\n" not in str(rec[0].message)
    assert net.eval()(torch.rand(1, 3, 64, 64)).shape == (1, 1000)


def test_real_download_attempt_fails_cleanly_offline(tmp_path, monkeypatch):
    """On this machine there is no internet: the real torchvision download must not crash."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fx = FeatureExtractor("resnet18", weights="imagenet")
    downloaded = not any("could not download" in str(w.message) for w in rec)
    if downloaded:  # a machine with internet: the weights must really be ImageNet's
        ref = ResNet18_Weights.IMAGENET1K_V1.get_state_dict(progress=False)
        torch.testing.assert_close(fx.conv1[0].weight, ref["conv1.weight"])
    assert fx.eval()(torch.rand(1, 3, 64, 64)).embedding.shape == (1, 64, 64, 64)


def test_unknown_backbone_and_weights():
    with pytest.raises(ValueError, match="unknown backbone 'vgg16'"):
        load_resnet("vgg16", None)
    with pytest.raises(ValueError, match="weights must be 'imagenet' or None"):
        load_resnet("resnet18", "coco")
