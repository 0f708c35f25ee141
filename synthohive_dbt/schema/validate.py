"""Check the schema graph against the real tables before any training.

The manifest says what the keys are; only the warehouse says which columns exist, what
their types are and whether the data honours the keys. Every problem is collected and
raised once as SchemaValidationError. Orphan foreign-key values are only a warning: real
data is dirty, and the generator produces valid references regardless.

The returned graph has complete tables: every real column in warehouse order with its
``type``, the YAML facts merged in (names matched case-insensitively, the warehouse's
spelling kept, keys renamed to it). Columns with ``meta: {synthohive_ignore: true}`` are
dropped, which is also the way out for columns of unsupported types.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from synthohive_dbt.errors import SchemaValidationError
from synthohive_dbt.schema.records import (
    Column,
    ColumnType,
    ForeignKey,
    LogicalType,
    SchemaGraph,
    Table,
)

IGNORE_KEY = "synthohive_ignore"

# Logical types whose values can be compared as keys.
_FAMILY = {
    LogicalType.INTEGER: "number",
    LogicalType.NUMERIC: "number",
    LogicalType.FLOAT: "number",
    LogicalType.TEXT: "text",
    LogicalType.UUID: "text",
    LogicalType.BOOLEAN: "boolean",
    LogicalType.DATE: "date",
    LogicalType.TIMESTAMP: "timestamp",
    LogicalType.TIMESTAMPTZ: "timestamp",
}


def validate_data(
    graph: SchemaGraph,
    column_types: Mapping[str, Mapping[str, ColumnType]],
    frames: Mapping[str, pd.DataFrame],
) -> SchemaGraph:
    """Check ``graph`` against the real column types and data; return the completed graph.

    ``column_types`` maps each table key to its real columns (warehouse order) and types;
    ``frames`` maps each table key to its real rows. A table without a frame gets the
    column and type checks only (no row counts, key uniqueness or orphans).
    """
    check = _Check(graph, column_types, frames)
    return check.run()


@dataclass
class _Check:
    graph: SchemaGraph
    column_types: Mapping[str, Mapping[str, ColumnType]]
    frames: Mapping[str, pd.DataFrame]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # per table: lower-case name -> real name, for the kept (not ignored) columns
    names: dict[str, dict[str, str]] = field(default_factory=dict)
    checked_parents: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)

    def run(self) -> SchemaGraph:
        keys = list(self.graph.order) + [k for k in self.graph.tables if k not in self.graph.order]
        tables = {}
        for key in keys:
            table = self._table(self.graph.tables[key])
            if table is not None:
                tables[key] = table
        fks = [self._fk(fk) for fk in self.graph.foreign_keys]
        deferred = [self._fk(fk) for fk in self.graph.deferred]
        for fk in (*fks, *deferred):
            if fk is not None:
                self._fk_data(fk)
        if self.problems:
            raise SchemaValidationError.collected(
                "The real tables do not fit the dbt schema ({count})", self.problems
            )
        return replace(
            self.graph,
            tables={k: tables[k] for k in self.graph.tables},
            foreign_keys=tuple(fk for fk in fks if fk is not None),
            deferred=tuple(fk for fk in deferred if fk is not None),
            warnings=(*self.graph.warnings, *self.warnings),
        )

    # -- tables ---------------------------------------------------------------------------

    def _table(self, table: Table) -> Table | None:
        types = self.column_types.get(table.key)
        frame = self.frames.get(table.key)
        if not types:
            self.problems.append(
                f"{table.display} ({_relation(table)}) could not be read from the warehouse; "
                "run the model / load the source, or leave it out of --select."
            )
            return None
        if frame is not None and len(frame) == 0:
            self.problems.append(
                f"{table.display} ({_relation(table)}) has no rows: there is nothing to learn "
                "from. Load data into it or leave it out of --select (--exclude)."
            )
        columns = []
        kept: dict[str, str] = {}
        for name, ctype in types.items():
            declared = table.column(name)
            if declared is not None and _ignored(declared):
                continue
            if ctype.logical is LogicalType.UNSUPPORTED:
                self.problems.append(
                    f"Column {name} of {table.display} has type {ctype.native!r}, which "
                    "synthohive cannot model. Skip it with `config: {meta: "
                    "{synthohive_ignore: true}}` on that column in the YAML."
                )
            base = declared if declared is not None else Column(name)
            columns.append(replace(base, name=name, type=ctype))
            kept[name.lower()] = name
        self.names[table.key] = kept
        self._undeclared_in_warehouse(table, types)
        return replace(
            table,
            columns=tuple(columns),
            primary_key=self._primary_key(table),
            unique_keys=tuple(
                cols
                for cols in (self._key_columns(table, u, "unique key") for u in table.unique_keys)
                if cols is not None
            ),
        )

    def _undeclared_in_warehouse(self, table: Table, types: Mapping[str, ColumnType]) -> None:
        real = {name.lower() for name in types}
        for column in table.columns:
            if column.name.lower() not in real and not _ignored(column):
                self.warnings.append(
                    f"Column {column.name} of {table.display} is declared in YAML but not in "
                    f"the warehouse table {_relation(table)}; its YAML facts are ignored."
                )

    def _primary_key(self, table: Table) -> Any:
        pk = table.primary_key
        if pk is None:
            return None
        columns = self._key_columns(table, pk.columns, f"primary key ({pk.origin.kind})")
        if columns is None:
            return None
        self._warn_duplicates(table, columns)
        return replace(pk, columns=columns)

    def _key_columns(
        self, table: Table, columns: Sequence[str], role: str
    ) -> tuple[str, ...] | None:
        """``columns`` in the warehouse's spelling, or None after reporting a missing one."""
        kept = self.names.get(table.key, {})
        real: list[str] = []
        for name in columns:
            found = kept.get(name.lower())
            if found is None:
                self.problems.append(self._missing(table, name, role))
            else:
                real.append(found)
        return tuple(real) if len(real) == len(columns) else None

    def _missing(self, table: Table, name: str, role: str) -> str:
        declared = table.column(name)
        if declared is not None and _ignored(declared):
            return (
                f"Column {name} of {table.display} is part of a {role} but has "
                f"{IGNORE_KEY}: true; a key column cannot be skipped. Remove {IGNORE_KEY}."
            )
        real = list((self.column_types.get(table.key) or {}).keys())
        by_lower = {r.lower(): r for r in real}
        close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
        hint = (
            f"; did you mean {by_lower[close[0]]}?" if close else f" (it has: {', '.join(real)})."
        )
        return (
            f"Column {name} of {table.display} ({role}) is not in the warehouse table "
            f"{_relation(table)}{hint}"
        )

    def _warn_duplicates(self, table: Table, columns: tuple[str, ...]) -> None:
        frame = self.frames.get(table.key)
        if frame is None or len(frame) == 0 or self._is_parent_key(table.key, columns):
            return  # parent keys are checked (as errors) with their foreign keys
        summary = _duplicates(frame, columns)
        if summary:
            self.warnings.append(
                f"Primary key ({', '.join(columns)}) of {table.display} is not unique in the "
                f"data: {summary}. Synthetic keys will be unique."
            )

    def _is_parent_key(self, key: str, columns: tuple[str, ...]) -> bool:
        lowered = tuple(c.lower() for c in columns)
        return any(
            fk.parent == key and tuple(c.lower() for c in fk.parent_columns) == lowered
            for fk in (*self.graph.foreign_keys, *self.graph.deferred)
        )

    # -- foreign keys ---------------------------------------------------------------------

    def _fk(self, fk: ForeignKey) -> ForeignKey | None:
        tables = self.graph.tables
        if fk.child not in self.names or fk.parent not in self.names:
            return None  # the table could not be read: already reported
        child, parent = tables[fk.child], tables[fk.parent]
        columns = self._key_columns(child, fk.columns, f"foreign key to {parent.display}")
        parent_columns = self._key_columns(
            parent, fk.parent_columns, f"key referenced by {child.display}"
        )
        if columns is None or parent_columns is None:
            return None
        child_types, parent_types = self.column_types[fk.child], self.column_types[fk.parent]
        for col, pcol in zip(columns, parent_columns, strict=True):
            ctype, ptype = child_types[col], parent_types[pcol]
            if not _compatible(ctype.logical, ptype.logical):
                self.problems.append(
                    f"Foreign key {child.display}.{col} ({ctype.native}) references "
                    f"{parent.display}.{pcol} ({ptype.native}): {ctype.logical.value} and "
                    f"{ptype.logical.value} values cannot match. Cast one side in the model, "
                    f"or fix the test/constraint ({fk.origin.kind})."
                )
                return None
        return replace(fk, columns=columns, parent_columns=parent_columns)

    def _fk_data(self, fk: ForeignKey) -> None:
        child, parent = self.graph.tables[fk.child], self.graph.tables[fk.parent]
        child_frame, parent_frame = self.frames.get(fk.child), self.frames.get(fk.parent)
        if child_frame is None or parent_frame is None:
            return  # types only: the data-level checks need both tables' rows
        parent_key = (fk.parent, fk.parent_columns)
        summary = _duplicates(parent_frame, fk.parent_columns)
        if summary and parent_key in self.checked_parents:
            return  # reported with another foreign key to the same parent key
        self.checked_parents.add(parent_key)
        if summary:
            self.problems.append(
                f"{parent.display}({', '.join(fk.parent_columns)}) is referenced by "
                f"{child.display}({', '.join(fk.columns)}) but is not unique in the data: "
                f"{summary}. A parent key must identify one row: deduplicate the parent or "
                "reference a unique key."
            )
            return
        orphans, total = count_orphans(child_frame, fk.columns, parent_frame, fk.parent_columns)
        if orphans:
            condition = f" (its where condition {fk.where!r} not applied)" if fk.where else ""
            self.warnings.append(
                f"{orphans} of {total} non-null values ({orphans / total:.1%}) of "
                f"{child.display}({', '.join(fk.columns)}) have no parent in "
                f"{parent.display}{condition}; synthetic rows will only reference "
                "existing parents."
            )


def _ignored(column: Column) -> bool:
    value = column.meta.get(IGNORE_KEY)
    return value is True or str(value).lower() in ("true", "yes", "1")


def _relation(table: Table) -> str:
    return ".".join(p for p in (table.database, table.schema, table.identifier) if p)


def _compatible(a: LogicalType, b: LogicalType) -> bool:
    return a in _FAMILY and _FAMILY.get(a) == _FAMILY.get(b)


def _column(frame: pd.DataFrame, name: str) -> Any:
    """The frame's column ``name``, matched case-insensitively."""
    if name in frame.columns:
        return frame[name]
    for real in frame.columns:
        if str(real).lower() == name.lower():
            return frame[real]
    raise KeyError(name)


def _key_frame(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Key columns with nulls dropped, values normalised so that int/float/decimal and
    naive/aware timestamps compare as values."""
    out = {}
    for i, name in enumerate(columns):
        series = _column(frame, name)
        if pd.api.types.is_bool_dtype(series):
            pass
        elif pd.api.types.is_integer_dtype(series):
            series = series.astype("Int64")  # exact: no float rounding of large ids
        elif pd.api.types.is_numeric_dtype(series):
            series = series.astype("Float64")
        elif isinstance(series.dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert(None)
        elif series.dtype == object:
            series = series.astype("string")
        out[i] = series.reset_index(drop=True)
    return pd.DataFrame(out).dropna()


def _duplicates(frame: pd.DataFrame, columns: Sequence[str]) -> str | None:
    keys = _key_frame(frame, columns)
    dup = keys.duplicated(keep="first")
    count = int(dup.sum())
    if not count:
        return None
    # no value is shown: a key may be personal data, and errors end up in logs
    cols = ", ".join(columns)
    return (
        f"{count} duplicate row(s) (find them with: select {cols}, count(*) ... "
        f"group by {cols} having count(*) > 1)"
    )


def count_orphans(
    child: pd.DataFrame,
    columns: Sequence[str],
    parent: pd.DataFrame,
    parent_columns: Sequence[str],
) -> tuple[int, int]:
    """(child rows whose non-null key has no parent row, child rows with a non-null key)."""
    child_keys = _key_frame(child, columns)
    parent_keys = _key_frame(parent, parent_columns)
    if len(child_keys) == 0:
        return 0, 0
    if len(columns) == 1:
        found = child_keys[0].isin(parent_keys[0])
    else:
        found = pd.MultiIndex.from_frame(child_keys).isin(pd.MultiIndex.from_frame(parent_keys))
    return int((~pd.Series(found)).sum()), len(child_keys)
