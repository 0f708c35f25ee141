"""Autoregressive model over tokenised columns (registry name ``autoregressive``)."""

from .model import STATE_VERSION, AutoregressiveConfig, AutoregressiveModel

__all__ = ["STATE_VERSION", "AutoregressiveConfig", "AutoregressiveModel"]
