"""Fit and generate over the whole schema graph: keys, FKs, child counts, per-table models."""

from .engine import RelationalModel, fit_relational

__all__ = ["RelationalModel", "fit_relational"]
