"""Make each generated chunk meet its table's row rules (see ``identities``).

Values are handled as float64 (dates and timestamps as epoch microseconds, NULL as NaN).
A ratio's target arrives holding the sampled ratio: it is set aside, and the target is
computed as ``base x ratio`` like a derived column, rounded half up to its grid as SQL's
round() does (NULL where either is NULL, as in SQL); ``learned_ratios`` is the inverse
that fit uses.
The computed columns are computed first, then in rounds, until every ordering holds:
orderings are repaired on the sampled columns (two columns swapped where they are out of
order; a column clamped to a literal or to a computed column), then the computed columns
are computed again from their inputs, in dependency order. Computed columns are never
repaired, only computed. A row that still breaks an ordering after the rounds (two
computed sides, say) gets NULL in a nullable column of the rule: a NULL comparison does
not fail a dbt test. Only changed columns are written back, in their own dtype (integers
stay integers, dates dates; a ratio's target in the type's in-memory dtype, see
``warehouse.base``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from ..schema import ColumnType, LogicalType
from . import identities as R  # the row-rule records: R.Col, R.Derive, R.Order, ...
from .discovery import as_numbers
from .plan import TablePlan

_DAY = 86_400e6  # microseconds
_SECOND = 1e6
_RATIO_DIGITS = 12  # decimals tried for a learned ratio; beyond, the exact ratio
_COMMON_RATIOS = 100  # shortest ratios tried on every row, the most common first
_ARITH = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}


def enforce(plan: TablePlan, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (sampled columns of ``plan``'s table) meeting the plan's rules."""
    if not plan.rules:
        return frame
    required = {name for name, facts in plan.checks.items() if facts.get("not_null")}
    required |= {name for name, ctype in plan.columns if not ctype.nullable}
    return apply_rules(plan.rules, frame, plan.column_types, required)


def apply_rules(
    rules: Sequence[R.Rule],
    frame: pd.DataFrame,
    types: Mapping[str, ColumnType],
    required: Collection[str] = (),
) -> pd.DataFrame:
    """A copy of ``frame`` meeting ``rules`` (given in dependency order); rules on columns
    the frame lacks are skipped. ``required`` columns are never set to NULL."""
    rules = [
        r
        for r in rules
        if all(c in frame for c in r.columns) and (not isinstance(r, R.Offset) or r.gap in frame)
    ]
    if not rules or len(frame) == 0:
        return frame
    names = list(dict.fromkeys(c for r in rules for c in r.columns))
    before = {c: as_numbers(frame[c], types[c].logical) for c in names}
    values = {c: v.copy() for c, v in before.items()}
    grids = {c: _Grid(types[c]) for c in names}
    derives = [r for r in rules if isinstance(r, R.COMPUTED)]
    orders = [r for r in rules if isinstance(r, R.Order)]
    computed = {d.target for d in derives}
    ratios = {r.target: values[r.target].copy() for r in derives if isinstance(r, R.Ratio)}
    learned = {
        **ratios,
        **{r.target: _gap(frame[r.gap]) for r in derives if isinstance(r, R.Offset)},
    }
    _derive(derives, values, grids, required, learned)
    for _ in range(len(orders) + 2):
        for order in orders:
            _repair(order, values, grids, computed)
        _derive(derives, values, grids, required, learned)
        if not any(_broken(o, values).any() for o in orders):
            break
    else:  # a NULL in a rule's column passes it, and the identities reading it too
        _give_up(orders, values, grids, required)
    out = frame.copy()
    for name in names:
        like = frame[name]
        if name in ratios:  # the frame held the ratio: the column takes its own dtype
            like = pd.Series(dtype=_memory_dtype(types[name].logical), index=frame.index)
        elif np.array_equal(values[name], before[name], equal_nan=True):
            continue
        out[name] = _restore(values[name], like, types[name].logical)
    return out


def learned_ratios(base: np.ndarray, target: np.ndarray, ctype: ColumnType) -> np.ndarray:
    """The ratios a model learns for ``target = base x ratio`` (the target's type
    ``ctype``, a product rounded half up to its grid as generation does): per row the
    most common of the shortest decimals that give the targets back, so that a few real
    rates blurred by rounding to the cent are learned as those rates. ``target / base``
    on a column without a grid; NaN where either is NULL, not finite where the base is 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = target / base
    grid = _Grid(ctype)
    if grid.unit is None or grid.logical in R.TEMPORAL:
        return exact
    valid = np.isfinite(exact) & (base > 0)
    shortest = exact.copy()
    todo = valid.copy()
    for digits in range(1, _RATIO_DIGITS + 1):
        candidate = np.round(exact, digits)
        fits = todo & _gives(grid, base, candidate, target)
        shortest[fits] = candidate[fits]
        todo &= ~fits
    values, counts = np.unique(shortest[valid], return_counts=True)
    common = values[np.argsort(-counts, kind="stable")][:_COMMON_RATIOS]
    out, todo = shortest.copy(), valid.copy()
    for ratio in common:  # the most common first: each row takes the first that fits
        fits = todo & _gives(grid, base, ratio, target)
        out[fits] = ratio
        todo &= ~fits
    return out


def _gives(grid: _Grid, base: np.ndarray, ratio, target: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        back = grid.snap(base * ratio, _half_up)
        return np.abs(back - target) <= grid.unit * 1e-6


def _half_up(values: np.ndarray) -> np.ndarray:
    """Rounding as SQL's round() does it for the non-negative products of a ratio."""
    return np.floor(values + 0.5)


def _memory_dtype(logical: LogicalType) -> str:
    """The dtype a warehouse reads a number of this type as (``warehouse.base``)."""
    return "Int64" if logical is LogicalType.INTEGER else "float64"


class _Grid:
    """The values a column can hold: integers, whole days, decimals of its scale."""

    def __init__(self, ctype: ColumnType):
        self.logical = ctype.logical
        scale = re.search(r"\(\s*\d+\s*,\s*(\d+)\s*\)", ctype.native or "")
        self.unit = {LogicalType.INTEGER: 1.0, LogicalType.DATE: _DAY}.get(ctype.logical)
        if ctype.logical in (LogicalType.TIMESTAMP, LogicalType.TIMESTAMPTZ):
            self.unit = _SECOND  # a strict ordering moves a timestamp by a second
        elif ctype.logical is LogicalType.NUMERIC and scale:
            self.unit = 10.0 ** -int(scale.group(1))

    def snap(self, values: np.ndarray, how) -> np.ndarray:
        """``how`` (np.floor/np.ceil/np.round) onto the grid; timestamps to microseconds."""
        if self.logical in (LogicalType.TIMESTAMP, LogicalType.TIMESTAMPTZ):
            return np.round(values)
        if self.unit is None:
            return values
        # rounded first so that 30.000000000000004 cents is not lifted to 31
        return how(np.round(values / self.unit, 6)) * self.unit

    def above(self, values: np.ndarray) -> np.ndarray:
        if self.unit is None:
            return np.nextafter(values, np.inf)
        return self.snap(values, np.floor) + self.unit

    def below(self, values: np.ndarray) -> np.ndarray:
        if self.unit is None:
            return np.nextafter(values, -np.inf)
        return self.snap(values, np.ceil) - self.unit


def _side(term: R.Col | R.Num | R.Text, values, n: int) -> np.ndarray:
    if isinstance(term, R.Col):
        return values[term.name]
    if isinstance(term, R.Num):
        return np.full(n, term.value)
    stamp = pd.Timestamp(term.value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return np.full(n, float(np.datetime64(stamp, "us").astype(np.int64)))


def _broken(order: R.Order, values) -> np.ndarray:
    n = len(next(iter(values.values())))
    lo, hi = _side(order.lo, values, n), _side(order.hi, values, n)
    return lo >= hi if order.strict else lo > hi  # NaN compares False: NULL never fails


def _repair(order: R.Order, values, grids, computed: Collection[str]) -> None:
    """The smallest change: swap two sampled columns, else clamp the sampled side."""
    bad = _broken(order, values)
    if not bad.any():
        return
    free = [isinstance(t, R.Col) and t.name not in computed for t in (order.lo, order.hi)]
    n = len(bad)
    lo, hi = _side(order.lo, values, n), _side(order.hi, values, n)
    if all(free):
        lo_grid, hi_grid = grids[order.lo.name], grids[order.hi.name]
        small, large = np.minimum(lo[bad], hi[bad]), np.maximum(lo[bad], hi[bad])
        lo[bad], hi[bad] = lo_grid.snap(small, np.floor), hi_grid.snap(large, np.ceil)
        if order.strict:
            ties = bad & (lo >= hi)
            hi[ties] = hi_grid.above(lo[ties])
    elif free[1]:
        grid = grids[order.hi.name]
        hi[bad] = grid.above(lo[bad]) if order.strict else grid.snap(lo[bad], np.ceil)
    elif free[0]:
        grid = grids[order.lo.name]
        lo[bad] = grid.below(hi[bad]) if order.strict else grid.snap(hi[bad], np.floor)


def _gap(seconds: pd.Series) -> np.ndarray:
    """An offset's sampled gap (seconds) in microseconds, never negative."""
    values = pd.to_numeric(seconds, errors="coerce").astype("Float64")
    micros = values.to_numpy(dtype=np.float64, na_value=np.nan) * _SECOND
    return np.where(np.isnan(micros), np.nan, np.clip(micros, 0.0, None))


def _derive(
    derives: Sequence[R.Computed], values, grids, required: Collection[str], ratios
) -> None:
    """Compute each target in order; ``ratios``: the sampled ratio of each ratio target,
    the sampled gap of each offset target."""
    for rule in derives:
        with np.errstate(all="ignore"):
            if isinstance(rule, R.Ratio):
                result = values[rule.base] * ratios[rule.target]
            elif isinstance(rule, R.Offset):
                result = values[rule.base] + ratios[rule.target]
            else:
                result = np.asarray(_evaluate(rule.formula, values), dtype=np.float64)
        n = len(values[rule.target])
        result = np.broadcast_to(result, (n,)).copy()
        result[~np.isfinite(result)] = np.nan  # x / 0 is NULL (DuckDB)
        if rule.target in required:
            _fill_required(rule, result, values, ratios)
        how = _half_up if isinstance(rule, R.Ratio) else np.round
        values[rule.target][:] = grids[rule.target].snap(result, how)


def _fill_required(rule: R.Computed, result: np.ndarray, values, ratios) -> None:
    """Where a not-null target came out NULL: a derived target keeps its sampled value
    (NULL inputs: the rule holds whatever it is), a ratio's target takes the base times
    the median sampled ratio."""
    keep = np.isnan(result)
    if not keep.any():
        return
    if isinstance(rule, (R.Derive, R.Offset)):  # an offset's ordering still repairs it
        result[keep] = values[rule.target][keep]
    elif not np.isnan(ratios[rule.target]).all():
        result[keep] = values[rule.base][keep] * np.nanmedian(ratios[rule.target])


def _evaluate(term: R.Term, values) -> np.ndarray | float:
    if isinstance(term, R.Col):
        return values[term.name]
    if isinstance(term, R.Num):
        return term.value
    if isinstance(term, R.Negate):
        return -_evaluate(term.term, values)
    if isinstance(term, R.Arith):
        return _ARITH[term.op](_evaluate(term.left, values), _evaluate(term.right, values))
    raise TypeError(f"no numeric value for {term!r}")  # resolution keeps text out


def _give_up(orders: Sequence[R.Order], values, grids, required: Collection[str]) -> None:
    for order in orders:
        bad = _broken(order, values)
        nullable = [t.name for t in (order.hi, order.lo) if isinstance(t, R.Col)]
        nullable = [c for c in nullable if c not in required]
        if bad.any() and nullable:
            values[nullable[0]][bad] = np.nan


def _restore(values: np.ndarray, like: pd.Series, logical: LogicalType) -> pd.Series:
    null = np.isnan(values)
    if logical in R.TEMPORAL:
        micros = np.where(null, 0, values).astype(np.int64).astype("datetime64[us]")
        micros[null] = np.datetime64("NaT")
        stamps = pd.Series(micros, index=like.index, name=like.name)
        if isinstance(like.dtype, pd.DatetimeTZDtype):
            return stamps.dt.tz_localize("UTC").dt.tz_convert(like.dtype.tz).astype(like.dtype)
        return stamps.astype(like.dtype) if pd.api.types.is_datetime64_dtype(like) else stamps
    series = pd.Series(values, index=like.index, name=like.name)
    if pd.api.types.is_integer_dtype(like.dtype):
        dtype = like.dtype if isinstance(like.dtype, pd.api.extensions.ExtensionDtype) else None
        return series.round().astype(dtype or ("Int64" if null.any() else like.dtype))
    try:
        return series.astype(like.dtype)
    except (TypeError, ValueError):
        return series
