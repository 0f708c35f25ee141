"""Export: synthetic tables as dbt Python models that sample in-process (dbt-duckdb).

One ``models/synthohive/synth_<identifier>.py`` per table plus
``_synthohive__models.yml`` with the tests. Each model refs its parents
(``dbt.ref('synth_<parent>')``), so dbt builds parents first, and calls
``synthohive_dbt.python_runtime.sample_table``, which loads the saved artifacts and
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

from ..errors import EmitError
from ..options import GenerateOptions
from ..relational.plan import TablePlan
from .exports import ExportRun, FileExport
from .files import HEADER, GeneratedFile
from .naming import node_name

MODELS_DIR = Path("models") / "synthohive"
MODELS_YAML = "_synthohive__models.yml"
PYTHON_ADAPTERS = ("duckdb",)

_TEMPLATE = '''{header}"""Synthetic copy of {real}, sampled in-process by synthohive-dbt.

Regenerate with `synthohive generate --as-python-models`; build with
`dbt run --select {select}`. SYNTHOHIVE_ARTIFACTS overrides the artifacts path.
"""

from synthohive_dbt.python_runtime import sample_table

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


class PythonModelsExport(FileExport):
    """dbt Python models in ``<first model path>/synthohive/`` that sample when dbt runs
    them; DuckDB targets only."""

    resource = "models"
    yaml_name = MODELS_YAML
    suffix = ".py"

    def check(self, project: Any, options: GenerateOptions) -> None:
        if project.adapter_type not in PYTHON_ADAPTERS:
            raise EmitError(
                f"--as-python-models needs a DuckDB target: dbt runs Python models in-process "
                f"only on DuckDB, and target {project.target_name!r} is {project.adapter_type}. "
                "Write the tables into the warehouse instead (`synthohive generate`)"
            )
        if options.keep_orphans:
            raise EmitError("--keep-orphans is not supported with --as-python-models")
        if not options.scale > 0:
            raise EmitError(f"--scale must be positive, got {options.scale}")

    def directory(self, project: Any) -> Path:
        return Path(project.project_dir) / _model_path(project) / "synthohive"

    def table_files(self, run: ExportRun) -> tuple[list[GeneratedFile], dict[str, int], list[str]]:
        """The models (no rows are made now)."""
        plans, options = run.relational.plans, run.options
        resolved = str(run.artifacts.resolve())
        select = f"path:{_model_path(run.project)}/synthohive"
        files = [
            GeneratedFile(
                self.table_path(run.directory, plans[k]),
                model_source(
                    plans[k],
                    plans,
                    artifacts=resolved,
                    seed=options.seed,
                    scale=options.scale,
                    select=select,
                ),
            )
            for k in run.relational.order
        ]
        return files, {}, []

    def node_config(self, plan: TablePlan) -> dict[str, Any]:
        return {"meta": {"synthohive_generated": True}}


PYTHON_MODELS = PythonModelsExport()


def _model_path(project: Any) -> str:
    """The project's first model path, where the models go (``models`` by default)."""
    return (list(project.config.model_paths) or ["models"])[0]
