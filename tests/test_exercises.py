"""The exercise checkers pass a correct answer and fail the typical wrong ones with a hint."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dgmpm_lite import exercises as ex


def anchors_ok(h, m):
    return (h * m).sum((2, 3)) / m.sum((2, 3)), (h * (1 - m)).sum((2, 3)) / (1 - m).sum((2, 3))


def distance_ok(t, a_f, a_b):
    d_f = (t - a_f[:, :, None, None]).norm(dim=1, keepdim=True)
    d_b = (t - a_b[:, :, None, None]).norm(dim=1, keepdim=True)
    return torch.sigmoid(d_b - d_f)


def attention_ok(shallow, deep_up, w1, w2):
    alpha = torch.sigmoid(w2(F.relu(w1(torch.cat([deep_up, shallow], 1)))))
    return torch.cat([deep_up, alpha * shallow], 1), alpha


def iou_ok(gt, pred):
    union = np.count_nonzero(gt | pred)
    return 1.0 if union == 0 else np.count_nonzero(gt & pred) / union


CASES = [
    (
        ex.check_anchors,
        anchors_ok,
        [
            (lambda h, m: anchors_ok(h, m)[::-1], "swapped"),
            (lambda h, m: ((h * m).sum((2, 3)), (h * (1 - m)).sum((2, 3))), "not a mean"),
            (
                lambda h, m: (h.mean((2, 3)).expand(m.shape[0], -1), h.mean((2, 3)).expand(m.shape[0], -1)),
                "every pixel",
            ),
        ],
    ),
    (
        ex.check_distance_map,
        distance_ok,
        [
            (lambda t, f, b: 1 - distance_ok(t, f, b), "sign is flipped"),
            (lambda t, f, b: torch.logit(distance_ok(t, f, b)), "sigmoid is missing"),
            (lambda t, f, b: distance_ok(t, f, b)[:, 0], "shape"),
        ],
    ),
    (
        ex.check_spatial_attention,
        attention_ok,
        [
            (
                lambda s, d, w1, w2: (
                    torch.cat([attention_ok(s, d, w1, w2)[1] * s, d], 1),
                    attention_ok(s, d, w1, w2)[1],
                ),
                "wrong order",
            ),
            (lambda s, d, w1, w2: (torch.cat([d, s], 1), attention_ok(s, d, w1, w2)[1]), "not weighted"),
            (lambda s, d, w1, w2: (attention_ok(s, d, w1, w2)[0], w2(F.relu(w1(torch.cat([d, s], 1))))), "sigmoid"),
        ],
    ),
    (
        ex.check_downsampled_guide,
        lambda g, size: F.adaptive_avg_pool2d(g, size),
        [
            (lambda g, size: F.interpolate(g, size=size, mode="nearest"), "nearest"),
        ],
    ),
    (
        ex.check_region_similarity,
        iou_ok,
        [
            (lambda gt, pred: np.count_nonzero(gt & pred) / max(1, np.count_nonzero(gt)), "union"),
            (lambda gt, pred: np.count_nonzero(gt & pred) / max(1, np.count_nonzero(gt | pred)), "empty"),
        ],
    ),
    (
        ex.check_contour_accuracy,
        lambda p, r: 0.0 if p + r == 0 else 2 * p * r / (p + r),
        [
            (lambda p, r: (p + r) / 2, "harmonic"),
            (lambda p, r: float("nan") if p + r == 0 else 2 * p * r / (p + r), "P + R = 0"),
        ],
    ),
]


@pytest.mark.parametrize("check, right, wrongs", CASES, ids=[c[0].__name__ for c in CASES])
def test_checker_passes_the_right_answer_and_names_the_mistake(check, right, wrongs, capsys):
    assert check(right) is True
    assert "passed" in capsys.readouterr().out
    for wrong, hint in wrongs:
        assert check(wrong) is False
        out = capsys.readouterr().out
        assert "not yet" in out and hint in out, out


def test_a_stub_and_a_crash_are_reported_not_raised(capsys):
    def stub(h, m):
        raise NotImplementedError

    assert ex.check_anchors(stub) is False
    assert "fill in its body" in capsys.readouterr().out
    assert ex.check_anchors(lambda h, m: None) is False
    assert "return statement" in capsys.readouterr().out
    assert ex.check_anchors(lambda h, m: h.foo) is False
    assert "AttributeError" in capsys.readouterr().out
