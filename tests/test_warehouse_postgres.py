"""Postgres backend against the server at 127.0.0.1:5432 (database test, trust auth).

Each test works in uniquely named schemas, dropped at the end.
"""

from __future__ import annotations

import time
import uuid
from types import SimpleNamespace

import pandas as pd
import psycopg2
import pytest
from dbt.adapters.postgres.connections import PostgresCredentials
from helpers import typed_frame

from synthohive_dbt.errors import UnsafeWriteError, WarehouseError
from synthohive_dbt.schema import ColumnType, LogicalType
from synthohive_dbt.warehouse import STAGE_PREFIX, Relation, open_warehouse, wrap_connection

pytestmark = pytest.mark.postgres

L = LogicalType
TYPES = {
    "id": ColumnType(L.INTEGER, "integer", nullable=False),
    "amount": ColumnType(L.NUMERIC, "numeric(10,2)"),
    "ratio": ColumnType(L.FLOAT, "double precision"),
    "name": ColumnType(L.TEXT, "text"),
    "active": ColumnType(L.BOOLEAN, "boolean"),
    "born": ColumnType(L.DATE, "date"),
    "seen_at": ColumnType(L.TIMESTAMP, "timestamp without time zone"),
    "paid_at": ColumnType(L.TIMESTAMPTZ, "timestamp with time zone"),
    "key": ColumnType(L.UUID, "uuid"),
}
KEYS = ["0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7"]


def credentials(port: int = 5432) -> PostgresCredentials:
    return PostgresCredentials(
        database="test", schema="public", host="127.0.0.1", user="postgres", port=port,
        password="", connect_timeout=3,
    )  # fmt: skip


def sample_frame() -> pd.DataFrame:
    return typed_frame(text_tail="\\N")


@pytest.fixture()
def pg(postgres_server):
    """A warehouse plus a fresh source schema ``raw`` and a (not yet created) ``synth``."""
    wh = open_warehouse("postgres", credentials(), target="test")
    suffix = uuid.uuid4().hex[:8]
    env = SimpleNamespace(wh=wh, raw=f"shraw_{suffix}", synth=f"shsyn_{suffix}")
    wh._execute(f'create schema "{env.raw}"')
    yield env
    for schema in (env.raw, env.synth):
        wh._execute(f'drop schema if exists "{schema}" cascade')
    wh.close()


def _create_source(pg) -> Relation:
    cols = ", ".join(f"{n} {t.native}{'' if t.nullable else ' not null'}" for n, t in TYPES.items())
    pg.wh._execute(f"create table {pg.raw}.orders ({cols})")
    pg.wh._execute(
        f"""insert into {pg.raw}.orders values
        (1, 12.34, 0.1, '', true, '2024-01-02', '2024-01-02 03:04:05.123456',
         '2024-01-02 03:04:05.123456+02', '{KEYS[0]}'),
        (2, null, null, null, null, null, null, null, null),
        (3, -0.01, 1e300, E'a"b,\\nc\\\\N', false, '1900-03-01', '1970-01-01',
         '1999-12-31 23:59:59.999999+00', '{KEYS[1]}')"""
    )
    return Relation("test", pg.raw, "orders")


def test_columns_come_from_the_catalog_in_table_order(pg):
    rel = _create_source(pg)
    assert pg.wh.columns(rel) == TYPES


def test_read_gives_the_documented_representation(pg):
    rel = _create_source(pg)
    pg.wh._execute("set timezone = 'America/New_York'")  # the read must not depend on it
    pd.testing.assert_frame_equal(pg.wh.read(rel), sample_frame())


def test_round_trip_of_every_supported_type(pg):
    source = pg.wh.read(_create_source(pg))
    protected = {pg.raw.upper()}
    written = pg.wh.write_tables(pg.synth, [("orders", source, TYPES)], protected_schemas=protected)
    assert written == {"orders": 3}
    target = Relation(None, pg.synth, "orders")
    pd.testing.assert_frame_equal(pg.wh.read(target), sample_frame())
    assert pg.wh.columns(target) == TYPES
    assert pg.wh.list_tables(None, pg.synth) == ["orders"]
    assert pg.wh.read(target, limit=0).dtypes.equals(sample_frame().dtypes)


def test_failed_write_keeps_previous_tables_and_drops_stages(pg):
    schema = pg.synth
    pg.wh.write_tables(schema, [("a", sample_frame(), TYPES), ("b", sample_frame(), TYPES)])
    good = sample_frame().iloc[:1]
    bad = sample_frame().assign(key=pd.array(["not-a-uuid"] * 3, dtype="string"))
    with pytest.raises(WarehouseError, match=f"loading {schema}.b.*uuid"):
        pg.wh.write_tables(schema, [("a", good, TYPES), ("b", bad, TYPES)])
    assert pg.wh.row_count(Relation(None, schema, "a")) == 3
    pd.testing.assert_frame_equal(pg.wh.read(Relation(None, schema, "b")), sample_frame())
    assert pg.wh.list_tables(None, schema) == ["a", "b"]


def test_failed_stream_keeps_previous_table(pg):
    schema = pg.synth
    pg.wh.write_tables(schema, [("a", sample_frame(), TYPES)])

    def chunks():
        yield sample_frame()
        yield sample_frame().assign(amount=[1e12, 0.0, 0.0])  # overflows numeric(10,2)

    with pytest.raises(WarehouseError, match="numeric field overflow"):
        pg.wh.write_table_chunks(schema, "a", chunks(), TYPES)
    assert pg.wh.row_count(Relation(None, schema, "a")) == 3
    assert pg.wh.list_tables(None, schema) == ["a"]


def test_refuses_a_protected_schema_and_writes_nothing(pg):
    target = pg.synth.upper()
    with pytest.raises(UnsafeWriteError, match="refusing to write"):
        pg.wh.write_tables(target, [("a", sample_frame(), TYPES)], protected_schemas={target})
    with pytest.raises(UnsafeWriteError):
        pg.wh.write_table_chunks(pg.synth, "a", [sample_frame()], TYPES, protected_schemas=[target])
    assert not pg.wh.schema_exists(None, pg.synth)
    assert not pg.wh.schema_exists(None, target)


def test_streaming_chunks_and_long_identifiers(pg):
    name = "t" * 60  # the stage name would pass Postgres' 63-byte limit: it is shortened
    frame = sample_frame()
    chunks = (frame.assign(id=frame["id"] + 10 * i) for i in range(4))
    assert pg.wh.write_table_chunks(pg.synth, name, chunks, TYPES) == 12
    assert pg.wh.row_count(Relation(None, pg.synth, name)) == 12
    assert pg.wh.list_tables(None, pg.synth) == [name]


def test_null_rows_of_a_single_column_table_survive(pg):
    types = {"s": ColumnType(L.TEXT, "text")}
    frame = pd.DataFrame({"s": pd.array([None, "", None, "x"], dtype="string")})
    pg.wh.write_tables(pg.synth, [("one", frame, types)])
    pd.testing.assert_frame_equal(pg.wh.read(Relation(None, pg.synth, "one")), frame)


def test_unsupported_and_special_types(pg):
    raw = pg.raw
    pg.wh._execute(
        f"create type {raw}.mood as enum ('sad', 'ok'); "
        f"create domain {raw}.price as numeric(8,2); "
        f"create table {raw}.odd (id bigint, doc jsonb, tags text[], span interval, "
        f"data bytea, mood {raw}.mood, cost {raw}.price, code varchar(5), "
        f"at3 timestamp(3) with time zone, big numeric(20,0), whole numeric(9,0))"
    )
    pg.wh._execute(
        f"insert into {raw}.odd values (1, '{{\"a\": 1}}', '{{x}}', '1 day', '\\x01', "
        "'ok', 3.5, 'NA', null, 12, 7)"
    )
    cols = pg.wh.columns(Relation(None, raw, "odd"))
    logical = {n: t.logical for n, t in cols.items()}
    assert [n for n, t in logical.items() if t is L.UNSUPPORTED] == ["doc", "tags", "span", "data"]
    assert (logical["mood"], logical["cost"], logical["code"]) == (L.TEXT, L.NUMERIC, L.TEXT)
    assert (logical["at3"], logical["big"], logical["whole"]) == (
        L.TIMESTAMPTZ,
        L.NUMERIC,
        L.INTEGER,
    )
    assert cols["mood"].native == f"{raw}.mood" and cols["code"].native == "character varying(5)"
    frame = pg.wh.read(Relation(None, raw, "odd"))
    assert frame.loc[0, "doc"] == '{"a": 1}' and frame.loc[0, "code"] == "NA"
    with pytest.raises(WarehouseError) as err:
        pg.wh.write_tables(pg.synth, [("odd", frame, cols)])
    assert len(err.value.problems) == 4
    supported = {n: t for n, t in cols.items() if t.logical is not L.UNSUPPORTED}
    pg.wh.write_tables(pg.synth, [("odd", frame[list(supported)], supported)])
    assert pg.wh.columns(Relation(None, pg.synth, "odd")) == supported


def test_names_fold_like_unquoted_postgres_and_one_database(pg):
    _create_source(pg)
    assert list(pg.wh.columns(Relation(None, pg.raw.upper(), "ORDERS"))) == list(TYPES)
    with pytest.raises(WarehouseError, match="connects to one database"):
        pg.wh.columns(Relation("other_db", pg.raw, "orders"))
    with pytest.raises(WarehouseError, match="does not exist in Postgres database test"):
        pg.wh.read(Relation(None, pg.raw, "missing"))


def test_borrowed_connection_stays_open(pg):
    conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="test")
    with wrap_connection("postgres", conn) as wh:
        wh.write_tables(pg.synth, [("a", sample_frame(), TYPES)])
    with conn.cursor() as cur:
        cur.execute(f"select count(*) from {pg.synth}.a")
        assert cur.fetchone() == (3,)
    conn.close()
    assert not any(t.startswith(STAGE_PREFIX) for t in pg.wh.list_tables(None, pg.synth))


def test_unreachable_server_fails_fast_with_a_clear_message():
    started = time.monotonic()
    with pytest.raises(WarehouseError) as err:
        open_warehouse("postgres", credentials(port=1), target="ci")
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "127.0.0.1:1" in message and "target ci" in message and "refused" in message


def test_writes_into_a_new_schema_named_with_its_database(pg):
    # a synthetic environment places tables by the node's database, schema and identifier;
    # Postgres' CREATE SCHEMA takes the schema alone
    frame = pd.DataFrame({"id": pd.array([1, 2], dtype="Int64")})
    types = {"id": ColumnType(LogicalType.INTEGER, "bigint", nullable=False)}
    rows = pg.wh.write_table_chunks(pg.synth, "t", iter([frame]), types, database="test")
    assert rows == 2
    assert pg.wh.read(Relation("test", pg.synth, "t"))["id"].tolist() == [1, 2]
