"""Find row rules that hold in the real data, for generation to keep (see ``identities``).

* numeric columns: ``a = b + c`` and ``a = b * c`` (a difference ``a = b - c`` is found as
  ``b = a + c``) exact on every row where the three are non-null, on at least
  ``MIN_ROWS`` rows where ``b`` and ``c`` are both non-zero; constant columns take no part;
* date and timestamp columns: ``a <= b`` on every row where both are non-null, on at
  least ``MIN_ROWS`` rows, and not equal on all of them;
* ratios ``b = a x r`` (``find_ratios``), which hold in the large, not on every row: on
  the rows where both are non-null, ``a`` and ``b`` are never negative, ``b`` is 0
  where ``a`` is, at least ``MIN_ROWS`` rows have ``a > 0``, the correlation of ``a``
  and ``b`` is at least ``MIN_RATIO_CORRELATION`` and ``r = b / a`` spreads little
  around its level (coefficient of variation at most ``MAX_RATIO_SPREAD``); ``b`` is
  NULL wherever ``a`` is. Of the two directions the one with ``r`` mostly at most 1
  is taken (the tax computed from the subtotal, not the other way round).

Candidates are screened on a spread-out sample of rows, then checked on all rows; wide
tables are bounded to the first ``MAX_COLUMNS`` columns of each kind. Only column names
and operators are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from ..schema import ColumnType, LogicalType, SchemaGraph, Table
from .identities import (
    DISCOVERED,
    NUMERIC,
    TEMPORAL,
    Arith,
    Col,
    Derive,
    Order,
    Ratio,
    Rule,
)
from .rulesets import RuleSet, modelled_columns, rules_for

MIN_ROWS = 20
MAX_COLUMNS = 40
SAMPLE_ROWS = 512
#: a ratio is learned where its two columns follow each other at least this closely ...
MIN_RATIO_CORRELATION = 0.8
#: ... and the ratio's standard deviation is at most this share of its mean
MAX_RATIO_SPREAD = 0.5
#: pairs whose correlation on the sample rows is this much below the minimum are not
#: checked on all rows (512 rows estimate a correlation of 0.8 to about +-0.02)
_SCREEN_MARGIN = 0.2
#: relative tolerance of float identities (decimals read as floats: 0.1 + 0.2 != 0.3)
_RTOL = 1e-9


def discover(
    frame: pd.DataFrame, types: Mapping[str, ColumnType], columns: Sequence[str]
) -> tuple[Rule, ...]:
    """Rules that hold on every row of ``frame`` among ``columns``."""
    numeric = [c for c in columns if c in frame and types[c].logical in NUMERIC]
    temporal = [c for c in columns if c in frame and types[c].logical in TEMPORAL]
    exact = {c: types[c].logical is LogicalType.INTEGER for c in numeric}
    return _identities(frame, numeric, exact) + _orders(frame, temporal, types)


def as_numbers(series: pd.Series, logical: LogicalType) -> np.ndarray:
    """float64 values, NaN for NULL: numbers as they are, dates and timestamps as epoch
    microseconds (exact in float64 for any realistic date)."""
    if logical in TEMPORAL:
        stamps = pd.to_datetime(series, utc=logical is LogicalType.TIMESTAMPTZ)
        if isinstance(stamps.dtype, pd.DatetimeTZDtype):
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        null = stamps.isna().to_numpy()
        micros = stamps.astype("datetime64[us]").to_numpy().astype(np.int64).astype(np.float64)
        micros[null] = np.nan
        return micros
    values = pd.to_numeric(series, errors="coerce").astype("Float64")
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def _matrix(
    frame: pd.DataFrame, names: Sequence[str], logical: Callable
) -> tuple[list, np.ndarray]:
    """The non-constant columns among ``names`` (at most MAX_COLUMNS) as a float matrix."""
    kept, arrays = [], []
    for name in names:
        values = as_numbers(frame[name], logical(name))
        present = values[~np.isnan(values)]
        if len(present) >= MIN_ROWS and present.min() != present.max():
            kept.append(name)
            arrays.append(values)
        if len(kept) == MAX_COLUMNS:
            break
    matrix = np.column_stack(arrays) if arrays else np.zeros((len(frame), 0))
    return kept, matrix


def _sample(n: int) -> np.ndarray:
    """Evenly spread rows: deterministic, and a rule must hold on every row anyway."""
    return np.unique(np.linspace(0, n - 1, min(n, SAMPLE_ROWS)).astype(np.int64))


# -- identities ---------------------------------------------------------------------------
_OPS = {"+": np.add, "*": np.multiply}


def _identities(frame: pd.DataFrame, names: list[str], exact: Mapping[str, bool]) -> tuple:
    kept, x = _matrix(frame, names, lambda _: LogicalType.FLOAT)
    if len(kept) < 3:
        return ()
    left, right = np.triu_indices(len(kept), 1)
    rows = x[_sample(len(x))]
    rules: list[Rule] = []
    with np.errstate(all="ignore"):
        for op, fn in _OPS.items():
            made = fn(rows[:, left], rows[:, right])  # one column per pair (b, c)
            for a in range(len(kept)):
                tol = 0.0 if exact[kept[a]] else _RTOL * np.abs(made)
                ok = (np.abs(made - rows[:, [a]]) <= tol) | np.isnan(made) | np.isnan(rows[:, [a]])
                for pair in np.flatnonzero(ok.all(axis=0)):
                    b, c = left[pair], right[pair]
                    if a not in (b, c) and _holds(x[:, a], x[:, b], x[:, c], fn, exact[kept[a]]):
                        formula = Arith(op, Col(kept[b]), Col(kept[c]))
                        rules.append(Derive(kept[a], formula, DISCOVERED))
    return tuple(rules)


def _holds(a: np.ndarray, b: np.ndarray, c: np.ndarray, fn, exact: bool) -> bool:
    """``a = fn(b, c)`` on every complete row, with enough rows where b and c are not 0."""
    made = fn(b, c)
    complete = ~(np.isnan(a) | np.isnan(made))
    informative = complete & (b != 0) & (c != 0)
    if informative.sum() < MIN_ROWS:
        return False
    tol = 0.0 if exact else _RTOL * np.abs(made[complete])
    return bool(np.all(np.abs(made[complete] - a[complete]) <= tol))


# -- orderings ----------------------------------------------------------------------------
def _orders(frame: pd.DataFrame, names: list[str], types: Mapping[str, ColumnType]) -> tuple:
    kept, x = _matrix(frame, names, lambda name: types[name].logical)
    if len(kept) < 2:
        return ()
    left, right = np.triu_indices(len(kept), 1)
    rows = x[_sample(len(x))]
    lo, hi = rows[:, left], rows[:, right]
    gap = np.isnan(lo) | np.isnan(hi)
    rules: list[Rule] = []
    for flip, ok in ((False, (lo <= hi) | gap), (True, (lo >= hi) | gap)):
        for pair in np.flatnonzero(ok.all(axis=0)):
            a, b = (right[pair], left[pair]) if flip else (left[pair], right[pair])
            if _ordered(x[:, a], x[:, b]):
                rules.append(Order(Col(kept[a]), Col(kept[b]), origin=DISCOVERED))
    return tuple(rules)


def _ordered(a: np.ndarray, b: np.ndarray) -> bool:
    complete = ~(np.isnan(a) | np.isnan(b))
    if complete.sum() < MIN_ROWS:
        return False
    a, b = a[complete], b[complete]
    return bool(np.all(a <= b) and np.any(a < b))


# -- ratios -------------------------------------------------------------------------------
def find_ratios(
    frame: pd.DataFrame,
    types: Mapping[str, ColumnType],
    columns: Sequence[str],
    targets: Collection[str],
) -> tuple[Ratio, ...]:
    """Candidate ratios ``b = a x r`` among the numeric ``columns``, ``b`` one of
    ``targets``, the least spread first: the rules' resolution keeps the first one of a
    target that computes no computed column and closes no cycle."""
    numeric = [c for c in columns if c in frame and types[c].logical in NUMERIC]
    kept, x = _matrix(frame, numeric, lambda _: LogicalType.FLOAT)
    rows = x[_sample(len(x))]
    found: list[tuple[float, Ratio]] = []
    for i, j in zip(*np.triu_indices(len(kept), 1), strict=True):
        if _correlation(rows[:, i], rows[:, j]) < MIN_RATIO_CORRELATION - _SCREEN_MARGIN:
            continue
        fits = []  # (r mostly above 1, spread, rule) per direction that fits
        for a, b in ((i, j), (j, i)):
            fit = _ratio_fit(x[:, a], x[:, b]) if kept[b] in targets else None
            if fit is not None:
                fits.append((fit[1] > 1.0, fit[0], Ratio(kept[b], kept[a], DISCOVERED)))
        if fits:
            _, spread, rule = min(fits, key=lambda f: f[0])
            found.append((spread, rule))
    return tuple(rule for _, rule in sorted(found, key=lambda f: f[0]))


def _ratio_fit(a: np.ndarray, b: np.ndarray) -> tuple[float, float] | None:
    """(coefficient of variation, median) of ``b / a`` where ``b = a x r`` fits."""
    if np.any(np.isnan(a) & ~np.isnan(b)):
        return None  # b where a is NULL: no product gives it
    complete = ~(np.isnan(a) | np.isnan(b))
    a, b = a[complete], b[complete]
    if np.any(a < 0) or np.any(b < 0) or np.any(b[a == 0] != 0):
        return None
    share = a > 0
    if share.sum() < MIN_ROWS or _correlation(a, b) < MIN_RATIO_CORRELATION:
        return None
    r = b[share] / a[share]
    level = float(r.mean())
    if level <= 0 or r.std() > MAX_RATIO_SPREAD * level:
        return None
    return float(r.std()) / level, float(np.median(r))


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation on the rows where both are non-null; 0 where undefined."""
    complete = ~(np.isnan(a) | np.isnan(b))
    a, b = a[complete], b[complete]
    if len(a) < 3 or a.min() == a.max() or b.min() == b.max():
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def ratio_targets(table: Table, modelled: Sequence[str]) -> list[str]:
    """The modelled columns a ratio may compute: not declared categorical (a product
    would leave the accepted values)."""
    out = []
    for name in modelled:
        column = table.column(name)
        discrete = str(column.meta.get("synthohive_kind")) == "discrete"
        if column.accepted_values is None and not discrete:
            out.append(name)
    return out


# -- per table ----------------------------------------------------------------------------
def table_rules(
    table: Table,
    frame: pd.DataFrame | None,
    types: Mapping[str, ColumnType],
    modelled: Sequence[str],
) -> RuleSet:
    """The rules generation applies to ``table``: its declared expressions, then the
    identities and orderings its real rows ``frame`` show, then the ratios."""
    found: tuple[Rule, ...] = ()
    if frame is not None:
        found = discover(frame, types, modelled)
        found += find_ratios(frame, types, modelled, ratio_targets(table, modelled))
    return rules_for(table.expressions, types, modelled, found)


def graph_rules(graph: SchemaGraph, frames: Mapping[str, pd.DataFrame]) -> dict[str, RuleSet]:
    """Per table key, the declared rules and those found in its real rows (for
    ``inspect --check-data``; the graph must carry the warehouse types)."""
    out: dict[str, RuleSet] = {}
    for key in graph.order:
        table = graph.table(key)
        types = {c.name: c.type for c in table.columns if c.type is not None}
        modelled = [c for c in modelled_columns(graph, table) if c in types]
        out[key] = table_rules(table, frames.get(key), types, modelled)
    return out
