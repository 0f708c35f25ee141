"""The shared data path on a real DuckDB file: size guard, streaming write, refusals."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from helpers import ORIGIN, graph_from, table

from synthohive_dbt.errors import DataError, UnsafeWriteError
from synthohive_dbt.generation import write_synthetic
from synthohive_dbt.options import GenerateOptions
from synthohive_dbt.pipeline import fit_graph
from synthohive_dbt.schema import Column, ForeignKey, SchemaGraph
from synthohive_dbt.warehouse import wrap_connection

pytestmark = pytest.mark.usefixtures("one_thread")  # fit_graph trains CTGAN by default


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


def graph() -> SchemaGraph:
    """parents <- kids; untyped columns: the types come from the warehouse."""
    raw = "source.t.raw."
    parents = table("parents", [Column("id"), Column("kind")], ["id"], prefix=raw)
    kids = table("kids", [Column("kid"), Column("parent_id"), Column("value")], ["kid"], prefix=raw)
    fk = ForeignKey(kids.key, ("parent_id",), parents.key, ("id",), ORIGIN)
    return graph_from(parents, kids, fks=[fk])


def test_fit_and_stream_write(warehouse):
    wh, con = warehouse
    model, _, rows = fit_graph(graph(), wh, seed=1)
    assert rows == {"parents": 200, "kids": 1000}
    written = write_synthetic(
        model, wh, schema="synth", options=GenerateOptions(scale=2.0, seed=2, chunk_rows=300)
    )
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
    monkeypatch.setenv("SYNTHOHIVE_MAX_READ_BYTES", "50000")
    with pytest.raises(DataError) as info:
        fit_graph(graph(), wh)
    text = str(info.value)
    assert "kids" in text
    assert "1,000 rows" in text and "--sample-rows N" in text
    # with a sample, the rows to read are counted in the warehouse: the same budget passes
    relational, _, rows = fit_graph(graph(), wh, model="copula", sample_rows=10)
    assert sum(rows.values()) < 1000
    assert max(p.rows for p in relational.plans.values()) == 1000  # the real count kept
