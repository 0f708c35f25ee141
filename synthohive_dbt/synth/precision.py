"""Which floating-point type the networks' matrix products use.

``precision`` is ``auto`` (default), ``float32`` or ``bfloat16``. ``auto`` takes bfloat16
where the hardware multiplies bfloat16 matrices natively (CUDA devices that support it;
CPUs with AMX-BF16 or AVX512-BF16, where oneDNN runs bfloat16 products several times
faster than float32) and float32 everywhere else. Only the products change type: weights,
optimiser state, losses, the gradient penalty's norm, softmaxes and the continuous
columns' outputs stay float32 (see ``Generator.folded``), so the model and its artifacts
are the same whichever precision trained or samples it.

The choice is made per machine when a model trains or samples, so one seed gives
bit-identical output on one machine; a machine with other matrix units may differ.
"""

from __future__ import annotations

import contextlib

import torch

from .base import PRECISIONS

__all__ = ["PRECISIONS", "autocast", "compute_dtype", "native_bfloat16"]


def native_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` multiplies bfloat16 matrices in hardware."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type == "cpu":
        cpu = torch.cpu
        checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
        return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)
    return False


def compute_dtype(precision: str, device: torch.device) -> torch.dtype:
    """The dtype of the matrix products for ``precision`` on ``device``."""
    if precision == "bfloat16" or (precision == "auto" and native_bfloat16(device)):
        return torch.bfloat16
    return torch.float32


def autocast(device: torch.device, dtype: torch.dtype):
    """A context that runs matrix products in ``dtype`` (nothing for float32)."""
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
