"""The data path shared by the CLI and the dbt run-operation bridge.

Given a schema graph and an open warehouse: read and validate the real tables, fit the
relational model (``fit_graph``); generate and stream synthetic tables into a schema
(``write_synthetic``). Nothing here loads projects or writes files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from .errors import (
    DataError,
    PrivacyError,
    SchemaValidationError,
    UnsafeWriteError,
    WarehouseError,
)
from .privacy.check import check_graph
from .privacy.holdout import holdout_mask
from .privacy.metrics import TablePrivacy, table_privacy
from .privacy.settings import PrivacySettings
from .progress import SILENT, Reporter
from .relational import RelationalModel, fit_relational
from .relational.engine import SavedArtifacts
from .relational.fingerprint import definition_fingerprints
from .relational.generate import DEFAULT_CHUNK_ROWS
from .relational.plan import table_seed
from .schema import ColumnType, SchemaGraph
from .schema.inferred import infer_from_data
from .schema.validate import validate_data
from .synth.base import ModelOptions
from .warehouse import Warehouse
from .warehouse.base import Relation

DEFAULT_SCHEMA = "synthohive"


def relation_of(table) -> Relation:
    """The real relation of a Table or TablePlan."""
    return Relation(table.database, table.schema, table.identifier)


def fit_graph(
    graph: SchemaGraph,
    wh: Warehouse,
    *,
    model: str = "ctgan",
    options: ModelOptions | None = None,
    seed: int = 0,
    reporter: Reporter = SILENT,
    previous: SavedArtifacts | None = None,
    synthohive_vars: Mapping[str, Any] | None = None,
) -> tuple[RelationalModel, SchemaGraph, dict[str, int]]:
    """Read, validate and fit every table of ``graph`` through an open warehouse.

    Tables whose fingerprint matches ``previous`` (saved artifacts) keep their saved model.
    ``synthohive_vars`` (the project's ``synthohive`` var) holds the privacy settings;
    every problem with them and with the privacy markings is raised at once, before
    anything is read. Returns the fitted model, the validated graph and the real row
    count per table name.
    """
    _check_identifiers(graph)
    privacy = check_privacy(graph, synthohive_vars)
    options = replace(options or ModelOptions(), min_category_rows=privacy.min_category_rows)
    definitions = definition_fingerprints(
        graph, model=model, options=options, seed=seed, privacy=privacy
    )
    reporter.event("stage", stage="read", tables=len(graph.tables))
    graph, _, frames = read_and_validate(graph, wh, read_rows=True, reporter=reporter)
    reporter.event("stage", stage="fit", tables=len(graph.tables))
    relational = fit_relational(
        graph,
        frames,
        model=model,
        options=options,
        seed=seed,
        reporter=reporter,
        previous=previous,
        definitions=definitions,
        privacy=privacy,
    )
    rows = {graph.table(k).name: len(frames[k]) for k in graph.order}
    return relational, graph, rows


def check_privacy(graph: SchemaGraph, synthohive_vars: Mapping[str, Any] | None) -> PrivacySettings:
    """The privacy settings; PrivacyError listing every problem with them and with the
    tables' privacy markings (treatments, kinds, keys, hash keys, copied tables)."""
    settings, problems = PrivacySettings.parse(synthohive_vars)
    problems += check_graph(graph)
    if problems:
        raise PrivacyError("invalid privacy settings (nothing was read or written)", problems)
    return settings


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
        avoid=real_personal_values(relational, wh),
    ):
        written[plan.name] = wh.write_table_chunks(
            schema, plan.identifier, chunks, plan.column_types, protected_schemas=protected
        )
    return written


def real_personal_values(
    relational: RelationalModel, wh: Warehouse
) -> dict[str, dict[str, pd.Series]]:
    """Per table key, the distinct real values of each personal column whose made-up
    values must differ from them (``PersonalColumn.avoids_real``). They stay in memory
    while generating; a table that cannot be read is generated without them (the dbt test
    ``no_real_value_copied`` still checks)."""
    out: dict[str, dict[str, pd.Series]] = {}
    for key, plan in relational.plans.items():
        names = [p.column for p in plan.personal if p.avoids_real]
        if not names:
            continue
        try:
            frame = wh.read(Relation(plan.database, plan.schema, plan.identifier), names)
        except WarehouseError:
            continue
        out[key] = {n: pd.Series(frame[n].dropna().astype(str).unique()) for n in names}
    return out


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


def read_budget_bytes() -> int:
    """How many bytes of real data fit may hold in memory: ``SYNTHOHIVE_MAX_READ_BYTES``
    or half of the machine's physical memory."""
    configured = os.environ.get("SYNTHOHIVE_MAX_READ_BYTES")
    if configured:
        return int(configured)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # not POSIX: no guard
        return 1 << 62


def _estimated_bytes(rows: int, columns: int) -> int:
    # pandas holds about 8-16 bytes per cell plus object overhead for text; models copy
    # the encoded matrix once more: 48 bytes a cell is a deliberately careful estimate
    return rows * max(columns, 1) * 48


def _check_sizes(
    graph: SchemaGraph, wh: Warehouse, types: dict[str, dict[str, ColumnType]]
) -> list[str]:
    """Problems for the tables whose real rows would not fit in the read budget."""
    budget = read_budget_bytes()
    problems, total = [], 0
    for key in graph.order:
        table = graph.table(key)
        rows = wh.row_count(relation_of(table))
        need = _estimated_bytes(rows, len(types[key]))
        total += need
        if need > budget or total > budget:
            problems.append(
                f"{table.display} has {rows:,} rows (about {need / 2**30:.1f} GiB in memory); "
                f"fit holds the selected tables in memory and has {budget / 2**30:.1f} GiB "
                "(SYNTHOHIVE_MAX_READ_BYTES). Fit on a sampled dbt model instead (e.g. "
                "`select * from {{ source(...) }} using sample 10%` on DuckDB, "
                "`tablesample system (10)` on Postgres) selected with --select"
            )
    return problems


def read_and_validate(
    graph: SchemaGraph, wh: Warehouse, *, read_rows: bool, reporter: Reporter = SILENT
) -> tuple[SchemaGraph, dict[str, dict[str, ColumnType]], dict[str, pd.DataFrame]]:
    """Read real types and rows of every table, validate everything at once, then add
    what the rows show and no test declares (identifiers, probable FKs: ``inferred``)."""
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
    if problems:
        raise SchemaValidationError("cannot read the selected tables", problems)
    if read_rows:
        too_big = _check_sizes(graph, wh, types)
        if too_big:  # checked before reading anything
            raise DataError("the selected tables do not fit in memory", too_big)
        for key in graph.order:
            table = graph.table(key)
            frames[key] = wh.read(relation_of(table))
            reporter.event("table_read", table=table.name, rows=len(frames[key]))
    graph = validate_data(graph, types, frames)
    graph = infer_from_data(graph, types, frames)
    return graph, types, frames


def measure_privacy(
    relational: RelationalModel,
    wh: Warehouse,
    synthetic: Mapping[str, Relation],
    *,
    seed: int = 0,
    reporter: Reporter = SILENT,
) -> list[TablePrivacy]:
    """Privacy metrics of each generated table (``privacy.metrics``): its synthetic rows
    against the real rows the model trained on and the holdout it never saw, over the
    modelled columns (keys are minted anew and personal columns made up: neither can
    copy a row). ``synthetic`` maps table keys to where their synthetic rows are. Tables
    whose real rows this connection cannot read, copied tables and tables fitted without
    a holdout are left out."""
    results: list[TablePrivacy] = []
    for key in relational.order:
        plan = relational.plans[key]
        if plan.copied or not plan.holdout or key not in synthetic:
            continue
        columns = [c for c in plan.copy_columns if c in plan.column_types]
        if not columns:
            continue
        try:
            real = wh.read(relation_of(plan))
            fake = wh.read(synthetic[key], columns)
        except WarehouseError:
            continue
        settings = PrivacySettings(
            holdout_share=float(plan.holdout["share"]),
            holdout_max_rows=int(plan.holdout["max_rows"]),
        )
        mask = holdout_mask(real, int(plan.holdout["seed"]), settings)
        rng = np.random.default_rng(table_seed(seed, key, salt=7))
        results.append(
            table_privacy(
                plan.name, real.loc[~mask, columns], real.loc[mask, columns], fake, rng=rng
            )
        )
        reporter.event("privacy_measured", table=plan.name)
    return results
