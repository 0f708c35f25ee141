"""The data path shared by the CLI and the dbt run-operation bridge.

Given a schema graph and an open warehouse: read and validate the real tables and fit the
relational model (``fit_graph``). Writing synthetic tables is ``generation``. Nothing
here loads projects or writes files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from .errors import (
    DataError,
    PrivacyError,
    SchemaValidationError,
    WarehouseError,
)
from .options import DEFAULT_MODEL
from .privacy.check import check_graph
from .privacy.settings import PrivacySettings
from .progress import SILENT, Reporter, Stage, TableRead
from .relational import RelationalModel, fit_relational
from .relational.engine import SavedArtifacts
from .relational.fingerprint import definition_fingerprints
from .schema import ColumnType, SchemaGraph
from .schema.inferred import infer_from_data
from .schema.validate import validate_data
from .synth.base import ModelOptions
from .warehouse import Warehouse
from .warehouse.sampling import SamplePlan, plan_sample


def fit_graph(
    graph: SchemaGraph,
    wh: Warehouse,
    *,
    model: str = DEFAULT_MODEL,
    options: ModelOptions | None = None,
    seed: int = 0,
    reporter: Reporter = SILENT,
    previous: SavedArtifacts | None = None,
    synthohive_vars: Mapping[str, Any] | None = None,
    sample_rows: int | None = None,
) -> tuple[RelationalModel, SchemaGraph, dict[str, int]]:
    """Read, validate and fit every table of ``graph`` through an open warehouse.

    Tables whose fingerprint matches ``previous`` (saved artifacts) keep their saved model.
    ``synthohive_vars`` (the project's ``synthohive`` var) holds the privacy settings;
    every problem with them and with the privacy markings is raised at once, before
    anything is read. ``sample_rows`` (and each table's ``synthohive_sample_rows``) reads
    an FK-closed sample selected inside the warehouse (``warehouse.sampling``); the plans
    keep the real row counts. Returns the fitted model, the validated graph and the rows
    read per table name.
    """
    _check_identifiers(graph)
    privacy = check_privacy(graph, synthohive_vars)
    options = replace(options or ModelOptions(), min_category_rows=privacy.min_category_rows)
    definitions = definition_fingerprints(
        graph, model=model, options=options, seed=seed, privacy=privacy
    )
    reporter.emit(Stage("read", len(graph.tables)))
    sample, real_rows = plan_warehouse_sample(graph, wh, sample_rows, seed)
    for warning in sample.warnings:
        graph = replace(graph, warnings=(*graph.warnings, warning))
    graph, _, frames = read_and_validate(graph, wh, reporter=reporter, conditions=sample.conditions)
    reporter.emit(Stage("fit", len(graph.tables)))
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
        real_rows=real_rows,
        samples=sample.conditions,
        histograms=real_fk_histograms(graph, wh, sample.thinned, real_rows),
    )
    rows = {graph.table(k).name: len(frames[k]) for k in graph.order}
    return relational, graph, rows


def check_privacy(graph: SchemaGraph, synthohive_vars: Mapping[str, Any] | None) -> PrivacySettings:
    """The privacy settings; PrivacyError listing every problem with them and with the
    tables' privacy markings (treatments, kinds, keys, hash keys, copied tables)."""
    settings, problems = PrivacySettings.parse(synthohive_vars)
    problems += check_graph(graph)
    if problems:
        raise PrivacyError(
            "invalid config.meta keys or privacy settings (nothing was read or written)",
            problems,
        )
    return settings


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


def plan_warehouse_sample(
    graph: SchemaGraph, wh: Warehouse, sample_rows: int | None, seed: int
) -> tuple[SamplePlan, dict[str, int]]:
    """(the in-warehouse sample of ``graph``, each sampled table's real row count) for
    ``--sample-rows`` and the tables' ``synthohive_sample_rows``; nothing when neither is
    set. Bad values are one DataError listing each."""
    limits: dict[str, int] = {}
    problems = []
    for key in graph.order:
        table = graph.table(key)
        value = table.meta.get("synthohive_sample_rows", sample_rows)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            where = (
                f"{table.display}: synthohive_sample_rows"
                if value is not sample_rows
                else ("--sample-rows")
            )
            problems.append(f"{where} must be a whole number of rows >= 1, got {value!r}")
            continue
        limits[key] = value
    if problems:
        raise DataError("the sample sizes are invalid", sorted(set(problems)))
    if not limits:
        return SamplePlan(), {}
    real = {key: wh.row_count(graph.table(key).relation) for key in graph.order}
    sample = plan_sample(graph, wh.dialect, limits, real, seed)
    return sample, {key: real[key] for key in sample.conditions}


def real_fk_histograms(
    graph: SchemaGraph, wh: Warehouse, thinned: Sequence[str], real_rows: Mapping[str, int]
) -> dict[str, dict[tuple[str, ...], tuple[int, ...]]]:
    """Per table sampled on its own although it has FKs (``SamplePlan.thinned``), per FK
    columns, the real children-per-parent histogram counted in the warehouse (index k:
    parents with k children; parents without children: the parent's real rows minus the
    parents counted)."""
    out: dict[str, dict[tuple[str, ...], tuple[int, ...]]] = {}
    for key in thinned:
        table = graph.table(key)
        for fk in graph.fks_of(key):
            if fk.is_self_reference or fk.parent not in graph.tables:
                continue
            counts = wh.fk_histogram(table.relation, fk.columns)
            parents = real_rows.get(fk.parent)
            if parents is None:
                parents = wh.row_count(graph.table(fk.parent).relation)
            hist = [0] * (max(counts, default=0) + 1)
            for k, n in counts.items():
                hist[k] = n
            hist[0] = max(parents - sum(counts.values()), 0)
            out.setdefault(key, {})[tuple(fk.columns)] = tuple(hist)
    return out


def _check_sizes(
    graph: SchemaGraph,
    wh: Warehouse,
    types: dict[str, dict[str, ColumnType]],
    conditions: Mapping[str, str],
) -> list[str]:
    """Problems for the tables whose rows to read would not fit in the read budget."""
    budget = read_budget_bytes()
    problems, total = [], 0
    for key in graph.order:
        table = graph.table(key)
        rows = wh.row_count(table.relation, conditions.get(key))
        need = _estimated_bytes(rows, len(types[key]))
        total += need
        if need > budget or total > budget:
            problems.append(
                f"{table.display} has {rows:,} rows (about {need / 2**30:.1f} GiB in memory); "
                f"fit holds the selected tables in memory and has {budget / 2**30:.1f} GiB "
                "(SYNTHOHIVE_MAX_READ_BYTES). Fit on a sample selected inside the warehouse: "
                "`synthohive fit --sample-rows N` (or `synthohive_sample_rows: N` in the "
                "table's config.meta)"
            )
    return problems


def read_and_validate(
    graph: SchemaGraph,
    wh: Warehouse,
    *,
    reporter: Reporter = SILENT,
    conditions: Mapping[str, str] | None = None,
) -> tuple[SchemaGraph, dict[str, dict[str, ColumnType]], dict[str, pd.DataFrame]]:
    """Read real types and rows of every table (those meeting its SQL condition in
    ``conditions``, a sample), validate everything at once, then add what the rows show
    and no test declares (identifiers, probable FKs: ``inferred``)."""
    conditions = conditions or {}
    types: dict[str, dict[str, ColumnType]] = {}
    frames: dict[str, pd.DataFrame] = {}
    problems: list[str] = []
    for key in graph.order:
        table = graph.table(key)
        try:
            types[key] = wh.columns(table.relation)
        except WarehouseError as exc:  # reported with the others below
            problems.append(f"{table.display}: cannot read {table.relation}: {exc}")
            continue
    if problems:
        raise SchemaValidationError("cannot read the selected tables", problems)
    too_big = _check_sizes(graph, wh, types, conditions)
    if too_big:  # checked before reading anything
        raise DataError("the selected tables do not fit in memory", too_big)
    for key in graph.order:
        table = graph.table(key)
        frames[key] = wh.read(table.relation, where=conditions.get(key))
        reporter.emit(TableRead(table.name, len(frames[key])))
    graph = validate_data(graph, types, frames)
    graph = infer_from_data(graph, types, frames)
    return graph, types, frames
