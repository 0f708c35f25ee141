"""The relational plan: what fit learned about keys, FKs and child counts, per table.

A plan is JSON (no raw data values except shared key prefixes and the parent model's
own category labels): per table the output columns and their warehouse types, how to mint
key columns, per FK its null and orphan rates and how parents are chosen, and the
*derived columns* the table's model learns besides the real ones:

* ``__synthohive_n_<i>``: on a parent, how many children it has through FK i of a child
  table (so child counts are conditioned on the parent's attributes, zeros included);
* ``__synthohive_c_<i>``: on a child, the cluster of the parent chosen through a
  secondary FK i (so the choice of, say, the destination airport relates to the child's
  columns); NULL when the FK is NULL;
* ``__synthohive_depth``: on a self-referencing table, each row's depth in the hierarchy.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..privacy.personal import PersonalColumn
from ..schema import ColumnType, LogicalType, Relation
from .expressions import rule_from_json, rule_to_json
from .features import FeatureEncoder
from .identities import COMPUTED, Ratio, Rule
from .keys import KeyFormat

COUNT_PREFIX = "__synthohive_n_"
CLUSTER_PREFIX = "__synthohive_c_"


@dataclass(frozen=True)
class FkPlan:
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    null_rate: float
    histogram: tuple[int, ...]  # histogram[k]: real parents with k children through this FK
    self_reference: bool = False
    deferred: bool = False
    orphan_rate: float = 0.0  # share of non-null real values without a parent
    count_column: str | None = None  # derived column on the parent holding the counts
    cluster_column: str | None = None  # derived column on this table (secondary FKs)
    encoder: FeatureEncoder | None = None  # parent features for clusters / context
    centroids: tuple[tuple[float, ...], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "parent": self.parent,
            "parent_columns": list(self.parent_columns),
            "null_rate": self.null_rate,
            "histogram": list(self.histogram),
            "self_reference": self.self_reference,
            "deferred": self.deferred,
            "orphan_rate": self.orphan_rate,
            "count_column": self.count_column,
            "cluster_column": self.cluster_column,
            "encoder": self.encoder.to_json() if self.encoder else None,
            "centroids": [list(c) for c in self.centroids],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FkPlan:
        encoder = data.get("encoder")
        return cls(
            columns=tuple(data["columns"]),
            parent=data["parent"],
            parent_columns=tuple(data["parent_columns"]),
            null_rate=float(data["null_rate"]),
            histogram=tuple(int(x) for x in data["histogram"]),
            self_reference=bool(data["self_reference"]),
            deferred=bool(data["deferred"]),
            orphan_rate=float(data.get("orphan_rate", 0.0)),
            count_column=data.get("count_column"),
            cluster_column=data.get("cluster_column"),
            encoder=FeatureEncoder.from_json(encoder) if encoder else None,
            centroids=tuple(tuple(float(x) for x in c) for c in data.get("centroids", ())),
        )


@dataclass(frozen=True)
class TablePlan:
    key: str
    name: str
    identifier: str
    database: str | None
    schema: str
    rows: int
    columns: tuple[tuple[str, ColumnType], ...]  # output columns, real order and types
    primary_key: tuple[str, ...]
    minted: Mapping[str, KeyFormat]  # key columns not filled from a parent
    fks: tuple[FkPlan, ...]
    primary_fk: int | None  # index into fks of the FK whose counts drive the row count
    model_columns: tuple[str, ...]  # real columns the model learns
    ignored: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    # column facts declared in dbt that generated tests carry over: {column: {fact: value}}
    checks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    real_ref: str | None = None  # "source('jaffle_shop', 'raw_orders')" / "ref('x')"
    derived: tuple[str, ...] = ()  # derived columns the model also learns (see module doc)
    context: FeatureEncoder | None = None  # primary parent's features fed to the model
    # share of the real rows without NULLs in copy_columns whose values there occur once
    # (None: fitted before it was recorded); decides whether copies are tested
    copy_unique_share: float | None = None
    # row rules (identities, ratios, orderings) enforced on every generated chunk, in order
    rules: tuple[Rule, ...] = ()
    # personal columns: how each is treated (those faked, masked or dropped are not in
    # model_columns: they are filled after the model samples)
    personal: tuple[PersonalColumn, ...] = ()
    # ``synthohive_mode: copy``: the real rows copied as they are, keys included, no scale
    copied: bool = False
    # how the holdout rows were chosen (privacy.holdout): {"seed", "share", "max_rows"}
    holdout: Mapping[str, Any] | None = None
    # fitted on a sample selected in the warehouse (``warehouse.sampling``): its SQL
    # condition, so that the privacy metrics read the same rows (``rows`` is the real count)
    sample: str | None = None

    @property
    def generated_personal(self) -> tuple[str, ...]:
        return tuple(p.column for p in self.personal if p.generated)

    @property
    def relation(self) -> Relation:
        """Where the real table is (the table's ``Relation``)."""
        return Relation(self.database, self.schema, self.identifier)

    @property
    def column_types(self) -> dict[str, ColumnType]:
        return dict(self.columns)

    @property
    def learned_columns(self) -> tuple[str, ...]:
        return self.model_columns + self.derived

    @property
    def ratio_targets(self) -> tuple[str, ...]:
        """Columns the model learns as their ratio to another column (``Ratio``)."""
        return tuple(rule.target for rule in self.rules if isinstance(rule, Ratio))

    @property
    def copy_columns(self) -> tuple[str, ...]:
        """Modelled columns a copied real row would repeat: no keys (minted anew, or drawn
        from the synthetic parents), no UUIDs (drawn at random), no columns a rule computes
        from the others (they add nothing, or for a ratio little, to which rows are equal:
        a tax follows its subtotal)."""
        skip = {*self.primary_key, *self.minted, *(c for fk in self.fks for c in fk.columns)}
        skip |= {rule.target for rule in self.rules if isinstance(rule, COMPUTED)}
        types = self.column_types
        return tuple(
            c
            for c in self.model_columns
            if c not in skip and types[c].logical is not LogicalType.UUID
        )

    def with_(self, **changes: Any) -> TablePlan:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "identifier": self.identifier,
            "database": self.database,
            "schema": self.schema,
            "rows": self.rows,
            "columns": [[n, t.logical.value, t.native, t.nullable] for n, t in self.columns],
            "primary_key": list(self.primary_key),
            "minted": {k: v.to_json() for k, v in self.minted.items()},
            "fks": [fk.to_json() for fk in self.fks],
            "primary_fk": self.primary_fk,
            "model_columns": list(self.model_columns),
            "ignored": list(self.ignored),
            "options": dict(self.options),
            "checks": {k: dict(v) for k, v in self.checks.items()},
            "real_ref": self.real_ref,
            "derived": list(self.derived),
            "context": self.context.to_json() if self.context else None,
            "copy_unique_share": self.copy_unique_share,
            "rules": [rule_to_json(r) for r in self.rules],
            "personal": [p.to_json() for p in self.personal],
            "copied": self.copied,
            "holdout": dict(self.holdout) if self.holdout else None,
            "sample": self.sample,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TablePlan:
        columns = tuple(
            (n, ColumnType(LogicalType(lg), native, bool(nullable)))
            for n, lg, native, nullable in data["columns"]
        )
        context = data.get("context")
        return cls(
            key=data["key"],
            name=data["name"],
            identifier=data["identifier"],
            database=data["database"],
            schema=data["schema"],
            rows=int(data["rows"]),
            columns=columns,
            primary_key=tuple(data["primary_key"]),
            minted={k: KeyFormat.from_json(v) for k, v in data["minted"].items()},
            fks=tuple(FkPlan.from_json(f) for f in data["fks"]),
            primary_fk=data["primary_fk"],
            model_columns=tuple(data["model_columns"]),
            ignored=tuple(data.get("ignored", ())),
            options=dict(data.get("options", {})),
            checks=dict(data.get("checks", {})),
            real_ref=data.get("real_ref"),
            derived=tuple(data.get("derived", ())),
            context=FeatureEncoder.from_json(context) if context else None,
            copy_unique_share=_optional_float(data.get("copy_unique_share")),
            rules=tuple(rule_from_json(r) for r in data.get("rules", ())),
            personal=tuple(PersonalColumn.from_json(p) for p in data.get("personal", ())),
            copied=bool(data.get("copied", False)),
            holdout=data.get("holdout"),
            sample=data.get("sample"),
        )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def table_seed(seed: int, key: str, salt: int = 0) -> np.random.SeedSequence:
    """A per-table seed that does not depend on the order tables are processed in."""
    return np.random.SeedSequence([seed, zlib.crc32(key.encode()), salt])


def histogram(per_parent: np.ndarray, n_parents: int | None) -> tuple[int, ...]:
    counts = np.bincount(per_parent.astype(np.int64)) if len(per_parent) else np.zeros(1, int)
    counts = counts.astype(np.int64)
    if n_parents is not None:
        counts[0] = max(n_parents - int(counts[1:].sum()), 0)
    return tuple(int(c) for c in counts)


def unique_share(frame: pd.DataFrame, columns: tuple[str, ...]) -> float:
    """Among the rows without a NULL in ``columns`` (all-NULL columns left out), the share
    whose values there occur in no other row; 0.0 without such rows. A number only: no
    value leaves the data."""
    present = [c for c in columns if frame[c].notna().any()]
    complete = frame[present].dropna() if present else frame.iloc[:0]
    if complete.empty:
        return 0.0
    return float((~complete.duplicated(keep=False)).mean())


def choose_primary_fk(fks: tuple[FkPlan, ...]) -> int | None:
    """The FK whose children-per-parent counts decide the row count: the first
    non-self, non-deferred FK, preferring one that is never null."""
    candidates = [i for i, fk in enumerate(fks) if not fk.self_reference and not fk.deferred]
    if not candidates:
        return None
    never_null = [i for i in candidates if fks[i].null_rate == 0.0]
    return (never_null or candidates)[0]
