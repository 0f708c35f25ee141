"""The fidelity tests of one synthetic table: the ``synthohive.*`` generic tests that
compare it with its REAL relation, with thresholds from ``thresholds``.

Which distribution test a column gets follows what the fitted model learned about it
(its column codecs): continuous columns get ``ks_distance``; discrete columns with few
categories get ``tvd``; identifier-like text (many distinct values), UUIDs and all-NULL
columns get none. Without codecs (a third-party model) the warehouse type decides.

Thresholds follow the sample sizes (``thresholds.sample_threshold``): real rows and the
expected synthetic rows (real rows times ``--scale``, for every table), counting only the
non-NULL values for KS and the parents for children per parent. ``no_real_row_copied``
compares the copy columns (``TablePlan.copy_columns``: modelled, no keys, no UUIDs) and is
generated only where a copy means something (``copies_are_telling``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from math import floor, prod
from typing import Any

from ..relational.plan import TablePlan
from ..schema import LogicalType
from . import critical
from .files import Quoted
from .naming import NAMESPACE, Naming
from .profiles import ColumnProfile
from .thresholds import NO_COPY, ROW_COUNT_RATIO, Fidelity, sample_threshold

FIDELITY_TAG = "synthohive_fidelity"
#: a discrete column gets ``tvd`` up to this many categories ...
MAX_TVD_CATEGORIES = 50
#: ... and while it has at least this many rows per category (else it names rows)
MIN_ROWS_PER_CATEGORY = 5
#: correlation_difference looks at all pairs among this many numeric columns
MAX_CORRELATION_COLUMNS = 6

_NUMBERS = (LogicalType.INTEGER, LogicalType.NUMERIC, LogicalType.FLOAT)
_ORDERED = (*_NUMBERS, LogicalType.DATE, LogicalType.TIMESTAMP, LogicalType.TIMESTAMPTZ)


def distribution_test(plan: TablePlan, name: str, profile: ColumnProfile | None) -> str | None:
    """``ks_distance``, ``tvd`` or None for one modelled column."""
    logical = plan.column_types[name].logical
    if name in plan.checks and plan.checks[name].get("accepted_values") is not None:
        return "tvd"
    if profile is not None:
        if profile.kind in ("uuid", "null") or profile.constant:
            return None
        if profile.kind == "continuous":
            return "ks_distance" if logical in _ORDERED else None
        if profile.kind == "discrete":
            few = profile.n_categories <= MAX_TVD_CATEGORIES
            dense = profile.n_categories * MIN_ROWS_PER_CATEGORY <= plan.rows
            if few and dense:
                return "tvd"
            # many repeated numbers (prices, cents) are still ordered; values seen about
            # once each name rows and get none
            return "ks_distance" if dense and logical in _ORDERED else None
        return None
    if logical is LogicalType.BOOLEAN:
        return "tvd"
    return "ks_distance" if logical in _ORDERED else None


def column_fidelity(
    plan: TablePlan,
    plans: Mapping[str, TablePlan],
    naming: Naming,
    fidelity: Fidelity,
    profiles: Mapping[str, ColumnProfile],
    columns: dict[str, list[Any]],
    scale: float,
) -> None:
    """Add the column-level fidelity tests to ``columns`` (tests per column name): a
    distribution test per modelled column, ``null_rate_difference`` where real values are
    NULL, ``children_per_parent_distance`` per single-column FK to a table with real rows."""
    compare = Quoted(plan.real_ref)
    for name in plan.model_columns:
        profile = profiles.get(name)
        test = distribution_test(plan, name, profile)
        if test is None:
            continue
        noise = _distribution_noise(plan, name, test, profile, scale)
        threshold = sample_threshold(test, fidelity.threshold(test), noise)
        if threshold is not None:
            columns[name].append(
                _fidelity(test, fidelity, compare_model=compare, threshold=threshold)
            )
    test = "null_rate_difference"
    threshold = sample_threshold(
        test, fidelity.threshold(test), critical.ks(*_sizes(plan.rows, scale))
    )
    for name in _nullable_columns(plan, profiles) if threshold is not None else ():
        columns[name].append(_fidelity(test, fidelity, compare_model=compare, threshold=threshold))
    for fk in plan.fks:
        parent = plans.get(fk.parent)
        if parent is None or len(fk.columns) != 1 or not parent.real_ref:
            continue
        test = "children_per_parent_distance"
        noise = critical.ks(*_sizes(parent.rows, scale))
        threshold = sample_threshold(test, fidelity.threshold(test), noise)
        if threshold is None:
            continue
        columns[fk.columns[0]].append(
            _fidelity(
                test,
                fidelity,
                parent_model=Quoted(naming(parent)),
                parent_field=fk.parent_columns[0],
                compare_model=compare,
                compare_parent_model=Quoted(parent.real_ref),
                threshold=threshold,
            )
        )


def _distribution_noise(
    plan: TablePlan, name: str, test: str, profile: ColumnProfile | None, scale: float
) -> float:
    """Critical value of a column's ``ks_distance`` (non-NULL values) or ``tvd``, plus
    the distance rare-value protection adds by design (rare real values come back as new
    values, which match none: ``ColumnProfile.new_share``)."""
    new = profile.new_share if profile is not None else 0.0
    if test == "ks_distance":
        present = 1.0 - (profile.null_rate if profile is not None else 0.0)
        return critical.ks(*_sizes(plan.rows, scale, present)) + new / max(present, 1e-9)
    return critical.tvd(*_sizes(plan.rows, scale), _categories(plan, name, profile)) + new


def _sizes(rows: int, scale: float, share: float = 1.0) -> tuple[int, int]:
    """Real and expected synthetic counts (every table grows with ``--scale``) of the
    values a statistic sees, ``share`` of the rows, rounded down."""
    return floor(rows * share + 1e-9), floor(rows * scale * share + 1e-9)


def _categories(plan: TablePlan, name: str, profile: ColumnProfile | None) -> int:
    """Categories a TVD sees, NULL one of them."""
    if profile is not None and profile.kind == "discrete":
        return profile.n_categories + (profile.null_rate > 0)
    values = plan.checks.get(name, {}).get("accepted_values")
    never_null = plan.checks.get(name, {}).get("not_null") or not plan.column_types[name].nullable
    return (len(values) if values is not None else 2) + (not never_null)


def _nullable_columns(plan: TablePlan, profiles: Mapping[str, ColumnProfile]) -> list[str]:
    """Modelled and FK columns whose real values hold NULLs: their NULL share should match.
    Without codecs, every column that may be NULL (no not_null declared, none in the
    catalog)."""
    fk_nulls = {c: fk.null_rate for fk in plan.fks for c in fk.columns}
    types = plan.column_types
    out = []
    for name in [*plan.model_columns, *fk_nulls]:
        if name in out or name in plan.primary_key or name in plan.minted:
            continue
        if plan.checks.get(name, {}).get("not_null") or not types[name].nullable:
            continue
        profile = profiles.get(name)
        if name in fk_nulls and fk_nulls[name] == 0.0:
            continue
        if profile is not None and profile.null_rate == 0.0:
            continue
        out.append(name)
    return out


def table_fidelity(
    plan: TablePlan, fidelity: Fidelity, profiles: Mapping[str, ColumnProfile], scale: float
) -> list[Any]:
    """The table-level fidelity tests: ``correlation_difference``, ``row_count_ratio`` and
    ``no_real_row_copied`` where each applies."""
    compare = Quoted(plan.real_ref)
    tests: list[Any] = []
    numeric = correlation_columns(plan, profiles)
    pairs = [(a, b) for a, b in combinations(numeric, 2)]
    if pairs:
        # rows where both columns of a pair hold a value: at least this share
        nulls = sorted(p.null_rate for c in numeric if (p := profiles.get(c)) is not None)
        n, m = _sizes(plan.rows, scale, max(0.0, 1.0 - sum(nulls[-2:])))
        noise = critical.correlation(n, m, len(pairs))
        test = "correlation_difference"
        threshold = sample_threshold(test, fidelity.threshold(test), noise)
        if threshold is not None:
            tests.append(
                _fidelity(test, fidelity, pairs=pairs, compare_model=compare, threshold=threshold)
            )
    if fidelity.row_count_ratio is not None:
        low, high = fidelity.row_count_ratio
        tests.append(
            _fidelity(
                ROW_COUNT_RATIO,
                fidelity,
                compare_model=compare,
                min_ratio=_round(low * scale),
                max_ratio=_round(high * scale),
            )
        )
    copied = copy_check_columns(plan, profiles)
    if (
        fidelity.no_real_row_copied
        and not plan.copied  # a reference table is a copy by declaration
        and copies_are_telling(plan, copied, profiles, scale)
    ):
        tests.append(_fidelity(NO_COPY, fidelity, compare_model=compare, columns=copied))
    return tests


def correlation_columns(plan: TablePlan, profiles: Mapping[str, ColumnProfile]) -> list[str]:
    """Up to MAX_CORRELATION_COLUMNS numeric, non-constant modelled columns."""
    types = plan.column_types
    out = []
    for name in plan.model_columns:
        profile = profiles.get(name)
        if types[name].logical not in _NUMBERS:
            continue
        if profile is not None and (
            profile.kind not in ("continuous", "discrete") or profile.constant
        ):
            continue
        out.append(name)
    return out[:MAX_CORRELATION_COLUMNS]


def copy_check_columns(plan: TablePlan, profiles: Mapping[str, ColumnProfile]) -> list[str]:
    """The plan's copy columns the model really samples (random UUIDs and all-NULL
    columns cannot be copied)."""
    return [
        name
        for name in plan.copy_columns
        if (profile := profiles.get(name)) is None or profile.kind not in ("uuid", "null")
    ]


def copies_are_telling(
    plan: TablePlan,
    columns: Sequence[str],
    profiles: Mapping[str, ColumnProfile],
    scale: float,
) -> bool:
    """Whether a synthetic row equal to a real one on ``columns`` means a copy, not chance:
    the expected number of chance matches among the synthetic rows stays below
    ``critical.ALPHA``, estimated twice. From the real data: every real row is distinct
    there (a fresh draw of the real distribution repeats a real row about as often as real
    rows repeat each other). From the codecs: ``m * n * prod(collision)``, columns taken
    as independent (few categories make matches likely; any unrounded float, none).
    One column is never enough: sampled values beyond the real range are clipped to the
    real extremes, which are real values."""
    if len(columns) < 2:
        return False
    n, m = _sizes(plan.rows, scale)
    if plan.copy_unique_share is not None and m * (1.0 - plan.copy_unique_share) > critical.ALPHA:
        return False
    chance = prod(_collision(plan, name, profiles.get(name)) for name in columns)
    return m * n * chance <= critical.ALPHA


def _collision(plan: TablePlan, name: str, profile: ColumnProfile | None) -> float:
    if profile is not None and profile.kind == "continuous":
        # a fresh draw falls beyond the n real values with chance about 2 / (n + 1) and
        # is clipped to an extreme, which one real row holds (1 / n): on a tiny table
        # (six stores) that is the likeliest match of all
        clipped = 2.0 / ((plan.rows + 1) * max(plan.rows, 1))
        return max(profile.collision or 0.0, clipped)
    if profile is not None and profile.collision is not None:
        return profile.collision
    if profile is not None and profile.kind == "discrete":
        return 1.0 / max(profile.n_categories, 1)
    # no codec: only a float is taken to be unrounded
    return 0.0 if plan.column_types[name].logical is LogicalType.FLOAT else 1.0


def _fidelity(name: str, fidelity: Fidelity, **arguments: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"tags": (FIDELITY_TAG,)}
    if fidelity.severity != "error":
        config["severity"] = fidelity.severity
    return {f"{NAMESPACE}.{name}": {"arguments": arguments, "config": config}}


def _round(value: float) -> float:
    return float(f"{value:.6g}")
