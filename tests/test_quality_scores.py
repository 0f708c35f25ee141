"""The quality report's numbers: metrics against hand-computed values on tiny frames,
the result's shape, privacy of what it shows, determinism."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthohive_dbt.errors import DataError
from synthohive_dbt.quality import scores
from synthohive_dbt.quality.charts import HIST_BINS
from synthohive_dbt.quality.report import build_report
from synthohive_dbt.quality.spec import (
    CATEGORICAL,
    DATETIME,
    FORMAT_VERSION,
    NUMERIC,
    OTHER_LABEL,
    ColumnSpec,
    RelationSpec,
    ReportSpec,
    TableSpec,
)


def _num(values) -> np.ndarray:
    return scores.prepare(pd.Series(values, dtype="Float64"), NUMERIC)


def _cat(values) -> pd.Series:
    return scores.prepare(pd.Series(values, dtype="string"), CATEGORICAL)


# -- single metrics, by hand ------------------------------------------------------------------
def test_ks_complement_of_two_small_samples():
    # ECDFs of [1, 2, 3] and [2, 3, 4, 5]: at 3 they are 1 and 1/2, the largest gap
    assert scores.ks_complement(_num([1, 2, 3, None]), _num([2, 3, 4, 5])) == pytest.approx(0.5)
    assert scores.ks_complement(_num([1, 2]), _num([1, 2])) == 1.0
    assert np.isnan(scores.ks_complement(_num([None]), _num([1.0])))


def test_ks_complement_reads_datetimes_as_numbers():
    real = scores.prepare(pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02", None])), DATETIME)
    synth = scores.prepare(pd.Series(pd.to_datetime(["2024-01-02", "2024-01-03"])), DATETIME)
    # [d1, d2] against [d2, d3]: at d1 the gap is 1/2
    assert scores.ks_complement(real, synth) == pytest.approx(0.5)


def test_tv_complement_of_two_category_lists():
    # real shares a 2/3, b 1/3 (the null left out); synthetic a 1/4, b 1/2, c 1/4
    # TVD = (5/12 + 1/6 + 1/4) / 2 = 5/12
    real, synth = _cat(["a", "a", "b", None]), _cat(["a", "b", "b", "c"])
    assert scores.tv_complement(real, synth) == pytest.approx(7 / 12)


def test_correlation_similarity_of_a_pair():
    x = _num([1, 2, 3])
    assert scores.pearson(x, _num([1, 2, 3])) == pytest.approx(1.0)
    # centred [-1, 0, 1] . [-1, 1, 0] = 1 over norms sqrt(2) * sqrt(2): r = 0.5
    assert scores.pearson(x, _num([1, 3, 2])) == pytest.approx(0.5)
    assert scores.correlation_similarity(1.0, 0.5) == pytest.approx(0.75)
    # rows with a null on either side are left out of that pair only
    assert scores.pearson(_num([1, 2, 3, None]), _num([1, 2, 3, 9])) == pytest.approx(1.0)


def test_contingency_of_two_discrete_columns():
    # real (a,x) (a,x) (b,y) (b,y); synthetic (a,x) (a,y) (b,y) (b,y): TVD 1/4
    real = scores.category_codes(_cat(list("aabb")), _cat(list("aabb")))
    other = scores.category_codes(_cat(list("xxyy")), _cat(list("xyyy")))
    score, association = scores.contingency((real[0], other[0]), (real[1], other[1]))
    assert score == pytest.approx(0.75)
    assert association == pytest.approx(1.0)  # a perfect 2 x 2 association in the real rows


def test_cramers_v_of_an_independent_table():
    rows, cols = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    assert scores.cramers_v(rows, cols, np.array([5, 5, 5, 5])) == pytest.approx(0.0)
    assert np.isnan(scores.cramers_v(np.array([0, 0]), np.array([0, 1]), np.array([3, 4])))


def test_continuous_columns_bin_like_sdmetrics():
    # 10 equal-width bins over the side's own range; np.digitize puts the maximum and the
    # nulls in code 11 together
    codes = scores.bin_codes(_num([0, 5, 9.99, 10, None]))
    assert codes.tolist() == [1, 6, 10, 11, 11]


def test_cardinality_of_children_per_parent():
    parent = pd.DataFrame({"id": [1, 2, 3]})
    real_child = pd.DataFrame({"fk": [1, 1, 2]})
    synth_child = pd.DataFrame({"fk": [1, 2, 3]})
    real = scores.children_per_parent(parent, ["id"], real_child, ["fk"])
    synth = scores.children_per_parent(parent, ["id"], synth_child, ["fk"])
    assert real.tolist() == [2, 1, 0] and synth.tolist() == [1, 1, 1]
    # ECDFs of [0, 1, 2] and [1, 1, 1]: at 0 they are 1/3 and 0, at 1 2/3 and 1
    assert scores.cardinality(real, synth) == pytest.approx(2 / 3)


def test_composite_keys_count_children_and_orphans():
    parent = pd.DataFrame({"a": [1, 1, 2], "b": ["x", "y", "x"]})
    child = pd.DataFrame({"a": [1, 1, 2, 2, None], "b": ["x", "x", "x", "y", "y"]})
    assert scores.children_per_parent(parent, ["a", "b"], child, ["a", "b"]).tolist() == [2, 0, 1]
    # (2, y) has no parent; the row with a null part is not checked
    assert scores.orphans(parent, ["a", "b"], child, ["a", "b"]) == 1


# -- the report -------------------------------------------------------------------------------
def _spec(**kwargs) -> ReportSpec:
    return ReportSpec(
        tables=(
            TableSpec(
                "customers",
                (
                    ColumnSpec("segment", CATEGORICAL),
                    ColumnSpec("email", CATEGORICAL, personal=True),
                    ColumnSpec("salary", NUMERIC, personal=True),
                ),
                primary_key=("id",),
            ),
            TableSpec(
                "orders",
                (
                    ColumnSpec("colour", CATEGORICAL),
                    ColumnSpec("amount", NUMERIC),
                    ColumnSpec("quantity", NUMERIC),
                    ColumnSpec("placed_at", DATETIME),
                ),
                primary_key=("order_id",),
            ),
        ),
        relations=(RelationSpec("orders", ("customer_id",), "customers", ("id",)),),
        **kwargs,
    )


def _frames(n: int = 40, seed: int = 0, synthetic: bool = False) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    customers = pd.DataFrame(
        {
            "id": pd.array(range(1, n + 1), dtype="Int64"),
            "segment": pd.array(
                ["gold", "silver"] * (n // 2 - 1) + ["platinum"] * 2, dtype="string"
            ),
            "email": pd.array([f"person{i}@example.com" for i in range(n)], dtype="string"),
            "salary": rng.normal(50_000, 5_000, n) + 0.123,
        }
    )
    m = 4 * n
    amount = rng.gamma(2.0, 30.0, m)
    amount[0] = 987_654.5  # one real outlier
    orders = pd.DataFrame(
        {
            "order_id": pd.array(range(m), dtype="Int64"),
            "customer_id": pd.array(rng.integers(1, n + 1, m), dtype="Int64"),
            "colour": pd.array(rng.choice(["red", "green", "blue"], m), dtype="string"),
            "amount": amount,
            "quantity": amount * 0.1 + rng.normal(0, 1, m),
            "placed_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, m), "D"),
        }
    )
    if synthetic:
        orders.loc[0, "customer_id"] = n + 100  # an orphan
        orders.loc[1, "order_id"] = orders.loc[2, "order_id"]  # a duplicate key
        orders["order_id"] = orders["order_id"].astype("Int64")
        orders.loc[3, "order_id"] = pd.NA  # a null key
    return {"customers": customers, "orders": orders}


@pytest.fixture(scope="module")
def report() -> dict:
    return build_report(_frames(), _frames(seed=1, synthetic=True), _spec())


def test_report_shape_and_keys(report):
    assert set(report) == {"format_version", "overall", "tables"}
    assert report["format_version"] == FORMAT_VERSION
    assert set(report["overall"]) == {
        "score",
        "column_shapes",
        "column_pair_trends",
        "cardinality",
        "intertable_trends",
    }
    customers, orders = report["tables"]
    assert [t["name"] for t in report["tables"]] == ["customers", "orders"]
    for key in (
        "rows_real",
        "rows_synthetic",
        "sampled_rows_real",
        "sampled_rows_synthetic",
        "score",
        "column_shapes",
        "column_pair_trends",
        "columns",
        "pairs",
        "correlation",
        "relationships",
        "integrity",
    ):
        assert key in orders
    assert [c["name"] for c in orders["columns"]] == ["colour", "amount", "quantity", "placed_at"]
    assert [c["metric"] for c in orders["columns"]] == ["TVComplement"] + ["KSComplement"] * 3
    assert len(orders["pairs"]) == 6
    metrics = {tuple(p["columns"]): p["metric"] for p in orders["pairs"]}
    assert metrics["amount", "quantity"] == "CorrelationSimilarity"
    assert metrics["colour", "amount"] == "ContingencySimilarity"
    assert orders["correlation"]["columns"] == ["amount", "quantity", "placed_at"]
    assert len(orders["correlation"]["real"]) == 3
    (relation,) = orders["relationships"]
    assert relation["fk"] == "orders(customer_id) -> customers(id)"
    assert relation["chart"]["type"] == "histogram"
    assert len(relation["pairs"]) == 3 * 4  # parent columns x child columns
    assert customers["relationships"] == []
    assert orders["rows_real"] == orders["sampled_rows_real"] == 160
    for value in report["overall"].values():
        assert 0.0 <= value <= 1.0
    json.dumps(report, allow_nan=False)


def test_report_counts_integrity_problems(report):
    customers, orders = report["tables"]
    assert orders["integrity"] == {"duplicate_keys": 1, "null_keys": 1, "orphans": 1}
    assert orders["relationships"][0]["orphans"] == 1
    assert customers["integrity"] == {"duplicate_keys": 0, "null_keys": 0, "orphans": 0}


def test_table_and_overall_scores_are_the_means_of_their_parts(report):
    customers, orders = report["tables"]
    shapes = [c["score"] for c in orders["columns"]]
    assert orders["column_shapes"] == pytest.approx(np.mean(shapes))
    counted = [p["score"] for p in orders["pairs"] if p["contributes"]]
    assert ("amount", "quantity") in {
        tuple(p["columns"]) for p in orders["pairs"] if p["contributes"]
    }
    assert orders["column_pair_trends"] == pytest.approx(np.mean(counted))
    assert orders["score"] == pytest.approx(
        (orders["column_shapes"] + orders["column_pair_trends"]) / 2
    )
    everything = [c["score"] for t in report["tables"] for c in t["columns"]]
    overall = report["overall"]
    assert overall["column_shapes"] == pytest.approx(np.mean(everything))
    parts = [
        overall[k]
        for k in ("column_shapes", "column_pair_trends", "cardinality", "intertable_trends")
        if overall[k] is not None
    ]
    assert overall["score"] == pytest.approx(np.mean(parts))


def test_pairs_without_a_real_trend_do_not_count():
    x = np.arange(40.0)
    real = {"t": pd.DataFrame({"a": x, "b": np.tile([1.0, -1.0], 20), "c": x * 2})}
    synth = {"t": pd.DataFrame({"a": x, "b": np.tile([1.0, -1.0], 20), "c": -x})}
    spec = ReportSpec((TableSpec("t", tuple(ColumnSpec(n, NUMERIC) for n in "abc")),))
    (table,) = build_report(real, synth, spec)["tables"]
    by = {tuple(p["columns"]): p for p in table["pairs"]}
    assert by["a", "c"]["contributes"] and by["a", "c"]["score"] == pytest.approx(0.0)
    assert not by["a", "b"]["contributes"]  # |r| <= 0.5 in the real rows
    assert table["column_pair_trends"] == pytest.approx(0.0)


def test_intertable_trends_join_children_to_their_parent():
    spec = ReportSpec(
        (
            TableSpec("p", (ColumnSpec("kind", CATEGORICAL),), primary_key=("id",)),
            TableSpec("c", (ColumnSpec("colour", CATEGORICAL),), primary_key=("cid",)),
        ),
        (RelationSpec("c", ("fk",), "p", ("id",)),),
        min_rows=1,
    )
    parent = pd.DataFrame({"id": [1, 2], "kind": ["a", "b"]})
    real = {
        "p": parent,
        "c": pd.DataFrame({"cid": [1, 2, 3, 4], "fk": [1, 1, 2, 2], "colour": list("rrgg")}),
    }
    synth = {
        "p": parent,
        "c": pd.DataFrame({"cid": [1, 2, 3, 4], "fk": [1, 2, 2, 2], "colour": list("rrgg")}),
    }
    report = build_report(real, synth, spec)
    (relation,) = report["tables"][1]["relationships"]
    # joined real (a,r) (a,r) (b,g) (b,g); synthetic (a,r) (b,r) (b,g) (b,g): TVD 1/4
    assert relation["intertable_trends"] == pytest.approx(0.75)
    assert relation["pairs"][0]["columns"] == ["p.kind", "c.colour"]
    # children per parent [2, 2] against [1, 3]
    assert relation["cardinality"] == pytest.approx(0.5)
    assert report["tables"][0]["column_pair_trends"] is None  # one column: no pairs


def test_pairs_are_capped_deterministically():
    frame = pd.DataFrame({n: np.arange(10.0) * (i + 1) for i, n in enumerate("abcde")})
    spec = ReportSpec(
        (TableSpec("t", tuple(ColumnSpec(n, NUMERIC) for n in "abcde")),), max_pairs=3
    )
    (table,) = build_report({"t": frame}, {"t": frame}, spec)["tables"]
    assert [p["columns"] for p in table["pairs"]] == [["a", "b"], ["b", "c"], ["d", "e"]]


def test_rare_labels_and_personal_values_never_appear(report):
    text = json.dumps(report)
    assert "platinum" not in text  # 2 real rows, below min_rows
    assert "gold" in text and "silver" in text
    assert "example.com" not in text and "person1" not in text
    customers = report["tables"][0]
    charts = {c["name"]: c["chart"] for c in customers["columns"]}
    assert charts["email"] == {"type": "none"} and charts["salary"] == {"type": "none"}
    assert charts["segment"]["labels"] == ["gold", "silver", OTHER_LABEL]
    assert ".123" not in text  # the personal salary's values
    assert customers["columns"][2]["score"] is not None  # scored, not shown


def test_histograms_cover_the_protected_range_only(report):
    orders = report["tables"][1]
    chart = orders["columns"][1]["chart"]
    assert chart["type"] == "histogram" and len(chart["edges"]) == HIST_BINS + 1
    real = np.sort(_frames()["orders"]["amount"].to_numpy())
    assert chart["edges"][0] == pytest.approx(real[4]) and chart["edges"][-1] == pytest.approx(
        real[-5]
    )
    assert "987654" not in json.dumps(report)  # the outlier falls into the last bin
    assert sum(chart["real"]) == pytest.approx(1.0) and sum(chart["synthetic"]) == pytest.approx(
        1.0
    )
    assert isinstance(orders["columns"][3]["chart"]["edges"][0], str)  # datetimes in ISO


def test_too_few_rows_show_no_chart():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    spec = ReportSpec((TableSpec("t", (ColumnSpec("x", NUMERIC),)),), min_rows=2)
    (table,) = build_report({"t": frame}, {"t": frame}, spec)["tables"]
    assert table["columns"][0]["chart"] == {"type": "none"}
    assert table["columns"][0]["score"] == 1.0


def test_report_is_deterministic_and_ignores_row_order():
    real, synth = _frames(), _frames(seed=1, synthetic=True)
    first = build_report(real, synth, _spec())
    assert json.dumps(build_report(real, synth, _spec())) == json.dumps(first)
    shuffled = {n: f.sample(frac=1.0, random_state=3) for n, f in synth.items()}
    again = build_report(real, shuffled, _spec())
    for key, value in first["overall"].items():
        assert again["overall"][key] == pytest.approx(value)


def test_missing_frames_and_columns_are_reported_at_once():
    real = _frames()
    synth = {"orders": _frames()["orders"].drop(columns=["amount"])}
    with pytest.raises(DataError) as err:
        build_report(real, synth, _spec())
    assert len(err.value.problems) == 2
    assert "synthetic frame of table 'customers' is missing" in str(err.value)
    assert "['amount']" in str(err.value)
