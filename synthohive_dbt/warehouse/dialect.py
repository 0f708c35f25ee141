"""What differs between warehouses in SQL text, declared once per warehouse: quoting, name
folding, identifier limits and the native type of each logical type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from synthohive_dbt.schema import ColumnType, LogicalType
from synthohive_dbt.warehouse.types import TypeMap


@dataclass(frozen=True, eq=False)  # declared once per warehouse: identity is equality
class Dialect:
    """What differs between warehouses in SQL text: quoting, name folding, types."""

    name: str
    types: TypeMap
    default_native: Mapping[LogicalType, str]  # DDL type when a ColumnType has no native
    quote_char: str = '"'
    escape_quote: str = '""'
    # Snowflake stores unquoted names upper-case: a plain name is folded before quoting,
    # so ``orders`` and ``ORDERS`` name the same table, as they do in dbt.
    fold_plain_upper: bool = False
    max_identifier_length: int | None = None
    # whether CREATE SCHEMA takes a database-qualified name (Postgres: one database per
    # connection, the name is the schema alone)
    schema_in_database: bool = True
    text_cast: str = "cast({} as varchar)"  # how UNSUPPORTED columns are read as text
    # in-warehouse sampling (``sampling``): a value as text, and the md5 of a text as hex
    # text (the same digest on every warehouse, so the same rows are sampled)
    as_text: str = "cast({} as varchar)"
    hash_text: str = "md5({})"
    # the select list of a subquery that ``(a, b) in (...)`` compares with: its columns,
    # or (BigQuery, whose IN takes one column) one struct of them, ``(x, y)``
    tuple_in_select: str = "{}"

    def stored_name(self, identifier: str) -> str:
        """The name as the catalog stores it."""
        if self.fold_plain_upper and _is_plain(identifier):
            return identifier.upper()
        return identifier

    def quote(self, identifier: str) -> str:
        name = self.stored_name(identifier).replace(self.quote_char, self.escape_quote)
        return f"{self.quote_char}{name}{self.quote_char}"

    def normalize(self, identifier: str) -> str:
        """A key for comparing schema names: after folding, case-insensitive."""
        return self.stored_name(identifier.strip()).casefold()

    def native(self, ctype: ColumnType) -> str:
        return ctype.native or self.default_native[ctype.logical]

    def column_ddl(self, name: str, ctype: ColumnType) -> str:
        null = "" if ctype.nullable else " not null"
        return f"{self.quote(name)} {self.native(ctype)}{null}"

    def select_expr(self, name: str, ctype: ColumnType) -> str:
        quoted = self.quote(name)
        if ctype.logical is LogicalType.UNSUPPORTED:
            return f"{self.text_cast.format(quoted)} as {quoted}"
        return quoted

    def logical(self, native: str) -> LogicalType:
        return self.types.logical(native)


def _is_plain(identifier: str) -> bool:
    head, rest = identifier[:1], identifier[1:]
    return (head.isalpha() or head == "_") and all(c.isalnum() or c in "_$" for c in rest)
