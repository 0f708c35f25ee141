"""Column codecs: raw warehouse values <-> numbers a model can learn from.

A codec is fitted per column on the training frame and is the one place that knows
about dtypes, time zones, integer-ness, decimals and nulls. Models see only:

* continuous columns: float64 arrays, NaN marking nulls (dates are epoch days,
  timestamps epoch seconds in UTC);
* discrete columns: int64 category codes, -1 marking nulls;
* ``uuid`` columns (non-key): not modelled, regenerated at random;
* ``null`` columns (every value null): not modelled, decoded as all-null.

Codecs are fitted by ``codec_fit``; the value conversions live in ``values``. Codecs
serialise to JSON (``to_json``/``from_json``): artifacts hold no pickles.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..schema import LogicalType
from .shapes import Shapes
from .values import (
    EPOCH_DAY_SECONDS,
    category_keys,
    is_string_dtype,
    json_safe,
    random_uuids,
    restore_dtype,
    to_numeric,
)

CONTINUOUS = "continuous"
DISCRETE = "discrete"
UUID = "uuid"
NULL = "null"


@dataclass(frozen=True)
class ColumnCodec:
    name: str
    logical: str  # LogicalType value
    kind: str  # CONTINUOUS | DISCRETE | UUID | NULL
    dtype: str  # pandas dtype of the training column, restored on decode
    null_rate: float = 0.0
    integral: bool = False
    minimum: float | None = None
    maximum: float | None = None
    decimals: int | None = None
    tz: str | None = None
    step: float | None = None  # timestamps: round to whole days/minutes/seconds as observed
    categories: tuple[Any, ...] = ()
    frequencies: tuple[float, ...] = ()
    other_index: int | None = None  # index of the "other" bucket within categories
    other_values: tuple[Any, ...] = field(default=())  # each seen in >= k real rows
    other_frequencies: tuple[float, ...] = ()  # weights of other_values (empty: uniform)
    rare_share: float = 0.0  # share of the "other" rows that were rare real values
    shapes: dict[str, Any] | None = None  # text: Shapes JSON of the rare values
    rare_range: tuple[float, float] | None = None  # numbers: where rare values decode

    @property
    def n_categories(self) -> int:
        return len(self.categories)

    # -- encode -----------------------------------------------------------------------
    def encode(self, series: pd.Series) -> np.ndarray:
        """Continuous: float64 with NaN for null. Discrete: int64 codes, -1 for null."""
        if self.kind == CONTINUOUS:
            return to_numeric(series, self.logical)
        if self.kind == DISCRETE:
            keys = category_keys(series)
            lookup = {c: i for i, c in enumerate(self.categories) if i != self.other_index}
            codes = keys.map(lookup)
            null = series.isna().to_numpy()
            unseen = codes.isna().to_numpy() & ~null
            if unseen.any():
                if self.other_index is None:
                    raise DataError(  # the value is not shown: errors end up in logs
                        f"column {self.name!r} holds {int(unseen.sum())} value(s) not seen "
                        "during fit; refit the model on the current data"
                    )
                codes[unseen] = self.other_index
            # copy: pandas 3 hands out read-only views
            out = codes.fillna(-1).to_numpy(dtype=np.int64, copy=True)
            out[null] = -1
            return out
        return np.full(len(series), np.nan)

    # -- decode -----------------------------------------------------------------------
    def decode(self, values: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """Inverse of ``encode``; values outside the observed range are clipped."""
        n = len(values)
        if self.kind == NULL:
            return pd.Series([None] * n, dtype=self.dtype, name=self.name)
        if self.kind == UUID:
            return _nullify(pd.Series(random_uuids(n, rng), name=self.name), self.null_rate, rng)
        if self.kind == DISCRETE:
            return self._decode_discrete(np.asarray(values), rng)
        return self._decode_continuous(np.asarray(values, dtype=np.float64))

    def _decode_discrete(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        codes = codes.astype(np.int64)
        if self.categories and _gathers(self.dtype):
            return self._decode_gathered(codes, rng)
        null = codes < 0
        cats = np.empty(len(self.categories), dtype=object)
        cats[:] = list(self.categories)
        picked = cats[np.clip(codes, 0, max(len(cats) - 1, 0))] if len(cats) else codes
        if self.other_index is not None:
            other = np.flatnonzero(codes == self.other_index)
            picked[other] = self._other(len(other), rng)
        series = pd.Series(picked, name=self.name, dtype=object)
        series[null] = None
        return restore_dtype(series, self.dtype)

    def _decode_gathered(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """String, integer, float and boolean columns: the categories (then the "other"
        pool) converted once to the column's dtype, rows gathered from them (no per-row
        object conversion); -1 gathers a null."""
        pool = list(self.categories)
        codes = np.clip(codes, -1, len(pool) - 1)
        if self.other_index is not None:
            other = np.flatnonzero(codes == self.other_index)
            codes[other] = len(pool) + np.arange(len(other))
            pool += list(self._other(len(other), rng))
        try:
            typed = pd.array(pool, dtype=self.dtype)
        except (TypeError, ValueError):  # a value the dtype cannot hold: left as objects
            typed = pd.array(pool, dtype=object)
        return pd.Series(typed.take(codes, allow_fill=True), name=self.name)

    def _other(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Values for ``n`` rows of the "other" category: frequent values beyond the
        category cap by their weights, and for the rare share new values (never a real
        rare value): strings of the rare values' shapes, numbers within the protected
        range, else the most frequent categories."""
        out = np.empty(n, dtype=object)
        if n == 0:
            return out
        rare = rng.random(n) < self.rare_share if self.other_values else np.ones(n, bool)
        common = np.flatnonzero(~rare)
        if len(common):
            weights = np.asarray(self.other_frequencies or [1.0] * len(self.other_values))
            pool = np.empty(len(self.other_values), dtype=object)
            pool[:] = list(self.other_values)
            out[common] = pool[rng.choice(len(pool), size=len(common), p=weights / weights.sum())]
        rows = np.flatnonzero(rare)
        if len(rows):
            out[rows] = self._new_values(len(rows), rng)
        return out

    def _new_values(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.shapes is not None:
            return Shapes.from_json(self.shapes).sample(n, rng)
        if self.rare_range is not None:
            lo, hi = self.rare_range
            values = rng.uniform(lo, hi, size=n)
            if self.integral:
                values = np.round(values)
            elif self.decimals is not None:
                values = np.round(values, self.decimals)
            return values.astype(object)
        kept = [i for i in range(len(self.categories)) if i != self.other_index]
        if not kept:
            return np.full(n, None, dtype=object)
        weights = np.asarray([self.frequencies[i] for i in kept])
        pool = np.empty(len(kept), dtype=object)
        pool[:] = [self.categories[i] for i in kept]
        return pool[rng.choice(len(kept), size=n, p=weights / weights.sum())]

    def _decode_continuous(self, values: np.ndarray) -> pd.Series:
        null = np.isnan(values)
        if self.minimum is not None:
            values = np.clip(values, self.minimum, self.maximum)
        if self.integral:
            values = np.round(values)
        elif self.decimals is not None:
            values = np.round(values, self.decimals)
        elif self.step:
            values = np.round(values / self.step) * self.step
        values = np.where(null, np.nan, values)
        logical = LogicalType(self.logical)
        if logical in (LogicalType.DATE, LogicalType.TIMESTAMP, LogicalType.TIMESTAMPTZ):
            unit_seconds = EPOCH_DAY_SECONDS if logical is LogicalType.DATE else 1.0
            micros = np.round(values * unit_seconds * 1e6)
            stamps = pd.to_datetime(
                pd.Series(micros, dtype="Float64").astype("Int64"),
                unit="us",
                utc=self.tz is not None,
            )
            if self.tz is not None:
                stamps = stamps.dt.tz_convert(self.tz)
            return restore_dtype(stamps.rename(self.name), self.dtype)
        series = pd.Series(values, name=self.name)
        return restore_dtype(series, self.dtype)

    # -- persistence --------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("categories", "frequencies", "other_values", "other_frequencies"):
            data[key] = [json_safe(v) for v in data[key]]
        if self.rare_range is not None:
            data["rare_range"] = list(self.rare_range)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColumnCodec:
        data = dict(data)
        for key in ("categories", "frequencies", "other_values", "other_frequencies"):
            data[key] = tuple(data.get(key, ()))
        if data.get("rare_range") is not None:
            data["rare_range"] = tuple(float(x) for x in data["rare_range"])
        return cls(**data)


def _nullify(series: pd.Series, rate: float, rng: np.random.Generator) -> pd.Series:
    if rate > 0:
        series = series.astype(object)
        series[rng.random(len(series)) < rate] = None
    return series


def _gathers(dtype: str) -> bool:
    """Whether discrete values of pandas ``dtype`` decode by gathering from a typed array of
    the categories: strings and the nullable numbers and booleans (others convert per row)."""
    return is_string_dtype(dtype) or dtype in ("Int8", "Int16", "Int32", "Int64", "UInt8",
                                               "UInt16", "UInt32", "UInt64", "Float32",
                                               "Float64", "boolean")  # fmt: skip
