"""Row rules: parsing declared expressions, discovery in real data, enforcement at
generation, the plan round trip, inspect, and the SQL check on a real DuckDB file."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import numpy as np
import pandas as pd
import pytest
from helpers import DATE, FLOAT, INT, TS, graph_from, table
from scipy.stats import ks_2samp

from synthohive_dbt.generation import write_synthetic
from synthohive_dbt.options import GenerateOptions
from synthohive_dbt.pipeline import fit_graph
from synthohive_dbt.relational import RelationalModel, fit_relational
from synthohive_dbt.relational.discovery import discover, graph_rules
from synthohive_dbt.relational.enforcement import apply_rules
from synthohive_dbt.relational.expressions import parse
from synthohive_dbt.relational.identities import DISCOVERED, Arith, Col, Derive, Order
from synthohive_dbt.relational.plan import TablePlan
from synthohive_dbt.relational.rulesets import declared_rules, rules_for
from synthohive_dbt.schema import INFERRED, Column, ColumnType, LogicalType, Origin, Table
from synthohive_dbt.schema.inspect_view import graph_to_json, graph_to_text
from synthohive_dbt.warehouse import wrap_connection

TOTAL = "order_total = subtotal + tax_paid"


pytestmark = pytest.mark.usefixtures("one_thread")


def orders_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Real-looking orders: amounts in cents, tax a rounded share, some unshipped."""
    rng = np.random.default_rng(seed)
    subtotal = rng.integers(500, 20_000, n)
    tax = np.round(subtotal * rng.choice([0.05, 0.08, 0.1], n)).astype(np.int64)
    ordered = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    shipped = ordered + pd.to_timedelta(rng.integers(0, 72 * 3600, n), unit="s")
    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "subtotal": pd.array(subtotal, dtype="Int64"),
            "tax_paid": pd.array(tax, dtype="Int64"),
            "order_total": pd.array(subtotal + tax, dtype="Int64"),
            "ordered_at": ordered.astype("datetime64[us]"),
            "shipped_at": pd.Series(shipped).astype("datetime64[us]"),
            "weight": rng.gamma(2.0, 3.0, n),
        }
    )
    frame.loc[rng.random(n) < 0.1, "shipped_at"] = pd.NaT
    frame.loc[rng.random(n) < 0.05, "tax_paid"] = pd.NA
    frame.loc[frame["tax_paid"].isna(), "order_total"] = pd.NA
    return frame


TYPES = {
    "id": INT,
    "subtotal": INT,
    "tax_paid": INT,
    "order_total": INT,
    "ordered_at": DATE,
    "shipped_at": TS,
    "weight": FLOAT,
}
MODELLED = [c for c in TYPES if c != "id"]


def orders_table(expressions=(TOTAL,)) -> Table:
    return table(
        "orders",
        TYPES,
        ["id"],
        prefix="source.shop.raw.",
        source_name="shop",
        expressions=tuple(expressions),
    )


# -- parsing ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "rules"),
    [
        (TOTAL, [TOTAL]),
        ("subtotal + tax_paid = order_total", [TOTAL]),
        ("net = (gross - fee) * 100 / rate", ["net = (gross - fee) * 100 / rate"]),
        ("a = b - (c - d)", ["a = b - (c - d)"]),
        ("a = -(b + c)", ["a = -(b + c)"]),
        ("shipped_at >= ordered_at", ["ordered_at <= shipped_at"]),
        ("price > 0", ["price > 0"]),
        ("price >= -1.5", ["price >= -1.5"]),
        ("qty between 1 and max_qty", ["qty >= 1", "qty <= max_qty"]),
        ("a < b and (c >= 0)", ["a < b", "c >= 0"]),
        ("day >= date '2020-01-01'", ["day >= '2020-01-01'"]),
    ],
)
def test_parse_supported(expression, rules):
    parsed, problems = parse(expression)
    assert [r.sql for r in parsed] == rules
    assert problems == ()
    for rule in parsed:  # the canonical text parses back to the same rule (plan.json)
        assert parse(rule.sql)[0] == (rule,)


@pytest.mark.parametrize(
    "expression",
    [
        "a is not null",
        "coalesce(a, 0) >= 0",
        "a <> b",
        "a = b or c > 0",
        "a + b = c + d",
        "a = a + 1",
        "o.a = b",
        "status = 'shipped'",
        "1 < 2",
        "a = (",
    ],
)
def test_parse_unsupported_is_reported(expression):
    parsed, problems = parse(expression)
    assert parsed == ()
    assert len(problems) == 1 and problems[0].startswith("not enforced: ")


def test_conjunction_keeps_supported_parts():
    parsed, problems = parse("a <= b and a is not null")
    assert [r.sql for r in parsed] == ["a <= b"]
    assert len(problems) == 1 and "IS NULL" in problems[0]


def test_rules_for_matches_names_and_reports_what_it_cannot_enforce():
    types = {"Subtotal": INT, "tax_paid": INT, "order_total": INT, "id": INT, "note": None}
    found = rules_for(
        ["ORDER_TOTAL = SUBTOTAL + TAX_PAID", "id > 0", "missing >= 0", "note >= 1"],
        {**types, "note": ColumnType(LogicalType.TEXT, "text")},
        modelled=["Subtotal", "tax_paid", "order_total", "note"],
    )
    assert [r.sql for r in found.rules] == ['order_total = "Subtotal" + tax_paid']
    assert found.rules[0].target == "order_total"
    assert len(found.skipped) == 3
    assert "id is filled as a key" in found.skipped[0]
    assert "no column missing" in found.skipped[1]
    assert "not both numbers or both dates" in found.skipped[2]


def test_declared_rules_win_over_discovered():
    modelled = ["a", "b", "c", "d"]
    types = dict.fromkeys(modelled, INT)
    discovered = [
        Derive("a", Arith("+", Col("c"), Col("d")), DISCOVERED),  # a is already derived
        Derive("b", Arith("-", Col("a"), Col("c")), DISCOVERED),  # a cycle through a
        Order(Col("d"), Col("c"), origin=DISCOVERED),  # the other way round from c < d
        Order(Col("c"), Col("d"), strict=True, origin=DISCOVERED),  # the same as declared
    ]
    found = rules_for(["a = b + c", "c < d"], types, modelled, discovered)
    assert [(r.sql, r.origin) for r in found.rules] == [
        ("a = b + c", "declared"),
        ("c < d", "declared"),
    ]
    assert len(found.skipped) == 3 and all("discovered" in s for s in found.skipped)


def test_derivations_are_ordered_by_dependency():
    types = dict.fromkeys("abcde", INT)
    found = rules_for(["e = a * 2", "a = b + c", "b = d - 1"], types, list(types))
    assert [r.sql for r in found.rules] == ["b = d - 1", "a = b + c", "e = a * 2"]


# -- discovery ----------------------------------------------------------------------------
def test_discovers_the_total_and_the_date_order():
    frame = orders_frame()
    frame["quantity"] = pd.array(np.arange(len(frame)) % 5 + 1, dtype="Int64")
    frame["line_amount"] = frame["subtotal"] * frame["quantity"]
    types = {**TYPES, "quantity": INT, "line_amount": INT}
    rules = discover(frame, types, [*MODELLED, "quantity", "line_amount"])
    assert {r.sql for r in rules} == {
        TOTAL,
        "line_amount = subtotal * quantity",
        "ordered_at <= shipped_at",
    }
    assert all(r.origin == DISCOVERED for r in rules)


def test_discovers_nothing_on_random_data():
    rng = np.random.default_rng(3)
    n = 500
    frame = pd.DataFrame(
        {
            "a": pd.array(rng.integers(0, 10, n), dtype="Int64"),
            "b": pd.array(rng.integers(0, 10, n), dtype="Int64"),
            "c": pd.array(rng.integers(0, 20, n), dtype="Int64"),
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
            "d1": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 30, n), "D"),
            "d2": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 30, n), "D"),
        }
    )
    types = {"a": INT, "b": INT, "c": INT, "x": FLOAT, "y": FLOAT, "d1": DATE, "d2": DATE}
    assert discover(frame, types, list(types)) == ()


def test_a_rule_broken_by_one_row_is_not_discovered():
    frame = orders_frame()
    frame.loc[7, "order_total"] += 1
    frame.loc[11, "shipped_at"] = frame.loc[11, "ordered_at"] - pd.Timedelta(days=1)
    assert discover(frame, TYPES, MODELLED) == ()


def test_trivial_identities_are_not_discovered():
    frame = orders_frame(n=300)
    frame["zero"] = pd.array(np.zeros(len(frame), dtype=np.int64), dtype="Int64")
    frame["copy"] = frame["subtotal"]
    frame["same_day"] = frame["ordered_at"]
    types = {**TYPES, "zero": INT, "copy": INT, "same_day": DATE}
    rules = discover(frame, types, ["subtotal", "copy", "zero", "ordered_at", "same_day"])
    assert rules == ()  # subtotal = copy + zero: zero is constant; equal dates: no order


def test_discovery_needs_enough_rows():
    frame = orders_frame(n=15)
    assert discover(frame, TYPES, MODELLED) == ()


# -- enforcement on frames ----------------------------------------------------------------
def test_apply_rules_computes_swaps_and_clamps():
    frame = pd.DataFrame(
        {
            "subtotal": pd.array([100, 200, None, -5], dtype="Int64"),
            "tax_paid": pd.array([8, 16, 3, 1], dtype="Int64"),
            "order_total": pd.array([1, 2, 3, 4], dtype="Int64"),
            "ordered_at": pd.to_datetime(["2024-01-05", "2024-01-01", None, "2024-01-02"]),
            "shipped_at": pd.to_datetime(
                ["2024-01-03 10:00", "2024-01-02 00:00", "2024-01-01 00:00", "2024-01-02 08:00"]
            ),
        }
    ).astype({"ordered_at": "datetime64[us]", "shipped_at": "datetime64[us]"})
    rules = rules_for([TOTAL, "shipped_at >= ordered_at", "subtotal >= 0"], TYPES, MODELLED).rules
    out = apply_rules(rules, frame, TYPES)
    assert out["order_total"].dtype == "Int64" and out["ordered_at"].dtype == "datetime64[us]"
    assert out["subtotal"].tolist()[:2] == [100, 200] and out["subtotal"].iloc[3] == 0
    assert out["order_total"].tolist()[:2] == [108, 216] and out["order_total"].iloc[3] == 1
    assert pd.isna(out["order_total"].iloc[2])  # NULL input: NULL total, as in SQL
    # the first order was shipped before it was made: the two dates are swapped, the
    # date side rounded down and the timestamp side up to stay ordered
    assert out["ordered_at"].iloc[0] == pd.Timestamp("2024-01-03")
    assert out["shipped_at"].iloc[0] == pd.Timestamp("2024-01-05")
    assert out.loc[[1, 3], "shipped_at"].tolist() == frame.loc[[1, 3], "shipped_at"].tolist()
    assert frame["order_total"].tolist() == [1, 2, 3, 4]  # the input is left alone


def test_required_target_keeps_its_value_where_inputs_are_null():
    frame = pd.DataFrame(
        {
            "subtotal": pd.array([None, 10], dtype="Int64"),
            "tax_paid": pd.array([1, 1], dtype="Int64"),
            "order_total": pd.array([7, 0], dtype="Int64"),
        }
    )
    rules = rules_for([TOTAL], TYPES, MODELLED).rules
    out = apply_rules(rules, frame, TYPES, required={"order_total"})
    assert out["order_total"].tolist() == [7, 11]


def test_strict_orderings_and_literals():
    frame = pd.DataFrame({"a": np.array([3, 5, 5]), "b": np.array([3, 1, 9]), "x": [0.5, -1, 2]})
    types = {"a": INT, "b": INT, "x": FLOAT}
    rules = rules_for(["a < b", "x > 0"], types, list(types)).rules
    out = apply_rules(rules, frame, types)
    assert (out["a"] < out["b"]).all() and (out["x"] > 0).all()
    assert out["a"].dtype == np.int64 and out["b"].tolist() == [4, 5, 9]


def test_date_literals_clamp_dates():
    frame = pd.DataFrame({"ordered_at": pd.to_datetime(["2023-12-30", "2024-02-01", None])})
    frame = frame.astype("datetime64[us]")
    rules = rules_for(["ordered_at >= date '2024-01-01'"], TYPES, MODELLED).rules
    out = apply_rules(rules, frame, TYPES)
    assert out["ordered_at"].tolist()[:2] == [
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-02-01"),
    ]
    assert pd.isna(out["ordered_at"].iloc[2]) and out["ordered_at"].dtype == "datetime64[us]"


def test_an_ordering_between_two_computed_columns_falls_back_to_null():
    frame = pd.DataFrame({"a": [1.0, 5.0], "b": [2.0, 1.0], "c": [0.0, 0.0], "d": [0.0, 0.0]})
    types = dict.fromkeys("abcd", FLOAT)
    rules = rules_for(["c = a", "d = b", "c <= d"], types, list(types)).rules
    out = apply_rules(rules, frame, types)
    assert out["c"].tolist()[0] == 1.0 and out["d"].tolist()[0] == 2.0
    assert out["d"].isna().tolist() == [False, True]  # d <= c cannot be repaired: NULL


# -- generation ---------------------------------------------------------------------------
def test_an_ordered_pair_of_timestamps_keeps_its_gap_and_both_distributions():
    """Shipping follows ordering by hours: swapping two independent draws into order
    would make the gap months and push ordered_at toward the earlier of two dates."""
    table = orders_table([])
    graph = graph_from(table)
    real = orders_frame(1000)
    model = fit_relational(graph, {table.key: real}, model="copula", seed=1)
    plan = model.plans[table.key]
    (offset,) = [r for r in plan.rules if r.sql.startswith("shipped_at = ordered_at + gap")]
    assert offset.gap in plan.derived
    [(_, synthetic)] = list(model.generate(seed=4))
    assert list(synthetic.columns) == list(real.columns)  # the gap is not written
    both = synthetic[["ordered_at", "shipped_at"]].dropna()
    gap = (both["shipped_at"] - both["ordered_at"]).dt.total_seconds()
    assert (gap >= 0).all() and gap.max() <= 5 * 72 * 3600  # hours, not months
    real_gap = (real["shipped_at"] - real["ordered_at"]).dt.total_seconds().dropna()
    assert abs(gap.median() - real_gap.median()) < 0.25 * real_gap.median()
    for column in ("ordered_at", "shipped_at"):
        assert ks_2samp(synthetic[column].dropna(), real[column].dropna()).statistic < 0.1
    assert synthetic["shipped_at"].dtype == "datetime64[us]"


def test_generation_meets_every_rule_with_a_copula():
    table = orders_table([TOTAL, "subtotal >= 600"])
    graph = graph_from(table)
    model = fit_relational(graph, {table.key: orders_frame(600)}, model="copula", seed=1)
    plan = model.plans[table.key]
    assert {r.sql for r in plan.rules} == {
        TOTAL,
        "subtotal >= 600",
        "ordered_at <= shipped_at",
        "tax_paid = subtotal x ratio",  # see test_ratios.py
        "shipped_at = ordered_at + gap (gap >= 0)",  # the ordering's learned gap
    }
    [(_, synthetic)] = list(model.generate(scale=1.5, seed=4))
    assert len(synthetic) == 900
    assert synthetic["order_total"].dtype == "Int64"
    assert synthetic["shipped_at"].dtype == "datetime64[us]"
    complete = synthetic[["subtotal", "tax_paid"]].notna().all(axis=1)
    assert complete.sum() > 700 and synthetic.loc[~complete, "order_total"].isna().all()
    totals = synthetic.loc[complete]
    assert (totals["order_total"] == totals["subtotal"] + totals["tax_paid"]).all()
    assert (synthetic["subtotal"].dropna() >= 600).all()
    both = synthetic[["ordered_at", "shipped_at"]].dropna()
    assert len(both) > 700 and (both["ordered_at"] <= both["shipped_at"]).all()


def test_plan_json_keeps_the_rules(tmp_path):
    table = orders_table()
    graph = graph_from(table)
    model = fit_relational(graph, {table.key: orders_frame(200)}, model="copula")
    model.save(tmp_path)
    loaded = RelationalModel.load(tmp_path)
    assert loaded.plans[table.key].rules == model.plans[table.key].rules
    # the tax as a ratio of the subtotal comes first: the declared total reads it; then
    # the shipping date's gap and the ordering it keeps
    kinds = [(type(r).__name__, r.origin) for r in loaded.plans[table.key].rules]
    assert kinds == [
        ("Ratio", "discovered"),
        ("Derive", "declared"),
        ("Offset", "discovered"),
        ("Order", "discovered"),
    ]
    older = model.plans[table.key].to_json()
    del older["rules"]  # plan.json written before rules existed
    assert TablePlan.from_json(older).rules == ()


# -- inspect ------------------------------------------------------------------------------
def test_inspect_lists_declared_rules_and_those_found_in_data():
    table = orders_table([TOTAL, "id > 0", "a <> b"])
    graph = graph_from(table)
    text = graph_to_text(graph)
    assert f"rule {TOTAL}  (expression test; enforced: computed)" in text
    assert "rule not enforced: id > 0 (id is filled as a key or not modelled)" in text
    assert "rule not enforced: a <> b" in text
    rules = graph_rules(graph, {table.key: orders_frame()})
    with_data = graph_to_text(graph, rules)
    assert "rule ordered_at <= shipped_at  (found in the data; enforced: repaired)" in with_data
    doc = graph_to_json(graph, rules)["tables"][0]["rules"]
    assert doc["enforced"] == [
        {
            "rule": "tax_paid = subtotal x ratio",
            "origin": "discovered",
            "how": "computed from a learned ratio",
        },
        {"rule": TOTAL, "origin": "declared", "how": "computed"},
        {
            "rule": "shipped_at = ordered_at + gap (gap >= 0)",
            "origin": "discovered",
            "how": "computed from a learned gap",
        },
        {"rule": "ordered_at <= shipped_at", "origin": "discovered", "how": "repaired"},
    ]
    assert len(doc["not_enforced"]) == 2


def test_rules_on_identifier_columns_are_not_enforced():
    table = orders_table(["weight > 0", "order_total >= subtotal"])
    inferred = Origin(INFERRED, "distinct in 400 rows")
    columns = tuple(replace(c, id_like=inferred) if c.name == "order_total" else c
                    for c in table.columns)  # fmt: skip
    found = declared_rules(graph_from(table), replace(table, columns=columns))
    assert [r.sql for r in found.rules] == ["weight > 0"]
    assert found.skipped == (
        "not enforced: subtotal <= order_total (order_total is filled as a key or not modelled)",
    )


# -- end to end on DuckDB -------------------------------------------------------------------
def test_synthetic_orders_pass_the_projects_expression_in_duckdb(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    try:
        con.execute("create schema raw")
        real = orders_frame(500).drop(columns=["weight"])
        con.register("real_orders", real)
        con.execute(
            "create table raw.orders as select id::integer as id, subtotal::integer as "
            "subtotal, tax_paid::integer as tax_paid, order_total::integer as order_total, "
            "ordered_at::date as ordered_at, shipped_at from real_orders"
        )
        orders = table(
            "orders",
            [Column(c) for c in real.columns],
            ["id"],
            prefix="source.shop.raw.",
            expressions=(TOTAL,),
        )
        wh = wrap_connection("duckdb", con)
        model, _, _ = fit_graph(graph_from(orders), wh, model="copula", seed=2)
        written = write_synthetic(
            model, wh, schema="synth", options=GenerateOptions(scale=2.0, seed=5, chunk_rows=300)
        )
        assert written == {"orders": 1000}
        broken = con.execute(
            "select count(*) filter (where not (order_total = subtotal + tax_paid)), "
            "count(*) filter (where not (shipped_at >= ordered_at)), "
            "count(*) filter (where order_total is not null and shipped_at is not null) "
            "from synth.orders"
        ).fetchone()
        assert broken[:2] == (0, 0) and broken[2] > 700
    finally:
        con.close()
