"""The data path shared by the CLI and the dbt run-operation bridge.

Given a schema graph and an open warehouse: read and validate the real tables, fit the
relational model (``fit_graph``); generate and stream synthetic tables into a schema
(``write_synthetic``). Nothing here loads projects or writes files.
"""

from __future__ import annotations

import pandas as pd

from .errors import SchemaValidationError, UnsafeWriteError, WarehouseError
from .progress import SILENT, Reporter
from .relational import RelationalModel, fit_relational
from .relational.generate import DEFAULT_CHUNK_ROWS
from .schema import ColumnType, SchemaGraph
from .synth.base import ModelOptions
from .validate import validate_data
from .warehouse import Warehouse
from .warehouse.base import Relation

DEFAULT_SCHEMA = "synthohive"


def relation_of(table) -> Relation:
    return Relation(table.database, table.schema, table.identifier)


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


def write_synthetic(
    relational: RelationalModel,
    wh: Warehouse,
    *,
    schema: str = DEFAULT_SCHEMA,
    scale: float = 1.0,
    seed: int = 0,
    keep_orphans: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    reporter: Reporter = SILENT,
) -> dict[str, int]:
    """Generate every table and stream it into ``schema`` of the open warehouse.

    Tables are written parents first, chunk by chunk into a staging table that is swapped
    in atomically, so memory stays bounded by the chunk size. Refuses a schema that holds
    a real table of the model. Returns rows per table name.
    """
    protected = {p.schema for p in relational.plans.values()}
    if schema.lower() in {s.lower() for s in protected}:
        holders = [p.name for p in relational.plans.values() if p.schema.lower() == schema.lower()]
        raise UnsafeWriteError(
            f"--schema {schema!r} holds real tables ({', '.join(holders)}); "
            "choose another schema for the synthetic tables"
        )
    written: dict[str, int] = {}
    for plan, chunks in relational.stream(
        scale=scale,
        seed=seed,
        chunk_rows=chunk_rows,
        keep_orphans=keep_orphans,
        reporter=reporter,
    ):
        written[plan.name] = wh.write_table_chunks(
            schema, plan.identifier, chunks, plan.column_types, protected_schemas=protected
        )
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
