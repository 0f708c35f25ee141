"""Checks of what a model is given: the frame's columns and the parent context."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import DataError, ModelError
from ..schema import Column


def check_frame(frame: pd.DataFrame, columns: Sequence[Column], table: str) -> None:
    """Every column present, and at least one row to learn from."""
    where = f"table {table!r}" if table else "the table"
    missing = [c.name for c in columns if c.name not in frame.columns]
    if missing:
        raise DataError(f"{where} lacks column(s) {', '.join(map(repr, missing))} to model")
    if len(frame) == 0:
        raise DataError(f"{where} has no rows; there is nothing to learn from")


def check_context(
    context: np.ndarray | None, n: int, width: int | None, table: str
) -> np.ndarray | None:
    """Validate a context matrix (float32); ``width`` None means fit (any width, or none)."""
    if context is None:
        if width:
            raise ModelError(f"this model was fitted with a {width}-wide context; pass one")
        return None
    try:
        ctx = np.asarray(context, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"context must be a numeric matrix: {exc}") from exc
    if ctx.ndim != 2 or len(ctx) != n:
        raise ModelError(f"context must have shape ({n}, k); got {ctx.shape}")
    if width is not None and ctx.shape[1] != width:
        raise ModelError(f"context has {ctx.shape[1]} columns; the model was fitted with {width}")
    if not np.isfinite(ctx).all():
        where = f" for table {table!r}" if table else ""
        raise ModelError(f"context{where} holds NaN or infinite values; encode nulls first")
    return ctx
