"""Column codecs: raw warehouse values <-> numbers a model can learn from.

A codec is fitted per column on the training frame and is the one place that knows
about dtypes, time zones, integer-ness, decimals and nulls. Models see only:

* continuous columns: float64 arrays, NaN marking nulls (dates are epoch days,
  timestamps epoch seconds in UTC);
* discrete columns: int64 category codes, -1 marking nulls;
* ``uuid`` columns (non-key): not modelled, regenerated at random;
* ``null`` columns (every value null): not modelled, decoded as all-null.

Codecs serialise to JSON (``to_json``/``from_json``): artifacts hold no pickles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..schema import Column, LogicalType
from .shapes import Shapes, learn_shapes

CONTINUOUS = "continuous"
DISCRETE = "discrete"
UUID = "uuid"
NULL = "null"

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
DEFAULT_MIN_ROWS = 5
_EPOCH_DAY_SECONDS = 86_400.0


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
            return _to_numeric(series, self.logical)
        if self.kind == DISCRETE:
            keys = _category_keys(series)
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
        if self.categories and _is_string_dtype(self.dtype):
            return self._decode_strings(codes, rng)
        null = codes < 0
        cats = np.empty(len(self.categories), dtype=object)
        cats[:] = list(self.categories)
        picked = cats[np.clip(codes, 0, max(len(cats) - 1, 0))] if len(cats) else codes
        if self.other_index is not None:
            other = np.flatnonzero(codes == self.other_index)
            picked[other] = self._other(len(other), rng)
        series = pd.Series(picked, name=self.name, dtype=object)
        series[null] = None
        return _restore_dtype(series, self)

    def _decode_strings(self, codes: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """String columns: the categories (then the "other" pool) converted once, rows
        gathered from them (no per-row object conversion); -1 gathers a null."""
        pool = list(self.categories)
        codes = np.clip(codes, -1, len(pool) - 1)
        if self.other_index is not None:
            other = np.flatnonzero(codes == self.other_index)
            codes[other] = len(pool) + np.arange(len(other))
            pool += list(self._other(len(other), rng))
        typed = pd.array(pool, dtype=self.dtype)
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
            unit_seconds = _EPOCH_DAY_SECONDS if logical is LogicalType.DATE else 1.0
            micros = np.round(values * unit_seconds * 1e6)
            stamps = pd.to_datetime(
                pd.Series(micros, dtype="Float64").astype("Int64"),
                unit="us",
                utc=self.tz is not None,
            )
            if self.tz is not None:
                stamps = stamps.dt.tz_convert(self.tz)
            return _restore_dtype(stamps.rename(self.name), self)
        series = pd.Series(values, name=self.name)
        return _restore_dtype(series, self)

    # -- persistence --------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("categories", "frequencies", "other_values", "other_frequencies"):
            data[key] = [_json_safe(v) for v in data[key]]
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
    return str(column.meta.get("synthohive_privacy", "")).lower() == "public"


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
    values = _to_numeric(series, logical.value)
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
    keys = _category_keys(series.dropna())
    counts = keys.value_counts(sort=True)
    logical = LogicalType(base["logical"])
    if column.accepted_values is not None or logical is LogicalType.BOOLEAN:
        min_rows = 1  # declared values are public; true/false identify no one
    if column.accepted_values is not None:
        allowed = {_json_safe(v) for v in column.accepted_values} | {
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
    categories = [_json_safe(k) for k, _ in kept]
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
        other_values=tuple(_json_safe(k) for k, _ in beyond),
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


def _category_keys(series: pd.Series) -> pd.Series:
    """Hashable, JSON-safe keys: bools stay bools, numbers numbers, everything else text.

    Object and float columns keep bools and numbers too (nullable booleans arrive as
    object, integer columns with nulls as float64). Converted once per distinct value,
    not per row; nulls become None.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    keys = np.empty(len(uniques) + 1, dtype=object)  # the last slot (code -1) is null
    keys[:-1] = [_json_safe(v) for v in np.asarray(uniques, dtype=object)]
    keys[-1] = None
    return pd.Series(keys[codes], index=series.index, name=series.name, dtype=object)


def _to_numeric(series: pd.Series, logical: str) -> np.ndarray:
    kind = LogicalType(logical)
    if kind in (LogicalType.DATE, LogicalType.TIMESTAMP, LogicalType.TIMESTAMPTZ):
        stamps = pd.to_datetime(series, utc=kind is LogicalType.TIMESTAMPTZ)
        if kind is LogicalType.TIMESTAMPTZ:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        micros = stamps.astype("datetime64[us]").astype("int64").to_numpy().astype(np.float64)
        micros[stamps.isna().to_numpy()] = np.nan
        unit = _EPOCH_DAY_SECONDS if kind is LogicalType.DATE else 1.0
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


def _decimals(column: Column) -> int | None:
    native = column.type.native if column.type else ""
    if "," in native:
        try:
            return int(native.split(",")[1].strip(" )"))
        except ValueError:
            return None
    return None


def _is_string_dtype(dtype: str) -> bool:
    try:
        return isinstance(pd.api.types.pandas_dtype(dtype), pd.StringDtype)
    except TypeError:
        return False


def _restore_dtype(series: pd.Series, codec: ColumnCodec) -> pd.Series:
    try:
        if "datetime" in codec.dtype:
            return series.astype(codec.dtype)
        return series.astype(codec.dtype)
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


def _nullify(series: pd.Series, rate: float, rng: np.random.Generator) -> pd.Series:
    if rate > 0:
        series = series.astype(object)
        series[rng.random(len(series)) < rate] = None
    return series


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


def _json_safe(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return str(value)
