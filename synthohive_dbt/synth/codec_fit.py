"""Fitting column codecs on a training frame: which kind each column is, its range, its
categories, and how the values kept out of the categories decode.

A column is discrete when declared so (``synthohive_kind``, ``accepted_values``), when it
is text or boolean, or when it holds few distinct numbers; otherwise continuous. Privacy:
no value seen in fewer than ``min_rows`` real rows is stored (see DEFAULT_MIN_ROWS).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..privacy.settings import MIN_CATEGORY_ROWS
from ..privacy.settings import is_public as public_meta
from ..schema import Column, LogicalType
from .columns import CONTINUOUS, DISCRETE, NULL, UUID, ColumnCodec
from .shapes import learn_shapes
from .values import category_keys, json_safe, to_numeric

#: integer columns with at most this many distinct values are treated as categories
MAX_INTEGER_CATEGORIES = 20
#: numbers with up to this many distinct values, each seen this often on average, are
#: categories too (prices, amounts in cents that are sums of a few prices): a mixture of
#: Gaussians spreads such lumpy values and loses their exact distribution
MAX_LUMPY_CATEGORIES, MIN_ROWS_PER_LUMP = 100, 20
#: a discrete column keeps its most frequent values up to this many categories; the rest
#: fall into one "other" category that decodes to a value drawn from ``other_values``
MAX_CATEGORIES = 500
MAX_OTHER_VALUES = 2000
#: privacy: a value seen in fewer real rows than this is never stored nor decoded; it falls
#: into "other", which decodes it to a new value (text: a string of the rare values' shapes;
#: numbers: a number within the protected range). A continuous column's range is clipped
#: to its k-th smallest and largest values. ``synthohive_privacy: public`` opts a column out.
DEFAULT_MIN_ROWS = MIN_CATEGORY_ROWS


def fit_codecs(
    frame: pd.DataFrame, columns: Sequence[Column], min_rows: int = DEFAULT_MIN_ROWS
) -> list[ColumnCodec]:
    """Fit one codec per column of ``columns`` (which must carry their warehouse type),
    keeping no value seen in fewer than ``min_rows`` rows (see DEFAULT_MIN_ROWS).

    Raises DataError listing every column that cannot be modelled.
    """
    problems: list[str] = []
    codecs: list[ColumnCodec] = []
    for column in columns:
        try:
            codecs.append(fit_codec(frame[column.name], column, min_rows))
        except DataError as exc:
            problems.append(str(exc))
    if problems:
        raise DataError("some columns cannot be modelled", problems)
    return codecs


def is_public(column: Column) -> bool:
    """``config.meta: synthohive_privacy: public``: its values may be kept as they are."""
    return public_meta(column.meta)


def fit_codec(series: pd.Series, column: Column, min_rows: int = DEFAULT_MIN_ROWS) -> ColumnCodec:
    if is_public(column):
        min_rows = 1
    logical = column.type.logical if column.type else _guess_logical(series)
    name = str(column.name)
    dtype = str(series.dtype)
    n = len(series)
    null = series.isna().to_numpy()
    null_rate = float(null.mean()) if n else 0.0
    base = dict(name=name, logical=logical.value, dtype=dtype, null_rate=null_rate)
    if n == 0 or null.all():
        return ColumnCodec(kind=NULL, **base)
    if logical is LogicalType.UUID:
        return ColumnCodec(kind=UUID, **base)
    if logical is LogicalType.UNSUPPORTED:
        raise DataError(f"column {name!r} has an unsupported type; skip it with synthohive_ignore")
    if _is_discrete(series, column, logical):
        return _fit_discrete(series, column, base, min_rows)
    values = to_numeric(series, logical.value)
    finite = values[~np.isnan(values)]
    if not np.isfinite(finite).all():
        raise DataError(
            f"column {name!r} holds infinite values; replace them with NULL or finite bounds"
        )
    lo, hi = protected_range(finite, min_rows)
    if column.accepted_range is not None:  # declared bounds are public: they decide
        rlo, rhi = column.accepted_range
        lo = max(float(finite.min()), rlo) if rlo is not None else lo
        hi = min(float(finite.max()), rhi) if rhi is not None else hi
    integral = logical is LogicalType.INTEGER or logical is LogicalType.DATE
    tz = str(series.dt.tz) if logical is LogicalType.TIMESTAMPTZ and hasattr(series, "dt") else None
    decimals = _decimals(column) if logical is LogicalType.NUMERIC else None
    step = _time_step(finite) if logical.value.startswith("timestamp") else None
    return ColumnCodec(
        kind=CONTINUOUS,
        integral=integral,
        minimum=lo,
        maximum=hi,
        decimals=decimals,
        tz=tz,
        step=step,
        **base,
    )


def protected_range(values: np.ndarray, min_rows: int) -> tuple[float, float]:
    """(k-th smallest, k-th largest) of ``values``: no single real row's extreme value
    bounds the column; tables with fewer than 2k values take the two middle values."""
    ordered = np.sort(values)
    n = len(ordered)
    k = max(int(min_rows), 1)
    lo_i = min(k - 1, (n - 1) // 2)
    hi_i = max(n - k, n // 2)
    return float(ordered[lo_i]), float(ordered[hi_i])


def _time_step(seconds: np.ndarray) -> float | None:
    """The coarsest of day/minute/second that every observed timestamp is a multiple of."""
    for step in (86_400.0, 60.0, 1.0):
        if np.all(np.mod(seconds, step) == 0):
            return step
    return None


def _fit_discrete(
    series: pd.Series, column: Column, base: dict[str, Any], min_rows: int
) -> ColumnCodec:
    keys = category_keys(series.dropna())
    counts = keys.value_counts(sort=True)
    logical = LogicalType(base["logical"])
    if column.accepted_values is not None or logical is LogicalType.BOOLEAN:
        min_rows = 1  # declared values are public; true/false identify no one
    if column.accepted_values is not None:
        allowed = {json_safe(v) for v in column.accepted_values} | {
            str(v) for v in column.accepted_values
        }
        keep = [k in allowed or str(k) in allowed for k in counts.index]
        if not all(keep):
            outside = [k for k, ok in zip(counts.index, keep, strict=True) if not ok]
            rows = int(counts[[not ok for ok in keep]].sum())
            raise DataError(
                f"column {base['name']!r} holds {len(outside)} value(s) outside its "
                f"accepted_values test ({rows} rows; `dbt test` on the real table lists "
                "them); fix the data or the test"
            )
    # deterministic order: by frequency, then by value text
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    frequent = [kv for kv in ordered if kv[1] >= min_rows]
    rare = [kv for kv in ordered if kv[1] < min_rows]
    kept = frequent[:MAX_CATEGORIES]
    beyond = frequent[MAX_CATEGORIES:][:MAX_OTHER_VALUES]
    categories = [json_safe(k) for k, _ in kept]
    freqs = [float(c) for _, c in kept]
    if not beyond and not rare:
        total = sum(freqs) or 1.0
        return ColumnCodec(
            kind=DISCRETE,
            categories=tuple(categories),
            frequencies=tuple(f / total for f in freqs),
            **base,
        )
    other_rows = float(sum(c for _, c in frequent[MAX_CATEGORIES:]) + sum(c for _, c in rare))
    categories.append("__synthohive_other__")
    freqs.append(other_rows)
    total = sum(freqs) or 1.0
    rare_rows = float(sum(c for _, c in rare))
    return ColumnCodec(
        kind=DISCRETE,
        categories=tuple(categories),
        frequencies=tuple(f / total for f in freqs),
        other_index=len(categories) - 1,
        other_values=tuple(json_safe(k) for k, _ in beyond),
        other_frequencies=tuple(float(c) for _, c in beyond),
        rare_share=rare_rows / other_rows if other_rows else 0.0,
        **base,
        **_rare_decoding(rare, frequent, logical, min_rows),
    )


def _rare_decoding(
    rare: list[tuple[Any, int]], frequent: list[tuple[Any, int]], logical: LogicalType, k: int
) -> dict[str, Any]:
    """How rare values decode: text by their shapes, numbers within the protected range
    of the column, anything else (dates) as the frequent values."""
    if not rare:
        return {}
    if logical is LogicalType.TEXT:
        values = [v for v, _ in rare]
        return {"shapes": learn_shapes(values, [c for _, c in rare], k).to_json()}
    if logical in (LogicalType.INTEGER, LogicalType.NUMERIC, LogicalType.FLOAT):
        every = rare + frequent
        values = np.repeat(
            np.array([float(v) for v, _ in every]), np.array([c for _, c in every], dtype=int)
        )
        out: dict[str, Any] = {"rare_range": protected_range(values[~np.isnan(values)], k)}
        if logical is LogicalType.INTEGER or all(float(v).is_integer() for v, _ in every):
            out["integral"] = True
        else:  # as many decimals as the values show (cents stay cents)
            out["decimals"] = max(_shown_decimals(v) for v, _ in every)
        return out
    return {}


def _shown_decimals(value: Any) -> int:
    text = repr(float(value))
    return min(len(text.split(".")[1]), 6) if "." in text and "e" not in text else 6


def _is_discrete(series: pd.Series, column: Column, logical: LogicalType) -> bool:
    if str(column.meta.get("synthohive_kind", "")) in (CONTINUOUS, DISCRETE):
        return column.meta["synthohive_kind"] == DISCRETE
    if column.accepted_values is not None:
        return True
    if logical in (LogicalType.TEXT, LogicalType.BOOLEAN):
        return True
    if logical in (LogicalType.INTEGER, LogicalType.NUMERIC, LogicalType.FLOAT):
        distinct = series.nunique(dropna=True)
        if logical is LogicalType.INTEGER and distinct <= MAX_INTEGER_CATEGORIES:
            return True
        lumpy = distinct * MIN_ROWS_PER_LUMP <= series.count()
        return 2 <= distinct <= MAX_LUMPY_CATEGORIES and lumpy
    return False


def _decimals(column: Column) -> int | None:
    native = column.type.native if column.type else ""
    if "," in native:
        try:
            return int(native.split(",")[1].strip(" )"))
        except ValueError:
            return None
    return None


def _guess_logical(series: pd.Series) -> LogicalType:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return LogicalType.BOOLEAN
    if pd.api.types.is_integer_dtype(dtype):
        return LogicalType.INTEGER
    if pd.api.types.is_float_dtype(dtype):
        return LogicalType.FLOAT
    if isinstance(dtype, pd.DatetimeTZDtype):
        return LogicalType.TIMESTAMPTZ
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return LogicalType.TIMESTAMP
    return LogicalType.TEXT
