"""BigQuery backend: ``to_arrow`` out, Parquet load jobs in.

Chunks are written as Parquet and loaded (WRITE_APPEND) through a resumable upload
(``load_table_from_file`` without a size) into a staging table whose columns have
load-friendly types: NUMERIC is staged as STRING, so floats and exact decimals both arrive
unrounded and the swap's cast rounds them once. The swap is ``CREATE OR REPLACE TABLE final
(native types) AS SELECT CAST(...)``, atomic per table. BigQuery DDL is not transactional,
so a multi-table write is not one transaction: a failure after the first swap leaves the
earlier tables replaced.

Reads use the Storage Read API when ``google-cloud-bigquery-storage`` is installed (the
``bigquery`` extra brings it), REST result pages otherwise and against an emulator.

A client pointed at an emulator (``BIGQUERY_EMULATOR_HOST``, the client's documented
switch) is checked when the profile is loaded, before dbt or the client dials anything: a
value that is no http(s) URL, or an address where nothing listens, is one error instead of a
cryptic one or ten minutes of retried connection errors.

Run in the tests against bqemulator (tests/test_warehouse_bigquery.py,
tests/test_e2e_bigquery.py); the README lists where that emulator differs from the service.
"""

from __future__ import annotations

import io
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from synthohive_dbt.errors import WarehouseError
from synthohive_dbt.schema import ColumnType, LogicalType
from synthohive_dbt.warehouse.base import Relation, Scan, Swap, Warehouse, import_driver
from synthohive_dbt.warehouse.dialect import Dialect
from synthohive_dbt.warehouse.types import BIGQUERY_TYPES

_DEFAULT_NATIVE = {
    LogicalType.INTEGER: "INT64",
    LogicalType.NUMERIC: "NUMERIC",
    LogicalType.FLOAT: "FLOAT64",
    LogicalType.TEXT: "STRING",
    LogicalType.BOOLEAN: "BOOL",
    LogicalType.DATE: "DATE",
    LogicalType.TIMESTAMP: "DATETIME",
    LogicalType.TIMESTAMPTZ: "TIMESTAMP",
    LogicalType.UUID: "STRING",
}
# What the staging table holds: types the canonical Arrow columns load into as they are,
# except NUMERIC, sent as text (exact for floats and decimals; the swap casts it).
LOAD_TYPES = {**_DEFAULT_NATIVE, LogicalType.NUMERIC: "STRING"}

DIALECT = Dialect(
    name="bigquery",
    types=BIGQUERY_TYPES,
    default_native=_DEFAULT_NATIVE,
    quote_char="`",
    escape_quote="\\`",
    max_identifier_length=1024,
    text_cast="to_json_string({})",
    # the sample's key text (``sampling``), as BigQuery documents CAST AS STRING: INT64,
    # STRING, BOOL ('true'), DATE ('2024-03-01'), and DATETIME and TIMESTAMP without
    # fractional seconds (TIMESTAMP in UTC, '2024-03-01 07:30:00+00') read as DuckDB and
    # Postgres write them (in a UTC session), so such keys keep the same rows everywhere.
    # NUMERIC is written without trailing zeros ('210.2', where numeric(10,2) reads
    # '210.20'), fractional seconds in 3 or 6 digits ('07:30:00.500', where DuckDB writes
    # '07:30:00.5') and FLOAT64 "approximately": keys with such columns, and tables without
    # a key that have them, keep other (still seeded, repeatable) rows on BigQuery.
    as_text="cast({} as string)",
    hash_text="to_hex(md5({}))",
    # IN takes a subquery of one column: a composite key is compared as a struct
    tuple_in_select="({})",
)


#: the environment variable that sends google-cloud-bigquery's requests to an emulator
EMULATOR_HOST = "BIGQUERY_EMULATOR_HOST"
#: how long the check of an emulator's address waits for a connection
PROBE_TIMEOUT_S = 5.0


def _driver() -> Any:
    return import_driver("google.cloud.bigquery", "the BigQuery client", "bigquery")


def _client_from(credentials: Any) -> Any:
    """dbt-bigquery's own client factory: it handles oauth, service accounts, impersonation."""
    try:
        from dbt.adapters.bigquery.clients import create_bigquery_client
    except ImportError:  # dbt-bigquery < 1.9
        from dbt.adapters.bigquery.connections import BigQueryConnectionManager

        return BigQueryConnectionManager.get_bigquery_client(credentials)
    return create_bigquery_client(credentials)


class BigQueryWarehouse(Warehouse):
    """A google.cloud.bigquery Client. ``Relation.database`` is the project, ``schema``
    the dataset."""

    dialect = DIALECT

    @classmethod
    def from_connection(cls, connection: Any) -> BigQueryWarehouse:
        """Wrap a ready ``google.cloud.bigquery.Client`` (dbt-bigquery's connection handle
        is one); close() leaves it open."""
        bigquery = _driver()
        if not isinstance(connection, bigquery.Client):
            raise WarehouseError(
                f"the BigQuery backend needs a google.cloud.bigquery.Client, got "
                f"{type(connection).__module__}.{type(connection).__name__}; pass the client "
                "itself (dbt-bigquery: the connection's handle)"
            )
        return cls(connection, owns_connection=False)

    @classmethod
    def check_credentials(
        cls, credentials: Any, *, target: str | None = None, profiles: str | None = None
    ) -> None:
        check_emulator_host(os.environ, target=target)

    @classmethod
    def from_credentials(cls, credentials: Any, *, target: str | None = None) -> BigQueryWarehouse:
        _driver()
        check_emulator_host(os.environ, target=target)
        try:
            client = _client_from(credentials)
        except Exception as exc:  # google-auth raises several unrelated types here
            where = f" for target {target}" if target else ""
            raise WarehouseError(
                f"cannot create a BigQuery client for project "
                f"{getattr(credentials, 'database', '?')}{where}: {exc}. Check the dbt "
                "profile's method and keyfile (dbt debug tests the same settings)"
            ) from exc
        return cls(client, owns_connection=True, target=target)

    def _project(self, database: str | None) -> str:
        return database or self._conn.project

    # ---- catalog ---------------------------------------------------------------------
    def columns(self, relation: Relation) -> dict[str, ColumnType]:
        project = self._project(relation.database)
        sql = (
            f"select column_name, data_type, is_nullable "
            f"from {self.dialect.quote(project)}.{self.dialect.quote(relation.schema)}"
            ".INFORMATION_SCHEMA.COLUMNS where table_name = @name order by ordinal_position"
        )
        with self._errors(f"reading the columns of {relation}"):
            rows = self._query(sql, {"name": relation.identifier})
        if not rows:
            raise WarehouseError(
                f"{relation} does not exist in BigQuery; build it with dbt or check the "
                "source's project, dataset and name"
            )
        return {
            name: ColumnType(self.dialect.logical(native), native, nullable == "YES")
            for name, native, nullable in rows
        }

    def schema_exists(self, database: str | None, schema: str) -> bool:
        from google.api_core.exceptions import NotFound

        with self._errors(f"looking up dataset {schema}"):
            try:
                self._conn.get_dataset(f"{self._project(database)}.{schema}")
            except NotFound:
                return False
        return True

    def list_tables(self, database: str | None, schema: str) -> list[str]:
        with self._errors(f"listing tables of {schema}"):
            tables = self._conn.list_tables(f"{self._project(database)}.{schema}")
            return sorted(t.table_id for t in tables)

    def create_schema(self, database: str | None, schema: str) -> None:
        bigquery = _driver()
        dataset = bigquery.Dataset(f"{self._project(database)}.{schema}")
        if self._conn.location:  # the profile's location, as dbt uses; else the default
            dataset.location = self._conn.location
        with self._errors(f"creating dataset {schema}"):
            self._conn.create_dataset(dataset, exists_ok=True)

    # ---- bulk paths ------------------------------------------------------------------
    def _read_arrow(
        self, relation: Relation, types: Mapping[str, ColumnType], scan: Scan
    ) -> pa.Table:
        sql = self._select_sql(relation, types, scan)
        # the Storage Read API (Arrow streams) when google-cloud-bigquery-storage is
        # installed; BIGQUERY_EMULATOR_HOST redirects only the REST endpoint, so against an
        # emulator the rows come as REST pages instead of a read session at Google
        storage = not os.environ.get(EMULATOR_HOST)
        return self._conn.query(sql).to_arrow(create_bqstorage_client=storage)

    def _create_stage(self, relation: Relation, types: Mapping[str, ColumnType]) -> None:
        cols = ", ".join(
            f"{self.dialect.quote(n)} {LOAD_TYPES[t.logical]}" for n, t in types.items()
        )
        self._execute(f"create table {relation.render(self.dialect)} ({cols})")

    def _append(self, stage: Relation, data: pa.Table, types: Mapping[str, ColumnType]) -> None:
        bigquery = _driver()
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
            schema=[bigquery.SchemaField(n, LOAD_TYPES[t.logical]) for n, t in types.items()],
        )
        destination = f"{self._project(stage.database)}.{stage.schema}.{stage.identifier}"
        # No size given: a resumable upload, what the client uses for large files anyway.
        # (load_table_from_dataframe sends small ones as multipart, which bqemulator refuses.)
        with io.BytesIO() as buffer:
            pq.write_table(load_arrow(data, types), buffer)
            buffer.seek(0)
            self._conn.load_table_from_file(buffer, destination, job_config=config).result()

    def _swap(self, swaps: Sequence[Swap]) -> None:
        for stage, final, types in swaps:
            self._execute(replace_sql(self.dialect, stage, final, types))
            self._execute(f"drop table if exists {stage.render(self.dialect)}")

    # ---- plumbing --------------------------------------------------------------------
    def _query(self, sql: str, params: Mapping[str, str]) -> list[tuple[Any, ...]]:
        bigquery = _driver()
        parameters = [bigquery.ScalarQueryParameter(k, "STRING", v) for k, v in params.items()]
        config = bigquery.QueryJobConfig(query_parameters=parameters)
        return [tuple(row.values()) for row in self._conn.query(sql, job_config=config).result()]

    def _execute(self, sql: str) -> None:
        self._conn.query(sql).result()

    def _fetch(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row.values()) for row in self._conn.query(sql).result()]

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        from google.api_core.exceptions import GoogleAPIError

        return (GoogleAPIError,)


def replace_sql(
    dialect: Dialect, stage: Relation, final: Relation, types: Mapping[str, ColumnType]
) -> str:
    """``create or replace table final (native types) as select cast(...) from stage``."""
    cols = ", ".join(dialect.column_ddl(n, t) for n, t in types.items())
    exprs = ", ".join(
        f"cast({dialect.quote(n)} as {dialect.native(t)}) as {dialect.quote(n)}"
        for n, t in types.items()
    )
    return (
        f"create or replace table {final.render(dialect)} ({cols}) "
        f"as select {exprs} from {stage.render(dialect)}"
    )


def load_arrow(data: pa.Table, types: Mapping[str, ColumnType]) -> pa.Table:
    """Canonical Arrow data in the staging table's ``LOAD_TYPES``: NUMERIC as text."""
    columns = [
        pc.cast(data[n], pa.string()) if t.logical is LogicalType.NUMERIC else data[n]
        for n, t in types.items()
    ]
    return pa.Table.from_arrays(columns, names=list(types))


def check_emulator_host(environ: Mapping[str, str], *, target: str | None = None) -> str | None:
    """The emulator URL in ``BIGQUERY_EMULATOR_HOST``, or None when it is not set (BigQuery
    itself). Raises WarehouseError when the value is no ``http(s)://host[:port]`` URL or
    nothing accepts a connection there within ``PROBE_TIMEOUT_S``: the client would fail
    with an unrelated error, or retry connection errors for ten minutes."""
    value = environ.get(EMULATOR_HOST)
    if value is None:
        return None
    where = f" (target {target})" if target else ""
    fix = (
        f"set {EMULATOR_HOST} to the emulator's address, such as http://127.0.0.1:9050, or "
        "unset it to use BigQuery itself"
    )
    try:
        url = urlsplit(value.strip())
        port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    except ValueError as exc:  # a port that is no number in 0-65535
        raise WarehouseError(
            f"{EMULATOR_HOST}={value!r} is not a usable URL{where}: {exc}; {fix}"
        ) from exc
    if url.scheme not in ("http", "https") or not url.hostname:
        raise WarehouseError(
            f"{EMULATOR_HOST}={value!r} is not an http(s)://host:port URL{where}, and the "
            f"BigQuery client sends every request there; {fix}"
        )
    try:
        socket.create_connection((url.hostname, port), timeout=PROBE_TIMEOUT_S).close()
    except OSError as exc:
        raise WarehouseError(
            f"nothing answers at {url.hostname}:{port}, the BigQuery emulator address in "
            f"{EMULATOR_HOST}={value!r}{where} ({exc}); start the emulator there, or {fix}"
        ) from exc
    return value.strip()
