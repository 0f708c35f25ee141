"""Relational generation: keys from generated parents only, counts, FK shapes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import FLOAT, INT, ORIGIN, TEXT, col, graph_from, table

from synthohive_dbt.progress import EventLog, FitDone, FitStarted, Reporter
from synthohive_dbt.relational import fit_relational
from synthohive_dbt.relational.keys import KeyFormat, learn_identifier_format, learn_key_format
from synthohive_dbt.relational.tree import real_depths, tree_parents_by_depth
from synthohive_dbt.schema import ForeignKey, LogicalType
from synthohive_dbt.synth.base import TableModel


class Bootstrap(TableModel):
    """Resamples real rows: enough to exercise the relational layer."""

    name = "bootstrap"

    def learn(self, data):
        self.frame = data.frame.reset_index(drop=True)

    def sample(self, n, context=None, *, rng):
        idx = rng.integers(0, len(self.frame), size=n)
        return self.frame.iloc[idx].reset_index(drop=True)

    def state(self):
        return {}, {}

    @classmethod
    def from_state(cls, meta, tensors):
        return cls()


def make_graph():
    airports = table(
        "airports", [col("code", TEXT, unique=True, not_null=True), ("city", TEXT)], ["code"]
    )
    flights = table(
        "flights",
        {"flight_id": INT, "origin": TEXT, "dest": TEXT, "fare": FLOAT},
        ["flight_id"],
    )
    legs = table("legs", {"flight_id": INT, "leg_no": INT, "km": FLOAT}, ["flight_id", "leg_no"])
    staff = table("staff", {"emp_id": INT, "manager_id": INT, "dept": TEXT}, ["emp_id"])
    fks = (
        ForeignKey(flights.key, ("origin",), airports.key, ("code",), ORIGIN, nullable=False),
        ForeignKey(flights.key, ("dest",), airports.key, ("code",), ORIGIN, nullable=True),
        ForeignKey(legs.key, ("flight_id",), flights.key, ("flight_id",), ORIGIN, nullable=False),
        ForeignKey(staff.key, ("manager_id",), staff.key, ("emp_id",), ORIGIN),
    )
    order = (airports.key, staff.key, flights.key, legs.key)
    return graph_from(airports, flights, legs, staff, fks=fks, order=order)


def make_frames(rng):
    codes = [f"AP{i:03d}" for i in range(1, 21)]
    airports = pd.DataFrame({"code": codes, "city": [f"c{i % 5}" for i in range(20)]})
    n = 300
    origin = rng.choice(codes[:10], size=n)
    dest = rng.choice(codes, size=n).astype(object)
    dest[:30] = None
    flights = pd.DataFrame(
        {
            "flight_id": pd.array(np.arange(100, 100 + n), dtype="Int64"),
            "origin": origin,
            "dest": dest,
            "fare": rng.gamma(2.0, 50.0, size=n),
        }
    )
    legs_per = rng.integers(1, 4, size=n)
    fid = np.repeat(flights["flight_id"].to_numpy(), legs_per)
    leg_no = pd.Series(fid).groupby(fid).cumcount().to_numpy() + 1
    legs = pd.DataFrame(
        {
            "flight_id": pd.array(fid, dtype="Int64"),
            "leg_no": pd.array(leg_no, dtype="Int64"),
            "km": rng.uniform(100, 900, size=len(fid)),
        }
    )
    m = 50
    mgr = pd.array([None] * 5 + list(rng.integers(1, 6, size=m - 5)), dtype="Int64")
    staff = pd.DataFrame(
        {
            "emp_id": pd.array(np.arange(1, m + 1), dtype="Int64"),
            "manager_id": mgr,
            "dept": rng.choice(["a", "b"], size=m),
        }
    )
    g = make_graph()
    names = {"airports": airports, "flights": flights, "legs": legs, "staff": staff}
    return {k: names[t.name] for k, t in g.tables.items()}


@pytest.fixture(scope="module", params=[Bootstrap, "autoregressive"], ids=["bootstrap", "ar"])
def generated(request):
    """Every FK shape (two FKs to one parent, a nullable FK, a composite key with an FK
    part, a self-reference) with a resampler and with the autoregressive model."""
    graph = make_graph()
    frames = make_frames(np.random.default_rng(1))
    model = fit_relational(graph, frames, model=request.param, seed=3)
    out = {plan.name: frame for plan, frame in model.generate(seed=5)}
    return graph, frames, model, out


def test_zero_orphans_and_unique_keys(generated):
    _, _, _, out = generated
    codes = set(out["airports"]["code"])
    assert out["airports"]["code"].is_unique
    assert set(out["flights"]["origin"]) <= codes
    assert set(out["flights"]["dest"].dropna()) <= codes
    assert out["flights"]["flight_id"].is_unique
    assert set(out["legs"]["flight_id"]) <= set(out["flights"]["flight_id"])
    assert not out["legs"].duplicated(["flight_id", "leg_no"]).any()


def test_key_formats_kept(generated):
    _, _, _, out = generated
    assert out["airports"]["code"].str.fullmatch(r"AP\d{3}").all()
    assert pd.api.types.is_integer_dtype(out["flights"]["flight_id"])
    assert out["legs"]["leg_no"].min() == 1


def test_nullable_fk_keeps_null_rate(generated):
    _, frames, _, out = generated
    real = frames["source.p.s.flights"]["dest"].isna().mean()
    assert out["flights"]["dest"].isna().mean() == pytest.approx(real, abs=0.06)
    assert out["flights"]["origin"].notna().all()


def test_children_per_parent_distribution(generated):
    _, _, _, out = generated
    per_flight = out["legs"].groupby("flight_id").size()
    assert per_flight.min() >= 1 and per_flight.max() <= 3
    assert len(out["legs"]) / len(out["flights"]) == pytest.approx(2.0, rel=0.15)


def test_self_reference_is_a_forest(generated):
    _, _, _, out = generated
    staff = out["staff"]
    parent = dict(zip(staff["emp_id"], staff["manager_id"], strict=True))
    assert staff["manager_id"].isna().any()
    assert set(staff["manager_id"].dropna()) <= set(staff["emp_id"])
    for start in staff["emp_id"]:
        seen, node = set(), start
        while pd.notna(node):
            assert node not in seen, "cycle in generated hierarchy"
            seen.add(node)
            node = parent[node]


def test_fit_reports_a_start_and_a_done_per_table():
    log = EventLog()
    graph = make_graph()
    frames = make_frames(np.random.default_rng(1))
    fit_relational(graph, frames, model=Bootstrap, seed=3, reporter=Reporter(log))
    names = [graph.table(key).name for key in graph.order]
    started, done = log.of(FitStarted), log.of(FitDone)
    assert [e.table for e in started] == [e.table for e in done] == names
    assert [e.rows for e in started] == [len(frames[key]) for key in graph.order]
    assert {e.model for e in started + done} == {"bootstrap"}
    assert all(e.seconds >= 0 for e in done)


def test_same_seed_same_output():
    graph = make_graph()
    frames = make_frames(np.random.default_rng(1))
    model = fit_relational(graph, frames, model=Bootstrap, seed=3)
    a = {p.name: f for p, f in model.generate(seed=9)}
    b = {p.name: f for p, f in model.generate(seed=9)}
    c = {p.name: f for p, f in model.generate(seed=10)}
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["flights"].equals(c["flights"])


def test_scale_grows_roots_and_children():
    """Children follow their parents' scale: the generated children-per-parent counts are
    rescaled to the real number of rows times the parents' scale, never beyond the real
    range of children per parent. So sizes are exact unless the parents' generated counts
    cannot reach them within that range (here: a bootstrap that drew mostly the airports
    without flights)."""
    graph = make_graph()
    frames = make_frames(np.random.default_rng(1))
    real = {k.split(".")[-1]: f for k, f in frames.items()}
    max_per_origin = real["flights"].groupby("origin").size().max()
    model = fit_relational(graph, frames, model=Bootstrap)
    for scale in (1.0, 2.0):
        flights = []
        for seed in range(5):
            out = {p.name: f for p, f in model.generate(scale=scale, seed=seed)}
            assert len(out["airports"]) == 20 * scale
            assert len(out["flights"]) <= 300 * scale
            assert out["flights"].groupby("origin").size().max() <= max_per_origin
            flights.append(len(out["flights"]))
            # legs per flight (1 to 3) reach their target: the flights made times the
            # real legs per flight
            assert len(out["legs"]) == round(len(real["legs"]) * len(out["flights"]) / 300)
            per_flight = out["legs"].groupby("flight_id").size()
            assert per_flight.min() >= 1 and per_flight.max() <= 3
        assert np.median(flights) == 300 * scale


def test_tree_parents_follow_depths():
    rng = np.random.default_rng(0)
    depths = np.array([0, 0, 1, 1, 1, 2, 2, 3])
    parents = tree_parents_by_depth(depths, np.ones(8), rng)
    assert (parents[depths == 0] == -1).all()
    for row, parent in enumerate(parents):
        if depths[row] > 0:
            assert depths[parent] == depths[row] - 1


def test_tree_parents_repair_gaps():
    rng = np.random.default_rng(0)
    parents = tree_parents_by_depth(np.array([2, 2, 5]), np.ones(3), rng)
    assert (parents == -1).sum() >= 1
    assert all(p == -1 or p != i for i, p in enumerate(parents))


def test_real_depths():
    frame = pd.DataFrame({"id": [1, 2, 3, 4], "boss": pd.array([None, 1, 2, 1], dtype="Int64")})
    assert real_depths(frame, ["id"], ["boss"]).tolist() == [0, 1, 2, 1]


@pytest.mark.parametrize(
    "values,logical,expected,within_parent",
    [
        (["C0001", "C0042"], LogicalType.TEXT, "C0043", "C0001"),
        (["ORD-7", "ORD-12"], LogicalType.TEXT, "ORD-13", "ORD-7"),
        ([5, 9], LogicalType.INTEGER, 10, 5),
    ],
)
def test_learn_key_format(values, logical, expected, within_parent):
    """Keys start past the real ones (never minted again); numbering within a parent
    starts where the real one does."""
    fmt = learn_key_format(pd.Series(values), logical)
    minted = fmt.mint(np.arange(3), np.random.default_rng(0))
    assert minted.iloc[0] == expected
    assert minted.is_unique
    assert not set(minted) & set(values)
    numbering = learn_key_format(pd.Series(values), logical, fresh=False)
    assert numbering.mint(np.arange(3), np.random.default_rng(0)).iloc[0] == within_parent


def test_repeated_identifiers_keep_the_real_repetition_not_the_values():
    """Identifiers that are no key: fresh values, each held by as many rows as the real
    histogram of rows per value says (only counts are stored), NULL as often, and no value
    shared between chunks."""
    rng = np.random.default_rng(0)
    real = pd.Series(pd.array(np.repeat(np.arange(1, 301), np.tile([1, 2, 4], 100)), "Int64"))
    real[rng.random(len(real)) < 0.1] = pd.NA
    fmt = learn_identifier_format(real, LogicalType.INTEGER)
    fmt = KeyFormat.from_json(json.loads(json.dumps(fmt.to_json())))
    assert sum(count for _, count in fmt.repeats) == real.nunique()
    assert {size for size, _ in fmt.repeats} <= {1, 2, 3, 4}  # NULLs cut some groups
    first, second = fmt.mint_rows(0, 3000, rng), fmt.mint_rows(3000, 3000, rng)
    assert str(first.dtype) == "Int64"
    assert first.isna().mean() == pytest.approx(real.isna().mean(), abs=0.03)
    assert not set(first.dropna()) & set(second.dropna())
    minted = pd.concat([first, second]).dropna()
    assert minted.min() > real.max()  # no real value
    shares = minted.value_counts().value_counts(normalize=True)
    real_shares = real.value_counts().value_counts(normalize=True)
    for size in (1, 2, 4):
        assert shares[size] == pytest.approx(real_shares[size], abs=0.05)


def test_key_format_of_a_key_mints_one_value_per_row():
    fmt = learn_key_format(pd.Series(["a1b2c3", "d4e5f6"]), LogicalType.TEXT)
    assert fmt.repeats == () and fmt.mint_rows(5, 50, np.random.default_rng(0)).is_unique


def test_kmeans_survives_duplicate_rows():
    from synthohive_dbt.relational.features import kmeans

    points = np.array([[1.1, 1.1 / 3, 1.0]] * 3 + [[0.0, 0.0, 0.0]])
    for seed in range(20):  # rounding used to give negative distances and probabilities
        centroids = kmeans(points, 3, np.random.default_rng(seed))
        assert np.isfinite(centroids).all()


def test_generated_columns_keep_model_dtypes():
    planes = table("planes", {"tailnum": TEXT, "year": INT, "maker": TEXT}, ["tailnum"])
    frame = pd.DataFrame(
        {
            "tailnum": pd.array([f"N{i:04d}" for i in range(50)], dtype="string"),
            "year": pd.array([None, 1999, 2004, 2010, None] * 10, dtype="Int64"),
            "maker": pd.array(["boeing", "airbus"] * 25, dtype="string"),
        }
    )
    model = fit_relational(graph_from(planes), {planes.key: frame}, model=Bootstrap)
    ((_, out),) = list(model.generate(seed=1))
    assert str(out["year"].dtype) == "Int64" and out["year"].isna().any()
    assert str(out["maker"].dtype) == "string"


def test_secondary_parents_fill_their_slots_before_repeating():
    """Secondary FKs take each parent as often as its generated count (without
    replacement, across chunks); only rows beyond the free slots go by weight."""
    from synthohive_dbt.relational.generate import TableGenerator

    gen = TableGenerator.__new__(TableGenerator)
    gen.rng = np.random.default_rng(0)
    members = np.arange(3)
    weights = np.array([2.0, 0.0, 3.0])
    free = np.array([2, 0, 3])
    first = gen._take(members, 3, weights, free)
    second = gen._take(members, 2, weights, free)
    assert np.bincount(np.concatenate([first, second]), minlength=3).tolist() == [2, 0, 3]
    assert free.tolist() == [0, 0, 0]
    extra = gen._take(members, 1000, weights, free)
    counts = np.bincount(extra, minlength=3)
    assert counts[1] == 0 and 0.5 < counts[0] / counts[2] < 0.85  # by weight 2:3
    assert len(gen._take(members, 0, weights, free)) == 0


def test_fill_counts_reaches_the_target_within_the_real_range():
    from synthohive_dbt.relational.generate import fill_counts

    rng = np.random.default_rng(0)
    counts = np.array([0, 5, 10, 100, 3, 0])
    half = fill_counts(counts, 59, 0, 60, rng)
    assert half.sum() == 59 and half[[0, 5]].tolist() == [0, 0]  # zeros stay zero
    assert np.all(np.abs(half - counts * 59 / 118) < 1)  # proportional, then rounded
    capped = fill_counts(counts, 236, 1, 60, rng)
    assert capped.sum() == 236 and capped.max() <= 60 and capped[[0, 5]].tolist() == [0, 0]
    assert capped[3] == 60 and capped[1] > counts[1] and capped[4] > counts[4]
    out_of_reach = fill_counts(counts, 1000, 0, 60, rng)
    assert out_of_reach.tolist() == [0, 60, 60, 60, 60, 0]
    assert fill_counts(counts, 20, 1, 60, rng).min(where=counts > 0, initial=99) >= 1
    assert fill_counts(counts, 118, 0, None, rng).tolist() == counts.tolist()


def test_ranked_counts_have_the_real_histogram_in_the_models_order():
    from synthohive_dbt.relational.generate import ranked_counts

    rng = np.random.default_rng(3)
    histogram = (10, 50, 30, 0, 10)  # 100 real parents: 0, 1, 2 or 4 children
    generated = np.linspace(-0.4, 6.3, 100)[rng.permutation(100)]  # blurred model counts
    counts = ranked_counts(generated, histogram, rng)
    assert np.bincount(counts, minlength=5).tolist() == list(histogram)
    order = np.argsort(generated, kind="stable")
    assert (np.diff(counts[order]) >= 0).all()  # more generated, never fewer given
    # twice the parents (--scale 2): the same shares
    doubled = ranked_counts(np.tile(generated, 2), histogram, rng)
    assert np.bincount(doubled, minlength=5).tolist() == [2 * h for h in histogram]
