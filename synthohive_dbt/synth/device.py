"""Torch devices and generators for the neural models (``ctgan``, ``autoregressive``)."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ModelError


def resolve_device(name: str) -> torch.device:
    """'cpu', 'cuda', 'cuda:N' or 'auto' (CUDA when available); CUDA must be available."""
    name = (name or "cpu").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError(
            f"device {name!r} requested but CUDA is not available to torch "
            f"{torch.__version__}; use --device cpu or install a CUDA build of torch"
        )
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise ModelError(f"unknown device {name!r}; use cpu, cuda, cuda:N or auto") from exc


def torch_generator(rng: np.random.Generator, device: torch.device) -> torch.Generator:
    """A torch generator on ``device`` seeded from ``rng`` (no global RNG state)."""
    g = torch.Generator(device=device)
    g.manual_seed(int(rng.integers(0, 2**62)))
    return g
