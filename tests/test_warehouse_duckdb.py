"""DuckDB backend against real database files in tmp_path."""

from __future__ import annotations

import datetime
import uuid

import duckdb
import pandas as pd
import pytest
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from helpers import typed_frame

from synthohive_dbt.errors import UnsafeWriteError, WarehouseError
from synthohive_dbt.schema import ColumnType, LogicalType
from synthohive_dbt.warehouse import STAGE_PREFIX, Relation, open_warehouse
from synthohive_dbt.warehouse.duckdb import DuckDBWarehouse

L = LogicalType
TYPES = {
    "id": ColumnType(L.INTEGER, "INTEGER", nullable=False),
    "amount": ColumnType(L.NUMERIC, "DECIMAL(10,2)"),
    "ratio": ColumnType(L.FLOAT, "DOUBLE"),
    "name": ColumnType(L.TEXT, "VARCHAR"),
    "active": ColumnType(L.BOOLEAN, "BOOLEAN"),
    "born": ColumnType(L.DATE, "DATE"),
    "seen_at": ColumnType(L.TIMESTAMP, "TIMESTAMP"),
    "paid_at": ColumnType(L.TIMESTAMPTZ, "TIMESTAMP WITH TIME ZONE"),
    "key": ColumnType(L.UUID, "UUID"),
}
KEYS = ["0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7"]


def sample_frame() -> pd.DataFrame:
    return typed_frame()


@pytest.fixture()
def warehouse(tmp_path):
    creds = DuckDBCredentials(database="dev", schema="main", path=str(tmp_path / "dev.duckdb"))
    with open_warehouse("duckdb", creds, target="dev") as wh:
        wh._execute("create schema raw")
        yield wh


def _create_source(wh: DuckDBWarehouse) -> None:
    cols = ", ".join(f"{n} {t.native}{'' if t.nullable else ' not null'}" for n, t in TYPES.items())
    wh._execute(f"create table raw.orders ({cols})")
    wh._execute(
        f"""insert into raw.orders values
        (1, 12.34, 0.1, '', true, '2024-01-02', '2024-01-02 03:04:05.123456',
         '2024-01-02 03:04:05.123456+02', '{KEYS[0]}'),
        (2, null, null, null, null, null, null, null, null),
        (3, -0.01, 1e300, 'a"b,\nc', false, '1900-03-01', '1970-01-01',
         '1999-12-31 23:59:59.999999+00', '{KEYS[1]}')"""
    )


def test_columns_come_from_the_catalog_in_table_order(warehouse):
    _create_source(warehouse)
    assert warehouse.columns(Relation(None, "raw", "orders")) == TYPES
    # the database is the file's stem, as dbt-duckdb names it; lookups ignore case
    assert warehouse.columns(Relation("dev", "RAW", "Orders")) == TYPES


def test_read_gives_the_documented_representation(warehouse):
    _create_source(warehouse)
    frame = warehouse.read(Relation("dev", "raw", "orders"))
    pd.testing.assert_frame_equal(frame, sample_frame())


def test_round_trip_of_every_supported_type(warehouse):
    _create_source(warehouse)
    source = warehouse.read(Relation(None, "raw", "orders"))
    written = warehouse.write_tables(
        "synth", [("orders", source, TYPES)], protected_schemas={"raw"}
    )
    assert written == {"orders": 3}
    target = Relation(None, "synth", "orders")
    pd.testing.assert_frame_equal(warehouse.read(target), sample_frame())
    assert warehouse.columns(target) == TYPES  # decimal(10,2), not null... restored
    assert warehouse.row_count(target) == 3
    assert warehouse.list_tables(None, "synth") == ["orders"]


def test_failed_write_keeps_previous_tables_and_drops_stages(warehouse):
    warehouse.write_tables("synth", [("a", sample_frame(), TYPES), ("b", sample_frame(), TYPES)])
    good = sample_frame().iloc[:1]
    bad = sample_frame().assign(key=pd.array(["not-a-uuid"] * 3, dtype="string"))
    with pytest.raises(WarehouseError, match="synth.b"):
        warehouse.write_tables("synth", [("a", good, TYPES), ("b", bad, TYPES)])
    assert warehouse.row_count(Relation(None, "synth", "a")) == 3
    pd.testing.assert_frame_equal(warehouse.read(Relation(None, "synth", "b")), sample_frame())
    assert warehouse.list_tables(None, "synth") == ["a", "b"]


def test_failed_stream_keeps_previous_table(warehouse):
    warehouse.write_tables("synth", [("a", sample_frame(), TYPES)])

    def chunks():
        yield sample_frame()
        yield sample_frame().assign(amount=[1e12, 0.0, 0.0])  # overflows decimal(10,2)

    with pytest.raises(WarehouseError, match="loading synth.a"):
        warehouse.write_table_chunks("synth", "a", chunks(), TYPES)
    assert warehouse.row_count(Relation(None, "synth", "a")) == 3
    assert not any(t.startswith(STAGE_PREFIX) for t in warehouse.list_tables(None, "synth"))


def test_refuses_a_protected_schema_and_writes_nothing(warehouse):
    with pytest.raises(UnsafeWriteError, match="refusing to write"):
        warehouse.write_tables("Real", [("a", sample_frame(), TYPES)], protected_schemas={"REAL"})
    with pytest.raises(UnsafeWriteError):
        warehouse.write_table_chunks(
            "real ", "a", [sample_frame()], TYPES, protected_schemas=["real"]
        )
    assert not warehouse.schema_exists(None, "real")


def test_streaming_chunks_append_then_swap(warehouse):
    frame = sample_frame()
    chunks = (frame.assign(id=frame["id"] + 10 * i) for i in range(4))
    assert warehouse.write_table_chunks("synth", "events", chunks, TYPES) == 12
    back = warehouse.read(Relation(None, "synth", "events"))
    assert sorted(back["id"].tolist()) == sorted(i + 10 * k for k in range(4) for i in (1, 2, 3))
    assert warehouse.write_table_chunks("synth", "events", iter([]), TYPES) == 0
    assert warehouse.row_count(Relation(None, "synth", "events")) == 0


def test_null_rows_of_a_single_column_table_survive(warehouse):
    types = {"s": ColumnType(L.TEXT, "VARCHAR")}
    frame = pd.DataFrame({"s": pd.array([None, "", None, "x"], dtype="string")})
    warehouse.write_tables("synth", [("one", frame, types)])
    pd.testing.assert_frame_equal(warehouse.read(Relation(None, "synth", "one")), frame)


def test_unsupported_types_are_reported(warehouse):
    warehouse._execute(
        "create table raw.odd (id integer, doc json, tags varchar[], span interval, "
        "blob_col blob, point struct(x int), mood enum('sad', 'ok'))"
    )
    warehouse._execute("insert into raw.odd values (1, '{\"a\": 1}', ['x'], interval 1 day, "
                       "'\\x01'::blob, {'x': 1}, 'ok')")  # fmt: skip
    cols = warehouse.columns(Relation(None, "raw", "odd"))
    unsupported = [n for n, t in cols.items() if t.logical is L.UNSUPPORTED]
    assert unsupported == ["doc", "tags", "span", "blob_col", "point"]
    assert cols["tags"].native == "VARCHAR[]"
    assert cols["mood"].logical is L.TEXT  # an enum is categorical text
    frame = warehouse.read(Relation(None, "raw", "odd"))
    assert frame.loc[0, "doc"] == '{"a": 1}' and frame.loc[0, "mood"] == "ok"
    with pytest.raises(WarehouseError) as err:
        warehouse.write_tables("synth", [("odd", frame, cols)])
    assert len(err.value.problems) == 5 and "odd.doc has unsupported type JSON" in str(err.value)
    assert not warehouse.schema_exists(None, "synth")


def test_read_columns_limit_and_missing_names(warehouse):
    _create_source(warehouse)
    rel = Relation(None, "raw", "orders")
    part = warehouse.read(rel, columns=["KEY", "id"], limit=2)
    assert list(part.columns) == ["KEY", "id"] and len(part) == 2
    assert warehouse.read(rel, limit=0).dtypes.equals(sample_frame().dtypes)
    with pytest.raises(WarehouseError, match="has no column nope"):
        warehouse.read(rel, columns=["nope"])
    with pytest.raises(WarehouseError, match="raw.missing does not exist"):
        warehouse.read(Relation(None, "raw", "missing"))


def test_writes_accept_common_variants_of_the_representation(warehouse):
    loose = pd.DataFrame(
        {
            "id": [1.0, 2.0],  # float, as a model may emit
            "amount": [0.1 + 0.2, 5],
            "ratio": [1, 2],
            "name": ["x", None],
            "active": [True, False],
            "born": [datetime.date(2024, 1, 2), datetime.date(2024, 1, 3)],
            "seen_at": pd.to_datetime(["2024-01-02 03:04:05", None]),
            "paid_at": pd.to_datetime(["2024-01-02 03:04:05"] * 2).tz_localize("Europe/Paris"),
            "key": [uuid.UUID(KEYS[0]), None],
        }
    )
    warehouse.write_tables("synth", [("loose", loose, TYPES)])
    back = warehouse.read(Relation(None, "synth", "loose"))
    assert back["amount"].tolist() == [0.3, 5.0]
    assert back["born"].tolist() == [pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03")]
    assert back["paid_at"][0] == pd.Timestamp("2024-01-02 02:04:05", tz="UTC")
    assert back["key"][0] == KEYS[0]


def test_invalid_tables_are_reported_together(warehouse):
    frame = sample_frame()
    with pytest.raises(WarehouseError) as err:
        warehouse.write_tables(
            "synth",
            [
                ("a", frame.drop(columns=["name"]), TYPES),
                ("b", frame.assign(extra=1), TYPES),
                ("A", frame, TYPES),
                (STAGE_PREFIX + "c", frame, TYPES),
            ],
        )
    assert len(err.value.problems) == 4


def test_borrowed_connection_stays_open(tmp_path):
    conn = duckdb.connect(str(tmp_path / "x.duckdb"))
    with DuckDBWarehouse.from_connection(conn) as wh:
        wh.write_tables("synth", [("a", sample_frame(), TYPES)])
    assert conn.execute("select count(*) from synth.a").fetchone() == (3,)
    conn.close()


def test_a_locked_file_gives_a_warehouse_error(tmp_path):
    path = tmp_path / "locked.duckdb"
    creds = DuckDBCredentials(database="locked", schema="main", path=str(path))
    with open_warehouse("duckdb", creds), pytest.raises(WarehouseError, match="locked.duckdb"):
        # a second connection with a different configuration cannot share the file
        open_warehouse("duckdb", DuckDBCredentials(path=str(path), config_options={"threads": 1}))
