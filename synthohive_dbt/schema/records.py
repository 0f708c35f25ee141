"""Typed records for the relational schema graph built from a dbt manifest.

These records are the contract between the modules: ``manifest`` builds them, ``validate``
checks them against the data, ``relational`` generates over them. They are frozen: a
change produces a new record (``dataclasses.replace``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

# the package's public face: ``from synthohive_dbt.schema import Table``
__all__ = [
    "INFERRED",
    "Column",
    "ColumnType",
    "ForeignKey",
    "LogicalType",
    "Origin",
    "PrimaryKey",
    "ProbableForeignKey",
    "Relation",
    "SchemaGraph",
    "Table",
]


class LogicalType(str, enum.Enum):
    """Warehouse-independent column type, read from the warehouse (not the YAML)."""

    INTEGER = "integer"
    NUMERIC = "numeric"  # exact decimal
    FLOAT = "float"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    TIMESTAMPTZ = "timestamptz"
    UUID = "uuid"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True)
class ColumnType:
    """A column's type as the warehouse reports it (``native``) and its logical type."""

    logical: LogicalType
    native: str
    nullable: bool = True  # as declared in the warehouse catalog


@dataclass(frozen=True)
class Origin:
    """Where a fact came from, for ``synthohive inspect``: e.g. kind='relationships test',
    node='test.jaffle.relationships_orders_customer_id...'; ``via`` names a model a key
    was traced through. Facts read from the real data have kind ``INFERRED`` and say why
    in ``node`` ("unique and not null in 1,500 rows")."""

    kind: str
    node: str
    via: str | None = None

    def __str__(self) -> str:
        text = f"{self.kind} {self.node}"
        return f"{text} (traced via {self.via})" if self.via else text


INFERRED = "inferred from data"


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Relation:
    """A table in the warehouse. ``database`` None means the connection's current one."""

    database: str | None
    schema: str
    identifier: str

    def render(self, dialect: Any) -> str:
        """The quoted, qualified name for SQL text on ``dialect`` (a warehouse Dialect)."""
        parts = [self.database, self.schema, self.identifier]
        return ".".join(dialect.quote(p) for p in parts if p)

    def __str__(self) -> str:
        return ".".join(p for p in (self.database, self.schema, self.identifier) if p)


@dataclass(frozen=True)
class Column:
    """One column as dbt declares it. ``type`` is filled from the warehouse later."""

    name: str
    declared_type: str | None = None  # free text from YAML data_type; informational only
    not_null: bool = False
    unique: bool = False
    accepted_values: tuple[Any, ...] | None = None
    accepted_range: tuple[float | None, float | None] | None = None  # (min, max), inclusive
    meta: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))
    type: ColumnType | None = None
    # set when the data shows identifiers that no key or FK declares (``inferred``): the
    # values are minted fresh, repeated as often as the real ones, never copied
    id_like: Origin | None = None
    tags: tuple[str, ...] = ()  # dbt column tags (privacy markings: pii, sensitive)
    policy_tags: tuple[str, ...] = ()  # BigQuery policy tags


@dataclass(frozen=True)
class PrimaryKey:
    columns: tuple[str, ...]
    origin: Origin


@dataclass(frozen=True)
class ForeignKey:
    """``child.columns`` reference ``parent.parent_columns`` (same length, in order)."""

    child: str  # Table.key of the referencing table
    columns: tuple[str, ...]
    parent: str  # Table.key of the referenced table
    parent_columns: tuple[str, ...]
    origin: Origin
    where: str | None = None  # relationships_where / config.where: conditional FK
    nullable: bool = True  # False when every FK column is not_null

    @property
    def is_self_reference(self) -> bool:
        return self.child == self.parent

    def describe(self) -> str:
        cols = ", ".join(self.columns)
        pcols = ", ".join(self.parent_columns)
        return f"{self.child}({cols}) -> {self.parent}({pcols})"


@dataclass(frozen=True)
class ProbableForeignKey:
    """A column whose values lie in another table's key although no test declares the
    relationship: reported with the YAML that declares it, never used as an FK."""

    fk: ForeignKey  # origin kind INFERRED
    found: int  # non-null values of the column found in the parent key
    total: int  # non-null values of the column
    yaml: str  # the column entry (with its relationships test) to add to the YAML


@dataclass(frozen=True)
class Table:
    """A selected dbt source, model or seed.

    ``key`` is the dbt unique_id (``source.pkg.raw.orders``); ``name`` the dbt name
    (``orders``); ``database``/``schema``/``identifier`` locate the real relation.
    """

    key: str
    name: str
    resource_type: str  # source | model | seed
    database: str | None
    schema: str
    identifier: str
    columns: tuple[Column, ...] = ()
    primary_key: PrimaryKey | None = None
    unique_keys: tuple[tuple[str, ...], ...] = ()
    meta: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))
    source_name: str | None = None  # for sources: the dbt source name
    tags: tuple[str, ...] = ()  # dbt tags of the source table or node
    # boolean SQL conditions every row must meet, over this table's own column names, from
    # expression tests (dbt_utils.expression_is_true and look-alikes) declared on the table
    # or traced to it from the models that select from it; generation enforces them
    expressions: tuple[str, ...] = ()

    @property
    def relation(self) -> Relation:
        """Where the real table is: the one place a Table's Relation is built."""
        return Relation(self.database, self.schema, self.identifier)

    def column(self, name: str) -> Column | None:
        for col in self.columns:
            if col.name.lower() == name.lower():
                return col
        return None

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def display(self) -> str:
        if self.resource_type == "source" and self.source_name:
            return f"source('{self.source_name}', '{self.name}')"
        return f"ref('{self.name}')"


@dataclass(frozen=True)
class SchemaGraph:
    """Tables, their keys and FKs, and a generation order (parents before children).

    ``deferred`` holds FKs that close a cycle: they are filled after both ends exist
    (only nullable FKs can be deferred). ``warnings`` are shown by ``inspect``.
    """

    tables: Mapping[str, Table]
    foreign_keys: tuple[ForeignKey, ...]
    order: tuple[str, ...]
    deferred: tuple[ForeignKey, ...] = ()
    warnings: tuple[str, ...] = ()
    probable_fks: tuple[ProbableForeignKey, ...] = ()  # reported by inspect, not generated

    def table(self, key: str) -> Table:
        return self.tables[key]

    def fks_of(self, key: str) -> tuple[ForeignKey, ...]:
        """FKs declared on table ``key`` (it is the child)."""
        return tuple(fk for fk in self.foreign_keys if fk.child == key)

    def children_of(self, key: str) -> tuple[ForeignKey, ...]:
        return tuple(fk for fk in self.foreign_keys if fk.parent == key and fk.child != key)
