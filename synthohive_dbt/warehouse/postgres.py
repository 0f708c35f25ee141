"""Postgres backend: ``COPY ... TO STDOUT`` / ``COPY ... FROM STDIN`` in CSV through psycopg2.

CSV keeps NULL and the empty string apart: Postgres writes NULL as an unquoted empty field
and the empty string as ``""``; Arrow's CSV reader is told that only unquoted empty fields
are null. On the way in, Arrow's CSV writer quotes every non-null value
(``quoting_style='all_valid'``) and leaves NULL as an unquoted empty field, which is what
``COPY ... (format csv)`` reads as NULL. Both directions are vectorized.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from synthohive_dbt.errors import WarehouseError
from synthohive_dbt.schema import ColumnType, LogicalType
from synthohive_dbt.warehouse.base import Relation, Scan, Swap, Warehouse, import_driver
from synthohive_dbt.warehouse.dialect import Dialect
from synthohive_dbt.warehouse.frames import ARROW_TYPES, empty_arrow
from synthohive_dbt.warehouse.types import POSTGRES_TYPES

DIALECT = Dialect(
    name="postgres",
    types=POSTGRES_TYPES,
    default_native={
        LogicalType.INTEGER: "bigint",
        LogicalType.NUMERIC: "numeric",
        LogicalType.FLOAT: "double precision",
        LogicalType.TEXT: "text",
        LogicalType.BOOLEAN: "boolean",
        LogicalType.DATE: "date",
        LogicalType.TIMESTAMP: "timestamp",
        LogicalType.TIMESTAMPTZ: "timestamp with time zone",
        LogicalType.UUID: "uuid",
    },
    max_identifier_length=63,  # NAMEDATALEN - 1; longer names are silently truncated
    schema_in_database=False,
    text_cast="{}::text",
)

# pg_catalog rather than information_schema: format_type gives the full native text
# (numeric(10,2), timestamp(3) with time zone) and the catalog shows every relation, not
# only those the user holds privileges on. Enums read as text; domains by their base type.
_COLUMNS_SQL = """
select a.attname,
       case when t.typtype in ('e', 'd')
            then quote_ident(tn.nspname) || '.' || quote_ident(t.typname)
            else format_type(a.atttypid, a.atttypmod) end,
       case t.typtype when 'e' then 'enum'
            when 'd' then format_type(t.typbasetype, t.typtypmod)
            else format_type(a.atttypid, a.atttypmod) end,
       not a.attnotnull
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_type t on t.oid = a.atttypid
join pg_namespace tn on tn.oid = t.typnamespace
where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped
  and c.relkind in ('r', 'p', 'v', 'm', 'f')
order by a.attnum
"""
_SCHEMA_SQL = "select 1 from pg_namespace where nspname = %s"
_TABLES_SQL = """
select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm', 'f') order by c.relname
"""
# Session settings that fix the text form COPY produces, whatever the user's defaults.
_READ_SETTINGS = (
    "set local datestyle = 'ISO, YMD'; set local extra_float_digits = 3; "
    "set local intervalstyle = 'postgres'"
)
_COPY_ROWS = 100_000  # rows per COPY FROM batch: bounds the CSV buffer
_COPY_READ = 1 << 20  # bytes psycopg2 sends per read (its default is 8 KiB)


def _driver() -> Any:
    return import_driver("psycopg2", "the psycopg2 driver", "postgres")


def _connect_kwargs(credentials: Any) -> dict[str, Any]:
    """psycopg2.connect arguments from dbt's PostgresCredentials, as dbt-postgres builds them."""
    kwargs: dict[str, Any] = {
        "dbname": credentials.database,
        "user": credentials.user,
        "host": credentials.host,
        "port": credentials.port,
        "password": credentials.password,
        "connect_timeout": getattr(credentials, "connect_timeout", 10),
        "application_name": "synthohive",
    }
    if getattr(credentials, "keepalives_idle", 0):  # 0 means the server default
        kwargs["keepalives_idle"] = credentials.keepalives_idle
    search_path = getattr(credentials, "search_path", None)
    if search_path:
        kwargs["options"] = "-c search_path={}".format(search_path.replace(" ", "\\ "))
    for key in ("sslmode", "sslcert", "sslkey", "sslrootcert"):
        if getattr(credentials, key, None) is not None:
            kwargs[key] = getattr(credentials, key)
    return kwargs


class PostgresWarehouse(Warehouse):
    """A Postgres database through psycopg2. Every operation runs in its own transaction
    (``with connection``); on a borrowed connection that also commits the owner's work."""

    dialect = DIALECT

    @classmethod
    def from_credentials(cls, credentials: Any, *, target: str | None = None) -> PostgresWarehouse:
        psycopg2 = _driver()
        kwargs = _connect_kwargs(credentials)
        try:
            conn = psycopg2.connect(**kwargs)
        except psycopg2.Error as exc:
            where = f" for target {target}" if target else ""
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise WarehouseError(
                f"cannot connect to Postgres at {kwargs['host']}:{kwargs['port']} "
                f"(database {kwargs['dbname']}, user {kwargs['user']}){where}: {detail}. "
                "Check host, port and credentials in the dbt profile (dbt debug tests them)"
            ) from exc
        warehouse = cls(conn, owns_connection=True, target=target)
        role = getattr(credentials, "role", None)
        if role:
            try:
                with warehouse._errors(f"setting role {role}"):
                    warehouse._execute(f"set role {role}")
            except BaseException:
                warehouse.close()
                raise
        return warehouse

    # ---- catalog ---------------------------------------------------------------------
    def columns(self, relation: Relation) -> dict[str, ColumnType]:
        self._check_database(relation.database)
        with self._errors(f"reading the columns of {relation}"):
            rows = self._query(_COLUMNS_SQL, [relation.schema, relation.identifier])
            folded = [relation.schema.lower(), relation.identifier.lower()]
            if not rows and folded != [relation.schema, relation.identifier]:
                rows = self._query(_COLUMNS_SQL, folded)  # created unquoted, so folded
        if not rows:
            raise WarehouseError(
                f"{relation} does not exist in Postgres database {self._database()}; build "
                "it with dbt (dbt build / dbt seed) or check the source's schema and name"
            )
        return {
            name: ColumnType(self.dialect.logical(mapped), native, bool(nullable))
            for name, native, mapped, nullable in rows
        }

    def schema_exists(self, database: str | None, schema: str) -> bool:
        self._check_database(database)
        with self._errors(f"looking up schema {schema}"):
            return bool(self._query(_SCHEMA_SQL, [schema]))

    def list_tables(self, database: str | None, schema: str) -> list[str]:
        self._check_database(database)
        with self._errors(f"listing tables of {schema}"):
            return [row[0] for row in self._query(_TABLES_SQL, [schema])]

    def _database(self) -> str:
        return self._conn.info.dbname

    def _check_database(self, database: str | None) -> None:
        if database and database != self._database():
            raise WarehouseError(
                f"Postgres connects to one database: {database} was asked for but the "
                f"connection is to {self._database()}; point the dbt target at {database}"
            )

    # ---- bulk paths ------------------------------------------------------------------
    def _read_arrow(
        self, relation: Relation, types: Mapping[str, ColumnType], scan: Scan
    ) -> pa.Table:
        self._check_database(relation.database)
        query = self._select_sql(relation, types, scan)
        buffer = io.BytesIO()
        with self._cursor() as cur:
            cur.execute(_READ_SETTINGS)
            cur.copy_expert(f"copy ({query}) to stdout with (format csv)", buffer)
        if not buffer.tell():
            return empty_arrow(types)
        buffer.seek(0)
        return pa_csv.read_csv(
            buffer,
            read_options=pa_csv.ReadOptions(column_names=list(types)),
            # a NULL in a one-column result is an empty line: it is a row, not a gap
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=_convert_options(types),
        )

    def _select_expr(self, name: str, ctype: ColumnType) -> str:
        if ctype.logical is LogicalType.TIMESTAMPTZ:
            # the UTC wall clock, so the text has no offset to parse
            quoted = self.dialect.quote(name)
            return f"({quoted} at time zone 'UTC') as {quoted}"
        return self.dialect.select_expr(name, ctype)

    def _append(self, stage: Relation, data: pa.Table, types: Mapping[str, ColumnType]) -> None:
        cols = ", ".join(self.dialect.quote(n) for n in types)
        sql = f"copy {stage.render(self.dialect)} ({cols}) from stdin with (format csv)"
        options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
        with self._cursor() as cur:
            # zone-aware timestamps go as their UTC wall clock (Arrow formats a zone ~20x
            # slower than a naive value); the session zone makes Postgres read them as UTC
            cur.execute("set local timezone = 'UTC'; set local datestyle = 'ISO, YMD'")
            for batch in _utc_wall_clock(data).to_batches(max_chunksize=_COPY_ROWS):
                sink = pa.BufferOutputStream()
                pa_csv.write_csv(pa.Table.from_batches([batch]), sink, options)
                cur.copy_expert(sql, pa.BufferReader(sink.getvalue()), size=_COPY_READ)

    def _swap(self, swaps: Sequence[Swap]) -> None:
        with self._cursor() as cur:  # one transaction: transactional DDL
            for stage, final, _ in swaps:
                cur.execute(f"drop table if exists {final.render(self.dialect)}")
                cur.execute(
                    f"alter table {stage.render(self.dialect)} "
                    f"rename to {self.dialect.quote(final.identifier)}"
                )

    # ---- plumbing --------------------------------------------------------------------
    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        # psycopg2 >= 2.9: commit on success, roll back on error, even in autocommit mode
        with self._conn, self._conn.cursor() as cur:
            yield cur

    def _query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._cursor() as cur:
            cur.execute(sql, list(params))
            return cur.fetchall()

    def _execute(self, sql: str) -> None:
        with self._cursor() as cur:
            cur.execute(sql)

    def _fetch(self, sql: str) -> list[tuple[Any, ...]]:
        with self._cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def _recover(self) -> None:
        psycopg2 = _driver()
        status = self._conn.info.transaction_status
        if status == psycopg2.extensions.TRANSACTION_STATUS_INERROR:
            self._conn.rollback()

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        return (_driver().Error,)


def _utc_wall_clock(data: pa.Table) -> pa.Table:
    """Zone-aware timestamp columns as naive UTC (the stored instants are unchanged)."""
    for i, field in enumerate(data.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz:
            naive = data.column(i).cast(pa.timestamp(field.type.unit))
            data = data.set_column(i, field.name, naive)
    return data


def _convert_options(types: Mapping[str, ColumnType]) -> pa_csv.ConvertOptions:
    column_types = {}
    for name, ctype in types.items():
        kind = ARROW_TYPES[ctype.logical]
        # timestamptz arrives as the UTC wall clock (see _select_expr); frames adds the zone
        column_types[name] = pa.timestamp("us") if pa.types.is_timestamp(kind) else kind
    return pa_csv.ConvertOptions(
        column_types=column_types,
        null_values=[""],  # only the unquoted empty field; "NULL" or "NA" are text
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,  # "" is the empty string, not NULL
        true_values=["t"],
        false_values=["f"],
    )
