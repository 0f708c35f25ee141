"""Snowflake backend: ``fetch_arrow_all`` out; Parquet, ``PUT`` and ``COPY INTO`` in.

Each chunk is written as one Parquet file straight from Arrow (no pandas round trip), put
on a temporary internal stage under a prefix of its own and copied into the staging table
by column name; ``PURGE`` removes the file once loaded. This is the bulk path that
``write_pandas`` takes, spelled out so that the stage and file format are ours.

Tested against fakesnow's server (tests/test_warehouse_snowflake.py, which lists how the
emulator differs), not against a live account. Snowflake commits DDL implicitly, so each
table is swapped atomically on its own (``ALTER TABLE ... SWAP WITH``) but a multi-table
write is not one transaction: a failure after the first swap leaves the earlier tables
replaced.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq

from synthohive_dbt.errors import ProfileError, WarehouseError
from synthohive_dbt.schema import ColumnType, LogicalType
from synthohive_dbt.warehouse.base import Relation, Scan, Swap, Warehouse, import_driver
from synthohive_dbt.warehouse.dialect import Dialect
from synthohive_dbt.warehouse.frames import empty_arrow
from synthohive_dbt.warehouse.types import SNOWFLAKE_TYPES

DIALECT = Dialect(
    name="snowflake",
    types=SNOWFLAKE_TYPES,
    default_native={
        LogicalType.INTEGER: "NUMBER(38,0)",
        LogicalType.NUMERIC: "NUMBER(38,10)",
        LogicalType.FLOAT: "FLOAT",
        LogicalType.TEXT: "VARCHAR",
        LogicalType.BOOLEAN: "BOOLEAN",
        LogicalType.DATE: "DATE",
        LogicalType.TIMESTAMP: "TIMESTAMP_NTZ",
        LogicalType.TIMESTAMPTZ: "TIMESTAMP_TZ",
        LogicalType.UUID: "VARCHAR(36)",
    },
    fold_plain_upper=True,
    max_identifier_length=255,
    text_cast="to_varchar({})",
    # the sample's key text (``sampling``): NUMBER of scale 0 ('392'), NUMBER(p,s) ('210.20'),
    # VARCHAR and BOOLEAN ('true') read as on DuckDB and Postgres, so integer and text keys
    # keep the same rows everywhere. DATE follows the session's DATE_OUTPUT_FORMAT (the
    # default YYYY-MM-DD matches); TIMESTAMP_* follow TIMESTAMP_*_OUTPUT_FORMAT (by default
    # with milliseconds, '2024-03-01 07:30:00.000', where DuckDB writes '... 07:30:00') and
    # FLOAT is written in Snowflake's own number format: keys with such columns, and tables
    # without a key that have them, keep other (still seeded, repeatable) rows on Snowflake.
    as_text="cast({} as varchar)",
)

# the temporary internal stage (one per schema and session) that loads pass through; a
# stage, not a table, so it cannot collide with the staging tables
LOAD_STAGE = "__synthohive_load"

# the account name that fakesnow, the local emulator, is reached under; it has no host of
# its own under snowflakecomputing.com
EMULATOR_ACCOUNTS = frozenset({"fakesnow"})


def _driver() -> Any:
    return import_driver("snowflake.connector", "the Snowflake driver", "snowflake")


def _info_schema(dialect: Dialect, database: str | None) -> str:
    prefix = f"{dialect.quote(database)}." if database else ""
    return f"{prefix}information_schema"


class SnowflakeWarehouse(Warehouse):
    """A Snowflake session from snowflake-connector-python (autocommit, like dbt's)."""

    dialect = DIALECT
    # COPY INTO matches Parquet columns to table columns by their exact stored names
    match_by_column_name: ClassVar[str] = "case_sensitive"

    @classmethod
    def check_credentials(
        cls, credentials: Any, *, target: str | None = None, profiles: str | None = None
    ) -> None:
        check_emulator_host(credentials, target=target, profiles=profiles)

    @classmethod
    def from_credentials(cls, credentials: Any, *, target: str | None = None) -> SnowflakeWarehouse:
        check_emulator_host(credentials, target=target)
        connector = _driver()
        # dbt-snowflake's own auth_args: password, key pair, oauth, sso, host/port; older
        # releases leave the user out of it
        auth = dict(credentials.auth_args())
        if getattr(credentials, "user", None):
            auth.setdefault("user", credentials.user)
        # dbt-snowflake turns the connector's cloud platform probe off by default (0.0)
        detection = getattr(credentials, "platform_detection_timeout_seconds", None)
        extra = {} if detection is None else {"platform_detection_timeout_seconds": detection}
        try:
            conn = connector.connect(
                account=credentials.account,
                database=credentials.database,
                schema=credentials.schema,
                warehouse=credentials.warehouse,
                role=credentials.role,
                autocommit=True,
                client_session_keep_alive=credentials.client_session_keep_alive,
                application="synthohive",
                insecure_mode=getattr(credentials, "insecure_mode", False),
                login_timeout=getattr(credentials, "connect_timeout", None) or 60,
                **extra,
                **auth,
            )
        except connector.Error as exc:
            where = f" for target {target}" if target else ""
            raise WarehouseError(
                f"cannot connect to Snowflake account {credentials.account}{where}: {exc}. "
                "Check the dbt profile (dbt debug tests the same settings)"
            ) from exc
        return cls(conn, owns_connection=True, target=target)

    # ---- catalog ---------------------------------------------------------------------
    def columns(self, relation: Relation) -> dict[str, ColumnType]:
        with self._errors(f"describing {relation}"):
            rows = self._fetch(f"describe table {relation.render(self.dialect)}")
        # describe table: name, type, kind, null?, default, ...
        return {
            row[0]: ColumnType(self.dialect.logical(row[1]), row[1], row[3] == "Y")
            for row in rows
            if row[2] == "COLUMN"
        }

    def schema_exists(self, database: str | None, schema: str) -> bool:
        info = _info_schema(self.dialect, database)
        sql = f"select 1 from {info}.schemata where schema_name = %s"
        with self._errors(f"looking up schema {schema}"):
            return bool(self._query(sql, [self.dialect.stored_name(schema)]))

    def list_tables(self, database: str | None, schema: str) -> list[str]:
        sql = (
            f"select table_name from {_info_schema(self.dialect, database)}.tables "
            "where table_schema = %s order by table_name"
        )
        with self._errors(f"listing tables of {schema}"):
            return [r[0] for r in self._query(sql, [self.dialect.stored_name(schema)])]

    # ---- bulk paths ------------------------------------------------------------------
    def _read_arrow(
        self, relation: Relation, types: Mapping[str, ColumnType], scan: Scan
    ) -> pa.Table:
        sql = self._select_sql(relation, types, scan)
        with self._conn.cursor() as cur:
            cur.execute(sql)
            table = cur.fetch_arrow_all()  # None when there are no rows
        return empty_arrow(types) if table is None else table

    def _append(self, stage: Relation, data: pa.Table, types: Mapping[str, ColumnType]) -> None:
        files = Relation(stage.database, stage.schema, LOAD_STAGE).render(self.dialect)
        prefix = uuid.uuid4().hex  # this chunk's own folder: COPY loads it and nothing else
        data = data.rename_columns([self.dialect.stored_name(n) for n in types])
        with tempfile.TemporaryDirectory(prefix="synthohive-") as tmp:
            path = Path(tmp) / f"{prefix}.parquet"
            pq.write_table(data, path)
            for sql in load_sql(stage.render(self.dialect), files, path, prefix,
                                self.match_by_column_name):  # fmt: skip
                self._execute(sql)

    def _swap(self, swaps: Sequence[Swap]) -> None:
        for stage, final, _ in swaps:
            for sql in swap_sql(self.dialect, stage, final):
                self._execute(sql)

    # ---- plumbing --------------------------------------------------------------------
    def _query(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cur:
            cur.execute(sql, list(params))
            return cur.fetchall()

    def _execute(self, sql: str) -> None:
        with self._conn.cursor() as cur:
            cur.execute(sql)

    def _fetch(self, sql: str) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        return (_driver().Error,)


def swap_sql(dialect: Dialect, stage: Relation, final: Relation) -> list[str]:
    """Statements that replace ``final`` by ``stage``: SWAP is atomic per table; the
    ``like`` table only exists so that SWAP has a partner on the first write."""
    stage_sql, final_sql = stage.render(dialect), final.render(dialect)
    return [
        f"create table if not exists {final_sql} like {stage_sql}",
        f"alter table {final_sql} swap with {stage_sql}",
        f"drop table if exists {stage_sql}",
    ]


def load_sql(
    table_sql: str, stage_sql: str, path: Path, prefix: str, match_by_column_name: str
) -> list[str]:
    """Statements that bulk-load one local Parquet file into ``table_sql`` through the
    temporary internal stage ``stage_sql``; timestamps keep their zone (logical types)."""
    uri = "file://" + path.resolve().as_posix().replace("\\", "\\\\").replace("'", "\\'")
    return [
        f"create temporary stage if not exists {stage_sql}",
        f"put '{uri}' @{stage_sql}/{prefix} auto_compress=false overwrite=true",
        f"copy into {table_sql} from @{stage_sql}/{prefix}/ "
        "file_format=(type=parquet use_logical_type=true) "
        f"match_by_column_name={match_by_column_name} on_error=abort_statement purge=true",
    ]


def check_emulator_host(
    credentials: Any, *, target: str | None = None, profiles: str | None = None
) -> None:
    """Refuse a profile target set up for a local emulator (``account: fakesnow``,
    ``protocol: http`` or a port other than 443) but without ``host``: the connector would
    dial ``<account>.snowflakecomputing.com`` and retry its connection errors for minutes.
    ``profiles``: where the profile was read, for the message."""
    if getattr(credentials, "host", None):
        return
    account = str(getattr(credentials, "account", "") or "")
    protocol = str(getattr(credentials, "protocol", "") or "").lower()
    port = getattr(credentials, "port", None)
    settings = [f"account: {account}"] if account.lower() in EMULATOR_ACCOUNTS else []
    settings += ["protocol: http"] if protocol == "http" else []
    settings += [f"port: {port}"] if port and int(port) != 443 else []
    if not settings:
        return
    where = f"target '{target}'" if target else "the dbt profile target"
    raise ProfileError(
        f"the Snowflake {where} sets {', '.join(settings)} but no host, so the connector "
        f"would dial {account}.snowflakecomputing.com instead of a local emulator. In "
        f"{profiles or 'profiles.yml'}, give {where} the emulator's address (host: 127.0.0.1, "
        "port: <its port>, protocol: http), or, for a real Snowflake account, remove "
        "protocol: http and port"
    )
