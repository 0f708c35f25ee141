"""Per-table generative models behind one interface (``TableModel``)."""

from .base import ModelOptions, TableModel, available_models, get_model_class, load_model

__all__ = ["ModelOptions", "TableModel", "available_models", "get_model_class", "load_model"]
