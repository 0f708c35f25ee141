"""inferred: identifiers and probable FKs the data shows but no test declares; keys are
never copied into the synthetic tables."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import synthohive

from synthohive_dbt.relational import fit_relational
from synthohive_dbt.relational.keys import UUID_TEXT
from synthohive_dbt.schema import (
    INFERRED,
    Column,
    ColumnType,
    ForeignKey,
    LogicalType,
    Origin,
    SchemaGraph,
    Table,
)
from synthohive_dbt.schema.inferred import infer_from_data
from synthohive_dbt.schema.inspect_view import graph_to_json, graph_to_text
from synthohive_dbt.schema.validate import validate_data
from synthohive_dbt.synth.values import random_uuids

FIXTURES = Path(__file__).parent / "fixtures" / "projects"
INT = ColumnType(LogicalType.INTEGER, "bigint")
TEXT = ColumnType(LogicalType.TEXT, "varchar")
FLOAT = ColumnType(LogicalType.FLOAT, "double")
STAMP = ColumnType(LogicalType.TIMESTAMP, "timestamp")
LOGICAL = {"i": INT, "O": TEXT, "f": FLOAT, "M": STAMP, "T": TEXT}


def source(name: str, frame: pd.DataFrame, **columns: Column) -> Table:
    """A source table over ``frame``'s columns; ``columns`` overrides declared facts."""
    cols = tuple(columns.get(c, Column(c)) for c in frame.columns)
    key = f"source.p.jaffle.{name}"
    return Table(key, name, "source", None, "raw", name, cols, source_name="jaffle")


def infer(*tables: tuple[Table, pd.DataFrame], fks: tuple[ForeignKey, ...] = ()) -> SchemaGraph:
    """Validate then infer, as ``pipeline`` does."""
    graph = SchemaGraph({t.key: t for t, _ in tables}, fks, tuple(t.key for t, _ in tables))
    frames = {t.key: f for t, f in tables}
    types = {t.key: {c: _type(f[c]) for c in f.columns} for t, f in tables}
    return infer_from_data(validate_data(graph, types, frames), types, frames)


def _type(series: pd.Series) -> ColumnType:
    return INT if pd.api.types.is_integer_dtype(series) else LOGICAL[series.dtype.kind]


def synthesize(graph: SchemaGraph, frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    model = fit_relational(graph, frames, model="copula", seed=0)
    return {plan.key: frame for plan, frame in model.generate(seed=1)}


def ints(values) -> pd.Series:
    return pd.Series(pd.array(values, dtype="Int64"))


@pytest.fixture
def orders() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame(
        {
            "id": ints(rng.permutation(np.arange(1, n + 1))),
            "amount": rng.gamma(2.0, 20.0, n),  # unique floats
            "ordered_at": pd.date_range("2024-01-01", periods=n, freq="37min"),  # unique
            "cents": ints(rng.choice(10**7, n, replace=False)),  # unique, spread, not named
            "status": rng.choice(["placed", "shipped"], n),
        }
    )


def test_unique_undeclared_id_is_minted_as_a_key(orders):
    table = source("raw_orders", orders)
    graph = infer((table, orders))
    inferred = graph.table(table.key)
    assert inferred.primary_key.columns == ("id",)
    assert inferred.primary_key.origin == Origin(INFERRED, "unique and not null in 400 rows")
    assert inferred.column("id").unique and inferred.column("id").not_null
    assert (
        "source('jaffle', 'raw_orders').id looks like a key (unique and not null in 400 rows) "
        "but no test declares it: it is minted as a key. Add `data_tests: [unique, not_null]` "
        "to column id." in graph.warnings
    )
    out = synthesize(graph, {table.key: orders})[table.key]
    assert len(out) == len(orders) and out["id"].is_unique
    assert not set(out["id"]) & set(orders["id"])  # no real order id, not one


def test_unique_float_timestamp_and_spread_integers_are_not_keys(orders):
    table = source("raw_orders", orders)
    inferred = infer((table, orders)).table(table.key)
    for name in ("amount", "ordered_at", "cents", "status"):
        column = inferred.column(name)
        assert column.id_like is None and not column.unique, name
    assert inferred.unique_keys == ()


def test_uuid_column_gets_fresh_uuids():
    rng = np.random.default_rng(1)
    devices = random_uuids(150, rng)
    events = pd.DataFrame(
        {
            "device": devices[rng.integers(0, 150, 600)],  # no id name: the values say it
            "kind": rng.choice(["view", "click"], 600),
        }
    )
    table = source("raw_events", events)
    graph = infer((table, events))
    assert graph.table(table.key).column("device").id_like.kind == INFERRED
    assert graph.table(table.key).primary_key is None
    out = synthesize(graph, {table.key: events})[table.key]["device"]
    assert out.str.fullmatch(UUID_TEXT).all()
    assert not set(out) & set(events["device"])
    assert out.nunique() == pytest.approx(events["device"].nunique(), rel=0.25)


def test_repeated_session_id_keeps_its_multiplicity_not_its_values():
    rng = np.random.default_rng(2)
    per_session = rng.geometric(0.45, 700)  # 1 to ~10 events per session
    sessions = np.repeat([f"S{i:05d}" for i in range(700)], per_session)
    session_id = pd.Series(sessions, dtype=object)
    session_id[rng.random(len(sessions)) < 0.1] = None
    events = pd.DataFrame(
        {"session_id": session_id, "duration": rng.exponential(30.0, len(sessions))}
    )
    table = source("raw_events", events)
    graph = infer((table, events))
    column = graph.table(table.key).column("session_id")
    assert column.id_like is not None and not column.unique
    assert any("raw_events').session_id looks like an identifier" in w for w in graph.warnings)
    out = synthesize(graph, {table.key: events})[table.key]["session_id"]
    assert not set(out.dropna()) & set(events["session_id"].dropna())
    assert out.dropna().str.fullmatch(r"S\d{5}").all()  # the learned format
    assert out.isna().mean() == pytest.approx(events["session_id"].isna().mean(), abs=0.03)
    real, synth = (s.value_counts().value_counts(normalize=True) for s in (session_id, out))
    for rows in (1, 2, 3):
        assert synth[rows] == pytest.approx(real[rows], abs=0.05), rows
    assert synth.index.max() <= real.index.max()


def test_declared_fk_column_is_untouched():
    rng = np.random.default_rng(3)
    customers = pd.DataFrame({"customer_id": ints(np.arange(1, 201))})
    orders = pd.DataFrame({"customer_id": ints(rng.integers(1, 201, 900))})
    parent = source("customers", customers)
    child = source("orders", orders)
    fk = ForeignKey(child.key, ("customer_id",), parent.key, ("customer_id",), Origin("t", "x"))
    graph = infer((parent, customers), (child, orders), fks=(fk,))
    assert graph.table(child.key).column("customer_id") == Column("customer_id", type=INT)
    assert graph.foreign_keys == (fk,) and graph.probable_fks == ()
    assert not any("orders').customer_id" in w for w in graph.warnings)


def test_column_a_declared_fk_references_is_a_key_whatever_its_name():
    rng = np.random.default_rng(6)
    codes = ["JFK", "LHR", "CDG", "NRT", "SYD", "GRU", "DXB", "SIN"]
    airports = pd.DataFrame({"code": codes, "city": [f"c{i}" for i in range(8)]})
    flights = pd.DataFrame({"origin": rng.choice(codes, 200), "fare": rng.gamma(2.0, 9.0, 200)})
    parent, child = source("airports", airports), source("flights", flights)
    fk = ForeignKey(child.key, ("origin",), parent.key, ("code",), Origin("t", "x"))
    graph = infer((parent, airports), (child, flights), fks=(fk,))
    assert graph.table(parent.key).primary_key.columns == ("code",)
    assert graph.table(parent.key).column("city").id_like is None  # unique, but data
    out = synthesize(graph, {parent.key: airports, child.key: flights})
    assert not set(out[parent.key]["code"]) & set(codes)
    assert set(out[child.key]["origin"]) <= set(out[parent.key]["code"])


@pytest.fixture
def shop() -> dict[str, tuple[Table, pd.DataFrame]]:
    rng = np.random.default_rng(4)
    customers = pd.DataFrame({"id": ints(np.arange(1, 301)), "tier": rng.choice(["a", "b"], 300)})
    stores = pd.DataFrame({"id": ints(np.arange(1, 7)), "city": [f"c{i}" for i in range(6)]})
    n = 1500
    orders = pd.DataFrame(
        {
            "id": ints(np.arange(1, n + 1)),
            "customer": ints(rng.integers(1, 301, n)),  # the parent's entity, no suffix
            "store_id": ints(rng.integers(1, 7, n)),  # few values: found as an FK only
            "total": rng.gamma(2.0, 10.0, n),
        }
    )
    return {
        "customers": (source("raw_customers", customers), customers),
        "stores": (source("raw_stores", stores), stores),
        "orders": (source("raw_orders", orders), orders),
    }


def test_probable_fks_are_reported_with_the_yaml_to_add(shop):
    graph = infer(shop["customers"], shop["stores"], shop["orders"])
    assert graph.foreign_keys == ()  # reported, not used
    found = {
        (p.fk.columns, graph.table(p.fk.parent).name, p.fk.parent_columns): p
        for p in graph.probable_fks
    }
    assert set(found) == {
        (("customer",), "raw_customers", ("id",)),
        (("store_id",), "raw_stores", ("id",)),
    }
    customer = found[("customer",), "raw_customers", ("id",)]
    assert (customer.found, customer.total) == (1500, 1500)
    relationships = {"to": "source('jaffle', 'raw_customers')", "field": "id"}
    tests = [{"relationships": {"arguments": relationships}}]
    assert yaml.safe_load(customer.yaml) == {"columns": [{"name": "customer", "data_tests": tests}]}
    (warning,) = [w for w in graph.warnings if "raw_orders').customer" in w]
    assert "probably a foreign key to source('jaffle', 'raw_customers').id" in warning
    assert "minted as fresh identifiers (none copied)" in warning
    assert yaml.safe_load(warning.split("Add `")[1].split("`")[0]) == {"data_tests": tests}
    # a probable FK holds identifiers: fresh values, never the real ones
    orders = graph.table(shop["orders"][0].key)
    assert orders.column("store_id").id_like is not None
    frames = {t.key: f for t, f in shop.values()}
    out = synthesize(graph, frames)[orders.key]
    for name in ("id", "customer", "store_id"):
        assert not set(out[name]) & set(frames[orders.key][name]), name
    assert out["store_id"].nunique() == pytest.approx(6, abs=2)


def test_probable_fk_needs_99_percent_of_values_in_the_parent(shop):
    orders = shop["orders"][1].copy()
    rows = np.arange(len(orders)) % 10 == 0  # 10% without a parent
    orders.loc[rows, "customer"] = orders.loc[rows, "customer"] + 1000
    graph = infer(shop["customers"], (shop["orders"][0], orders))
    assert graph.probable_fks == ()


@pytest.mark.parametrize(
    "name,matches",
    [
        ("customer", True),
        ("customer_id", True),
        ("customerId", True),
        ("customers_id", True),
        ("CUSTOMER_KEY", True),
        ("id", False),  # the child's own id is no reference to raw_customers.id
        ("client_id", False),
        ("customer_name", False),
        ("referrer", False),
    ],
)
def test_probable_fk_needs_a_name_that_points_at_the_parent(shop, name, matches):
    orders = shop["orders"][1].drop(columns=["id"]).rename(columns={"customer": name})
    graph = infer(shop["customers"], (source("raw_orders", orders), orders))
    parents = {
        (p.fk.columns[0], graph.table(p.fk.parent).name)
        for p in graph.probable_fks
        if p.fk.parent == shop["customers"][0].key
    }
    assert parents == ({(name, "raw_customers")} if matches else set())


def test_inspect_shows_inferred_keys_and_probable_fks(shop):
    graph = infer(shop["customers"], shop["stores"], shop["orders"])
    doc = graph_to_json(graph)
    orders = next(t for t in doc["tables"] if t["name"] == "raw_orders")
    assert orders["primary_key"] == ["id"]
    assert orders["primary_key_origin"] == "inferred from data (unique and not null in 1,500 rows)"
    columns = {c["name"]: c for c in orders["columns"]}
    assert columns["store_id"]["id_like"]["kind"] == INFERRED
    assert columns["total"]["id_like"] is None
    (customer,) = [p for p in doc["probable_foreign_keys"] if p["columns"] == ["customer"]]
    assert customer["parent_name"] == "raw_customers" and customer["parent_columns"] == ["id"]
    assert customer["found"] == customer["total"] == 1500
    assert "field: id" in customer["yaml"]
    text = graph_to_text(graph)
    assert "primary key (id)  from inferred from data (unique and not null in 1,500 rows)" in text
    assert "identifier (fresh values, real repetition) (store_id)" in text
    assert "probable foreign keys" in text
    assert (
        "source('jaffle', 'raw_orders')(customer) -> source('jaffle', 'raw_customers')(id)" in text
    )


# -- end to end: a dbt project whose raw tables declare nothing ---------------------------


def _load_warehouse(path: Path) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(5)
    customers = pd.DataFrame(
        {"id": rng.permutation(np.arange(1, 201)), "segment": rng.choice(["new", "loyal"], 200)}
    )
    stores = pd.DataFrame({"id": np.arange(1, 7), "city": [f"city {i}" for i in range(6)]})
    n = 900
    orders = pd.DataFrame(
        {
            "id": np.arange(5001, 5001 + n),
            "customer": rng.integers(1, 201, n),
            "store_id": rng.integers(1, 7, n),
            "ordered_at": pd.date_range("2024-01-01", periods=n, freq="53min"),
            "amount": rng.gamma(2.0, 15.0, n).round(2),
        }
    )
    sessions = np.repeat([f"sess-{i:04d}" for i in range(400)], rng.integers(1, 5, 400))
    events = pd.DataFrame(
        {
            "session_id": sessions,
            "device_uuid": random_uuids(300, rng)[rng.integers(0, 300, len(sessions))],
            "event_type": rng.choice(["view", "cart", "buy"], len(sessions)),
        }
    )
    frames = {
        "raw_customers": customers,
        "raw_stores": stores,
        "raw_orders": orders,
        "raw_events": events,
    }
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema raw")
        for name, frame in frames.items():
            con.register("frame", frame)
            con.execute(f"create table raw.{name} as select * from frame")
            con.unregister("frame")
    finally:
        con.close()
    return frames


@pytest.mark.integration
def test_no_real_key_value_reaches_the_synthetic_tables(tmp_path, monkeypatch, capsys):
    project = tmp_path / "undeclared"
    shutil.copytree(FIXTURES / "undeclared", project)
    warehouse = tmp_path / "w.duckdb"
    monkeypatch.setenv("SYNTHOHIVE_TEST_DUCKDB", str(warehouse))
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    real = _load_warehouse(warehouse)

    assert synthohive(project, "inspect", "--check-data", "--json", target=None) == 0
    doc = json.loads(capsys.readouterr().out)
    probable = {
        (p["columns"][0], p["parent_name"], p["parent_columns"][0])
        for p in doc["probable_foreign_keys"]
    }
    assert probable == {("customer", "raw_customers", "id"), ("store_id", "raw_stores", "id")}
    keys = {t["name"]: t["primary_key"] for t in doc["tables"]}
    assert keys == {
        "raw_customers": ["id"],
        "raw_stores": ["id"],
        "raw_orders": ["id"],
        "raw_events": None,
    }

    assert synthohive(project, "fit", "--model", "copula", "--seed", "1", target=None) == 0
    assert "looks like a key" in capsys.readouterr().err
    generate = ("generate", "--schema", "synth", "--seed", "2", "--no-yaml")
    assert synthohive(project, *generate, target=None) == 0
    con = duckdb.connect(str(warehouse))
    try:
        synthetic = {name: con.execute(f"select * from synth.{name}").df() for name in real}
    finally:
        con.close()
    identifiers = {
        "raw_customers": ["id"],
        "raw_stores": ["id"],
        "raw_orders": ["id", "customer", "store_id"],
        "raw_events": ["session_id", "device_uuid"],
    }
    for table, columns in identifiers.items():
        for column in columns:
            values = set(synthetic[table][column].dropna())
            assert values, (table, column)
            assert not values & set(real[table][column]), f"real {table}.{column} copied"
    assert synthetic["raw_orders"]["id"].is_unique
    assert len(synthetic["raw_stores"]) == 6
