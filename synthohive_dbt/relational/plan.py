"""The relational plan: what fit learned about keys, FKs and child counts, per table.

A plan is JSON (no raw data values except shared key prefixes): per table the output
columns and their warehouse types, how to mint key columns, and per FK the null rate and a
histogram of children per parent (index k = number of parents with k children).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..schema import ColumnType, ForeignKey, LogicalType, SchemaGraph, Table
from .keys import KeyFormat, learn_key_format


@dataclass(frozen=True)
class FkPlan:
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    null_rate: float
    histogram: tuple[int, ...]  # histogram[k]: real parents with k children through this FK
    self_reference: bool = False
    deferred: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "parent": self.parent,
            "parent_columns": list(self.parent_columns),
            "null_rate": self.null_rate,
            "histogram": list(self.histogram),
            "self_reference": self.self_reference,
            "deferred": self.deferred,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FkPlan:
        return cls(
            columns=tuple(data["columns"]),
            parent=data["parent"],
            parent_columns=tuple(data["parent_columns"]),
            null_rate=float(data["null_rate"]),
            histogram=tuple(int(x) for x in data["histogram"]),
            self_reference=bool(data["self_reference"]),
            deferred=bool(data["deferred"]),
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
    model_columns: tuple[str, ...]
    ignored: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    # column facts declared in dbt that generated tests carry over: {column: {fact: value}}
    checks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def column_types(self) -> dict[str, ColumnType]:
        return dict(self.columns)

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
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TablePlan:
        columns = tuple(
            (n, ColumnType(LogicalType(lg), native, bool(nullable)))
            for n, lg, native, nullable in data["columns"]
        )
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
        )


def table_seed(seed: int, key: str, salt: int = 0) -> np.random.SeedSequence:
    """A per-table seed that does not depend on the order tables are processed in."""
    return np.random.SeedSequence([seed, zlib.crc32(key.encode()), salt])


def plan_table(
    graph: SchemaGraph, table: Table, frame: pd.DataFrame, parent_rows: Mapping[str, int]
) -> TablePlan:
    """Learn the key and FK facts of one real table; ``parent_rows`` gives the real row
    count of every table (parents without children count in the histograms' zero bin)."""
    fks = [fk for fk in graph.foreign_keys if fk.child == table.key]
    fks += [fk for fk in graph.deferred if fk.child == table.key and fk not in fks]
    fk_plans = tuple(_plan_fk(fk, frame, parent_rows, fk in graph.deferred) for fk in fks)
    fk_columns = {c for fk in fks for c in fk.columns}
    pk = table.primary_key.columns if table.primary_key else ()
    ignored = tuple(c.name for c in table.columns if _truthy(c.meta.get("synthohive_ignore")))
    types = {c.name: c.type for c in table.columns if c.type is not None}
    minted: dict[str, KeyFormat] = {}
    unique_cols = [c.name for c in table.columns if c.unique]
    for name in list(pk) + unique_cols:
        if name in fk_columns or name in minted or name in ignored:
            continue
        minted[name] = learn_key_format(frame[name], types[name].logical)
    keyish = set(minted) | fk_columns | set(pk)
    model_columns = tuple(
        c.name for c in table.columns if c.name not in keyish and c.name not in ignored
    )
    return TablePlan(
        key=table.key,
        name=table.name,
        identifier=table.identifier,
        database=table.database,
        schema=table.schema,
        rows=len(frame),
        columns=tuple((c.name, types[c.name]) for c in table.columns if c.name in types),
        primary_key=tuple(pk),
        minted=minted,
        fks=fk_plans,
        primary_fk=_choose_primary_fk(fk_plans),
        model_columns=model_columns,
        ignored=ignored,
        options={k: v for k, v in table.meta.items() if str(k).startswith("synthohive")},
        checks=_checks(table),
    )


def _checks(table: Table) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for col in table.columns:
        facts: dict[str, Any] = {}
        if col.not_null:
            facts["not_null"] = True
        if col.accepted_values is not None:
            facts["accepted_values"] = [_plain(v) for v in col.accepted_values]
        if facts:
            out[col.name] = facts
    return out


def _plain(value: Any) -> Any:
    return value if isinstance(value, (bool, int, float, str)) or value is None else str(value)


def _plan_fk(
    fk: ForeignKey, frame: pd.DataFrame, parent_rows: Mapping[str, int], deferred: bool
) -> FkPlan:
    values = frame[list(fk.columns)]
    null = values.isna().any(axis=1)
    null_rate = float(null.mean()) if len(frame) else 0.0
    per_parent = values[~null].value_counts().to_numpy()
    n_parents = len(frame) if fk.is_self_reference else parent_rows.get(fk.parent)
    histogram = _histogram(per_parent, n_parents)
    return FkPlan(
        columns=fk.columns,
        parent=fk.parent,
        parent_columns=fk.parent_columns,
        null_rate=null_rate,
        histogram=histogram,
        self_reference=fk.is_self_reference,
        deferred=deferred,
    )


def _histogram(per_parent: np.ndarray, n_parents: int | None) -> tuple[int, ...]:
    counts = np.bincount(per_parent.astype(np.int64)) if len(per_parent) else np.zeros(1, int)
    counts = counts.astype(np.int64)
    if n_parents is not None:
        counts[0] = max(n_parents - int(counts[1:].sum()), 0)
    return tuple(int(c) for c in counts)


def _choose_primary_fk(fks: tuple[FkPlan, ...]) -> int | None:
    """The FK whose children-per-parent counts decide the row count: the first
    non-self, non-deferred FK, preferring one that is never null."""
    candidates = [i for i, fk in enumerate(fks) if not fk.self_reference and not fk.deferred]
    if not candidates:
        return None
    never_null = [i for i in candidates if fks[i].null_rate == 0.0]
    return (never_null or candidates)[0]


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes")
