"""What a model is given, checked once for every model: ``FitData`` and the checks of
the frame's columns and of the parent context."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, ModelError
from ..progress import Reporter
from ..schema import Column


@dataclass(frozen=True)
class FitData:
    """One table's training input, checked (``TableModel.fit``): ``frame`` holds every
    column of ``columns`` and at least one row; ``context`` is None or a finite
    (rows, d) matrix with d > 0; ``holdout`` marks rows never trained on (given only to
    models that accept one, and only when it marks a row)."""

    frame: pd.DataFrame
    columns: tuple[Column, ...]
    context: np.ndarray | None
    holdout: np.ndarray | None
    rng: np.random.Generator
    reporter: Reporter
    table: str


def check_frame(frame: pd.DataFrame, columns: Sequence[Column], table: str) -> None:
    """Every column present once, and at least one row to learn from."""
    where = f"table {table!r}" if table else "the table"
    names = [c.name for c in columns]
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise DataError(f"{where} lacks column(s) {', '.join(map(repr, missing))} to model")
    if len(set(names)) != len(names):
        raise ModelError(f"{where}: columns are listed twice: {sorted(names)}")
    if len(frame) == 0:
        raise DataError(f"{where} has no rows; there is nothing to learn from")


def check_context(
    context: np.ndarray | None,
    n: int,
    width: int | None,
    table: str,
    *,
    optional: bool = False,
    dtype: type = np.float32,
) -> np.ndarray | None:
    """Validate a context matrix (a vector is one column); ``width`` None means fit
    (any width, or none). ``optional``: a model fitted with a context may sample
    without one."""
    if context is None:
        if width and not optional:
            raise ModelError(f"this model was fitted with a {width}-wide context; pass one")
        return None
    try:
        ctx = np.asarray(context, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"context must be a numeric matrix: {exc}") from exc
    if ctx.ndim == 1:
        ctx = ctx[:, None]
    if ctx.ndim != 2 or len(ctx) != n:
        raise ModelError(f"context must have shape ({n}, k); got {ctx.shape}")
    if width is not None and ctx.shape[1] != width:
        raise ModelError(f"context has {ctx.shape[1]} columns; the model was fitted with {width}")
    if not np.isfinite(ctx).all():
        where = f" for table {table!r}" if table else ""
        raise ModelError(f"context{where} holds NaN or infinite values; encode nulls first")
    return ctx
