"""Ratio rules ``b = a x r``: discovery in real data, resolution beside identities, the
learned ratio, enforcement at generation, the plan round trip, inspect and profiles."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from helpers import FLOAT, INT, MONEY, ORIGIN, graph_from, table

from synthohive_dbt.emit.data_tests import ColumnProfile, column_profiles, model_profiles
from synthohive_dbt.emit.fidelity_tests import distribution_test
from synthohive_dbt.relational import RelationalModel, fit_relational
from synthohive_dbt.relational.discovery import find_ratios, graph_rules, table_rules
from synthohive_dbt.relational.enforcement import apply_rules, learned_ratios
from synthohive_dbt.relational.expressions import rule_from_json, rule_to_json
from synthohive_dbt.relational.identities import DISCOVERED, Ratio
from synthohive_dbt.relational.learn import prepare
from synthohive_dbt.relational.rulesets import modelled_columns, rules_for
from synthohive_dbt.schema import ForeignKey, LogicalType, SchemaGraph
from synthohive_dbt.schema.inspect_view import graph_to_json, graph_to_text

RAW = "source.shop.raw."
TOTAL = "order_total = subtotal + tax_paid"
TAX = "tax_paid = subtotal x ratio"
RATES = np.array([0.04, 0.06, 0.0625, 0.075, 0.08, 0.04])
ORDER_TYPES = {"id": INT, "store_id": INT, "subtotal": INT, "tax_paid": INT, "order_total": INT}
pytestmark = pytest.mark.usefixtures("one_thread")


def shop(n: int = 800, seed: int = 0) -> tuple[SchemaGraph, dict[str, pd.DataFrame]]:
    """Six stores with a tax rate; orders whose tax is the subtotal times their store's
    rate, rounded to the cent (as in integration_tests/jaffle_real)."""
    rng = np.random.default_rng(seed)
    stores = table("stores", {"sid": INT, "tax_rate": FLOAT}, ["sid"], prefix=RAW)
    orders = table("orders", ORDER_TYPES, ["id"], prefix=RAW)
    fk = ForeignKey(orders.key, ("store_id",), stores.key, ("sid",), ORIGIN, nullable=False)
    graph = graph_from(stores, orders, fks=[fk])
    store = rng.choice(len(RATES), n, p=[0.3, 0.25, 0.15, 0.12, 0.1, 0.08])
    subtotal = rng.integers(4, 60, n) * 100 + rng.choice([0, 50], n)
    tax = np.round(subtotal * RATES[store]).astype(np.int64)
    frames = {
        stores.key: pd.DataFrame({"sid": pd.array(range(1, 7), dtype="Int64"), "tax_rate": RATES}),
        orders.key: pd.DataFrame(
            {
                "id": pd.array(range(1, n + 1), dtype="Int64"),
                "store_id": pd.array(store + 1, dtype="Int64"),
                "subtotal": pd.array(subtotal, dtype="Int64"),
                "tax_paid": pd.array(tax, dtype="Int64"),
                "order_total": pd.array(subtotal + tax, dtype="Int64"),
            }
        ),
    }
    return graph, frames


def orders_rules(graph: SchemaGraph, frames, expressions=()) -> list[str]:
    orders = replace(graph.table(RAW + "orders"), expressions=tuple(expressions))
    modelled = modelled_columns(graph, orders)
    found = table_rules(orders, frames[orders.key], ORDER_TYPES, modelled)
    return [r.sql for r in found.rules]


# -- discovery ----------------------------------------------------------------------------
def test_discovers_the_tax_as_a_ratio_of_the_subtotal_before_the_total():
    graph, frames = shop()
    # the total is found as an identity; subtotal = order_total x ratio and
    # tax_paid = order_total x ratio spread less but would compute columns in a cycle
    assert orders_rules(graph, frames) == [TAX, TOTAL]
    assert orders_rules(graph, frames, [TOTAL]) == [TAX, TOTAL]
    orders = frames["source.shop.raw.orders"]
    candidates = find_ratios(orders, ORDER_TYPES, ["subtotal", "tax_paid"], ["tax_paid"])
    assert candidates == (Ratio("tax_paid", "subtotal", DISCOVERED),)


def test_no_ratio_between_independent_or_loosely_related_columns():
    rng = np.random.default_rng(5)
    n = 1000
    a = rng.integers(400, 6000, n).astype(float)
    frame = pd.DataFrame(
        {
            "a": a,
            "uniform": rng.uniform(1, 100, n),
            "gamma": rng.gamma(0.5, 10, n),
            "heavy": rng.lognormal(0, 2, n),
            "noisy": a + rng.normal(0, a.std(), n).clip(-a + 1),  # corr 0.7, r spread 0.8
            "line": a * rng.integers(1, 6, n),  # price x quantity: r = quantity spreads 0.5
        }
    )
    types = dict.fromkeys(frame, FLOAT)
    assert find_ratios(frame, types, list(frame), list(frame)) == ()


def test_a_ratio_needs_enough_rows_non_negative_values_and_nulls_that_follow():
    rng = np.random.default_rng(2)
    a = rng.integers(100, 1000, 200).astype(float)
    good = pd.DataFrame({"a": a, "b": np.round(a * rng.choice([0.1, 0.12], 200))})
    types = {"a": INT, "b": INT}
    assert find_ratios(good, types, ["a", "b"], ["b"]) == (Ratio("b", "a"),)
    assert find_ratios(good.head(19), types, ["a", "b"], ["b"]) == ()
    negative = good.assign(b=good["b"].where(good.index != 7, -3.0))
    assert find_ratios(negative, types, ["a", "b"], ["b"]) == ()
    no_base = good.assign(a=good["a"].where(good.index != 9))  # b where a is NULL
    assert find_ratios(no_base, types, ["a", "b"], ["b"]) == ()
    b_null = good.assign(b=good["b"].where(good.index % 10 != 0))  # NULL b: fine
    assert find_ratios(b_null, types, ["a", "b"], ["b"]) == (Ratio("b", "a"),)
    assert find_ratios(good, types, ["a", "b"], []) == ()  # b is no allowed target


def test_a_ratio_target_is_never_a_key_nor_categorical():
    graph, frames = shop()
    orders = graph.table(RAW + "orders")
    key = "source.shop.raw.orders"
    # an order number proportional to the subtotal, declared the key
    frames[key]["id"] = frames[key]["subtotal"] * 1000 + np.arange(len(frames[key]))
    columns = tuple(
        replace(c, accepted_values=(0, 1)) if c.name == "tax_paid" else c for c in orders.columns
    )
    categorical = replace(orders, columns=columns)
    graph = replace(graph, tables={**graph.tables, key: categorical})
    for rules in (graph_rules(graph, frames)[key].rules, prepare(graph, frames)[key].plan.rules):
        assert TOTAL in [r.sql for r in rules]
        targets = [r.target for r in rules if isinstance(r, Ratio)]
        assert "id" not in targets and "tax_paid" not in targets


def test_declared_rules_take_the_target_and_the_ratio_goes_quietly():
    types = dict.fromkeys(["subtotal", "tax_paid"], INT)
    found = rules_for(
        ["tax_paid = subtotal * 0.06"], types, list(types), [Ratio("tax_paid", "subtotal")]
    )
    assert [r.sql for r in found.rules] == ["tax_paid = subtotal * 0.06"]
    assert found.skipped == ()


# -- learning and enforcement -------------------------------------------------------------
def test_the_model_learns_the_ratio_in_the_targets_place():
    graph, frames = shop(200)
    key = "source.shop.raw.orders"
    frames[key].loc[3, ["subtotal", "tax_paid", "order_total"]] = 0
    frames[key].loc[4, ["tax_paid", "order_total"]] = pd.NA
    prepared = prepare(graph, frames)[key]
    learned, real = prepared.frame, frames[key]
    ratio = learned["tax_paid"]
    assert ratio.dtype == np.float64
    others = ~real.index.isin([3, 4])
    subtotal = real["subtotal"][others].astype(float)
    assert (np.round(subtotal * ratio[others]) == real["tax_paid"][others]).all()
    assert ratio[3] == np.median(ratio[others]) and np.isnan(ratio[4])
    # rounding to the cent blurs the six rates; the learned ratios are mostly those rates
    assert ratio[others].isin(RATES).mean() > 0.6 and ratio.nunique() < 60
    [column] = [c for c in prepared.columns if c.name == "tax_paid"]
    assert column.type.logical is LogicalType.FLOAT and column.accepted_values is None
    assert "tax_paid" not in prepared.plan.copy_columns  # it follows the subtotal


def test_learned_ratios_are_the_most_common_short_decimals_that_give_the_target_back():
    base = np.array([400.0, 1000.0, 2050.0, 0.0, np.nan, 3.0])
    target = np.array([25.0, 60.0, 128.0, 0.0, 5.0, 1.0])
    ratios = learned_ratios(base, target, INT)
    # 0.0625 x 400 = 25 on the nose, but 0.062 x 400 = 24.8 gives 25 too
    assert ratios[[0, 1, 2, 5]].tolist() == [0.062, 0.06, 0.0624, 0.3]
    assert np.isnan(ratios[[3, 4]]).all()
    assert learned_ratios(np.array([10.0, 20.0]), np.array([1.23, 2.47]), MONEY).tolist() == [
        0.123,
        0.1235,
    ]
    # 0.063 is the shortest for both 1000s (62.5 rounds half up), and gives 25 for 400 too
    common = learned_ratios(np.array([1000.0, 1000.0, 400.0]), np.array([63.0, 63.0, 25.0]), INT)
    assert common.tolist() == [0.063, 0.063, 0.063]
    exact = learned_ratios(np.array([3.0]), np.array([1.0]), FLOAT)  # no grid: the ratio
    assert exact.tolist() == [1 / 3]


def test_apply_rules_computes_ratio_targets_before_the_identities_that_read_them():
    frame = pd.DataFrame(
        {
            "subtotal": pd.array([1000, 2050, None, 300], dtype="Int64"),
            "tax_paid": [0.0625, 0.06, 0.05, np.nan],  # sampled ratios
            "order_total": pd.array([0, 0, 0, 0], dtype="Int64"),
            "fee": [10.0, 20.0, 5.0, 1.0],
            "net": [0.5, 0.333, 0.1, 0.2],  # ratio of a decimal column
        }
    )
    types = {**ORDER_TYPES, "fee": MONEY, "net": MONEY}
    rules = rules_for(
        [TOTAL], types, list(types), [Ratio("tax_paid", "subtotal"), Ratio("net", "fee")]
    )
    assert [r.sql for r in rules.rules] == [TAX, TOTAL, "net = fee x ratio"]
    out = apply_rules(rules.rules, frame, types)
    assert out["tax_paid"].dtype == "Int64" and out["net"].dtype == np.float64
    assert out["tax_paid"].tolist()[:2] == [63, 123]  # 62.5 rounds half up, as in SQL
    assert out["tax_paid"].isna().tolist() == [False, False, True, True]  # NULL in: NULL
    assert out["order_total"].tolist()[:2] == [1063, 2173] and out["order_total"][2:].isna().all()
    assert out["net"].tolist() == [5.0, 6.66, 0.5, 0.2]
    required = apply_rules(rules.rules, frame, types, required={"tax_paid"})
    assert required["tax_paid"][3] == round(300 * 0.06)  # the median ratio where it is NULL


# -- generation ---------------------------------------------------------------------------
def test_generation_keeps_the_correlation_and_the_identity_with_a_copula(tmp_path):
    graph, frames = shop(800)
    key = "source.shop.raw.orders"
    model = fit_relational(graph, frames, model="copula", seed=3)
    plan = model.plans[key]
    assert [r.sql for r in plan.rules] == [TAX, TOTAL]
    synthetic = dict((p.key, frame) for p, frame in model.generate(seed=7))[key]
    assert synthetic["tax_paid"].dtype == "Int64" and synthetic["order_total"].dtype == "Int64"
    assert synthetic[["subtotal", "tax_paid", "order_total"]].notna().all().all()
    assert (synthetic["order_total"] == synthetic["subtotal"] + synthetic["tax_paid"]).all()
    real = frames[key]
    real_corr = real["subtotal"].astype(float).corr(real["tax_paid"].astype(float))
    synthetic_corr = synthetic["subtotal"].astype(float).corr(synthetic["tax_paid"].astype(float))
    assert real_corr > 0.85 and abs(synthetic_corr - real_corr) < 0.1
    share = synthetic["tax_paid"] / synthetic["subtotal"]
    assert share.between(0.035, 0.085).all()  # the ratios stay within the real ones

    model.save(tmp_path)
    assert RelationalModel.load(tmp_path).plans[key].rules == plan.rules


def test_fidelity_tests_see_the_target_not_the_ratio():
    graph, frames = shop(800)
    key = "source.shop.raw.orders"
    orders = frames[key]
    # subtotals in steps of 4 dollars: every tax is exact, the ratio takes the 5 rates
    orders["subtotal"] = (orders["subtotal"] // 400 + 1) * 400
    rates = RATES[orders["store_id"].astype(int) - 1]
    orders["tax_paid"] = pd.array(np.round(orders["subtotal"] * rates), dtype="Int64")
    orders["order_total"] = orders["subtotal"] + orders["tax_paid"]
    model = fit_relational(graph, frames, model="copula", seed=3)
    plan = model.plans[key]
    assert column_profiles(model.models[key])["tax_paid"].kind == "discrete"  # the rates
    profile = model_profiles(model)[key]["tax_paid"]
    assert profile == ColumnProfile("continuous")  # the taxes: products of two numbers
    assert distribution_test(plan, "tax_paid", profile) == "ks_distance"


def test_plan_json_holds_column_names_only():
    rule = Ratio("tax_paid", "subtotal")
    assert rule_to_json(rule) == {"ratio": "tax_paid", "base": "subtotal", "origin": DISCOVERED}
    assert rule_from_json(rule_to_json(rule)) == rule
    # plans written before ratios existed hold rules as text only
    assert rule_from_json({"rule": TOTAL, "origin": "declared"}).sql == TOTAL


def test_inspect_lists_the_ratio_as_found_in_the_data():
    graph, frames = shop()
    rules = graph_rules(graph, frames)
    text = graph_to_text(graph, rules)
    assert f"rule {TAX}  (found in the data; enforced: computed from a learned ratio)" in text
    orders = next(t for t in graph_to_json(graph, rules)["tables"] if t["name"] == "orders")
    assert orders["rules"]["enforced"][0] == {
        "rule": TAX,
        "origin": DISCOVERED,
        "how": "computed from a learned ratio",
    }
