"""The library's front door: inspect, fit and generate a dbt project.

Each function runs the one-way pipeline: manifest -> schema graph -> warehouse read ->
validation -> train / sample -> warehouse write -> generated dbt YAML. The CLI is a thin
layer over these functions.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .emit import check_writable, write_sources_yaml, yaml_target
from .errors import SchemaValidationError, UnsafeWriteError, WarehouseError
from .manifest import build_graph
from .progress import SILENT, Reporter
from .project import Project, load_project
from .relational import RelationalModel, fit_relational
from .schema import ColumnType, SchemaGraph
from .synth.base import ModelOptions
from .validate import validate_data
from .warehouse import Warehouse, open_warehouse
from .warehouse.base import Relation

DEFAULT_SCHEMA = "synthohive"


@dataclass(frozen=True)
class ProjectOptions:
    """How to find and connect to the dbt project, like dbt's own flags."""

    project_dir: Path = Path(".")
    profiles_dir: Path | None = None
    target: str | None = None
    select: Sequence[str] = ()
    exclude: Sequence[str] = ()
    vars: dict | None = None


@dataclass
class Inspection:
    project: Project
    graph: SchemaGraph
    column_types: dict[str, dict[str, ColumnType]] = field(default_factory=dict)


@dataclass
class FitResult:
    artifacts: Path
    tables: dict[str, int]  # table name -> real rows
    seconds: float
    warnings: tuple[str, ...] = ()


@dataclass
class GenerateResult:
    schema: str
    tables: dict[str, int]  # table name -> synthetic rows
    seconds: float
    yaml_path: Path | None = None


def open_project(opts: ProjectOptions) -> Project:
    return load_project(
        opts.project_dir,
        profiles_dir=opts.profiles_dir,
        target=opts.target,
        vars=opts.vars,
        select=tuple(opts.select),
        exclude=tuple(opts.exclude),
    )


def relation_of(table) -> Relation:
    return Relation(table.database, table.schema, table.identifier)


def inspect(opts: ProjectOptions, *, with_warehouse: bool = False) -> Inspection:
    """The schema graph of the selected tables; with_warehouse also reads real types and
    runs the data-level validation."""
    project = open_project(opts)
    graph = build_graph(project.manifest, project.selected)
    if not with_warehouse:
        return Inspection(project, graph)
    with open_warehouse(project.adapter_type, project.credentials) as wh:
        graph, types, _ = _read_and_validate(graph, wh, read_rows=True)
    return Inspection(project, graph, types)


def default_artifacts(project: Project) -> Path:
    return Path(project.project_dir) / "target" / "synthohive"


def fit(
    opts: ProjectOptions,
    *,
    model: str = "copula",
    options: ModelOptions | None = None,
    seed: int = 0,
    artifacts: Path | None = None,
    reporter: Reporter = SILENT,
) -> FitResult:
    start = time.perf_counter()
    project = open_project(opts)
    graph = build_graph(project.manifest, project.selected)
    with open_warehouse(project.adapter_type, project.credentials) as wh:
        relational, graph, rows = fit_graph(
            graph, wh, model=model, options=options, seed=seed, reporter=reporter
        )
    out = Path(artifacts) if artifacts else default_artifacts(project)
    relational.save(out)
    return FitResult(
        artifacts=out, tables=rows, seconds=time.perf_counter() - start, warnings=graph.warnings
    )


def fit_graph(
    graph: SchemaGraph,
    wh: Warehouse,
    *,
    model: str = "copula",
    options: ModelOptions | None = None,
    seed: int = 0,
    reporter: Reporter = SILENT,
) -> tuple[RelationalModel, SchemaGraph, dict[str, int]]:
    """Read, validate and fit every table of ``graph`` through an open warehouse.

    Returns the fitted model, the validated graph and the real row count per table name.
    """
    _check_identifiers(graph)
    reporter.event("stage", stage="read", tables=len(graph.tables))
    graph, _, frames = _read_and_validate(graph, wh, read_rows=True, reporter=reporter)
    reporter.event("stage", stage="fit", tables=len(graph.tables))
    relational = fit_relational(
        graph, frames, model=model, options=options, seed=seed, reporter=reporter
    )
    rows = {graph.table(k).name: len(frames[k]) for k in graph.order}
    return relational, graph, rows


def generate(
    opts: ProjectOptions,
    *,
    schema: str = DEFAULT_SCHEMA,
    scale: float = 1.0,
    seed: int = 0,
    artifacts: Path | None = None,
    reporter: Reporter = SILENT,
    write_yaml: bool = True,
    yaml_path: Path | None = None,
) -> GenerateResult:
    start = time.perf_counter()
    project = open_project(opts)
    relational = RelationalModel.load(Path(artifacts) if artifacts else default_artifacts(project))
    if write_yaml:  # refuse before anything is written
        check_writable(yaml_target(project.project_dir, yaml_path))
    with open_warehouse(project.adapter_type, project.credentials) as wh:
        written = write_synthetic(
            relational, wh, schema=schema, scale=scale, seed=seed, reporter=reporter
        )
    written_yaml = None
    if write_yaml:
        written_yaml = write_sources_yaml(project, relational, schema, yaml_path)
    return GenerateResult(schema, written, time.perf_counter() - start, written_yaml)


def write_synthetic(
    relational: RelationalModel,
    wh: Warehouse,
    *,
    schema: str = DEFAULT_SCHEMA,
    scale: float = 1.0,
    seed: int = 0,
    reporter: Reporter = SILENT,
) -> dict[str, int]:
    """Generate every table and write it into ``schema`` of the open warehouse.

    Refuses a schema that holds a real table of the model. Returns rows per table name.
    """
    protected = {p.schema for p in relational.plans.values()}
    if schema.lower() in {s.lower() for s in protected}:
        holders = [p.name for p in relational.plans.values() if p.schema.lower() == schema.lower()]
        raise UnsafeWriteError(
            f"--schema {schema!r} holds real tables ({', '.join(holders)}); "
            "choose another schema for the synthetic tables"
        )
    written: dict[str, int] = {}

    def tables():
        for plan, frame in relational.generate(scale=scale, seed=seed, reporter=reporter):
            written[plan.name] = len(frame)
            yield plan.identifier, frame, plan.column_types

    wh.write_tables(schema, list(tables()), protected_schemas=protected)
    return written


def _check_identifiers(graph: SchemaGraph) -> None:
    """Synthetic tables are named after the real identifiers: two selected tables with
    the same identifier (in different schemas) would overwrite each other."""
    seen: dict[str, list[str]] = {}
    for key in graph.order:
        table = graph.table(key)
        seen.setdefault(table.identifier.lower(), []).append(table.display)
    problems = [
        f"{', '.join(names)} share the identifier {ident!r}; exclude one of them "
        "(--exclude) and fit it in a separate run with another --schema"
        for ident, names in seen.items()
        if len(names) > 1
    ]
    if problems:
        raise SchemaValidationError(
            "the selected tables cannot share one synthetic schema", problems
        )


def _read_and_validate(
    graph: SchemaGraph, wh: Warehouse, *, read_rows: bool, reporter: Reporter = SILENT
) -> tuple[SchemaGraph, dict[str, dict[str, ColumnType]], dict[str, pd.DataFrame]]:
    """Read real types and rows of every table, then validate everything at once."""
    types: dict[str, dict[str, ColumnType]] = {}
    frames: dict[str, pd.DataFrame] = {}
    problems: list[str] = []
    for key in graph.order:
        table = graph.table(key)
        try:
            types[key] = wh.columns(relation_of(table))
        except WarehouseError as exc:  # reported with the others below
            problems.append(f"{table.display}: cannot read {relation_of(table)}: {exc}")
            continue
        if read_rows:
            frames[key] = wh.read(relation_of(table))
            reporter.event("table_read", table=table.name, rows=len(frames[key]))
    if problems:
        raise SchemaValidationError("cannot read the selected tables", problems)
    graph = validate_data(graph, types, frames)
    return graph, types, frames
