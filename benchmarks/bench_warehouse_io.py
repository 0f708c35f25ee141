"""Read and write speed of each warehouse backend through its bulk path, side by side.

One frame of ``--rows`` rows and eight columns (integer, numeric(10,2), float, text, boolean,
date, timestamp, timestamp with time zone; a tenth of the values NULL) is written with
``Warehouse.write_tables`` (staged table, then swapped into place) and read back with
``Warehouse.read``, ``--repeats`` times per warehouse; medians are printed as JSON.

- DuckDB: a file; Arrow in (a registered Arrow table, ``insert ... select``), Arrow out.
- Postgres: the server at 127.0.0.1:5432; ``COPY ... FROM STDIN`` (CSV) in, ``COPY ... TO
  STDOUT`` out.
- Snowflake: fakesnow's server (``.emulators/snowflake-venv``, started here through the
  real snowflake-connector-python); Parquet ``PUT`` + ``COPY INTO`` in, Arrow result sets
  out. fakesnow runs on DuckDB in one process: its figures say what the code path costs
  through an emulator, not what a Snowflake warehouse does.
- BigQuery: bqemulator (``.emulators/bigquery-venv``); Parquet load jobs (resumable upload)
  in, query results out (REST pages: the emulator has no Storage Read API for them).

A warehouse whose server cannot start is reported with the reason, never silently left out.

    .venv/bin/python benchmarks/bench_warehouse_io.py --rows 200000 --repeats 3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from synthohive_dbt.schema import ColumnType, LogicalType, Relation  # noqa: E402
from synthohive_dbt.warehouse import Warehouse, open_warehouse, wrap_connection  # noqa: E402

L = LogicalType
LOGICAL = {
    "id": L.INTEGER, "amount": L.NUMERIC, "ratio": L.FLOAT, "name": L.TEXT,
    "active": L.BOOLEAN, "born": L.DATE, "seen_at": L.TIMESTAMP, "paid_at": L.TIMESTAMPTZ,
}  # fmt: skip
NATIVE = {
    "duckdb": ("BIGINT", "DECIMAL(10,2)", "DOUBLE", "VARCHAR", "BOOLEAN", "DATE", "TIMESTAMP",
               "TIMESTAMP WITH TIME ZONE"),
    "postgres": ("bigint", "numeric(10,2)", "double precision", "text", "boolean", "date",
                 "timestamp without time zone", "timestamp with time zone"),
    "snowflake": ("NUMBER(38,0)", "NUMBER(10,2)", "FLOAT", "VARCHAR(16777216)", "BOOLEAN",
                  "DATE", "TIMESTAMP_NTZ(9)", "TIMESTAMP_TZ(9)"),
    "bigquery": ("INT64", "NUMERIC(10,2)", "FLOAT64", "STRING", "BOOL", "DATE", "DATETIME",
                 "TIMESTAMP"),
}  # fmt: skip
TABLE = "io_bench"


def column_types(kind: str, upper: bool) -> dict[str, ColumnType]:
    names = [n.upper() if upper else n for n in LOGICAL]
    return {
        name: ColumnType(logical, native, nullable=name.lower() != "id")
        for name, logical, native in zip(names, LOGICAL.values(), NATIVE[kind], strict=True)
    }


def make_frame(rows: int, seed: int = 0, upper: bool = False) -> pd.DataFrame:
    """``rows`` rows in the documented in-memory representation; 10% NULLs but in ``id``."""
    rng = np.random.default_rng(seed)
    null = rng.random((rows, 7)) < 0.1
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])
    micros = rng.integers(0, 3 * 10**15, rows) + 10**15
    frame = pd.DataFrame(
        {
            "id": pd.array(np.arange(1, rows + 1), dtype="Int64"),
            "amount": np.where(null[:, 0], np.nan, np.round(rng.normal(100, 50, rows), 2)),
            "ratio": np.where(null[:, 1], np.nan, rng.random(rows)),
            "name": pd.array(
                np.where(null[:, 2], None, np.char.add(rng.choice(words, rows), " x")),
                dtype="string",
            ),
            "active": pd.array(np.where(null[:, 3], None, rng.random(rows) < 0.5), "boolean"),
            "born": pd.to_datetime(np.where(null[:, 4], None, micros // 86_400_000_000 * 86_400),
                                   unit="s").as_unit("us"),
            "seen_at": pd.to_datetime(np.where(null[:, 5], None, micros), unit="us"),
            "paid_at": pd.to_datetime(np.where(null[:, 6], None, micros), unit="us", utc=True),
        }
    )  # fmt: skip
    return frame.rename(columns=str.upper) if upper else frame


# -- one context per warehouse: yields (warehouse, database, schema) ------------------------
@contextlib.contextmanager
def duckdb_target(workdir: Path) -> Iterator[tuple[Warehouse, str | None, str]]:
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    with open_warehouse("duckdb", DuckDBCredentials(path=str(workdir / "io.duckdb"))) as wh:
        yield wh, None, "synth"


@contextlib.contextmanager
def postgres_target(workdir: Path) -> Iterator[tuple[Warehouse, str | None, str]]:
    from dbt.adapters.postgres.connections import PostgresCredentials

    schema = f"io_bench_{uuid.uuid4().hex[:8]}"
    creds = PostgresCredentials(
        database="test", schema="public", host="127.0.0.1", user="postgres", port=5432,
        password="", connect_timeout=5,
    )  # fmt: skip
    with open_warehouse("postgres", creds) as wh:
        try:
            yield wh, None, schema
        finally:
            wh._execute(f"drop schema if exists {schema} cascade")


@contextlib.contextmanager
def snowflake_target(workdir: Path) -> Iterator[tuple[Warehouse, str | None, str]]:
    import snowflake.connector as connector

    from tests.emulators import SNOWFLAKE_TIMEOUT_S, FakesnowWarehouse, start_fakesnow

    server = start_fakesnow(workdir)
    try:
        conn = connector.connect(
            account="fakesnow", user="bench", password="unused", host="127.0.0.1",
            port=server.port, protocol="http", autocommit=True,
            network_timeout=SNOWFLAKE_TIMEOUT_S,
        )  # fmt: skip
        wh = FakesnowWarehouse.from_connection(conn)
        wh._execute("create database IO_BENCH")
        wh._execute("use database IO_BENCH")
        try:
            yield wh, "IO_BENCH", "SYNTH"
        finally:
            conn.close()
    finally:
        server.stop()


@contextlib.contextmanager
def bigquery_target(workdir: Path) -> Iterator[tuple[Warehouse, str | None, str]]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    from tests.emulators import BQEMULATOR_PROJECT, start_bqemulator

    server = start_bqemulator(workdir)
    before = os.environ.get("BIGQUERY_EMULATOR_HOST")
    os.environ["BIGQUERY_EMULATOR_HOST"] = f"http://127.0.0.1:{server.port}"
    try:
        client = bigquery.Client(project=BQEMULATOR_PROJECT, credentials=AnonymousCredentials())
        try:
            yield wrap_connection("bigquery", client), None, "synth"
        finally:
            client.close()
    finally:
        if before is None:
            os.environ.pop("BIGQUERY_EMULATOR_HOST", None)
        else:
            os.environ["BIGQUERY_EMULATOR_HOST"] = before
        server.stop()


TARGETS: dict[str, tuple[Callable, str, str]] = {
    "duckdb": (duckdb_target, "Arrow: registered table, insert ... select", "Arrow result"),
    "postgres": (postgres_target, "COPY FROM STDIN (CSV)", "COPY TO STDOUT (CSV)"),
    "snowflake": (snowflake_target, "Parquet PUT + COPY INTO (fakesnow)",
                  "Arrow result set (fakesnow)"),
    "bigquery": (bigquery_target, "Parquet load job, resumable upload (bqemulator)",
                 "query results (bqemulator REST)"),
}  # fmt: skip


def measure(kind: str, rows: int, repeats: int, workdir: Path) -> dict:
    start, write_path, read_path = TARGETS[kind]
    upper = kind == "snowflake"  # Snowflake folds plain names to upper case
    frame, types = make_frame(rows, upper=upper), column_types(kind, upper)
    writes, reads = [], []
    with start(workdir) as (wh, database, schema):
        relation = Relation(database, schema, TABLE)
        for _ in range(repeats):
            t0 = time.perf_counter()
            written = wh.write_tables(schema, [(TABLE, frame, types)])
            writes.append(time.perf_counter() - t0)
            assert written == {TABLE: rows}, written
            t0 = time.perf_counter()
            back = wh.read(relation)
            reads.append(time.perf_counter() - t0)
            assert len(back) == rows and list(back.columns) == list(frame.columns)
    return {
        "write_path": write_path,
        "read_path": read_path,
        "write_rows_per_s": rows / statistics.median(writes),
        "read_rows_per_s": rows / statistics.median(reads),
        "write_s": writes,
        "read_s": reads,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warehouses", default=",".join(TARGETS))
    args = parser.parse_args(argv)
    import pytest  # tests/emulators.py reports a server that cannot start as a skip

    results: dict[str, dict] = {}
    for kind in args.warehouses.split(","):
        with tempfile.TemporaryDirectory(prefix=f"io_{kind}_") as tmp:
            try:
                results[kind] = measure(kind, args.rows, args.repeats, Path(tmp))
            except pytest.skip.Exception as exc:
                results[kind] = {"skipped": str(exc)}
        print(f"{kind}: {json.dumps(results[kind])}", file=sys.stderr)
    packages = ("duckdb", "psycopg2-binary", "snowflake-connector-python",
                "google-cloud-bigquery", "pyarrow", "pandas")  # fmt: skip
    print(json.dumps({
        "command": "python benchmarks/bench_warehouse_io.py " + " ".join(argv or sys.argv[1:]),
        "rows": args.rows, "columns": len(LOGICAL), "repeats": args.repeats,
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(),
                    "load_average_at_end": os.getloadavg()},
        "versions": {p: _version(p) for p in packages},
        "warehouses": results,
    }, indent=1))  # fmt: skip


def _version(package: str) -> str | None:
    try:
        return version(package)
    except Exception:  # not installed
        return None


if __name__ == "__main__":
    main()
