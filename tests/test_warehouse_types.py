"""Pure parts of the warehouse layer: type tables, quoting, SQL text, frame conversion."""

from __future__ import annotations

import datetime
import decimal
import sys
import uuid

import pandas as pd
import pyarrow as pa
import pytest

from synthohive_dbt.errors import WarehouseError
from synthohive_dbt.schema import ColumnType, LogicalType
from synthohive_dbt.warehouse import SUPPORTED_ADAPTERS, Relation, backend_for, open_warehouse
from synthohive_dbt.warehouse.bigquery import DIALECT as BIGQUERY
from synthohive_dbt.warehouse.bigquery import replace_sql
from synthohive_dbt.warehouse.duckdb import DIALECT as DUCKDB
from synthohive_dbt.warehouse.frames import to_arrow, to_memory
from synthohive_dbt.warehouse.postgres import DIALECT as POSTGRES
from synthohive_dbt.warehouse.snowflake import DIALECT as SNOWFLAKE
from synthohive_dbt.warehouse.snowflake import load_sql, swap_sql
from synthohive_dbt.warehouse.types import (
    BIGQUERY_TYPES,
    DUCKDB_TYPES,
    POSTGRES_TYPES,
    SNOWFLAKE_TYPES,
)

L = LogicalType

CASES = {
    DUCKDB_TYPES: [
        ("TINYINT", L.INTEGER), ("HUGEINT", L.INTEGER), ("UBIGINT", L.INTEGER),
        ("DECIMAL(10,2)", L.NUMERIC), ("DECIMAL(18,0)", L.INTEGER), ("DECIMAL(38,0)", L.NUMERIC),
        ("FLOAT", L.FLOAT), ("DOUBLE", L.FLOAT), ("VARCHAR", L.TEXT), ("ENUM('a', 'b')", L.TEXT),
        ("BOOLEAN", L.BOOLEAN), ("DATE", L.DATE), ("TIMESTAMP", L.TIMESTAMP),
        ("TIMESTAMP_NS", L.TIMESTAMP), ("TIMESTAMP WITH TIME ZONE", L.TIMESTAMPTZ),
        ("UUID", L.UUID), ("JSON", L.UNSUPPORTED), ("INTEGER[]", L.UNSUPPORTED),
        ("INTEGER[3]", L.UNSUPPORTED), ("STRUCT(a DECIMAL(10,2))", L.UNSUPPORTED),
        ("MAP(VARCHAR, INTEGER)", L.UNSUPPORTED), ("INTERVAL", L.UNSUPPORTED),
        ("BLOB", L.UNSUPPORTED), ("TIME", L.UNSUPPORTED),
    ],
    POSTGRES_TYPES: [
        ("smallint", L.INTEGER), ("bigint", L.INTEGER), ("numeric(10,2)", L.NUMERIC),
        ("numeric", L.NUMERIC), ("numeric(9,0)", L.INTEGER), ("numeric(20,0)", L.NUMERIC),
        ("real", L.FLOAT), ("double precision", L.FLOAT), ("character varying(20)", L.TEXT),
        ("character(3)", L.TEXT), ("text", L.TEXT), ("enum", L.TEXT), ("boolean", L.BOOLEAN),
        ("date", L.DATE), ("timestamp without time zone", L.TIMESTAMP),
        ("timestamp(3) without time zone", L.TIMESTAMP),
        ("timestamp(6) with time zone", L.TIMESTAMPTZ), ("uuid", L.UUID),
        ("jsonb", L.UNSUPPORTED), ("integer[]", L.UNSUPPORTED), ("interval", L.UNSUPPORTED),
        ("bytea", L.UNSUPPORTED), ("public.my_type", L.UNSUPPORTED), ("", L.UNSUPPORTED),
    ],
    SNOWFLAKE_TYPES: [
        ("NUMBER(38,0)", L.INTEGER), ("NUMBER(10,2)", L.NUMERIC), ("FLOAT", L.FLOAT),
        ("VARCHAR(16777216)", L.TEXT), ("BOOLEAN", L.BOOLEAN), ("DATE", L.DATE),
        ("TIMESTAMP_NTZ(9)", L.TIMESTAMP), ("TIMESTAMP_TZ(9)", L.TIMESTAMPTZ),
        ("TIMESTAMP_LTZ(9)", L.TIMESTAMPTZ), ("VARIANT", L.UNSUPPORTED),
        ("ARRAY", L.UNSUPPORTED), ("BINARY(8388608)", L.UNSUPPORTED),
    ],
    BIGQUERY_TYPES: [
        ("INT64", L.INTEGER), ("NUMERIC", L.NUMERIC), ("NUMERIC(10, 2)", L.NUMERIC),
        ("NUMERIC(12, 0)", L.INTEGER), ("BIGNUMERIC", L.NUMERIC), ("FLOAT64", L.FLOAT),
        ("STRING(20)", L.TEXT), ("BOOL", L.BOOLEAN), ("DATE", L.DATE),
        ("DATETIME", L.TIMESTAMP), ("TIMESTAMP", L.TIMESTAMPTZ), ("JSON", L.UNSUPPORTED),
        ("ARRAY<INT64>", L.UNSUPPORTED), ("STRUCT<a INT64>", L.UNSUPPORTED),
        ("GEOGRAPHY", L.UNSUPPORTED), ("BYTES", L.UNSUPPORTED),
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("type_map", "native", "expected"),
    [(m, native, logical) for m, cases in CASES.items() for native, logical in cases],
    ids=lambda v: getattr(v, "warehouse", v if isinstance(v, str) else None),
)
def test_type_tables_map_native_types(type_map, native, expected):
    assert type_map.logical(native) is expected
    assert type_map.logical(f"  {native.upper()} ") is expected  # case and spacing


def test_every_dialect_has_a_default_native_type_for_each_writable_type():
    writable = set(LogicalType) - {LogicalType.UNSUPPORTED}
    for dialect in (DUCKDB, POSTGRES, SNOWFLAKE, BIGQUERY):
        assert set(dialect.default_native) == writable
        for logical, native in dialect.default_native.items():
            if logical is not LogicalType.UUID or dialect.types.names.get("uuid"):
                assert dialect.logical(native) is logical, (dialect.name, native)


def test_quoting_and_folding_per_warehouse():
    rel = Relation("analytics", "raw", 'we"ird')
    assert rel.render(POSTGRES) == '"analytics"."raw"."we""ird"'
    assert Relation(None, "raw", "Orders").render(DUCKDB) == '"raw"."Orders"'
    assert Relation("db", "raw", "orders").render(SNOWFLAKE) == '"DB"."RAW"."ORDERS"'
    assert Relation(None, "raw", "Mixed Case").render(SNOWFLAKE) == '"RAW"."Mixed Case"'
    assert Relation("my-proj", "ds", "t").render(BIGQUERY) == "`my-proj`.`ds`.`t`"
    assert str(rel) == 'analytics.raw.we"ird'
    assert SNOWFLAKE.normalize("raw") == SNOWFLAKE.normalize("RAW")
    assert POSTGRES.normalize(" Raw") == POSTGRES.normalize("raw")


def test_ddl_and_select_text():
    ctype = ColumnType(L.NUMERIC, "numeric(10,2)", nullable=False)
    assert POSTGRES.column_ddl("amount", ctype) == '"amount" numeric(10,2) not null'
    assert DUCKDB.column_ddl("x", ColumnType(L.TIMESTAMPTZ, "")) == ('"x" TIMESTAMP WITH TIME ZONE')
    assert POSTGRES.select_expr("doc", ColumnType(L.UNSUPPORTED, "jsonb")) == '"doc"::text as "doc"'
    assert BIGQUERY.select_expr("s", ColumnType(L.UNSUPPORTED, "STRUCT<a INT64>")) == (
        "to_json_string(`s`) as `s`"
    )


def test_snowflake_swap_and_bigquery_replace_sql():
    stage = Relation("db", "synth", "__synthohive_stage_orders")
    final = Relation("db", "synth", "orders")
    staged, done = '"DB"."SYNTH"."__SYNTHOHIVE_STAGE_ORDERS"', '"DB"."SYNTH"."ORDERS"'
    assert swap_sql(SNOWFLAKE, stage, final) == [
        f"create table if not exists {done} like {staged}",
        f"alter table {done} swap with {staged}",
        f"drop table if exists {staged}",
    ]
    types = {
        "id": ColumnType(L.INTEGER, "INT64", False),
        "amt": ColumnType(L.NUMERIC, "NUMERIC(10, 2)"),
    }
    assert replace_sql(BIGQUERY, stage, final, types) == (
        "create or replace table `db`.`synth`.`orders` (`id` INT64 not null, `amt` NUMERIC(10, 2)) "
        "as select cast(`id` as INT64) as `id`, cast(`amt` as NUMERIC(10, 2)) as `amt` "
        "from `db`.`synth`.`__synthohive_stage_orders`"
    )  # fmt: skip


def test_snowflake_load_sql_puts_one_parquet_file_under_its_own_prefix(tmp_path):
    path = tmp_path / "it's.parquet"
    sql = load_sql('"DB"."S"."T"', '"DB"."S"."__synthohive_load"', path, "p1", "case_sensitive")
    uri = "file://" + path.as_posix().replace("'", "\\'")
    assert sql == [
        'create temporary stage if not exists "DB"."S"."__synthohive_load"',
        f'put \'{uri}\' @"DB"."S"."__synthohive_load"/p1 auto_compress=false overwrite=true',
        'copy into "DB"."S"."T" from @"DB"."S"."__synthohive_load"/p1/ '
        "file_format=(type=parquet use_logical_type=true) "
        "match_by_column_name=case_sensitive on_error=abort_statement purge=true",
    ]


def test_unknown_adapter_lists_the_supported_ones():
    with pytest.raises(WarehouseError, match="'oracle' is not supported.*bigquery, duckdb"):
        open_warehouse("oracle", object())
    assert SUPPORTED_ADAPTERS == ("bigquery", "duckdb", "postgres", "snowflake")
    assert backend_for("Snowflake").dialect is SNOWFLAKE


@pytest.mark.parametrize(
    ("adapter", "module"),
    [("snowflake", "snowflake.connector"), ("bigquery", "google.cloud.bigquery")],
)
def test_missing_driver_names_the_extra(adapter, module, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # import fails, installed or not
    with pytest.raises(WarehouseError, match=rf"synthohive-dbt\[{adapter}\]"):
        backend_for(adapter).from_credentials(object())


TYPES = {
    "i": ColumnType(L.INTEGER, "bigint"),
    "n": ColumnType(L.NUMERIC, "numeric(10,2)"),
    "d": ColumnType(L.DATE, "date"),
    "ts": ColumnType(L.TIMESTAMP, "timestamp"),
    "tz": ColumnType(L.TIMESTAMPTZ, "timestamptz"),
    "u": ColumnType(L.UUID, "uuid"),
}


def test_to_arrow_accepts_common_variants():
    frame = pd.DataFrame(
        {
            "i": [1.0, None],
            "n": [decimal.Decimal("1.25"), None],
            "d": pd.to_datetime(["2024-01-02 13:45", None]),
            "ts": pd.to_datetime(["2024-01-02 12:00", None]).tz_localize("Europe/Paris"),
            "tz": pd.to_datetime(["2024-01-02 12:00", None]),
            "u": [uuid.UUID(int=1), None],
        }
    )
    table = to_arrow(frame, TYPES, "t")
    assert table.column("i").to_pylist() == [1, None]
    assert pa.types.is_decimal(table.column("n").type)  # exact decimals stay exact
    assert table.column("d").to_pylist() == [datetime.date(2024, 1, 2), None]
    assert table.column("ts").to_pylist()[0] == datetime.datetime(2024, 1, 2, 11, 0)
    assert table.column("tz").type == pa.timestamp("us", tz="UTC")  # naive taken as UTC
    assert table.column("u").to_pylist() == [str(uuid.UUID(int=1)), None]


def test_to_arrow_names_the_column_that_cannot_be_converted():
    frame = pd.DataFrame({"i": [1.5]})
    with pytest.raises(WarehouseError, match=r"column i of orders cannot be written as bigint"):
        to_arrow(frame, {"i": TYPES["i"]}, "orders")


def test_to_memory_reports_integers_beyond_int64():
    table = pa.table({"h": pa.array([decimal.Decimal(2**70)], pa.decimal128(38, 0))})
    with pytest.raises(WarehouseError, match="column h .* cannot be read as integer"):
        to_memory(table, {"h": ColumnType(L.INTEGER, "HUGEINT")}, "raw.t")
