"""Value conversions behind the column codecs, shared by fitting and by encode/decode.

Warehouse values to float64 (dates as epoch days, timestamps as epoch seconds in UTC) and
to hashable, JSON-safe category keys; a decoded series back to its training dtype; random
version-4 UUIDs, vectorised. No codec state lives here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..schema import LogicalType

EPOCH_DAY_SECONDS = 86_400.0


def category_keys(series: pd.Series) -> pd.Series:
    """Hashable, JSON-safe keys: bools stay bools, numbers numbers, everything else text.

    Object and float columns keep bools and numbers too (nullable booleans arrive as
    object, integer columns with nulls as float64). Converted once per distinct value,
    not per row; nulls become None.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    keys = np.empty(len(uniques) + 1, dtype=object)  # the last slot (code -1) is null
    keys[:-1] = [json_safe(v) for v in np.asarray(uniques, dtype=object)]
    keys[-1] = None
    return pd.Series(keys[codes], index=series.index, name=series.name, dtype=object)


def to_numeric(series: pd.Series, logical: str) -> np.ndarray:
    """``series`` as float64, NaN for null: dates in epoch days, timestamps in epoch
    seconds (UTC), anything else as a number (DataError where text is mixed in)."""
    kind = LogicalType(logical)
    if kind in (LogicalType.DATE, LogicalType.TIMESTAMP, LogicalType.TIMESTAMPTZ):
        stamps = pd.to_datetime(series, utc=kind is LogicalType.TIMESTAMPTZ)
        if kind is LogicalType.TIMESTAMPTZ:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        micros = stamps.astype("datetime64[us]").astype("int64").to_numpy().astype(np.float64)
        micros[stamps.isna().to_numpy()] = np.nan
        unit = EPOCH_DAY_SECONDS if kind is LogicalType.DATE else 1.0
        return micros / 1e6 / unit
    try:
        return (
            pd.to_numeric(series, errors="raise")
            .astype("Float64")
            .to_numpy(dtype=np.float64, na_value=np.nan)
        )
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"column {series.name!r} mixes numbers and text ({exc}); cast it in a model "
            "or mark it `synthohive_kind: discrete` in its config.meta"
        ) from exc


def is_string_dtype(dtype: str) -> bool:
    """Whether the dtype name ``dtype`` is a pandas string dtype."""
    try:
        return isinstance(pd.api.types.pandas_dtype(dtype), pd.StringDtype)
    except TypeError:
        return False


def restore_dtype(series: pd.Series, dtype: str) -> pd.Series:
    """``series`` as the training column's pandas ``dtype``, left as it is where that fails."""
    try:
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_UUID_HEX_POS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def random_uuids(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random version-4 UUIDs as canonical strings (object array), vectorised."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return _uuid_text(raw)


def _uuid_text(raw: np.ndarray) -> np.ndarray:
    """(n, 16) uint8 -> n canonical 8-4-4-4-12 uuid strings, without a per-row loop."""
    digits = np.stack([_HEX[raw >> 4], _HEX[raw & 0x0F]], axis=2).reshape(len(raw), 32)
    chars = np.full((len(raw), 36), ord("-"), dtype=np.uint8)
    chars[:, _UUID_HEX_POS] = digits
    return np.ascontiguousarray(chars).view("S36").ravel().astype(str).astype(object)


def json_safe(value: Any) -> Any:
    """A scalar as a JSON value: bools, ints and floats as Python's (NaN as None), else text."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return str(value)
