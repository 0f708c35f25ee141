"""Export: synthetic tables as dbt Python models that sample in-process (dbt-duckdb).

One ``models/synthohive/synth_<identifier>.py`` per table plus
``_synthohive__models.yml`` with the tests. Each model refs its parents
(``dbt.ref('synth_<parent>')``), so dbt builds parents first, and calls
``synthohive_dbt.emit.python_runtime.sample_table``, which loads the saved artifacts and
samples the table with the same per-table seeds as ``synthohive generate``: the Python
models and a warehouse write with the same ``--seed`` give the same rows.

dbt runs Python models in-process only on DuckDB (remotely on Snowflake/BigQuery, not at
all on Postgres), so this export is for DuckDB targets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..relational.plan import TablePlan
from .data_tests import ColumnProfile, node_entries
from .files import HEADER, GeneratedFile, render
from .naming import node_name
from .thresholds import FidelityConfig

MODELS_DIR = Path("models") / "synthohive"
MODELS_YAML = "_synthohive__models.yml"
PYTHON_ADAPTERS = ("duckdb",)

_TEMPLATE = '''{header}"""Synthetic copy of {real}, sampled in-process by synthohive-dbt.

Regenerate with `synthohive generate --as-python-models`; build with
`dbt run --select {select}`. SYNTHOHIVE_ARTIFACTS overrides the artifacts path.
"""

from synthohive_dbt.emit.python_runtime import sample_table

ARTIFACTS = {artifacts}
TABLE = {key}
SEED = {seed}
SCALE = {scale}


def model(dbt, session):
    dbt.config(materialized="table")
    parents = {{{parents}}}
    return sample_table(session, ARTIFACTS, TABLE, parents, seed=SEED, scale=SCALE)
'''


def model_parents(plan: TablePlan) -> list[str]:
    """Keys of the parents a model refs: not itself, not through a cycle-closing FK (a
    ref there would be a cycle in dbt's DAG; the runtime regenerates that parent)."""
    out: list[str] = []
    for fk in plan.fks:
        if fk.self_reference or fk.deferred or fk.parent in out:
            continue
        out.append(fk.parent)
    return out


def model_source(
    plan: TablePlan,
    plans: Mapping[str, TablePlan],
    *,
    artifacts: str,
    seed: int,
    scale: float,
    select: str,
) -> str:
    refs = [
        f'\n        "{key}": dbt.ref("{node_name(plans[key])}"),'
        for key in model_parents(plan)
        if key in plans
    ]
    parents = "".join(refs) + ("\n    " if refs else "")
    return _TEMPLATE.format(
        header=HEADER,
        real=plan.real_ref or plan.name,
        select=select,
        artifacts=json.dumps(artifacts),
        key=json.dumps(plan.key),
        seed=int(seed),
        scale=repr(float(scale)),
        parents=parents,
    )


def python_model_files(
    plans: Mapping[str, TablePlan],
    order: tuple[str, ...],
    directory: Path,
    *,
    artifacts: str,
    seed: int,
    scale: float,
    fidelity: FidelityConfig | None,
    profiles: Mapping[str, Mapping[str, ColumnProfile]],
    select: str = "path:models/synthohive",
) -> list[GeneratedFile]:
    files = [
        GeneratedFile(
            directory / f"{node_name(plans[k])}.py",
            model_source(
                plans[k], plans, artifacts=artifacts, seed=seed, scale=scale, select=select
            ),
        )
        for k in order
    ]
    document = models_document(plans, order, fidelity=fidelity, profiles=profiles, scale=scale)
    files.append(GeneratedFile(directory / MODELS_YAML, render(document)))
    return files


def models_document(
    plans: Mapping[str, TablePlan],
    order: tuple[str, ...],
    *,
    fidelity: FidelityConfig | None,
    profiles: Mapping[str, Mapping[str, ColumnProfile]],
    scale: float = 1.0,
) -> dict[str, Any]:
    models = node_entries(
        plans,
        order,
        fidelity=fidelity,
        profiles=profiles,
        scale=scale,
        config=lambda plan: {"meta": {"synthohive_generated": True}},
    )
    return {"version": 2, "models": models}
