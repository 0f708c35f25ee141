"""Snowflake backend against fakesnow's server, through the real snowflake-connector-python.

The server runs from its own virtual environment (scripts/emulators.sh) as a separate
process on a free port. Where fakesnow differs from Snowflake, the product code keeps
Snowflake's documented behaviour and the difference is isolated in the tests;
tests/emulators.py lists each one (the README too). Here: ``FakesnowWarehouse`` swaps by
drop and rename and matches columns case-insensitively, and ``as_fakesnow_returns`` expects
NULL timestamps back as the epoch.
"""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from helpers import typed_frame

from synthohive_dbt.errors import UnsafeWriteError, WarehouseError
from synthohive_dbt.schema import ColumnType, LogicalType
from synthohive_dbt.warehouse import STAGE_PREFIX, Relation
from synthohive_dbt.warehouse.snowflake import SnowflakeWarehouse
from tests.emulators import FakesnowWarehouse, start_fakesnow

connector = pytest.importorskip(
    "snowflake.connector", reason="snowflake-connector-python is not installed in .venv"
)

pytestmark = pytest.mark.snowflake

L = LogicalType
TYPES = {
    "ID": ColumnType(L.INTEGER, "NUMBER(38,0)", nullable=False),
    "AMOUNT": ColumnType(L.NUMERIC, "NUMBER(10,2)"),
    "RATIO": ColumnType(L.FLOAT, "FLOAT"),
    "NAME": ColumnType(L.TEXT, "VARCHAR(16777216)"),
    "ACTIVE": ColumnType(L.BOOLEAN, "BOOLEAN"),
    "BORN": ColumnType(L.DATE, "DATE"),
    "SEEN_AT": ColumnType(L.TIMESTAMP, "TIMESTAMP_NTZ(9)"),
    "PAID_AT": ColumnType(L.TIMESTAMPTZ, "TIMESTAMP_TZ(9)"),
    "KEY": ColumnType(L.TEXT, "VARCHAR(36)"),  # Snowflake has no UUID type
}
KEYS = ["0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7"]
_databases = itertools.count()


def sample_frame() -> pd.DataFrame:
    return typed_frame(last_micro=1, upper=True)


def as_fakesnow_returns(frame: pd.DataFrame) -> pd.DataFrame:
    """fakesnow's server returns NULL timestamps as the epoch (Snowflake returns NULL)."""
    out = frame.copy()
    for name in ("SEEN_AT", "PAID_AT"):
        epoch = pd.Timestamp(0, tz=out[name].dt.tz).as_unit("us")
        out[name] = out[name].fillna(epoch)
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_fakesnow(tmp_path_factory.mktemp("fakesnow"))
    yield srv
    srv.stop()


@pytest.fixture()
def warehouse(server):
    """A fresh database per test; a short network timeout so that a server error (which
    the connector retries until then) fails the test soon: fakesnow answers a COPY that
    breaks a NOT NULL column with HTTP 500, not a SQL error (tests/emulators.py)."""
    database = f"TEST_{next(_databases)}"
    conn = connector.connect(
        account="fakesnow",
        user="synthohive",
        password="unused",
        host="127.0.0.1",
        port=server.port,
        protocol="http",
        autocommit=True,
        network_timeout=15,
    )
    wh = FakesnowWarehouse.from_connection(conn)
    wh._execute(f"create database {database}")
    wh._execute(f"use database {database}")
    wh._execute("create schema raw")
    wh.database = database
    yield wh
    conn.close()
    assert server.process.poll() is None, f"fakesnow died; log {server.log}:\n{server.log_tail()}"


def _create_source(wh: SnowflakeWarehouse) -> None:
    cols = ", ".join(f"{n} {t.native}{'' if t.nullable else ' not null'}" for n, t in TYPES.items())
    wh._execute(f"create table raw.orders ({cols})")
    wh._execute(
        f"""insert into raw.orders values
        (1, 12.34, 0.1, '', true, '2024-01-02', '2024-01-02 03:04:05.123456',
         '2024-01-02 03:04:05.123456+02:00', '{KEYS[0]}'),
        (2, null, null, null, null, null, null, null, null),
        (3, -0.01, 1e300, 'a"b,\nc', false, '1900-03-01', '1970-01-01 00:00:00.000001',
         '1999-12-31 23:59:59.999999+00:00', '{KEYS[1]}')"""
    )


def _nulls(wh: SnowflakeWarehouse, relation: Relation, column: str) -> int:
    sql = f"select count(*) from {relation.render(wh.dialect)} where {column} is null"
    return wh._fetch(sql)[0][0]


def test_columns_come_from_the_catalog_in_table_order(warehouse):
    _create_source(warehouse)
    assert warehouse.columns(Relation(None, "raw", "orders")) == TYPES
    # plain names fold to upper case, as Snowflake stores them
    assert warehouse.columns(Relation(warehouse.database, "RAW", "Orders")) == TYPES
    with pytest.raises(WarehouseError, match="describing raw.missing"):
        warehouse.columns(Relation(None, "raw", "missing"))


def test_read_through_arrow_gives_the_documented_representation(warehouse):
    _create_source(warehouse)
    rel = Relation(warehouse.database, "raw", "orders")
    pd.testing.assert_frame_equal(warehouse.read(rel), as_fakesnow_returns(sample_frame()))
    assert _nulls(warehouse, rel, "seen_at") == 1 and _nulls(warehouse, rel, "paid_at") == 1
    assert warehouse.row_count(rel) == 3


def test_read_columns_limit_and_empty_results(warehouse):
    _create_source(warehouse)
    rel = Relation(None, "raw", "orders")
    part = warehouse.read(rel, columns=["key", "ID"], limit=2)
    assert list(part.columns) == ["key", "ID"] and len(part) == 2
    # no rows: the connector returns no Arrow table at all; the dtypes stay the documented ones
    assert warehouse.read(rel, limit=0).dtypes.equals(sample_frame().dtypes)
    with pytest.raises(WarehouseError, match="has no column nope"):
        warehouse.read(rel, columns=["nope"])


def test_round_trip_of_every_supported_type_through_the_staged_parquet_load(warehouse):
    _create_source(warehouse)
    source = warehouse.read(Relation(None, "raw", "orders"))
    source[["SEEN_AT", "PAID_AT"]] = sample_frame()[["SEEN_AT", "PAID_AT"]]  # real NULLs
    written = warehouse.write_tables(
        "synth", [("orders", source, TYPES)], protected_schemas={"raw"}
    )
    assert written == {"orders": 3}
    target = Relation(None, "synth", "orders")
    pd.testing.assert_frame_equal(warehouse.read(target), as_fakesnow_returns(sample_frame()))
    assert _nulls(warehouse, target, "seen_at") == 1 and _nulls(warehouse, target, "paid_at") == 1
    # NUMBER(10,2), not null... restored; fakesnow's rename forgets VARCHAR lengths
    assert warehouse.columns(target) == {**TYPES, "KEY": ColumnType(L.TEXT, "VARCHAR(16777216)")}
    assert warehouse.row_count(target) == 3
    assert warehouse.list_tables(None, "synth") == ["ORDERS"]
    # PURGE removed the loaded file; the temporary stage itself goes with the session
    assert warehouse._fetch("list @synth.__synthohive_load") == []


def test_write_replaces_the_previous_table(warehouse):
    warehouse.write_tables("synth", [("a", sample_frame(), TYPES)])
    one = sample_frame().iloc[:1]
    assert warehouse.write_tables("synth", [("a", one, TYPES)]) == {"a": 1}
    pd.testing.assert_frame_equal(warehouse.read(Relation(None, "synth", "a")), one)
    assert warehouse.list_tables(None, "synth") == ["A"]


def test_failed_write_keeps_previous_tables_and_drops_stages(warehouse):
    warehouse.write_tables("synth", [("a", sample_frame(), TYPES), ("b", sample_frame(), TYPES)])
    good = sample_frame().iloc[:1]
    bad = sample_frame().assign(NAME=pd.array(["x", None, None], dtype="string"))
    types_b = {**TYPES, "NAME": ColumnType(L.TEXT, "VARCHAR(16777216)", nullable=False)}
    with pytest.raises(WarehouseError, match="synth.b"):
        warehouse.write_tables("synth", [("a", good, TYPES), ("b", bad, types_b)])
    assert warehouse.row_count(Relation(None, "synth", "a")) == 3
    assert warehouse.row_count(Relation(None, "synth", "b")) == 3
    assert warehouse.list_tables(None, "synth") == ["A", "B"]


def test_streaming_chunks_append_then_swap(warehouse):
    frame = sample_frame()
    chunks = (frame.assign(ID=frame["ID"] + 10 * i) for i in range(4))
    assert warehouse.write_table_chunks("synth", "events", chunks, TYPES) == 12
    back = warehouse.read(Relation(None, "synth", "events"))
    assert sorted(back["ID"].tolist()) == sorted(i + 10 * k for k in range(4) for i in (1, 2, 3))
    assert warehouse.write_table_chunks("synth", "events", iter([]), TYPES) == 0
    assert warehouse.row_count(Relation(None, "synth", "events")) == 0
    assert not any(t.startswith(STAGE_PREFIX.upper()) for t in warehouse.list_tables(None, "synth"))


def test_refuses_a_protected_schema_and_writes_nothing(warehouse):
    with pytest.raises(UnsafeWriteError, match="refusing to write"):
        warehouse.write_tables("Real", [("a", sample_frame(), TYPES)], protected_schemas={"REAL"})
    with pytest.raises(UnsafeWriteError):
        warehouse.write_table_chunks(
            "real ", "a", [sample_frame()], TYPES, protected_schemas=["real"]
        )
    assert not warehouse.schema_exists(None, "real")
    assert warehouse.schema_exists(None, "raw")


def test_from_credentials_passes_dbt_snowflake_settings_to_the_connector(server):
    # the Credentials dbt-snowflake builds from an emulator profile (host, port, protocol)
    credentials = pytest.importorskip("dbt.adapters.snowflake.connections").SnowflakeCredentials
    creds = credentials(
        account="fakesnow", user="synthohive", password="unused", database="CREDS",
        schema="PUBLIC", host="127.0.0.1", port=server.port, protocol="http", connect_timeout=10,
    )  # fmt: skip
    with SnowflakeWarehouse.from_credentials(creds, target="emulator") as wh:
        assert wh._fetch("select 1")[0][0] == 1
    creds.port = 1
    with pytest.raises(WarehouseError, match="cannot connect to Snowflake account fakesnow"):
        SnowflakeWarehouse.from_credentials(creds, target="emulator")
