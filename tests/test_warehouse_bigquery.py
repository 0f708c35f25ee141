"""BigQuery backend against bqemulator, through the real google-cloud-bigquery client.

The emulator runs from its own virtual environment (scripts/emulators.sh) as a separate
process on a free port; the client finds it through ``BIGQUERY_EMULATOR_HOST``. Where
bqemulator differs from BigQuery, the product code keeps BigQuery's documented behaviour and
the difference is isolated here (the README lists them):

- INFORMATION_SCHEMA.COLUMNS gives parameterized types without their parameters
  (``NUMERIC`` for ``NUMERIC(10,2)``): ``as_bqemulator_reports`` says so in the expected types.
- ``CREATE OR REPLACE TABLE t (column list) AS SELECT`` ignores the column list (NOT NULL is
  lost) and ``CAST(x AS NUMERIC(10,2))`` ignores the parameters (no rounding to the scale,
  no overflow below NUMERIC's own range): see ``as_bqemulator_reports(..., ctas=True)`` and
  ``ROUNDS_TO_SCALE``.
- A multipart upload (what ``load_table_from_dataframe`` sends for small frames) is refused
  with 400 "unsupported Content-Type '*/*'"; the backend uses a resumable upload of Parquet,
  which both accept, so nothing is isolated for it. Likewise a dataset insert with
  ``location: null`` is a 500 there: the backend sends a location only when it has one.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from decimal import Decimal

import pandas as pd
import pytest
from helpers import typed_frame

from synthohive_dbt.errors import UnsafeWriteError, WarehouseError
from synthohive_dbt.schema import ColumnType, LogicalType
from synthohive_dbt.warehouse import STAGE_PREFIX, Relation, wrap_connection
from synthohive_dbt.warehouse.bigquery import BigQueryWarehouse
from tests.emulators import BQEMULATOR_PROJECT, start_bqemulator

bigquery = pytest.importorskip(
    "google.cloud.bigquery", reason="google-cloud-bigquery is not installed in .venv"
)
pytest.importorskip("db_dtypes", reason="db-dtypes (for query results) is not installed")

L = LogicalType
TYPES = {
    "id": ColumnType(L.INTEGER, "INT64", nullable=False),
    "amount": ColumnType(L.NUMERIC, "NUMERIC(10,2)"),
    "ratio": ColumnType(L.FLOAT, "FLOAT64"),
    "name": ColumnType(L.TEXT, "STRING"),
    "active": ColumnType(L.BOOLEAN, "BOOL"),
    "born": ColumnType(L.DATE, "DATE"),
    "seen_at": ColumnType(L.TIMESTAMP, "DATETIME"),
    "paid_at": ColumnType(L.TIMESTAMPTZ, "TIMESTAMP"),
    "key": ColumnType(L.TEXT, "STRING"),  # BigQuery has no UUID type
}
KEYS = ["0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7"]
_datasets = itertools.count()


def sample_frame() -> pd.DataFrame:
    return typed_frame(text_tail="\\N", last_micro=1)


# BigQuery rounds a NUMERIC(10,2) cast to 2 decimals; bqemulator keeps the value sent.
ROUNDS_TO_SCALE = False


def as_bqemulator_reports(
    types: Mapping[str, ColumnType], *, ctas: bool = False
) -> dict[str, ColumnType]:
    """bqemulator's catalog drops type parameters (BigQuery reports ``NUMERIC(10, 2)``);
    a table made by ``create table (columns) as select`` has only nullable columns there."""
    return {
        n: ColumnType(t.logical, t.native.split("(")[0], t.nullable or ctas)
        for n, t in types.items()
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_bqemulator(tmp_path_factory.mktemp("bqemulator"))
    yield srv
    srv.stop()


@pytest.fixture()
def bq(server, monkeypatch):
    """A warehouse on the emulator, a fresh source dataset ``raw`` and a (not yet created)
    ``synth``; the client needs no credentials there."""
    from google.auth.credentials import AnonymousCredentials

    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", f"http://127.0.0.1:{server.port}")
    n = next(_datasets)
    client = bigquery.Client(project=BQEMULATOR_PROJECT, credentials=AnonymousCredentials())
    wh = wrap_connection("bigquery", client)
    assert isinstance(wh, BigQueryWarehouse)
    wh.raw, wh.synth = f"raw_{n}", f"synth_{n}"
    wh.create_schema(None, wh.raw)
    yield wh
    for dataset in (wh.raw, wh.synth):
        client.delete_dataset(dataset, delete_contents=True, not_found_ok=True)
    client.close()


def _create_source(bq: BigQueryWarehouse) -> Relation:
    cols = ", ".join(f"{n} {t.native}{'' if t.nullable else ' not null'}" for n, t in TYPES.items())
    bq._execute(f"create table {bq.raw}.orders ({cols})")
    bq._execute(
        f"""insert into {bq.raw}.orders values
        (1, 12.34, 0.1, '', true, '2024-01-02', '2024-01-02 03:04:05.123456',
         '2024-01-02 03:04:05.123456+02', '{KEYS[0]}'),
        (2, null, null, null, null, null, null, null, null),
        (3, -0.01, 1e300, 'a"b,\\nc\\\\N', false, '1900-03-01', '1970-01-01 00:00:00.000001',
         '1999-12-31 23:59:59.999999+00', '{KEYS[1]}')"""
    )
    return Relation(BQEMULATOR_PROJECT, bq.raw, "orders")


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """BigQuery promises no row order without ORDER BY."""
    return frame.sort_values("id", ignore_index=True)


def test_columns_come_from_the_catalog_in_table_order(bq):
    rel = _create_source(bq)
    assert bq.columns(rel) == as_bqemulator_reports(TYPES)
    assert bq.columns(Relation(None, bq.raw, "orders")) == bq.columns(rel)  # the client's project
    with pytest.raises(WarehouseError, match=f"{bq.raw}.missing does not exist"):
        bq.columns(Relation(None, bq.raw, "missing"))


def test_read_gives_the_documented_representation(bq):
    rel = _create_source(bq)
    pd.testing.assert_frame_equal(_sorted(bq.read(rel)), sample_frame())


def test_row_count_and_read_with_a_condition(bq):
    rel = _create_source(bq)
    assert bq.row_count(rel) == 3
    assert bq.row_count(rel, where="id >= 2") == 2
    assert bq.row_count(rel, where="name is null") == 1
    part = bq.read(rel, columns=["KEY", "id"], where="id >= 2")
    assert list(part.columns) == ["KEY", "id"]
    assert sorted(part["id"].tolist()) == [2, 3]
    assert len(bq.read(rel, limit=2)) == 2
    assert bq.read(rel, where="id > 99").dtypes.equals(sample_frame().dtypes)
    with pytest.raises(WarehouseError, match="has no column nope"):
        bq.read(rel, columns=["nope"])


def test_sampling_expressions_run(bq):
    """The dialect's text and hash expressions that ``sampling`` puts in ``where``."""
    rel = _create_source(bq)
    digest = bq.dialect.hash_text.format(bq.dialect.as_text.format("id"))
    md5_of_1 = "c4ca4238a0b923820dcc509a6f75849b"
    assert bq.row_count(rel, where=f"{digest} = '{md5_of_1}'") == 1


def test_round_trip_of_every_supported_type(bq):
    source = bq.read(_create_source(bq))
    written = bq.write_tables(
        bq.synth, [("orders", source, TYPES)], protected_schemas={bq.raw.upper()}
    )
    assert written == {"orders": 3}
    target = Relation(None, bq.synth, "orders")
    pd.testing.assert_frame_equal(_sorted(bq.read(target)), sample_frame())
    assert bq.columns(target) == as_bqemulator_reports(TYPES, ctas=True)
    assert bq.row_count(target) == 3
    assert bq.list_tables(None, bq.synth) == ["orders"]


def test_a_second_write_replaces_the_table(bq):
    bq.write_tables(bq.synth, [("a", sample_frame(), TYPES)])
    one = sample_frame().iloc[:1].assign(id=pd.array([7], dtype="Int64"))
    assert bq.write_tables(bq.synth, [("a", one, TYPES)]) == {"a": 1}
    assert bq.read(Relation(None, bq.synth, "a"))["id"].tolist() == [7]
    assert bq.list_tables(None, bq.synth) == ["a"]


def test_numeric_values_are_rounded_once_to_the_declared_scale(bq):
    frame = sample_frame().assign(amount=[0.1 + 0.2, 5, 1.005])
    bq.write_tables(bq.synth, [("a", frame, TYPES)])
    expected = [0.3, 5.0, 1.01] if ROUNDS_TO_SCALE else [0.1 + 0.2, 5.0, 1.005]
    back = _sorted(bq.read(Relation(None, bq.synth, "a")))["amount"].tolist()
    assert back == pytest.approx(expected, abs=1e-9)
    rounded = expected[2]
    decimals = sample_frame().assign(amount=[Decimal("1.005"), None, Decimal("-99999999.99")])
    bq.write_tables(bq.synth, [("b", decimals, TYPES)])
    back = _sorted(bq.read(Relation(None, bq.synth, "b")))["amount"].tolist()
    assert back[0] == pytest.approx(rounded, abs=1e-9)
    assert pd.isna(back[1]) and back[2] == -99999999.99


def test_failed_write_keeps_previous_tables_and_drops_stages(bq):
    bq.write_tables(bq.synth, [("a", sample_frame(), TYPES), ("b", sample_frame(), TYPES)])
    good = sample_frame().iloc[:1]
    bad = sample_frame().assign(id=["x", "y", "z"])  # fails while loading, before any swap
    with pytest.raises(WarehouseError, match=f"{bq.synth}.b"):
        bq.write_tables(bq.synth, [("a", good, TYPES), ("b", bad, TYPES)])
    assert bq.row_count(Relation(None, bq.synth, "a")) == 3
    pd.testing.assert_frame_equal(_sorted(bq.read(Relation(None, bq.synth, "b"))), sample_frame())
    assert bq.list_tables(None, bq.synth) == ["a", "b"]


def test_failed_replace_keeps_the_previous_table(bq):
    """``create or replace table ... as select`` is atomic: a failing cast changes nothing."""
    bq.write_tables(bq.synth, [("a", sample_frame(), TYPES)])

    def chunks():
        yield sample_frame()
        # overflows NUMERIC(10,2), and NUMERIC itself (bqemulator ignores the parameters)
        yield sample_frame().assign(amount=[1e300, 0.0, 0.0])

    with pytest.raises(WarehouseError, match=f"replacing {bq.synth}.a"):
        bq.write_table_chunks(bq.synth, "a", chunks(), TYPES)
    assert bq.row_count(Relation(None, bq.synth, "a")) == 3
    assert bq.list_tables(None, bq.synth) == ["a"]


def test_refuses_a_protected_schema_and_writes_nothing(bq):
    target = bq.synth.upper()
    with pytest.raises(UnsafeWriteError, match="refusing to write"):
        bq.write_tables(target, [("a", sample_frame(), TYPES)], protected_schemas={target})
    with pytest.raises(UnsafeWriteError):
        bq.write_table_chunks(bq.synth, "a", [sample_frame()], TYPES, protected_schemas=[target])
    assert not bq.schema_exists(None, bq.synth)
    assert not bq.schema_exists(None, target)


def test_streaming_chunks_append_then_swap(bq):
    frame = sample_frame()
    chunks = (frame.assign(id=frame["id"] + 10 * i) for i in range(4))
    assert bq.write_table_chunks(bq.synth, "events", chunks, TYPES) == 12
    back = bq.read(Relation(None, bq.synth, "events"))
    assert sorted(back["id"].tolist()) == sorted(i + 10 * k for k in range(4) for i in (1, 2, 3))
    assert bq.write_table_chunks(bq.synth, "events", iter([]), TYPES) == 0
    assert bq.row_count(Relation(None, bq.synth, "events")) == 0
    assert not any(t.startswith(STAGE_PREFIX) for t in bq.list_tables(None, bq.synth))
