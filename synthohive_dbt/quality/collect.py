"""What the report scores: the spec from the saved model's plans, bounded samples of the
real and the synthetic tables, and the holdout privacy metrics of the last generate.

Both sides are sampled inside the warehouse the way ``fit --sample-rows`` samples
(``warehouse.sampling``): tables of at most ``sample_rows`` rows are read whole, larger
roots keep ``sample_rows`` rows by a hash of their key and the seed and their children the
children of the kept rows (FK-closed: children per parent are the real counts); a larger
table that no sampled parent restricts keeps ``sample_rows`` rows of its own by the same
hash (its children per parent are then estimated from the sample); a table that
references itself is read whole. Key columns are not
scored as columns: they are minted anew; they count for integrity (duplicates, nulls,
orphans) and for the relationships.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..errors import WarehouseError
from ..progress import SILENT, Reporter, TableRead
from ..relational import RelationalModel
from ..schema import Column, ForeignKey, LogicalType, Origin, PrimaryKey, Relation, SchemaGraph
from ..schema import Table as SchemaTable
from ..warehouse import Warehouse
from ..warehouse.sampling import plan_sample
from .spec import CATEGORICAL, DATETIME, NUMERIC, ColumnSpec, RelationSpec, ReportSpec, TableSpec

KINDS = {
    LogicalType.INTEGER: NUMERIC,
    LogicalType.NUMERIC: NUMERIC,
    LogicalType.FLOAT: NUMERIC,
    LogicalType.DATE: DATETIME,
    LogicalType.TIMESTAMP: DATETIME,
    LogicalType.TIMESTAMPTZ: DATETIME,
    LogicalType.TEXT: CATEGORICAL,
    LogicalType.BOOLEAN: CATEGORICAL,
}  # uuid and unsupported columns are not scored
#: text columns with at least this many values, nearly all distinct, are not scored
UNIQUE_TEXT_MIN, UNIQUE_TEXT_SHARE = 20, 0.9
PRIVACY_FIELDS = ("dcr_share", "exact_match_training", "exact_match_holdout", "nndr_median",
                  "passed", "reasons", "note", "dcr_histogram")  # fmt: skip


def report_spec(
    relational: RelationalModel, real: Mapping[str, pd.DataFrame], min_rows: int
) -> tuple[ReportSpec, dict[str, list[dict[str, str]]]]:
    """(the spec: tables with their scored columns and kinds, and FKs; per table the
    columns left unscored and why). Keys are minted anew, personal columns made up, and
    text whose every value is (nearly) unique is an identifier or free text: their
    distributions cannot be compared, as SDMetrics leaves id, pii and text columns out."""
    tables, relations = [], []
    unscored: dict[str, list[dict[str, str]]] = {}
    for key in relational.order:
        plan = relational.plans[key]
        keys = set(plan.primary_key) | set(plan.minted)
        keys |= {c for fk in plan.fks for c in fk.columns}
        personal = {p.column for p in plan.personal}
        columns, left = [], []
        for name, ctype in plan.columns:
            why = _unscored(name, ctype.logical, keys, personal, real.get(plan.name))
            if why:
                left.append({"name": name, "reason": why})
            else:
                columns.append(ColumnSpec(name, KINDS[ctype.logical]))
        unscored[plan.name] = left
        tables.append(TableSpec(plan.name, tuple(columns), tuple(plan.primary_key)))
        for fk in plan.fks:
            if fk.parent in relational.plans:
                parent = relational.plans[fk.parent].name
                relations.append(RelationSpec(plan.name, fk.columns, parent, fk.parent_columns))
    return ReportSpec(tuple(tables), tuple(relations), min_rows=min_rows), unscored


def _unscored(
    name: str, logical: LogicalType, keys: set, personal: set, frame: pd.DataFrame | None
) -> str | None:
    if name in keys:
        return "key (minted anew)"
    if name in personal:
        return "personal (made up)"
    if logical not in KINDS:
        return f"{logical.value} column"
    if logical is LogicalType.TEXT and frame is not None and name in frame:
        values = frame[name].dropna()
        if len(values) >= UNIQUE_TEXT_MIN and values.nunique() >= UNIQUE_TEXT_SHARE * len(values):
            return "identifier or free text (nearly every value unique)"
    return None


def read_samples(
    relational: RelationalModel,
    wh: Warehouse,
    synthetic: Mapping[str, Relation],
    *,
    sample_rows: int,
    seed: int = 0,
    reporter: Reporter = SILENT,
) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame], dict[str, tuple[int, int]]]:
    """(real frames, synthetic frames, (real rows, synthetic rows) per table name), each
    side sampled in SQL (module docstring). Raises WarehouseError naming the tables that
    cannot be read (run generate first)."""
    real_at = {key: relational.plans[key].relation for key in relational.order}
    counts: dict[str, dict[str, int]] = {"real": {}, "synthetic": {}}
    missing: list[str] = []
    for key in relational.order:
        plan = relational.plans[key]
        try:
            counts["real"][key] = wh.row_count(real_at[key])
        except WarehouseError as exc:
            missing.append(f"{plan.relation}: {exc}")
            continue
        try:
            counts["synthetic"][key] = wh.row_count(synthetic[key])
        except WarehouseError:
            missing.append(
                f"{synthetic[key]} (synthetic {plan.name}) cannot be read; run "
                "`synthohive generate` into this schema first"
            )
    if missing:
        raise WarehouseError("the report cannot read every table", missing)
    frames = {}
    for side, relations in (("real", real_at), ("synthetic", synthetic)):
        graph = _sampling_graph(relational, relations)
        conditions = _sample_conditions(graph, wh, counts[side], sample_rows, seed)
        frames[side] = {
            relational.plans[key].name: wh.read(relations[key], where=conditions.get(key))
            for key in relational.order
        }
    for key in relational.order:
        name = relational.plans[key].name
        reporter.emit(TableRead(name, len(frames["real"][name])))
    sizes = {
        relational.plans[key].name: (counts["real"][key], counts["synthetic"][key])
        for key in relational.order
    }
    return frames["real"], frames["synthetic"], sizes


def _sampling_graph(relational: RelationalModel, relations: Mapping[str, Relation]) -> SchemaGraph:
    """The saved plans as a schema graph whose tables live at ``relations``."""
    origin = Origin("saved plan", "plan.json")
    tables, fks = {}, []
    for key in relational.order:
        plan, at = relational.plans[key], relations[key]
        tables[key] = SchemaTable(
            key, plan.name, "source", at.database, at.schema, at.identifier,
            columns=tuple(Column(name) for name, _ in plan.columns),
            primary_key=PrimaryKey(tuple(plan.primary_key), origin) if plan.primary_key else None,
        )  # fmt: skip
        fks += [
            ForeignKey(key, tuple(fk.columns), fk.parent, tuple(fk.parent_columns), origin)
            for fk in plan.fks
            if fk.parent in relational.plans
        ]
    return SchemaGraph(tables, tuple(fks), tuple(relational.order))


def _sample_conditions(
    graph: SchemaGraph, wh: Warehouse, rows: Mapping[str, int], sample_rows: int, seed: int
) -> Mapping[str, str]:
    """Per table key, the SQL condition of its sampled rows (absent: read whole)."""
    limits = dict.fromkeys(graph.order, sample_rows)
    return plan_sample(graph, wh.dialect, limits, rows, seed).conditions


def privacy_sections(path: Path) -> dict[str, dict]:
    """Per table name, the holdout metrics of the last generate (``privacy.json``), or
    nothing when there is no such file."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    tables = document.get("tables") if isinstance(document, dict) else None
    if not isinstance(tables, dict):
        return {}
    return {
        name: {k: metrics.get(k) for k in PRIVACY_FIELDS}
        for name, metrics in tables.items()
        if isinstance(metrics, dict)
    }
