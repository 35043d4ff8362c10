"""Device and precision selection shared by training, inference and the benchmark."""

from __future__ import annotations

import torch


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` picks cuda, then mps, then cpu; anything else is passed to ``torch.device``."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        return torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"unknown device {device!r}: use auto, cpu, cuda, cuda:0 or mps") from err


def cpu_has_native_bfloat16() -> bool:
    """True on a CPU with AVX512-BF16 or AMX instructions.

    There oneDNN runs bfloat16 convolutions natively, about twice as fast as float32; on
    other CPUs bfloat16 is emulated and slower than float32, so it is not used.
    """
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def autocast_dtype(device: torch.device, amp: bool = True) -> torch.dtype | None:
    """The mixed-precision type of inference on ``device``, or None for plain float32.

    float16 on CUDA; bfloat16 on a CPU with native bfloat16 instructions
    (:func:`cpu_has_native_bfloat16`); float32 elsewhere (MPS, older CPUs) or with
    ``amp=False``.
    """
    if not amp:
        return None
    if device.type == "cuda":
        return torch.float16
    if device.type == "cpu" and cpu_has_native_bfloat16():
        return torch.bfloat16
    return None


def autocast(device: torch.device, dtype: torch.dtype | None):
    """``torch.autocast`` to ``dtype`` on ``device``'s type, a no-op for None (float32)."""
    return torch.autocast(device.type, dtype=dtype, enabled=dtype is not None)


def precision_name(dtype: torch.dtype | None) -> str:
    """``"float32"`` for None, else the dtype's short name (``"bfloat16"``, ``"float16"``)."""
    return "float32" if dtype is None else str(dtype).removeprefix("torch.")
