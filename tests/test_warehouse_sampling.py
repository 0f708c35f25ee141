"""Sampling inside the warehouse (`fit --sample-rows`): FK-closed, deterministic, the same
rows on DuckDB and Postgres, real row counts kept, clear errors."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

import duckdb
import numpy as np
import pandas as pd
import pytest
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from helpers import INT, ORIGIN, PG, TEXT, dbt, graph_from, raw_tables, synthohive, table

from synthohive_dbt.generation import write_synthetic
from synthohive_dbt.options import GenerateOptions
from synthohive_dbt.pipeline import fit_graph
from synthohive_dbt.schema import ForeignKey
from synthohive_dbt.warehouse import open_warehouse
from synthohive_dbt.warehouse.sampling import plan_sample


def shop_frames(seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    customers = pd.DataFrame({"id": np.arange(1, 2001), "tier": rng.choice(["a", "b"], 2000)})
    n = 6000
    customer = rng.integers(1, 2001, n).astype(float)
    customer[:300] = np.nan  # orders without a customer
    orders = pd.DataFrame(
        {"id": np.arange(1, n + 1), "customer_id": pd.array(customer, dtype="Int64"),
         "store_id": rng.integers(1, 21, n)}
    )  # fmt: skip
    items = pd.DataFrame(
        {"order_id": np.repeat(orders["id"].to_numpy(), 2), "line": np.tile([1, 2], n),
         "sku": rng.integers(1, 51, 2 * n)}
    )  # fmt: skip
    airports = pd.DataFrame({"code": [f"A{i:03d}" for i in range(300)]})
    flights = pd.DataFrame(
        {"fid": np.arange(4000), "origin": rng.choice(airports["code"], 4000),
         "dest": rng.choice(airports["code"], 4000)}
    )  # fmt: skip
    staff = pd.DataFrame({"eid": np.arange(1, 801), "boss": pd.array([None] + [1] * 799, "Int64")})
    return {"customers": customers, "orders": orders, "items": items, "stores":
            pd.DataFrame({"id": np.arange(1, 21)}), "airports": airports, "flights": flights,
            "staff": staff}  # fmt: skip


def shop_graph():
    customers = table("customers", {"id": INT, "tier": TEXT}, ["id"])
    stores = table("stores", {"id": INT}, ["id"])
    orders = table("orders", {"id": INT, "customer_id": INT, "store_id": INT}, ["id"])
    items = table("items", {"order_id": INT, "line": INT, "sku": INT}, ["order_id", "line"])
    airports = table("airports", {"code": TEXT}, ["code"])
    flights = table("flights", {"fid": INT, "origin": TEXT, "dest": TEXT}, ["fid"])
    staff = table("staff", {"eid": INT, "boss": INT}, ["eid"])
    fks = (
        ForeignKey(orders.key, ("customer_id",), customers.key, ("id",), ORIGIN),
        ForeignKey(orders.key, ("store_id",), stores.key, ("id",), ORIGIN),
        ForeignKey(items.key, ("order_id",), orders.key, ("id",), ORIGIN),
        ForeignKey(flights.key, ("origin",), airports.key, ("code",), ORIGIN),
        ForeignKey(flights.key, ("dest",), airports.key, ("code",), ORIGIN),
        ForeignKey(staff.key, ("boss",), staff.key, ("eid",), ORIGIN),
    )
    tables = (customers, stores, orders, items, airports, flights, staff)
    return graph_from(*tables, fks=fks)


SQL_TYPES = {
    "customers": {"id": "integer", "tier": "text"},
    "orders": {"id": "integer", "customer_id": "integer", "store_id": "integer"},
    "items": {"order_id": "integer", "line": "integer", "sku": "integer"},
    "stores": {"id": "integer"},
    "airports": {"code": "text"},
    "flights": {"fid": "integer", "origin": "text", "dest": "text"},
    "staff": {"eid": "integer", "boss": "integer"},
}


def load_duckdb(path, frames) -> None:
    raw_tables().write_duckdb(path, "raw", frames, SQL_TYPES)


def read_sample(wh, graph, limits, seed=0):
    real = {k: wh.row_count(graph.table(k).relation) for k in graph.order}
    plan = plan_sample(graph, wh.dialect, limits, real, seed)
    frames = {
        graph.table(k).name: wh.read(graph.table(k).relation, where=plan.conditions.get(k))
        for k in graph.order
    }
    return plan, frames


def test_sample_is_fk_closed_deterministic_and_keeps_real_children(tmp_path):
    path = tmp_path / "shop.duckdb"
    frames = shop_frames()
    load_duckdb(path, frames)
    graph = shop_graph()
    limits = {k: 500 for k in graph.order}
    limits["source.p.s.airports"] = 100  # 300 airports: sampled
    with open_warehouse("duckdb", DuckDBCredentials(path=str(path))) as wh:
        plan, got = read_sample(wh, graph, limits)
        _, again = read_sample(wh, graph, limits)
        _, other_seed = read_sample(wh, graph, limits, seed=1)
    assert len(got["customers"]) == 500  # a root over its limit keeps exactly N rows
    assert set(got["customers"]["id"]) != set(other_seed["customers"]["id"])
    for name, frame in got.items():
        pd.testing.assert_frame_equal(
            frame.sort_values(list(frame.columns)).reset_index(drop=True),
            again[name].sort_values(list(frame.columns)).reset_index(drop=True),
        )
    # children: every order of a sampled customer, the real children per parent
    orders = frames["orders"]
    kept = set(got["customers"]["id"])
    expected = orders[orders["customer_id"].isin(kept)]
    with_customer = got["orders"][got["orders"]["customer_id"].notna()]
    assert set(with_customer["id"]) == set(expected["id"])
    assert 0 < got["orders"]["customer_id"].isna().sum() <= 300  # nulls: ranked, at most N
    # grandchildren follow; small roots (stores) and unrestricted parents are read whole
    assert set(got["items"]["order_id"]) == set(got["orders"]["id"])
    assert len(got["stores"]) == 20 and "source.p.s.stores" not in plan.conditions
    # no orphans, secondary FKs included: every referenced airport is in the sample
    assert set(got["flights"]["origin"]) <= set(got["airports"]["code"])
    assert set(got["flights"]["dest"]) <= set(got["airports"]["code"])
    origins = set(got["flights"]["origin"])
    assert len(origins) == 100 and set(got["flights"]["fid"]) == set(
        frames["flights"]["fid"][frames["flights"]["origin"].isin(origins)]
    )  # every flight of a sampled origin
    assert len(got["airports"]) > 100  # plus the destinations those flights reach
    # a hierarchy is read whole, with a warning
    assert len(got["staff"]) == 800
    assert any("references itself" in w for w in plan.warnings)


def real_histogram(references: pd.Series, parents: int) -> tuple[int, ...]:
    """Index k: parents referenced by k values of ``references``."""
    counts = references.value_counts().value_counts()
    hist = [0] * (int(counts.index.max()) + 1)
    for k, n in counts.items():
        hist[int(k)] = int(n)
    hist[0] = parents - int(counts.sum())
    return tuple(hist)


def test_a_fact_under_small_dimensions_is_sampled_with_real_children_per_parent(tmp_path):
    # 300 airports fit the limit and are read whole; 4,000 flights do not: the flights keep
    # 500 rows of their own, and fit takes their children per airport from the warehouse
    path = tmp_path / "shop.duckdb"
    frames = shop_frames()
    load_duckdb(path, frames)
    graph = shop_graph()
    flights_key, airports_key = "source.p.s.flights", "source.p.s.airports"
    graph = replace(graph, order=(airports_key, flights_key), tables={
        k: graph.table(k) for k in (airports_key, flights_key)
    }, foreign_keys=tuple(fk for fk in graph.foreign_keys if fk.child == flights_key))  # fmt: skip
    with open_warehouse("duckdb", DuckDBCredentials(path=str(path))) as wh:
        plan, got = read_sample(wh, graph, dict.fromkeys(graph.order, 500))
        assert plan.thinned == (flights_key,) and airports_key not in plan.conditions
        assert len(got["flights"]) == 500 and len(got["airports"]) == 300
        assert "counted in the warehouse" in plan.how[flights_key]
        model, _, rows = fit_graph(graph, wh, model="copula", seed=0, sample_rows=500)
        assert rows == {"airports": 300, "flights": 500}
        written = write_synthetic(model, wh, schema="synth", options=GenerateOptions(seed=1))
    fks = {fk.columns: fk for fk in model.plans[flights_key].fks}
    for column in ("origin", "dest"):
        assert fks[(column,)].histogram == real_histogram(frames["flights"][column], 300)
    # generated at the real size, with the real spread of flights per airport
    assert model.plans[flights_key].rows == 4000 and written["flights"] == 4000
    con = duckdb.connect(str(path))
    try:
        per_origin = con.execute(
            "select max(n), count(*) from (select origin, count(*) n from synth.flights "
            "group by origin)"
        ).fetchone()
        orphans = con.execute(
            "select count(*) from synth.flights f left join synth.airports a "
            "on f.origin = a.code where a.code is null"
        ).fetchone()[0]
    finally:
        con.close()
    real_max = int(frames["flights"]["origin"].value_counts().max())
    assert per_origin[0] <= real_max and per_origin[1] > 250 and orphans == 0


@pytest.mark.postgres
def test_same_rows_on_duckdb_and_postgres(tmp_path, postgres_server):
    """The hash is md5 of the key as text with the seed: the same rows on both."""
    import psycopg2

    frames = shop_frames()
    path = tmp_path / "shop.duckdb"
    load_duckdb(path, frames)
    schema = f"sample_{uuid.uuid4().hex[:8]}"
    raw_tables().write_postgres(schema, frames, SQL_TYPES)
    graph = shop_graph()
    on_pg = replace(graph, tables={k: replace(t, schema=schema) for k, t in graph.tables.items()})
    limits = {k: 300 for k in graph.order}
    try:
        flights = graph.table("source.p.s.flights")
        with open_warehouse("duckdb", DuckDBCredentials(path=str(path))) as wh:
            _, on_duckdb = read_sample(wh, graph, limits, seed=7)
            per_origin = wh.fk_histogram(flights.relation, ("origin",))
        with open_warehouse("postgres", pg_credentials()) as wh:
            _, on_postgres = read_sample(wh, on_pg, limits, seed=7)
            on_pg_flights = on_pg.table("source.p.s.flights").relation
            assert wh.fk_histogram(on_pg_flights, ("origin",)) == per_origin
        hist = real_histogram(frames["flights"]["origin"], 300)
        assert per_origin == {k: n for k, n in enumerate(hist) if k and n}
        for name in ("customers", "orders", "items", "airports", "flights"):
            columns = list(on_duckdb[name].columns)
            a = on_duckdb[name].astype(str).sort_values(columns).reset_index(drop=True)
            b = on_postgres[name][columns].astype(str).sort_values(columns).reset_index(drop=True)
            pd.testing.assert_frame_equal(a, b, obj=name)
    finally:
        with psycopg2.connect(**PG) as conn:
            conn.autocommit = True
            conn.cursor().execute(f"drop schema if exists {schema} cascade")


def pg_credentials():
    from dbt.adapters.postgres.connections import PostgresCredentials

    return PostgresCredentials(
        database="test", schema="public", host="127.0.0.1", user="postgres", port=5432,
        password="", connect_timeout=3,
    )  # fmt: skip


def test_fit_sample_rows_end_to_end_keeps_real_sizes(tmp_path, monkeypatch, dbt_project, capsys):
    project = dbt_project(tmp_path)
    db = tmp_path / "it.duckdb"
    monkeypatch.setenv("SYNTHOHIVE_IT_DUCKDB", str(db))
    assert dbt(project, "seed", target="duckdb").success
    fit = ("fit", "--model", "copula", "--select", "source:jaffle_shop", "--sample-rows")
    assert synthohive(project, *fit, "0", target="duckdb") == 1
    assert "--sample-rows must be a whole number" in capsys.readouterr().err
    assert synthohive(project, *fit, "100", target="duckdb") == 0
    plan = json.loads((project / "target/synthohive/plan.json").read_text())
    tables = {t["name"]: t for t in plan["tables"]}
    assert tables["raw_customers"]["rows"] == 300  # the real count, not the sample's 100
    fk = next(f for f in tables["raw_orders"]["fks"] if f["columns"] == ["customer"])
    assert sum(fk["histogram"]) == 100  # children per parent learned over 100 sampled parents
    select = ("--select", "source:jaffle_shop")
    assert synthohive(project, "generate", *select, target="duckdb") == 0
    con = duckdb.connect(str(db))
    try:
        for name in ("raw_customers", "raw_orders", "raw_items"):
            real = con.execute(f"select count(*) from main_raw.{name}").fetchone()[0]
            synth = con.execute(f"select count(*) from synthohive.{name}").fetchone()[0]
            assert real > 100 and abs(synth - real) <= 0.1 * real, (name, real, synth)
        orphans = con.execute(
            "select count(*) from synthohive.raw_orders o left join synthohive.raw_customers c "
            "on o.customer = c.id where c.id is null"
        ).fetchone()[0]
        assert orphans == 0
    finally:
        con.close()


def test_inspect_check_data_shows_what_the_sample_reads(tmp_path, monkeypatch, dbt_project, capsys):
    project = dbt_project(tmp_path)
    db = tmp_path / "it.duckdb"
    monkeypatch.setenv("SYNTHOHIVE_IT_DUCKDB", str(db))
    assert dbt(project, "seed", target="duckdb").success
    select = ("--select", "source:jaffle_shop")
    # a sample is only read with --check-data: one error, nothing read
    assert synthohive(project, "inspect", *select, "--sample-rows", "100", target="duckdb") == 1
    assert "add --check-data" in capsys.readouterr().err
    args = ("inspect", *select, "--check-data", "--sample-rows", "100", "--seed", "3")
    assert synthohive(project, *args, "--json", target="duckdb") == 0
    sample = {s["table"]: s for s in json.loads(capsys.readouterr().out)["sample"]}
    con = duckdb.connect(str(db))
    try:
        # the documented rule, computed here independently: the 100 customers with the
        # smallest md5 of id and seed, and their orders
        kept = (
            "select id from main_raw.raw_customers "
            "order by md5(id::varchar || '|' || '3') limit 100"
        )
        orders = con.execute(
            f"select count(*) from main_raw.raw_orders where customer in ({kept})"
        ).fetchone()[0]
        real_orders = con.execute("select count(*) from main_raw.raw_orders").fetchone()[0]
    finally:
        con.close()
    customers = sample["raw_customers"]
    assert (customers["rows"], customers["real_rows"]) == (100, 300)
    assert "md5 of id and seed 3" in customers["how"]
    assert (sample["raw_orders"]["rows"], sample["raw_orders"]["real_rows"]) == (
        orders,
        real_orders,
    )
    assert sample["raw_orders"]["how"].startswith("children of the sampled")
    assert synthohive(project, *args, target="duckdb") == 0
    text = capsys.readouterr().out
    assert f"raw_orders: {orders:,} of {real_orders:,} rows" in text
    assert "raw_customers: 100 of 300 rows" in text
