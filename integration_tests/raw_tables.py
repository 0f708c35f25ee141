"""Writing raw tables for the integration projects (jaffle_real, people): shared by their
``load_raw.py`` scripts, which import it from this folder."""

from __future__ import annotations

import io
import shutil
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

Types = Mapping[str, Mapping[str, str]]  # table -> column -> SQL type


def _create_sql(schema: str, table: str, types: Types) -> str:
    columns = ", ".join(f"{name} {kind}" for name, kind in types[table].items())
    return f"create table {schema}.{table} ({columns})"


def write_duckdb(path: str | Path, schema: str, frames: dict[str, pd.DataFrame], types: Types):
    """Replace the tables ``frames`` in ``schema`` of the DuckDB file at ``path``."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        con.execute(f"create schema if not exists {schema}")
        for table, frame in frames.items():
            con.execute(f"drop table if exists {schema}.{table}")
            con.execute(_create_sql(schema, table, types))
            con.register("frame", frame)
            columns = ", ".join(types[table])
            con.execute(f"insert into {schema}.{table} ({columns}) select {columns} from frame")
            con.unregister("frame")
    finally:
        con.close()


def write_postgres(schema: str, frames: dict[str, pd.DataFrame], types: Types, **connect):
    """Replace the tables ``frames`` in ``schema`` (COPY), in one transaction;
    ``connect``: psycopg2.connect arguments (default: the test server)."""
    import psycopg2

    connect = {"host": "127.0.0.1", "user": "postgres", "dbname": "test", **connect}
    conn = psycopg2.connect(**connect)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"create schema if not exists {schema}")
            for table, frame in frames.items():
                cur.execute(f"drop table if exists {schema}.{table}")
                cur.execute(_create_sql(schema, table, types))
                buffer = io.StringIO()
                frame[list(types[table])].to_csv(buffer, index=False, header=False)
                buffer.seek(0)
                columns = ", ".join(types[table])
                cur.copy_expert(f"copy {schema}.{table} ({columns}) from stdin with csv", buffer)
    finally:
        conn.close()


def copy_project(here: Path, dest: Path, root: Path) -> Path:
    """A fresh copy of the project at ``here`` in ``dest / here.name`` (no build output,
    no DuckDB files) whose ``local:`` packages point at the checkout ``root``."""
    project = dest / here.name
    shutil.copytree(
        here,
        project,
        ignore=shutil.ignore_patterns(
            "target*", "dbt_packages", "logs", "*.duckdb*", "__pycache__"
        ),
    )
    packages = project / "packages.yml"
    text = packages.read_text()
    text = text.replace("local: ../../", f"local: {root}/", 1)
    text = text.replace("local: ../dbt_utils_shim", f"local: {here.parent / 'dbt_utils_shim'}", 1)
    packages.write_text(text)
    return project
