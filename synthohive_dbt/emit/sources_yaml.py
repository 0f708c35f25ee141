"""Generated dbt YAML: the synthetic tables declared as the source ``synthohive``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..relational.plan import TablePlan
from .data_tests import ColumnProfile, table_entries
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
    tables = table_entries(
        plans,
        order,
        source_naming,
        _source_head,
        fidelity=fidelity,
        profiles=profiles or {},
        scale=scale,
    )
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


def _source_head(plan: TablePlan) -> dict[str, Any]:
    """A source table's name, and what it copies where the name does not say it."""
    if plan.real_ref:
        return {"name": plan.identifier, "description": f"Synthetic copy of {plan.real_ref}."}
    if plan.name != plan.identifier:
        return {"name": plan.identifier, "description": f"Synthetic copy of {plan.name}."}
    return {"name": plan.identifier}


def yaml_target(project_dir: Path, path: Path | None = None) -> Path:
    return Path(project_dir) / (path or DEFAULT_YAML)
