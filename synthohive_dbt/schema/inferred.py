"""Facts the real data shows but no dbt test declares: identifiers and probable FKs.

Keys are never copied, declared or not. A column that no primary key, unique test or FK
covers holds identifiers when its type can (integer, text, uuid; never a float, decimal,
date, timestamp or boolean) and either

* it is unique and not null, and is named like an identifier (``id``, ``*_id``,
  ``*_key``, ``*_uuid``, ``customerId``), is referenced by a declared FK, holds UUIDs, or
  has 20 rows or more shaped like keys (integers from 0 up filling half their range or
  more, text such as ``C00042``): it becomes a key, the table's primary key if it has
  none, minted like a declared key;
* or it holds UUIDs, or is named like an identifier with 20 distinct values or more,
  five non-null rows per value or fewer on average: fresh identifiers are minted, each
  shared by as many rows as the real values are.

A column whose non-null values lie in another table's one-column key for 99% of them or
more, and whose name points at that table (``customer``, ``customer_id``,
``customersId`` -> ``raw_customers.id``; ``sku`` -> ``products.sku``), is a probable FK:
reported with the relationships test to add, never made an FK, and minted as fresh
identifiers. ``config: {meta: {synthohive_identifier: false}}`` on a column, a
``synthohive_kind``, ``accepted_values`` or ``accepted_range`` keeps it modelled as data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

import pandas as pd

from ..relational.keys import PREFIXED, UUID, learn_key_format
from .records import (
    INFERRED,
    Column,
    ColumnType,
    ForeignKey,
    LogicalType,
    Origin,
    PrimaryKey,
    ProbableForeignKey,
    SchemaGraph,
    Table,
)
from .validate import count_orphans

META_KEY = "synthohive_identifier"
MIN_VALUES = 20  # distinct values (or rows) before a shape or a name is evidence
# distinct values per non-null row of a repeated identifier: five rows per value at most
# on average (sessions, a customer id on orders), not a code shared by many (a status id)
MIN_DISTINCT_SHARE = 0.2
MIN_CONTAINED = 0.99  # share of a probable FK's values found in the parent key

_ID_TYPES = (LogicalType.INTEGER, LogicalType.TEXT, LogicalType.UUID)
_ID_NAME = re.compile(r"(?:.+_)?(?:id|key|uuid|guid)")  # on the snake_case name
_ID_SUFFIX = re.compile(r"_(?:id|key|uuid|guid|fk)$")
_GENERIC = {"id", "key", "uuid", "guid", "pk"}  # names that point at no table
_TABLE_PREFIX = re.compile(r"^(?:raw|stg|src|base|int|dim|fct|fact)_")
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class _Found:
    """Column ``column`` of table ``table`` holds identifiers; ``key``: unique and not
    null, minted as a key."""

    table: str
    column: str
    key: bool
    why: str


def infer_from_data(
    graph: SchemaGraph,
    column_types: Mapping[str, Mapping[str, ColumnType]],
    frames: Mapping[str, pd.DataFrame],
) -> SchemaGraph:
    """``graph`` (validated) with the identifiers and probable FKs ``frames`` show, each
    one also a warning; unchanged without rows."""
    declared = _declared(graph)
    fks = (*graph.foreign_keys, *graph.deferred)
    referenced = {(fk.parent, c.lower()) for fk in fks for c in fk.parent_columns}
    found: dict[tuple[str, str], _Found] = {}
    for key in graph.order:
        frame, table = frames.get(key), graph.table(key)
        if frame is None or not len(frame):
            continue
        for column in table.columns:
            logical = _logical(column_types, key, column)
            if column.name.lower() in declared[key] or not _candidate(column, logical):
                continue
            named = (key, column.name.lower()) in referenced or _named(column.name)
            hit = _identifier(frame[column.name], logical, named)
            if hit is not None:
                found[key, column.name] = _Found(key, column.name, *hit)
    keys = [f for f in found.values() if f.key]
    tables = {k: _with_keys(t, [f for f in keys if f.table == k]) for k, t in graph.tables.items()}
    probable = _probable_fks(graph, tables, column_types, frames, declared)
    fk_columns = {(p.fk.child, p.fk.columns[0]): p for p in probable}
    for (child, column), p in fk_columns.items():
        if (child, column) not in found:
            parent = f"{graph.table(p.fk.parent).display}.{p.fk.parent_columns[0]}"
            why = f"probable foreign key to {parent}"
            found[child, column] = _Found(child, column, False, why)
    tables = {k: _with_identifiers(t, found) for k, t in tables.items()}
    # a probable FK's own warning says how its values are minted
    warnings = [
        _warning(graph.table(f.table), f)
        for f in found.values()
        if f.key or (f.table, f.column) not in fk_columns
    ]
    warnings += [_fk_warning(graph, p) for p in probable]
    return replace(
        graph,
        tables=tables,
        warnings=(*graph.warnings, *warnings),
        probable_fks=(*graph.probable_fks, *probable),
    )


# -- identifiers ------------------------------------------------------------------------


def _declared(graph: SchemaGraph) -> dict[str, set[str]]:
    """Per table, the lower-case names of the columns a key, unique test or FK covers."""
    out: dict[str, set[str]] = {}
    for key, table in graph.tables.items():
        names = {c.name for c in table.columns if c.unique}
        names.update(table.primary_key.columns if table.primary_key else ())
        names.update(c for cols in table.unique_keys for c in cols)
        out[key] = {n.lower() for n in names}
    for fk in (*graph.foreign_keys, *graph.deferred):
        out.setdefault(fk.child, set()).update(c.lower() for c in fk.columns)
    return out


def _logical(
    column_types: Mapping[str, Mapping[str, ColumnType]], key: str, column: Column
) -> LogicalType | None:
    ctype = (column_types.get(key) or {}).get(column.name) or column.type
    return ctype.logical if ctype else None


def _candidate(column: Column, logical: LogicalType | None) -> bool:
    """Could hold identifiers: a type that can, and nothing declared that says it is data."""
    opted_out = str(column.meta.get(META_KEY, "")).lower() in ("false", "no", "0")
    data = column.accepted_values is not None or column.accepted_range is not None
    return logical in _ID_TYPES and not (opted_out or data or "synthohive_kind" in column.meta)


def _named(name: str) -> bool:
    return _ID_NAME.fullmatch(_snake(name)) is not None


def _identifier(series: pd.Series, logical: LogicalType, named: bool) -> tuple[bool, str] | None:
    """(unique and not null, why) when ``series`` holds identifiers, else None; ``named``:
    the column is named like an identifier or a declared FK references it."""
    values = series.dropna()
    rows, present, distinct = len(series), len(values), int(values.nunique())
    kind = _format_kind(values, logical)
    if rows and present == rows and distinct == rows:
        if named or kind == UUID or (rows >= MIN_VALUES and _shaped(values, logical, kind)):
            return True, f"unique and not null in {rows:,} rows"
    counts = f"{distinct:,} distinct values in {present:,} non-null rows"
    if present and kind == UUID:
        return False, f"UUID values, {counts}"
    if named and distinct >= MIN_VALUES and distinct >= MIN_DISTINCT_SHARE * present:
        return False, f"named like an identifier, {counts}"
    return None


def _format_kind(values: pd.Series, logical: LogicalType) -> str:
    """The key format the values would have; a sample first, as most columns are no key."""
    sample = learn_key_format(values.head(1_000), logical).kind
    return learn_key_format(values, logical).kind if sample in (PREFIXED, UUID) else sample


def _shaped(values: pd.Series, logical: LogicalType, kind: str) -> bool:
    """Looks like keys whatever the name: integers from 0 up that fill half their range
    or more (a unique amount spreads wider), text like ``C00042``."""
    if logical is LogicalType.INTEGER:
        numbers = pd.to_numeric(values)
        low, high = int(numbers.min()), int(numbers.max())
        return low >= 0 and 2 * len(values) >= high - low + 1
    return kind in (PREFIXED, UUID)


def _with_keys(table: Table, keys: list[_Found]) -> Table:
    """Unique and not-null identifiers become keys; the first (named like an identifier
    first) is the primary key when none is declared."""
    if not keys:
        return table
    by_name = {f.column: f for f in keys}
    columns = tuple(
        replace(c, unique=True, not_null=True) if c.name in by_name else c for c in table.columns
    )
    ranked = sorted(keys, key=lambda f: not _named(f.column))
    pk = table.primary_key
    if pk is None:
        pk = PrimaryKey((ranked[0].column,), Origin(INFERRED, ranked[0].why))
    unique = tuple((f.column,) for f in keys if (f.column,) != pk.columns)
    return replace(
        table, columns=columns, primary_key=pk, unique_keys=(*table.unique_keys, *unique)
    )


def _with_identifiers(table: Table, found: Mapping[tuple[str, str], _Found]) -> Table:
    columns = tuple(
        replace(c, id_like=Origin(INFERRED, found[table.key, c.name].why))
        if (table.key, c.name) in found
        else c
        for c in table.columns
    )
    return replace(table, columns=columns)


# -- probable foreign keys --------------------------------------------------------------


def _probable_fks(
    graph: SchemaGraph,
    tables: Mapping[str, Table],
    column_types: Mapping[str, Mapping[str, ColumnType]],
    frames: Mapping[str, pd.DataFrame],
    declared: Mapping[str, set[str]],
) -> list[ProbableForeignKey]:
    """Undeclared columns whose values lie in another table's key and whose names point
    at it; the best-contained parent for each."""
    parents = [(k, c) for k, t in tables.items() if k in frames for c in _one_column_keys(t)]
    out = []
    for key in graph.order:
        if key not in frames:
            continue
        for column in graph.table(key).columns:
            if column.name.lower() in declared[key]:
                continue
            if not _candidate(column, _logical(column_types, key, column)):
                continue
            best: tuple[int, int, str, str] | None = None
            for parent, pcol in parents:
                if parent == key or not _names_match(column.name, tables[parent], pcol):
                    continue
                missing, total = count_orphans(frames[key], (column.name,), frames[parent], (pcol,))
                found = total - missing
                if total and found >= MIN_CONTAINED * total:
                    if best is None or found / total > best[0] / best[1]:
                        best = (found, total, parent, pcol)
            if best is not None:
                out.append(_probable(graph, key, column.name, *best))
    return out


def _one_column_keys(table: Table) -> list[str]:
    keys = [c.name for c in table.columns if c.unique]
    if table.primary_key and len(table.primary_key.columns) == 1:
        keys.insert(0, table.primary_key.columns[0])
    keys += [cols[0] for cols in table.unique_keys if len(cols) == 1]
    return list(dict.fromkeys(keys))


def _probable(
    graph: SchemaGraph, child: str, column: str, found: int, total: int, parent: str, pcol: str
) -> ProbableForeignKey:
    origin = Origin(INFERRED, f"{found:,} of {total:,} non-null values found in the parent")
    fk = ForeignKey(child, (column,), parent, (pcol,), origin)
    return ProbableForeignKey(fk, found, total, _relationships_yaml(column, graph, parent, pcol))


def _names_match(column: str, parent: Table, parent_column: str) -> bool:
    """``column`` names ``parent``'s key: the same specific name (``sku``), or the parent's
    entity with or without an id suffix (``customer``, ``customer_id``, ``customersId``
    for ``raw_customers`` or for a key named ``customer_id``)."""
    child, key = _snake(column), _snake(parent_column)
    if child in _GENERIC:
        return False
    if child == key:
        return True
    entities = {_entity(parent.name), _entity(parent.identifier)}
    if key not in _GENERIC:
        entities.add(_singular(_ID_SUFFIX.sub("", key)))
    return _singular(_ID_SUFFIX.sub("", child)) in entities


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _entity(table_name: str) -> str:
    """``raw_customers`` -> ``customer``: the thing one row of the table is."""
    return _singular(_TABLE_PREFIX.sub("", _snake(table_name)))


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


# -- messages -----------------------------------------------------------------------------


def _warning(table: Table, found: _Found) -> str:
    where = f"{table.display}.{found.column}"
    if found.key:
        return (
            f"{where} looks like a key ({found.why}) but no test declares it: it is minted "
            f"as a key. Add `data_tests: [unique, not_null]` to column {found.column}."
        )
    return (
        f"{where} looks like an identifier ({found.why}) but no test declares it: its "
        "values are minted fresh, none copied, each shared by as many rows as the real "
        "values are. If it references another table add a relationships test; if it is "
        f"data, set `config: {{meta: {{{META_KEY}: false}}}}` on column {found.column}."
    )


def _fk_warning(graph: SchemaGraph, probable: ProbableForeignKey) -> str:
    fk = probable.fk
    child, parent = graph.table(fk.child), graph.table(fk.parent)
    (column,), (pcol,) = fk.columns, fk.parent_columns
    share = (
        f"all {probable.total:,} non-null values"
        if probable.found == probable.total
        else f"{probable.found / probable.total:.1%} of {probable.total:,} non-null values"
    )
    test = (
        f"data_tests: [{{relationships: {{arguments: {{to: {json.dumps(parent.display)}, "
        f"field: {_yaml_name(pcol)}}}}}}}]"
    )
    return (
        f"{child.display}.{column} is probably a foreign key to {parent.display}.{pcol} "
        f"({share} are found there) but no relationships test declares it: its values are "
        "minted as fresh identifiers (none copied) that reference no synthetic row. Add "
        f"`{test}` to column {column} to keep the relationship."
    )


def _relationships_yaml(column: str, graph: SchemaGraph, parent: str, pcol: str) -> str:
    """The column entry, in the v2 YAML style, that declares the relationship."""
    return (
        "columns:\n"
        f"  - name: {_yaml_name(column)}\n"
        "    data_tests:\n"
        "      - relationships:\n"
        "          arguments:\n"
        f"            to: {json.dumps(graph.table(parent).display)}\n"
        f"            field: {_yaml_name(pcol)}\n"
    )


def _yaml_name(name: str) -> str:
    return name if _PLAIN.fullmatch(name) else json.dumps(name)
