"""What the quality report is computed from (``ReportSpec``) and the shape of its result.

The report is built from bounded samples of the real and synthetic tables (pandas frames,
read by the caller) and a ``ReportSpec`` saying, per table, which columns are keys, how
each column is scored and which values may be shown. The result is a JSON-able dict
(``FORMAT_VERSION``); ``html`` renders it, the CLI writes it and gates on it.

Result shape (every score in [0, 1], higher is better; ``None`` where not applicable):

    {
      "format_version": 1,
      "overall": {"score", "column_shapes", "column_pair_trends", "cardinality",
                  "intertable_trends"},
      "tables": [{
        "name", "rows_real", "rows_synthetic", "sampled_rows_real", "sampled_rows_synthetic",
        "score", "column_shapes", "column_pair_trends",
        "columns": [{"name", "kind": "numeric"|"datetime"|"categorical", "metric":
                     "KSComplement"|"TVComplement", "score", "null_share_real",
                     "null_share_synthetic", "chart": CHART}],
        "pairs": [{"columns": [a, b], "metric": "CorrelationSimilarity"|
                   "ContingencySimilarity", "score", "real": corr|None, "synthetic": corr|None}],
        "correlation": {"columns": [...], "real": [[...]], "synthetic": [[...]]},
        "relationships": [{"fk": "child(cols) -> parent(cols)", "parent", "child",
                           "cardinality", "intertable_trends", "orphans",
                           "chart": {"type": "histogram", ...children per parent}}],
        "integrity": {"duplicate_keys", "null_keys", "orphans"},
      }],
    }

CHART is ``{"type": "histogram", "edges": [...], "real": [...], "synthetic": [...]}``
(shares per bin; edges never a single real row's value: the protected range) or
``{"type": "bars", "labels": [...], "real": [...], "synthetic": [...]}`` (shares; only
labels of values seen in at least ``min_rows`` real rows and not personal; the rest are
one "(other)" bar), or ``{"type": "none"}`` for a personal column (its score only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

FORMAT_VERSION = 1
NUMERIC, DATETIME, CATEGORICAL = "numeric", "datetime", "categorical"
OTHER_LABEL = "(other)"


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str  # NUMERIC | DATETIME | CATEGORICAL
    personal: bool = False  # never show a value of it (charts: none)


@dataclass(frozen=True)
class RelationSpec:
    """``child.columns`` reference ``parent.parent_columns`` (table names of the spec)."""

    child: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]  # scored columns (keys excluded)
    primary_key: tuple[str, ...] = ()
    rows_real: int | None = None  # full table sizes when the frames are samples
    rows_synthetic: int | None = None


@dataclass(frozen=True)
class ReportSpec:
    tables: tuple[TableSpec, ...]
    relations: tuple[RelationSpec, ...] = ()
    min_rows: int = 5  # privacy: a category label is shown only if seen in >= min_rows rows
    max_pairs: int = 200  # column pairs scored per table at most (the highest-variance ones)
    extra: dict = field(default_factory=dict)
