"""Generated dbt YAML: the synthetic tables declared as the source ``synthohive``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..relational.plan import TablePlan
from .data_tests import ColumnProfile, column_entries, table_tests
from .thresholds import FidelityConfig

SOURCE_NAME = "synthohive"
DEFAULT_YAML = Path("models") / "synthohive" / "_synthohive__sources.yml"


def source_naming(plan: TablePlan) -> str:
    return f"source('{SOURCE_NAME}', '{plan.identifier}')"


def sources_document(
    plans: Mapping[str, TablePlan],
    order: tuple[str, ...],
    schema: str,
    *,
    fidelity: FidelityConfig | None = None,
    profiles: Mapping[str, Mapping[str, ColumnProfile]] | None = None,
    scale: float = 1.0,
    database: str | None = None,
) -> dict[str, Any]:
    """The YAML document (as data) declaring the synthetic tables and their tests.

    Without ``fidelity`` only the structural tests are emitted.
    """
    profiles = profiles or {}
    tables = []
    for key in order:
        plan = plans[key]
        columns, table_level = table_tests(
            plan,
            plans,
            source_naming,
            fidelity=fidelity.for_table(plan.name) if fidelity else None,
            profiles=profiles.get(key, {}),
            scale=scale,
        )
        entry: dict[str, Any] = {"name": plan.identifier}
        if plan.real_ref:
            entry["description"] = f"Synthetic copy of {plan.real_ref}."
        elif plan.name != plan.identifier:
            entry["description"] = f"Synthetic copy of {plan.name}."
        entry["columns"] = column_entries(columns)
        if table_level:
            entry["data_tests"] = table_level
        tables.append(entry)
    source: dict[str, Any] = {"name": SOURCE_NAME}
    if database:
        source["database"] = database
    source.update(
        {
            "schema": schema,
            "description": "Synthetic tables written by synthohive-dbt.",
            "config": {"meta": {"synthohive_generated": True}},
            "tables": tables,
        }
    )
    return {"version": 2, "sources": [source]}


def yaml_target(project_dir: Path, path: Path | None = None) -> Path:
    return Path(project_dir) / (path or DEFAULT_YAML)
