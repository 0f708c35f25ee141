"""DuckDB backend: reads through Arrow, writes a registered Arrow table with ``insert ...
select cast(...)``. A DuckDB file admits one writer: close this before invoking dbt."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from synthohive_dbt.errors import WarehouseError
from synthohive_dbt.schema import ColumnType, LogicalType
from synthohive_dbt.warehouse.base import Relation, Scan, Swap, Warehouse, import_driver
from synthohive_dbt.warehouse.dialect import Dialect
from synthohive_dbt.warehouse.types import DUCKDB_TYPES

DIALECT = Dialect(
    name="duckdb",
    types=DUCKDB_TYPES,
    default_native={
        LogicalType.INTEGER: "BIGINT",
        LogicalType.NUMERIC: "DECIMAL(38,10)",
        LogicalType.FLOAT: "DOUBLE",
        LogicalType.TEXT: "VARCHAR",
        LogicalType.BOOLEAN: "BOOLEAN",
        LogicalType.DATE: "DATE",
        LogicalType.TIMESTAMP: "TIMESTAMP",
        LogicalType.TIMESTAMPTZ: "TIMESTAMP WITH TIME ZONE",
        LogicalType.UUID: "UUID",
    },
    text_cast="cast({} as varchar)",
)

# DuckDB identifiers are case-insensitive, so catalog lookups compare lower-cased names.
_COLUMNS_SQL = """
select column_name, data_type, is_nullable = 'YES'
from information_schema.columns
where lower(table_catalog) = lower(coalesce(?, current_database()))
  and lower(table_schema) = lower(?) and lower(table_name) = lower(?)
order by ordinal_position
"""
_SCHEMA_SQL = """
select 1 from information_schema.schemata
where lower(catalog_name) = lower(coalesce(?, current_database())) and lower(schema_name) = lower(?)
"""
_TABLES_SQL = """
select table_name from information_schema.tables
where lower(table_catalog) = lower(coalesce(?, current_database()))
  and lower(table_schema) = lower(?)
order by table_name
"""


def _driver() -> Any:
    return import_driver("duckdb", "the duckdb driver", "duckdb")


class DuckDBWarehouse(Warehouse):
    """A DuckDB database file (or ``:memory:``) opened with the ``duckdb`` package."""

    dialect = DIALECT

    @classmethod
    def from_credentials(cls, credentials: Any, *, target: str | None = None) -> DuckDBWarehouse:
        duckdb = _driver()
        path = getattr(credentials, "path", None) or ":memory:"
        config = dict(getattr(credentials, "config_options", None) or {})
        try:
            conn = duckdb.connect(path, read_only=False, config=config)
        except duckdb.Error as exc:
            where = f" (target {target})" if target else ""
            raise WarehouseError(
                f"cannot open DuckDB database {path}{where}: {exc}. If dbt or another "
                "process has the file open, close it first; a DuckDB file admits one writer"
            ) from exc
        warehouse = cls(conn, owns_connection=True, target=target)
        try:
            with warehouse._errors(f"configuring DuckDB database {path}"):
                warehouse._configure(credentials)
        except BaseException:
            warehouse.close()
            raise
        return warehouse

    def _configure(self, credentials: Any) -> None:
        """The profile settings a read or write needs: extensions, settings, attachments."""
        for ext in getattr(credentials, "extensions", None) or []:
            if isinstance(ext, str):
                self._conn.install_extension(ext)
                self._conn.load_extension(ext)
            else:
                self._conn.execute(f"install {ext['name']} from {ext['repo']}")
                self._conn.load_extension(ext["name"])
        secrets_sql = getattr(credentials, "secrets_sql", None)
        for sql in secrets_sql() if callable(secrets_sql) else []:
            self._conn.execute(sql)
        for key, value in (getattr(credentials, "settings", None) or {}).items():
            escaped = str(value).replace("'", "''")
            self._conn.execute(f"set {key} = '{escaped}'")
        for attachment in getattr(credentials, "attach", None) or []:
            self._conn.execute(attachment.to_sql())

    # ---- catalog ---------------------------------------------------------------------
    def columns(self, relation: Relation) -> dict[str, ColumnType]:
        with self._errors(f"reading the columns of {relation}"):
            rows = self._query(
                _COLUMNS_SQL, [relation.database, relation.schema, relation.identifier]
            )
        if not rows:
            raise WarehouseError(
                f"{relation} does not exist in the DuckDB database; build it with dbt "
                "(dbt build / dbt seed) or check the source's database and schema"
            )
        return {
            name: ColumnType(self.dialect.logical(native), native, bool(nullable))
            for name, native, nullable in rows
        }

    def schema_exists(self, database: str | None, schema: str) -> bool:
        with self._errors(f"looking up schema {schema}"):
            return bool(self._query(_SCHEMA_SQL, [database, schema]))

    def list_tables(self, database: str | None, schema: str) -> list[str]:
        with self._errors(f"listing tables of {schema}"):
            return [row[0] for row in self._query(_TABLES_SQL, [database, schema])]

    # ---- bulk paths ------------------------------------------------------------------
    def _read_arrow(
        self, relation: Relation, types: Mapping[str, ColumnType], scan: Scan
    ) -> pa.Table:
        sql = self._select_sql(relation, types, scan)
        result = self._conn.sql(sql)
        # duckdb >= 1.4 names it to_arrow_table; older releases return a Table from arrow()
        table = result.to_arrow_table() if hasattr(result, "to_arrow_table") else result.arrow()
        return table.read_all() if isinstance(table, pa.RecordBatchReader) else table

    def _append(self, stage: Relation, data: pa.Table, types: Mapping[str, ColumnType]) -> None:
        source = f"__synthohive_src_{uuid.uuid4().hex}"
        cols = ", ".join(self.dialect.quote(n) for n in types)
        exprs = ", ".join(
            f"cast({self.dialect.quote(n)} as {self.dialect.native(t)})" for n, t in types.items()
        )
        self._conn.register(source, data)
        try:
            self._conn.execute(
                f"insert into {stage.render(self.dialect)} ({cols}) select {exprs} from {source}"
            )
        finally:
            self._conn.unregister(source)

    def _swap(self, swaps: Sequence[Swap]) -> None:
        with self._transaction():
            for stage, final, _ in swaps:
                self._execute(f"drop table if exists {final.render(self.dialect)}")
                self._execute(
                    f"alter table {stage.render(self.dialect)} "
                    f"rename to {self.dialect.quote(final.identifier)}"
                )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        duckdb = _driver()
        try:
            self._conn.begin()
        except duckdb.TransactionException:
            # a borrowed connection (dbt's) already in a transaction: its owner commits
            yield
            return
        try:
            yield
        except BaseException:
            self._conn.rollback()
            raise
        self._conn.commit()

    # ---- plumbing --------------------------------------------------------------------
    def _query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql, list(params)).fetchall()

    def _execute(self, sql: str) -> None:
        self._conn.execute(sql)

    def _fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return self._conn.execute(sql).fetchall()

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        return (_driver().Error,)
