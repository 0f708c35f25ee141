"""The dbt data tests of one synthetic table: structure carried over, fidelity added.

Structure: unique/not_null on primary keys (``synthohive.unique_combination_of_columns``
for composite ones), relationships between synthetic tables
(``synthohive.relationships_composite`` for composite FKs), and the real tables'
``not_null``/``accepted_values``. Privacy: ``no_real_value_copied`` on faked, masked and
hashed columns. Fidelity: the tests of ``fidelity_tests``. Also the YAML entries of the
synthetic tables with their tests, for every generated YAML (sources, seeds, models).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..relational.plan import TablePlan
from .fidelity_tests import column_fidelity, table_fidelity
from .files import Quoted
from .naming import NAMESPACE, Naming
from .profiles import ColumnProfile, column_profiles, model_profiles
from .thresholds import Fidelity, FidelityConfig

__all__ = [  # the profiles too: callers read them here
    "ColumnProfile",
    "column_profiles",
    "model_profiles",
    "table_entries",
    "table_tests",
]

PRIVACY_TAG = "synthohive_privacy"


def table_tests(
    plan: TablePlan,
    plans: Mapping[str, TablePlan],
    naming: Naming,
    *,
    fidelity: Fidelity | None,
    profiles: Mapping[str, ColumnProfile],
    scale: float = 1.0,
) -> tuple[dict[str, list[Any]], list[Any]]:
    """(tests per column name, table-level tests) for one synthetic table."""
    columns: dict[str, list[Any]] = {name: [] for name, _ in plan.columns}
    table: list[Any] = []
    _key_tests(plan, columns, table)
    _carried_checks(plan, columns)
    _relationship_tests(plan, plans, naming, columns, table)
    if fidelity is not None and plan.real_ref:
        column_fidelity(plan, plans, naming, fidelity, profiles, columns, scale)
        table += table_fidelity(plan, fidelity, profiles, scale)
    if plan.real_ref:
        _privacy_tests(plan, columns)
    return columns, table


def _privacy_tests(plan: TablePlan, columns: dict[str, list[Any]]) -> None:
    """``no_real_value_copied`` on every faked, masked or hashed column (a repeat of the
    parent's faked value included): no real value of it may reach the synthetic table."""
    for personal in plan.personal:
        if personal.never_real and personal.column in columns:
            columns[personal.column].append(
                {
                    f"{NAMESPACE}.no_real_value_copied": {
                        "arguments": {"compare_model": Quoted(plan.real_ref)},
                        "config": {"tags": (PRIVACY_TAG,)},
                    }
                }
            )


# -- structure ---------------------------------------------------------------------------


def _key_tests(plan: TablePlan, columns: dict[str, list[Any]], table: list[Any]) -> None:
    if len(plan.primary_key) == 1:
        columns[plan.primary_key[0]] += ["unique", "not_null"]
    elif plan.primary_key:
        table.append(
            _test("unique_combination_of_columns", combination_of_columns=list(plan.primary_key))
        )


def _carried_checks(plan: TablePlan, columns: dict[str, list[Any]]) -> None:
    for col, facts in plan.checks.items():
        if col not in columns:
            continue
        # an ignored column is written as NULL: its not_null cannot hold
        if facts.get("not_null") and "not_null" not in columns[col] and col not in plan.ignored:
            columns[col].append("not_null")
        if facts.get("accepted_values") is not None:
            values = list(facts["accepted_values"])
            columns[col].append({"accepted_values": {"arguments": {"values": values}}})


def _relationship_tests(
    plan: TablePlan,
    plans: Mapping[str, TablePlan],
    naming: Naming,
    columns: dict[str, list[Any]],
    table: list[Any],
) -> None:
    for fk in plan.fks:
        parent = plans.get(fk.parent)
        if parent is None:
            continue
        to = Quoted(naming(parent))
        if len(fk.columns) == 1:
            columns[fk.columns[0]].append(
                {"relationships": {"arguments": {"to": to, "field": fk.parent_columns[0]}}}
            )
        else:
            table.append(
                _test(
                    "relationships_composite",
                    columns=list(fk.columns),
                    to=to,
                    fields=list(fk.parent_columns),
                )
            )


def _test(name: str, **arguments: Any) -> dict[str, Any]:
    return {f"{NAMESPACE}.{name}": {"arguments": arguments}}


def table_entries(
    plans: Mapping[str, TablePlan],
    order: Sequence[str],
    naming: Naming,
    head: Callable[[TablePlan], dict[str, Any]],
    *,
    fidelity: FidelityConfig | None,
    profiles: Mapping[str, Mapping[str, ColumnProfile]],
    scale: float,
) -> list[dict[str, Any]]:
    """One YAML entry per table of ``order``: ``head(plan)`` (name, description, config),
    then its columns with their tests and its table-level tests, which name the synthetic
    tables with ``naming``."""
    entries = []
    for key in order:
        plan = plans[key]
        columns, table_level = table_tests(
            plan,
            plans,
            naming,
            fidelity=fidelity.for_table(plan.name) if fidelity else None,
            profiles=profiles.get(key, {}),
            scale=scale,
        )
        entry = {**head(plan), "columns": _column_entries(columns)}
        if table_level:
            entry["data_tests"] = table_level
        entries.append(entry)
    return entries


def _column_entries(columns: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """``columns:`` list of a YAML entry, tests under ``data_tests`` where there are any."""
    return [
        {"name": name, **({"data_tests": list(tests)} if tests else {})}
        for name, tests in columns.items()
    ]
