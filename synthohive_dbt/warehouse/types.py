"""Declared type tables: a warehouse's native type text to a :class:`LogicalType`.

Each warehouse declares one :class:`TypeMap` here; no backend branches on type names.
A native type is reduced to a *base name* (lowercase, parameters and extra spaces removed:
``timestamp(3) with time zone`` -> ``timestamp with time zone``) and looked up in
``names``. Decimals are the one rule beyond a lookup: a decimal with scale 0 and a
precision that fits int64 (``integer_max_precision``) is an INTEGER, any other decimal is
NUMERIC (held as float64 in memory, written back with its exact native type). Array
(``int[]``, ``ARRAY<...>``), struct, map and every name missing from the table are
UNSUPPORTED.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from synthohive_dbt.schema import LogicalType

_I = LogicalType.INTEGER
_N = LogicalType.NUMERIC
_F = LogicalType.FLOAT
_T = LogicalType.TEXT
_B = LogicalType.BOOLEAN
_D = LogicalType.DATE
_TS = LogicalType.TIMESTAMP
_TZ = LogicalType.TIMESTAMPTZ
_U = LogicalType.UUID

_PARAMS = re.compile(r"\(([^()]*)\)")
_CONTAINER = re.compile(r"\[|<")


@dataclass(frozen=True, eq=False)  # declared once per warehouse: identity is equality
class TypeMap:
    """A warehouse's native type names (base names, lowercase) and their logical types."""

    warehouse: str
    names: Mapping[str, LogicalType]
    decimal_names: frozenset[str]
    integer_max_precision: int = 18  # decimal(p, 0) with p <= this reads as int64
    # precision/scale of a decimal declared without parameters (postgres: unconstrained)
    default_decimal: tuple[int | None, int | None] = (None, None)

    def logical(self, native: str) -> LogicalType:
        """The logical type of a native type text such as ``numeric(10,2)``."""
        text = " ".join(native.strip().lower().split())
        if not text or _CONTAINER.search(text):
            return LogicalType.UNSUPPORTED
        params = _PARAMS.findall(text)
        base = " ".join(_PARAMS.sub(" ", text).split())
        if base in self.decimal_names:
            return self._decimal(params[0] if params else "")
        return self.names.get(base, LogicalType.UNSUPPORTED)

    def _decimal(self, params: str) -> LogicalType:
        parts = [p.strip() for p in params.split(",") if p.strip()]
        precision, scale = self.default_decimal
        try:
            if parts:
                precision = int(parts[0])
                scale = int(parts[1]) if len(parts) > 1 else 0
        except ValueError:
            return LogicalType.NUMERIC
        if scale == 0 and precision is not None and precision <= self.integer_max_precision:
            return LogicalType.INTEGER
        return LogicalType.NUMERIC


def _names(**groups: tuple[str, ...]) -> Mapping[str, LogicalType]:
    table = {}
    for logical, names in groups.items():
        for name in names:
            table[name] = LogicalType[logical.upper()]
    return MappingProxyType(table)


DUCKDB_TYPES = TypeMap(
    warehouse="duckdb",
    names=_names(
        integer=(
            "tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint",
            "uinteger", "ubigint", "uhugeint", "int", "int1", "int2", "int4", "int8",
            "short", "long", "signed",
        ),
        float=("float", "real", "double", "float4", "float8", "double precision"),
        text=("varchar", "char", "bpchar", "text", "string", "enum"),
        boolean=("boolean", "bool", "logical"),
        date=("date",),
        timestamp=("timestamp", "datetime", "timestamp_ns", "timestamp_ms", "timestamp_s",
                   "timestamp without time zone"),
        timestamptz=("timestamp with time zone", "timestamptz"),
        uuid=("uuid",),
    ),
    decimal_names=frozenset({"decimal", "numeric"}),
    default_decimal=(18, 3),
)  # fmt: skip

POSTGRES_TYPES = TypeMap(
    warehouse="postgres",
    names=_names(
        integer=("smallint", "integer", "bigint", "int2", "int4", "int8", "int",
                 "smallserial", "serial", "bigserial"),
        float=("real", "double precision", "float4", "float8", "float"),
        text=("text", "character varying", "varchar", "character", "char", "bpchar",
              "name", "citext", "enum"),  # "enum": the catalog query's marker
        boolean=("boolean", "bool"),
        date=("date",),
        timestamp=("timestamp without time zone", "timestamp"),
        timestamptz=("timestamp with time zone", "timestamptz"),
        uuid=("uuid",),
    ),
    decimal_names=frozenset({"numeric", "decimal"}),
)  # fmt: skip

SNOWFLAKE_TYPES = TypeMap(
    warehouse="snowflake",
    names=_names(
        integer=("int", "integer", "bigint", "smallint", "tinyint", "byteint"),
        float=("float", "float4", "float8", "double", "double precision", "real"),
        text=("varchar", "char", "character", "string", "text", "nchar", "nvarchar",
              "nvarchar2", "char varying", "nchar varying"),
        boolean=("boolean",),
        date=("date",),
        timestamp=("timestamp_ntz", "datetime", "timestamp"),
        timestamptz=("timestamp_tz", "timestamp_ltz"),
    ),
    decimal_names=frozenset({"number", "decimal", "numeric"}),
    integer_max_precision=38,  # Snowflake INTEGER is NUMBER(38,0)
    default_decimal=(38, 0),
)  # fmt: skip

BIGQUERY_TYPES = TypeMap(
    warehouse="bigquery",
    names=_names(
        integer=("int64", "integer", "int", "smallint", "bigint", "tinyint", "byteint"),
        float=("float64", "float"),
        text=("string",),
        boolean=("bool", "boolean"),
        date=("date",),
        timestamp=("datetime",),
        timestamptz=("timestamp",),  # BigQuery TIMESTAMP is an absolute instant
    ),
    decimal_names=frozenset({"numeric", "decimal", "bignumeric", "bigdecimal"}),
    default_decimal=(38, 9),
)  # fmt: skip
