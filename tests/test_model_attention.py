"""Attention blocks (III-C-2, eq. 6-8) and the DFN channel attention block."""

import torch
import torch.nn.functional as F

from dgmpm_lite.model import ChannelAttentionBlock, NoAttentionBlock, SpatialAttentionBlock


def test_spatial_block_shapes_and_layers():
    block = SpatialAttentionBlock(deep_channels=16, shallow_channels=8)
    assert (block.w1.kernel_size, block.w1.out_channels) == ((3, 3), 32)  # W1: 3x3x32
    assert (block.w2.kernel_size, block.w2.out_channels) == ((3, 3), 1)  # W2: 3x3x1
    shallow, deep = torch.randn(2, 8, 12, 14), torch.randn(2, 16, 6, 7)
    out, alpha = block(shallow, deep)
    assert out.shape == (2, 24, 12, 14)
    assert alpha.shape == (2, 1, 12, 14)
    assert torch.all((alpha > 0) & (alpha < 1))


def test_spatial_block_composes_eq_6_to_8():
    torch.manual_seed(0)
    block = SpatialAttentionBlock(4, 3)
    shallow, deep = torch.randn(1, 3, 8, 8), torch.randn(1, 4, 4, 4)
    out, alpha = block(shallow, deep)
    up = F.interpolate(deep, size=(8, 8), mode="bilinear", align_corners=False)  # Up(F_d)
    f = F.conv2d(
        F.relu(F.conv2d(torch.cat([up, shallow], 1), block.w1.weight, block.w1.bias, padding=1)),
        block.w2.weight,
        block.w2.bias,
        padding=1,
    )  # eq. 7
    expected_alpha = torch.sigmoid(f)  # eq. 6
    torch.testing.assert_close(alpha, expected_alpha)
    torch.testing.assert_close(out[:, :4], up)  # eq. 8, first part: Up(F_d)
    torch.testing.assert_close(out[:, 4:], expected_alpha * shallow)  # eq. 8: alpha (x) F_l


def test_spatial_attention_can_switch_a_region_off():
    """With a hand-set W2 bias the block gates F_l: alpha -> 0 removes it, alpha -> 1 keeps it."""
    block = SpatialAttentionBlock(2, 2)
    with torch.no_grad():
        block.w2.weight.zero_()
        block.w2.bias.fill_(-20.0)
    shallow, deep = torch.randn(1, 2, 6, 6), torch.randn(1, 2, 3, 3)
    out, _ = block(shallow, deep)
    assert out[:, 2:].abs().max() < 1e-6
    with torch.no_grad():
        block.w2.bias.fill_(20.0)
    out, _ = block(shallow, deep)
    torch.testing.assert_close(out[:, 2:], shallow)


def test_channel_block_weights_channels_not_pixels():
    block = ChannelAttentionBlock(deep_channels=6, shallow_channels=5)
    shallow, deep = torch.randn(2, 5, 10, 10), torch.randn(2, 6, 5, 5)
    out, w = block(shallow, deep)
    assert out.shape == (2, 11, 10, 10)
    assert w.shape == (2, 5, 1, 1)
    torch.testing.assert_close(out[:, 6:], w * shallow)


def test_no_attention_block_is_plain_concatenation():
    out, att = NoAttentionBlock(3, 2)(torch.randn(1, 2, 4, 4), torch.randn(1, 3, 2, 2))
    assert out.shape == (1, 5, 4, 4) and att is None
