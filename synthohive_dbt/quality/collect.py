"""What the report scores: the spec from the saved model's plans, bounded samples of the
real and the synthetic tables, and the holdout privacy metrics of the last generate.

Tables of at most ``sample_rows`` rows are read whole; larger ones are read and sampled
to ``sample_rows`` rows with a seed (children per parent are then estimated from the
sample). Key columns are not scored as columns: they are minted anew; they count for
integrity (duplicates, nulls, orphans) and for the relationships.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import WarehouseError
from ..progress import SILENT, Reporter, TableRead
from ..relational import RelationalModel
from ..schema import LogicalType, Relation
from ..warehouse import Warehouse
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
    """(real frames, synthetic frames, (real rows, synthetic rows) per table name).
    Raises WarehouseError naming the tables that cannot be read (run generate first)."""
    real: dict[str, pd.DataFrame] = {}
    fake: dict[str, pd.DataFrame] = {}
    sizes: dict[str, tuple[int, int]] = {}
    missing: list[str] = []
    rng = np.random.default_rng(seed)
    for key in relational.order:
        plan = relational.plans[key]
        try:
            real_frame = wh.read(plan.relation)
        except WarehouseError as exc:
            missing.append(f"{plan.relation}: {exc}")
            continue
        try:
            fake_frame = wh.read(synthetic[key])
        except WarehouseError:
            missing.append(
                f"{synthetic[key]} (synthetic {plan.name}) cannot be read; run "
                "`synthohive generate` into this schema first"
            )
            continue
        sizes[plan.name] = (len(real_frame), len(fake_frame))
        real[plan.name] = _bounded(real_frame, sample_rows, rng)
        fake[plan.name] = _bounded(fake_frame, sample_rows, rng)
        reporter.emit(TableRead(plan.name, len(real_frame)))
    if missing:
        raise WarehouseError("the report cannot read every table", missing)
    return real, fake, sizes


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


def _bounded(frame: pd.DataFrame, rows: int, rng: np.random.Generator) -> pd.DataFrame:
    if len(frame) <= rows:
        return frame
    keep = np.sort(rng.choice(len(frame), size=rows, replace=False))
    return frame.iloc[keep].reset_index(drop=True)
