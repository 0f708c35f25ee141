"""What the generated dbt Python models run: one table sampled as the whole generation
samples it, typed as the real table, refused over parents from other artifacts."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from helpers import ORIGIN, graph_from, table

from synthohive_dbt.errors import ArtifactError, ModelError
from synthohive_dbt.python_runtime import check_parents, generate_one, sample_table
from synthohive_dbt.relational import fit_relational
from synthohive_dbt.schema import Column, ColumnType, ForeignKey, LogicalType

INT = ColumnType(LogicalType.INTEGER, "INTEGER")
TEXT = ColumnType(LogicalType.TEXT, "VARCHAR")
DEC = ColumnType(LogicalType.NUMERIC, "DECIMAL(10,2)")
TS = ColumnType(LogicalType.TIMESTAMP, "TIMESTAMP")


def _fit(cycle: bool):
    """stores <- orders; depts <- emps, emps.manager_id -> emps (a hierarchy); with
    ``cycle`` also depts.head_id -> emps, a nullable FK that closes a cycle (deferred)."""
    rng = np.random.default_rng(0)
    stores = pd.DataFrame(
        {"store_id": pd.array(range(1, 9), dtype="Int64"), "city": list("abcdabcd")}
    ).astype({"city": "string"})
    n = 200
    orders = pd.DataFrame(
        {
            "order_id": pd.array(range(1, n + 1), dtype="Int64"),
            "store_id": pd.array(rng.integers(1, 9, n), dtype="Int64"),
            "amount": np.round(rng.gamma(2.0, 10.0, n), 2),
            "at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
        }
    )
    depts = pd.DataFrame(
        {"dept_id": pd.array(range(1, 5), dtype="Int64"), "head_id": pd.array([1, 2, None, 4])}
    ).astype({"head_id": "Int64"})
    managers = [None] + [int(m) for m in rng.integers(1, np.arange(2, 41))]
    emps = pd.DataFrame(
        {
            "emp_id": pd.array(range(1, 41), dtype="Int64"),
            "dept_id": pd.array(rng.integers(1, 5, 40), dtype="Int64"),
            "manager_id": pd.array(managers, dtype="Int64"),
            "salary": rng.normal(50.0, 5.0, 40),
        }
    )
    key = "source.p.raw."
    dept_columns = [Column("dept_id", type=INT, unique=True, not_null=True)]
    dept_columns += [Column("head_id", type=INT)] if cycle else []
    tables = (
        table(
            "stores",
            [Column("store_id", type=INT, unique=True, not_null=True), Column("city", type=TEXT)],
            ["store_id"],
            prefix=key,
            source_name="raw",
        ),
        table(
            "orders",
            [
                Column("order_id", type=INT, unique=True, not_null=True),
                Column("store_id", type=INT, not_null=True),
                Column("amount", type=DEC),
                Column("at", type=TS),
            ],
            ["order_id"],
            prefix=key,
            source_name="raw",
        ),
        table("depts", dept_columns, ["dept_id"], prefix=key, source_name="raw"),
        table(
            "emps",
            [
                Column("emp_id", type=INT, unique=True, not_null=True),
                Column("dept_id", type=INT, not_null=True),
                Column("manager_id", type=INT),
                Column("salary", type=ColumnType(LogicalType.FLOAT, "DOUBLE")),
            ],
            ["emp_id"],
            prefix=key,
            source_name="raw",
        ),
    )
    fks = (
        ForeignKey(key + "orders", ("store_id",), key + "stores", ("store_id",), ORIGIN),
        ForeignKey(key + "emps", ("dept_id",), key + "depts", ("dept_id",), ORIGIN),
        ForeignKey(key + "emps", ("manager_id",), key + "emps", ("emp_id",), ORIGIN),
    )
    deferred = ()
    if cycle:
        deferred = (ForeignKey(key + "depts", ("head_id",), key + "emps", ("emp_id",), ORIGIN),)
    else:
        depts = depts.drop(columns=["head_id"])
    graph = graph_from(*tables, fks=fks, deferred=deferred)
    frames = {key + "stores": stores, key + "orders": orders, key + "depts": depts}
    frames[key + "emps"] = emps
    return fit_relational(graph, frames, model="copula", seed=0)


@pytest.fixture(scope="module")
def fitted():
    return _fit(cycle=False)


def test_generate_one_matches_the_whole_generation(fitted):
    whole = {plan.key: frame for plan, frame in fitted.generate(seed=3, scale=1.5)}
    for key in fitted.order:
        mine, _ = generate_one(fitted, key, seed=3, scale=1.5)
        pd.testing.assert_frame_equal(mine, whole[key])


def test_sample_table_casts_to_the_real_types(fitted, tmp_path):
    fitted.save(tmp_path / "artifacts")
    con = duckdb.connect()
    key = "source.p.raw."
    stores = sample_table(con, str(tmp_path / "artifacts"), key + "stores", {}, seed=1)
    con.register("stores_view", stores)  # as dbt-duckdb materialises a returned relation
    con.execute("create table synth_stores as select * from stores_view")
    parents = {key + "stores": con.table("synth_stores")}
    orders = sample_table(con, str(tmp_path / "artifacts"), key + "orders", parents, seed=1)
    assert dict(zip(orders.columns, map(str, orders.types), strict=True)) == {
        "order_id": "INTEGER",
        "store_id": "INTEGER",
        "amount": "DECIMAL(10,2)",
        "at": "TIMESTAMP",
    }
    orphans = con.sql(
        "select count(*) from orders o left join synth_stores s using (store_id) "
        "where s.store_id is null"
    ).fetchall()[0][0]
    assert orphans == 0
    # a parent built at another scale: its keys are not the regenerated ones
    with pytest.raises(ModelError, match="not made from these artifacts"):
        sample_table(con, str(tmp_path / "artifacts"), key + "orders", parents, scale=2.0)


def test_generate_one_with_a_cycle_closing_fk():
    fitted = _fit(cycle=True)
    whole = {plan.key: frame for plan, frame in fitted.generate(seed=3)}
    for key in fitted.order:
        mine, _ = generate_one(fitted, key, seed=3, scale=1.0)
        pd.testing.assert_frame_equal(mine, whole[key])


def test_check_parents_accepts_the_same_rows_in_any_order(fitted):
    key = "source.p.raw."
    frame, made = generate_one(fitted, key + "orders", seed=0, scale=1.0)
    built = {key + "stores": made[key + "stores"].iloc[::-1].reset_index(drop=True)}
    check_parents(fitted.plans[key + "orders"], fitted.plans, built, made)
    assert len(frame) > 0


def test_missing_artifacts_are_one_clear_error(tmp_path):
    with pytest.raises(ArtifactError, match="synthohive fit"):
        sample_table(duckdb.connect(), str(tmp_path / "none"), "x", {})
