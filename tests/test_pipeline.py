"""The shared data path on a real DuckDB file: size guard, streaming write, refusals."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from synthohive_dbt.errors import DataError, UnsafeWriteError
from synthohive_dbt.pipeline import fit_graph, write_synthetic
from synthohive_dbt.schema import Column, ForeignKey, Origin, PrimaryKey, SchemaGraph, Table
from synthohive_dbt.warehouse import wrap_connection

ORIGIN = Origin("test", "fixture")


@pytest.fixture
def warehouse(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema raw")
    rng = np.random.default_rng(0)
    parents = pd.DataFrame({"id": np.arange(1, 201), "kind": rng.choice(["x", "y"], 200)})
    kids = pd.DataFrame(
        {
            "kid": np.arange(1, 1001),
            "parent_id": rng.integers(1, 201, 1000),
            "value": rng.normal(size=1000),
        }
    )
    con.register("p", parents)
    con.register("k", kids)
    con.execute("create table raw.parents as select * from p")
    con.execute("create table raw.kids as select * from k")
    wh = wrap_connection("duckdb", con)
    yield wh, con
    con.close()


def graph():
    parents = Table(
        "source.t.raw.parents",
        "parents",
        "source",
        None,
        "raw",
        "parents",
        columns=(Column("id"), Column("kind")),
        primary_key=PrimaryKey(("id",), ORIGIN),
    )
    kids = Table(
        "source.t.raw.kids",
        "kids",
        "source",
        None,
        "raw",
        "kids",
        columns=(Column("kid"), Column("parent_id"), Column("value")),
        primary_key=PrimaryKey(("kid",), ORIGIN),
    )
    fk = ForeignKey(kids.key, ("parent_id",), parents.key, ("id",), ORIGIN)
    return SchemaGraph({parents.key: parents, kids.key: kids}, (fk,), (parents.key, kids.key))


def test_fit_and_stream_write(warehouse):
    wh, con = warehouse
    model, _, rows = fit_graph(graph(), wh, seed=1)
    assert rows == {"parents": 200, "kids": 1000}
    written = write_synthetic(model, wh, schema="synth", scale=2.0, seed=2, chunk_rows=300)
    assert written["parents"] == 400
    assert con.execute("select count(*) from synth.kids").fetchone()[0] == written["kids"]
    orphans = con.execute(
        "select count(*) from synth.kids k left join synth.parents p on k.parent_id = p.id "
        "where p.id is null"
    ).fetchone()[0]
    assert orphans == 0


def test_refuses_real_schema(warehouse):
    wh, con = warehouse
    model, _, _ = fit_graph(graph(), wh, seed=1)
    with pytest.raises(UnsafeWriteError, match="holds real tables"):
        write_synthetic(model, wh, schema="RAW")
    assert con.execute("select count(*) from raw.kids").fetchone()[0] == 1000


def test_table_larger_than_memory_budget_is_refused_before_reading(warehouse, monkeypatch):
    wh, _ = warehouse
    monkeypatch.setenv("SYNTHOHIVE_MAX_READ_BYTES", "10000")
    with pytest.raises(DataError) as info:
        fit_graph(graph(), wh)
    text = str(info.value)
    assert "kids" in text
    assert "1,000 rows" in text and "using sample" in text
