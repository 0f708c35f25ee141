"""``build_report``: the quality report's numbers (the result shape is in ``spec``).

Scores follow SDMetrics 0.32's multi-table QualityReport, so the two agree:
- a table's column shapes: the mean of its columns' KSComplement / TVComplement;
- a table's column pair trends: the mean over the pairs whose real side shows a trend
  (|Pearson| > 0.5 for CorrelationSimilarity, Cramér's V > 0.3 for ContingencySimilarity:
  the report's default thresholds); every pair is listed with ``contributes`` saying
  whether it counted. ``None`` when no pair counts;
- a table's score: the mean of those two;
- a relationship's cardinality: CardinalityShapeSimilarity of children per parent; its
  intertable trends: the same pair metrics over child rows joined to their parent row,
  parent columns x child columns;
- overall: each property pooled over every column, pair or relationship of the report
  (as SDMetrics pools its details), and the score the mean of the properties that apply.
At most ``spec.max_pairs`` pairs per table and per relationship are scored, spread evenly
over all pairs in column order. Charts and privacy rules: ``charts``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations, product

import numpy as np
import pandas as pd

from synthohive_dbt.errors import DataError
from synthohive_dbt.quality import charts, scores
from synthohive_dbt.quality.spec import (
    CATEGORICAL,
    FORMAT_VERSION,
    RelationSpec,
    ReportSpec,
    TableSpec,
)

CORRELATION_THRESHOLD = 0.5  # SDMetrics QualityReport: real |r| above it counts
ASSOCIATION_THRESHOLD = 0.3  # SDMetrics QualityReport: real Cramér's V above it counts
MAX_MATRIX_COLUMNS = 30
METRIC = {True: "TVComplement", False: "KSComplement"}


@dataclass(frozen=True)
class Prepared:
    """One column on both sides in the form the metrics read (``scores.prepare``);
    categorical columns also carry codes shared by both sides."""

    kind: str
    real: np.ndarray | pd.Series
    synthetic: np.ndarray | pd.Series
    codes: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def of(cls, kind: str, real: pd.Series, synthetic: pd.Series) -> Prepared:
        r, s = scores.prepare(real, kind), scores.prepare(synthetic, kind)
        codes = scores.category_codes(r, s) if kind == CATEGORICAL else None
        return cls(kind, r, s, codes)

    def take(self, real_rows: np.ndarray, synthetic_rows: np.ndarray) -> Prepared:
        """The rows at these positions (the joined frames of a relationship)."""
        r, s = _take(self.real, real_rows), _take(self.synthetic, synthetic_rows)
        codes = (
            None
            if self.codes is None
            else (self.codes[0][real_rows], self.codes[1][synthetic_rows])
        )
        return Prepared(self.kind, r, s, codes)

    def pair_codes(self) -> tuple[np.ndarray, np.ndarray]:
        if self.codes is not None:
            return self.codes
        return scores.bin_codes(self.real), scores.bin_codes(self.synthetic)


def _take(values: np.ndarray | pd.Series, rows: np.ndarray) -> np.ndarray | pd.Series:
    if isinstance(values, pd.Series):
        return values.iloc[rows].reset_index(drop=True)
    return values[rows]


def build_report(
    real: Mapping[str, pd.DataFrame], synthetic: Mapping[str, pd.DataFrame], spec: ReportSpec
) -> dict:
    """The report of ``synthetic`` against ``real`` (frames by table name of ``spec``)."""
    _check(real, synthetic, spec)
    prepared = {
        t.name: {
            c.name: Prepared.of(c.kind, real[t.name][c.name], synthetic[t.name][c.name])
            for c in t.columns
        }
        for t in spec.tables
    }
    tables = {
        t.name: _table(t, real[t.name], synthetic[t.name], prepared[t.name], spec)
        for t in spec.tables
    }
    relations = [_relation(r, real, synthetic, prepared, spec) for r in spec.relations]
    for relation, result in zip(spec.relations, relations, strict=True):
        tables[relation.child]["relationships"].append(result)
        tables[relation.child]["integrity"]["orphans"] += result["orphans"]
    overall = _overall(list(tables.values()), relations)
    return {"format_version": FORMAT_VERSION, "overall": overall, "tables": list(tables.values())}


def _check(real, synthetic, spec: ReportSpec) -> None:
    problems = []
    names = {t.name for t in spec.tables}
    for t in spec.tables:
        for side, frames in (("real", real), ("synthetic", synthetic)):
            if t.name not in frames:
                problems.append(f"the {side} frame of table {t.name!r} is missing")
                continue
            needed = [c.name for c in t.columns] + list(t.primary_key)
            missing = [c for c in needed if c not in frames[t.name].columns]
            if missing:
                problems.append(f"the {side} frame of table {t.name!r} lacks {missing}")
    for r in spec.relations:
        for table in (r.child, r.parent):
            if table not in names:
                problems.append(
                    f"relationship {_fk_label(r)} names {table!r}, not a table of the spec"
                )
        if len(r.columns) != len(r.parent_columns) or not r.columns:
            problems.append(
                f"relationship {_fk_label(r)}: give as many parent columns as FK columns"
            )
    if problems:
        raise DataError("the quality report cannot score these frames; pass them whole", problems)


# -- tables ---------------------------------------------------------------------------------
def _table(
    t: TableSpec, real: pd.DataFrame, synthetic: pd.DataFrame, cols: dict, spec: ReportSpec
) -> dict:
    columns = [_column(c, cols[c.name], spec.min_rows) for c in t.columns]
    pairs = _select(list(combinations([c.name for c in t.columns], 2)), spec.max_pairs)
    scored = score_pairs(cols, pairs)
    shapes = _mean(c["score"] for c in columns)
    trends = _mean(p["score"] for p in scored if p["contributes"])
    return {
        "name": t.name,
        "rows_real": t.rows_real if t.rows_real is not None else len(real),
        "rows_synthetic": t.rows_synthetic if t.rows_synthetic is not None else len(synthetic),
        "sampled_rows_real": len(real),
        "sampled_rows_synthetic": len(synthetic),
        "score": _mean([shapes, trends]),
        "column_shapes": shapes,
        "column_pair_trends": trends,
        "columns": columns,
        "pairs": scored,
        "correlation": _correlation(cols),
        "relationships": [],
        "integrity": _integrity(t, synthetic),
    }


def _column(c, col: Prepared, min_rows: int) -> dict:
    categorical = col.kind == CATEGORICAL
    if categorical:
        score = scores.tv_complement(col.real, col.synthetic)
    else:
        score = scores.ks_complement(col.real, col.synthetic)
    if c.personal:
        chart = dict(charts.NONE)
    elif categorical:
        chart = charts.bars(col.real, col.synthetic, min_rows)
    else:
        chart = charts.histogram(col.real, col.synthetic, col.kind, min_rows)
    return {
        "name": c.name,
        "kind": col.kind,
        "metric": METRIC[categorical],
        "score": _num(score),
        "null_share_real": scores.null_share(col.real),
        "null_share_synthetic": scores.null_share(col.synthetic),
        "chart": chart,
    }


def _integrity(t: TableSpec, synthetic: pd.DataFrame) -> dict:
    if not t.primary_key:
        return {"duplicate_keys": 0, "null_keys": 0, "orphans": 0}
    keys = synthetic[list(t.primary_key)]
    null = keys.isna().any(axis=1)
    # a repeat is a row whose complete key an earlier row holds; null keys count once, there
    duplicates = keys[~null].duplicated(keep="first")
    return {"duplicate_keys": int(duplicates.sum()), "null_keys": int(null.sum()), "orphans": 0}


def _correlation(cols: Mapping[str, Prepared]) -> dict:
    names = [n for n, c in cols.items() if c.kind != CATEGORICAL][:MAX_MATRIX_COLUMNS]
    out: dict = {"columns": names}
    for side in ("real", "synthetic"):
        matrix = scores.correlations([getattr(cols[n], side) for n in names])
        out[side] = [[_num(v) for v in row] for row in matrix]
    return out


# -- pairs ----------------------------------------------------------------------------------
def _select(pairs: list, limit: int) -> list:
    """All pairs, or ``limit`` of them spread evenly over the column order."""
    if len(pairs) <= limit:
        return pairs
    index = np.unique(np.linspace(0, len(pairs) - 1, max(limit, 0)).round().astype(int))
    return [pairs[i] for i in index]


def score_pairs(
    cols: Mapping[str, Prepared], pairs: Sequence[tuple[str, str]], labels=None
) -> list[dict]:
    """CorrelationSimilarity for two continuous columns, else ContingencySimilarity
    (continuous columns binned); ``labels`` renames the columns in the result."""
    out = []
    codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for a, b in pairs:
        ca, cb = cols[a], cols[b]
        shown = [labels[a], labels[b]] if labels else [a, b]
        if ca.kind != CATEGORICAL and cb.kind != CATEGORICAL:
            out.append(_correlation_pair(shown, ca, cb))
            continue
        for name, col in ((a, ca), (b, cb)):
            if name not in codes:
                codes[name] = col.pair_codes()
        score, association = scores.contingency(
            (codes[a][0], codes[b][0]), (codes[a][1], codes[b][1])
        )
        out.append(
            {
                "columns": shown,
                "metric": "ContingencySimilarity",
                "score": _num(score),
                "real": None,
                "synthetic": None,
                "real_association": _num(association),
                "contributes": bool(association > ASSOCIATION_THRESHOLD),
            }
        )
    return out


def _correlation_pair(shown: list[str], ca: Prepared, cb: Prepared) -> dict:
    real = scores.pearson(ca.real, cb.real)
    synth = scores.pearson(ca.synthetic, cb.synthetic)
    refused = any(scores.constant(v) for v in (ca.real, cb.real, ca.synthetic, cb.synthetic))
    score = np.nan if refused else scores.correlation_similarity(real, synth)
    return {
        "columns": shown,
        "metric": "CorrelationSimilarity",
        "score": _num(score),
        "real": _num(real),
        "synthetic": _num(synth),
        "real_association": None,
        "contributes": bool(not refused and abs(real) > CORRELATION_THRESHOLD),
    }


# -- relationships --------------------------------------------------------------------------
def _fk_label(r: RelationSpec) -> str:
    return f"{r.child}({', '.join(r.columns)}) -> {r.parent}({', '.join(r.parent_columns)})"


def _relation(r: RelationSpec, real, synthetic, prepared, spec: ReportSpec) -> dict:
    counts = {
        side: scores.children_per_parent(
            frames[r.parent], r.parent_columns, frames[r.child], r.columns
        )
        for side, frames in (("real", real), ("synthetic", synthetic))
    }
    joined_rows = {
        side: _joined_rows(r, frames) for side, frames in (("real", real), ("synthetic", synthetic))
    }
    cols, labels = {}, {}
    for role, table, at in (("parent", r.parent, 1), ("child", r.child, 0)):
        for name, col in prepared[table].items():
            cols[role, name] = col.take(joined_rows["real"][at], joined_rows["synthetic"][at])
            labels[role, name] = f"{table}.{name}"
    parent_keys = [k for k in cols if k[0] == "parent"]
    child_keys = [k for k in cols if k[0] == "child"]
    pairs = score_pairs(
        cols, _select(list(product(parent_keys, child_keys)), spec.max_pairs), labels
    )
    return {
        "fk": _fk_label(r),
        "parent": r.parent,
        "child": r.child,
        "cardinality": _num(scores.cardinality(counts["real"], counts["synthetic"])),
        "intertable_trends": _mean(p["score"] for p in pairs if p["contributes"]),
        "orphans": scores.orphans(
            synthetic[r.parent], r.parent_columns, synthetic[r.child], r.columns
        ),
        "chart": charts.children_histogram(counts["real"], counts["synthetic"], spec.min_rows),
        "pairs": pairs,
    }


def _joined_rows(r: RelationSpec, frames) -> tuple[np.ndarray, np.ndarray]:
    """(child row, parent row) positions of the inner join of child FK to parent key."""
    keys = [f"k{i}" for i in range(len(r.columns))]
    child = pd.DataFrame(
        {k: frames[r.child][c].to_numpy() for k, c in zip(keys, r.columns, strict=True)}
    )
    parent = pd.DataFrame(
        {k: frames[r.parent][c].to_numpy() for k, c in zip(keys, r.parent_columns, strict=True)}
    )
    child["_child"] = np.arange(len(child))
    parent["_parent"] = np.arange(len(parent))
    joined = child.merge(parent, on=keys, how="inner", sort=False)
    return joined["_child"].to_numpy(), joined["_parent"].to_numpy()


# -- overall --------------------------------------------------------------------------------
def _overall(tables: list[dict], relations: list[dict]) -> dict:
    shapes = _mean(c["score"] for t in tables for c in t["columns"])
    trends = _mean(p["score"] for t in tables for p in t["pairs"] if p["contributes"])
    card = _mean(r["cardinality"] for r in relations)
    inter = _mean(p["score"] for r in relations for p in r["pairs"] if p["contributes"])
    return {
        "score": _mean([shapes, trends, card, inter]),
        "column_shapes": shapes,
        "column_pair_trends": trends,
        "cardinality": card,
        "intertable_trends": inter,
    }


def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _mean(values) -> float | None:
    present = [v for v in values if v is not None and not math.isnan(v)]
    return float(np.mean(present)) if present else None
