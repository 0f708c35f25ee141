"""Relations across tables survive: parent context, conditioned counts, secondary parents,
hierarchies, orphans opt-in, streaming. Uses the real copula and autoregressive models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import FLOAT, INT, ORIGIN, TEXT, graph_from, table

from synthohive_dbt.relational import RelationalModel, fit_relational
from synthohive_dbt.schema import ForeignKey


def shop(rng, n_customers=600):
    """Customers with a tier; premium customers order more and spend more per order.
    Orders also go to a store (secondary FK): big stores get the expensive orders."""
    customers = table("customers", [("id", INT), ("tier", TEXT), ("age", FLOAT)], ("id",))
    stores = table("stores", [("sid", INT), ("size", TEXT)], ("sid",))
    orders = table(
        "orders",
        [("oid", INT), ("customer_id", INT), ("store_id", INT), ("amount", FLOAT)],
        ("oid",),
    )
    staff = table("staff", [("eid", INT), ("boss", INT), ("salary", FLOAT)], ("eid",))
    fks = (
        ForeignKey(orders.key, ("customer_id",), customers.key, ("id",), ORIGIN, nullable=False),
        ForeignKey(orders.key, ("store_id",), stores.key, ("sid",), ORIGIN),
        ForeignKey(staff.key, ("boss",), staff.key, ("eid",), ORIGIN),
    )
    order = (customers.key, stores.key, staff.key, orders.key)
    graph = graph_from(customers, stores, orders, staff, fks=fks, order=order)
    tier = rng.choice(["basic", "premium"], size=n_customers, p=[0.7, 0.3])
    cust = pd.DataFrame(
        {
            "id": pd.array(np.arange(1, n_customers + 1), dtype="Int64"),
            "tier": pd.array(tier, dtype="string"),
            "age": rng.normal(40, 10, n_customers),
        }
    )
    n_orders = np.where(tier == "premium", rng.poisson(6, n_customers), rng.poisson(1, n_customers))
    cid = np.repeat(cust["id"].to_numpy(), n_orders)
    premium = np.repeat(tier == "premium", n_orders)
    amount = np.where(premium, rng.normal(200, 20, len(cid)), rng.normal(50, 10, len(cid)))
    n_stores = 40
    size = np.array(["big"] * 10 + ["small"] * 30)
    stores_df = pd.DataFrame(
        {
            "sid": pd.array(np.arange(1, n_stores + 1), dtype="Int64"),
            "size": pd.array(size, dtype="string"),
        }
    )
    store = np.where(amount > 120, rng.integers(1, 11, len(cid)), rng.integers(11, 41, len(cid)))
    orders_df = pd.DataFrame(
        {
            "oid": pd.array(np.arange(1, len(cid) + 1), dtype="Int64"),
            "customer_id": pd.array(cid, dtype="Int64"),
            "store_id": pd.array(store, dtype="Int64"),
            "amount": amount,
        }
    )
    # a hierarchy: 3 levels, salary falls with depth
    m = 200
    depth = np.concatenate([[0] * 4, [1] * 36, [2] * 160])
    boss = np.full(m, -1)
    boss[4:40] = rng.integers(1, 5, 36)
    boss[40:] = rng.integers(5, 41, 160)
    staff_df = pd.DataFrame(
        {
            "eid": pd.array(np.arange(1, m + 1), dtype="Int64"),
            "boss": pd.array(np.where(boss < 0, None, boss), dtype="Int64"),
            "salary": 150 - 40 * depth + rng.normal(0, 5, m),
        }
    )
    frames = {
        customers.key: cust,
        stores.key: stores_df,
        orders.key: orders_df,
        staff.key: staff_df,
    }
    return graph, frames


@pytest.fixture(scope="module", params=["copula", "autoregressive"])
def fitted(request):
    graph, frames = shop(np.random.default_rng(0))
    return graph, frames, fit_relational(graph, frames, model=request.param, seed=1)


def synth(model, **kw):
    return {plan.name: frame for plan, frame in model.generate(**kw)}


def test_children_conditioned_on_parent_attributes(fitted):
    _, _, model = fitted
    out = synth(model, seed=2)
    orders = out["orders"].merge(out["customers"], left_on="customer_id", right_on="id")
    mean = orders.groupby("tier")["amount"].mean()
    assert mean["premium"] > mean["basic"] + 80  # real: 200 vs 50


def test_child_counts_conditioned_on_parent(fitted):
    _, _, model = fitted
    out = synth(model, seed=3)
    per = out["orders"].groupby("customer_id").size()
    cust = out["customers"].set_index("id")
    counts = per.reindex(cust.index, fill_value=0)
    by_tier = counts.groupby(cust["tier"]).mean()
    # real: 6 vs 1; the copula smooths the step, so the gap narrows but stays
    assert by_tier["premium"] > 2 * by_tier["basic"]
    assert (counts == 0).mean() > 0.15  # parents without children exist (real ~0.27)


def test_secondary_parent_relates_to_child_columns(fitted):
    _, _, model = fitted
    out = synth(model, seed=4)
    orders = out["orders"].merge(out["stores"], left_on="store_id", right_on="sid")
    mean = orders.groupby("size")["amount"].mean()
    assert mean["big"] > mean["small"] + 50
    assert set(out["orders"]["store_id"].dropna()) <= set(out["stores"]["sid"])


def test_hierarchy_keeps_depth_distribution(fitted):
    _, _, model = fitted
    staff = synth(model, seed=5)["staff"]
    parent = dict(zip(staff["eid"], staff["boss"], strict=True))
    depth = {}
    for eid in staff["eid"]:
        d, node = 0, parent[eid]
        while pd.notna(node):
            d += 1
            node = parent[node]
            assert d < 50
        depth[eid] = d
    depths = pd.Series(depth)
    share = depths.value_counts(normalize=True).sort_index()
    assert share.index.max() == 2
    assert share[2] == pytest.approx(0.8, abs=0.1)
    salary = staff.set_index("eid")["salary"]
    # real gap 80; the copula keeps the direction and a good part of it
    assert salary[depths == 0].mean() > salary[depths == 2].mean() + 25


def test_zero_orphans_by_default_and_opt_in_rate(fitted):
    graph, frames, _ = fitted
    frames = dict(frames)
    orders_key = "source.p.s.orders"
    dirty = frames[orders_key].copy()
    dirty.loc[dirty.index[:200], "store_id"] = 999  # 200 real orders point nowhere
    frames[orders_key] = dirty
    model = fit_relational(graph, frames, model="copula", seed=1)
    clean = synth(model, seed=6)
    stores = set(clean["stores"]["sid"])
    assert set(clean["orders"]["store_id"].dropna()) <= stores
    kept = synth(model, seed=6, keep_orphans=True)
    present = kept["orders"]["store_id"].dropna()
    rate = (~present.isin(kept["stores"]["sid"])).mean()
    real_rate = 200 / dirty["store_id"].notna().sum()
    assert rate == pytest.approx(real_rate, abs=0.05)


def test_streaming_chunks_match_family_boundaries(fitted):
    _, _, model = fitted
    sizes = {}
    for plan, chunks in model.stream(seed=7, chunk_rows=100):
        parts = list(chunks)
        sizes[plan.name] = [len(p) for p in parts]
        whole = pd.concat(parts, ignore_index=True)
        if plan.primary_key:
            assert not whole.duplicated(list(plan.primary_key)).any()
    assert len(sizes["orders"]) > 5
    assert max(sizes["orders"]) <= 100 + 30  # a chunk may close the family it started


def test_save_load_same_output(fitted, tmp_path):
    _, _, model = fitted
    model.save(tmp_path / "art")
    loaded = RelationalModel.load(tmp_path / "art")
    a, b = synth(model, seed=8), synth(loaded, seed=8)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
