"""CTGAN engine: our own conditional tabular GAN in PyTorch (no sdv/ctgan/rdt).

``CTGANModel`` implements ``TableModel``; options come from ``ModelOptions`` (see
``CTGANConfig`` for the model-specific ``extra`` keys and their defaults).
"""

from ..device import resolve_device
from .model import STATE_VERSION, CTGANModel
from .options import CTGANConfig

__all__ = ["CTGANConfig", "CTGANModel", "STATE_VERSION", "resolve_device"]
