"""Real and synthetic rows in one representation, for the privacy metrics (``metrics``).

Each column gets a kind from the real rows (numeric, datetime or discrete) and a canonical
form (values, null) in which equal values are equal whatever their dtype: rows are hashed
on it for exact matches. For distances, numeric and datetime columns become their
mid-rank empirical CDF over the real rows (a null at ``NULL_POSITION`` plus a null
indicator); discrete columns a one-hot over the real rows' ``MAX_CATEGORIES`` most
frequent values, "other" and null, each slot ``ONE_HOT_SCALE`` so that a mismatch costs
what a full-range numeric difference costs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

MAX_CATEGORIES = 256
NULL_POSITION = 0.5
ONE_HOT_SCALE = 1.0 / math.sqrt(2.0)
_NUMERIC_OBJECTS = {"integer", "floating", "mixed-integer-float", "decimal"}
_DATETIME_OBJECTS = {"date", "datetime", "datetime64"}


def canonical_columns(
    stacked: pd.DataFrame, n_real: int, forced: set
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(kind, values, null) per column of ``stacked`` (training, holdout and synthetic rows,
    in that order; the first ``n_real`` rows are real and decide each column's kind)."""
    out = []
    for i, name in enumerate(stacked.columns):
        series = stacked.iloc[:, i]
        kind = "discrete" if name in forced else _kind(series.iloc[:n_real])
        out.append((kind, *_canonical(series, kind)))
    return out


def row_hashes(canonical: list[tuple[str, np.ndarray, np.ndarray]]) -> np.ndarray:
    """One hash per row over every column's (values, null): equal rows, equal hashes."""
    raw: dict[str, np.ndarray] = {}
    for i, (_, values, null) in enumerate(canonical):
        raw[f"v{i}"], raw[f"n{i}"] = values, null
    return pd.util.hash_pandas_object(pd.DataFrame(raw), index=False).to_numpy()


def distance_features(
    canonical: list[tuple[str, np.ndarray, np.ndarray]], sample: np.ndarray, n_real: int
) -> np.ndarray:
    """Distance features of the ``sample`` rows (the first ``n_real`` of them real)."""
    blocks = []
    for kind, values, null in canonical:
        encode = _one_hot if kind == "discrete" else _quantiles
        blocks.append(encode(values[sample], null[sample], n_real))
    return np.hstack(blocks)


def _kind(real: pd.Series) -> str:
    """'numeric', 'datetime' or 'discrete', from the real rows' dtype (or, for object
    columns, the values they hold: dates and Decimals arrive as Python objects)."""
    dtype = real.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "discrete"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "numeric"
    if pd.api.types.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(real, skipna=True)
        if inferred in _DATETIME_OBJECTS:
            return "datetime"
        if inferred in _NUMERIC_OBJECTS:
            return "numeric"
    return "discrete"


def _canonical(series: pd.Series, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(values, null): one representation per kind, so that equal values are equal across
    frames whatever their dtype (1 and 1.0, naive and UTC timestamps); nulls hold a fixed
    value so that two nulls are equal."""
    if kind == "numeric":
        if pd.api.types.is_timedelta64_dtype(series.dtype):
            series = series.dt.total_seconds()
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        null = np.isnan(values)
        return np.where(null, 0.0, values + 0.0), null  # + 0.0 turns -0.0 into 0.0
    if kind == "datetime":
        stamps = pd.to_datetime(series, errors="coerce", utc=True)
        null = stamps.isna().to_numpy()
        values = stamps.dt.tz_localize(None).dt.as_unit("us").to_numpy().view("int64")
        return np.where(null, 0, values), null
    null = series.isna().to_numpy()
    values = series.astype(object).to_numpy().astype(str)
    return np.where(null, "", values).astype(object), null


def _quantiles(values: np.ndarray, null: np.ndarray, n_real: int) -> np.ndarray:
    """Mid-rank empirical CDF of the real non-null values, a null position and, when the
    column has nulls, a null indicator."""
    real = np.sort(values[:n_real][~null[:n_real]])
    if len(real):
        left = np.searchsorted(real, values, side="left")
        right = np.searchsorted(real, values, side="right")
        position = (left + right) / (2.0 * len(real))
    else:
        position = np.full(len(values), NULL_POSITION)
    position[null] = NULL_POSITION
    if null.any():
        return np.column_stack([position, null.astype(float)])
    return position[:, None]


def _one_hot(values: np.ndarray, null: np.ndarray, n_real: int) -> np.ndarray:
    """One-hot over the real rows' most frequent values, 'other' and null; unused slots
    are dropped (they add nothing to any distance)."""
    real = pd.Series(values[:n_real][~null[:n_real]])
    top = real.value_counts(sort=True).index[:MAX_CATEGORIES]
    codes = pd.Index(top).get_indexer(values)
    codes[codes < 0] = len(top)  # other
    codes[null] = len(top) + 1
    used, compact = np.unique(codes, return_inverse=True)
    out = np.zeros((len(values), len(used)))
    out[np.arange(len(values)), compact] = ONE_HOT_SCALE
    return out
