"""Gaussian copula model: marginals, dependence, context, determinism, artifacts, edge cases."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from helpers import col
from scipy.stats import ks_2samp, spearmanr

from synthohive_dbt.errors import DataError, ModelError
from synthohive_dbt.schema import LogicalType
from synthohive_dbt.synth.base import ModelOptions, get_model_class, load_model
from synthohive_dbt.synth.copula import GaussianCopulaModel

N = 5000


def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    """5k customers: a bimodal spend, a correlated pair, a skewed category whose last
    level drives nulls in discount, a small ordinal count tied to height, a tz timestamp."""
    g = rng(42)
    height = g.normal(170, 10, N)
    segment = g.choice(["retail", "business", "vip"], N, p=[0.6, 0.3, 0.1])
    discount = np.round(g.gamma(2.0, 5.0, N), 2)
    discount[g.random(N) < np.where(segment == "vip", 0.8, 0.1)] = np.nan
    return pd.DataFrame(
        {
            "spend": np.where(g.random(N) < 0.4, g.normal(20, 3, N), g.normal(80, 5, N)),
            "height": height,
            "weight": 0.9 * (height - 170) + g.normal(70, 5, N),
            "segment": segment,
            "discount": discount,
            "visits": np.clip(np.round((height - 170) / 5 + g.normal(4, 1, N)), 0, 9).astype(int),
            "active": g.random(N) < 0.7,
            "signed_up": pd.Timestamp("2024-01-01", tz="America/New_York")
            + pd.to_timedelta(g.integers(0, 10**7, N), unit="s"),
        }
    )


COLUMNS = [
    col("spend", LogicalType.FLOAT, "double"),
    col("height", LogicalType.FLOAT, "double"),
    col("weight", LogicalType.FLOAT, "double"),
    col("segment", LogicalType.TEXT, "text", not_null=True),
    col("discount", LogicalType.NUMERIC, "numeric(8,2)"),
    col("visits", LogicalType.INTEGER, "integer"),
    col("active", LogicalType.BOOLEAN, "boolean"),
    col("signed_up", LogicalType.TIMESTAMPTZ, "timestamptz"),
]


@pytest.fixture(scope="module")
def model(real) -> GaussianCopulaModel:
    fitted = GaussianCopulaModel()
    fitted.fit(real, COLUMNS, rng=rng(0), table="customers")
    return fitted


@pytest.fixture(scope="module")
def synth(model) -> pd.DataFrame:
    return model.sample(N, rng=rng(1))


def tvd(a: pd.Series, b: pd.Series) -> float:
    p = a.value_counts(normalize=True, dropna=False)
    q = b.value_counts(normalize=True, dropna=False)
    return 0.5 * p.sub(q, fill_value=0).abs().sum()


def test_registry_resolves_copula():
    assert get_model_class("copula") is GaussianCopulaModel


def test_columns_order_and_dtypes_match_the_real_table(real, synth):
    assert list(synth.columns) == list(real.columns)
    assert synth.dtypes.to_dict() == real.dtypes.to_dict()
    assert str(synth["signed_up"].dt.tz) == "America/New_York"


@pytest.mark.parametrize("name", ["spend", "height", "weight", "discount", "signed_up"])
def test_continuous_marginals_are_preserved(real, synth, name):
    a, b = real[name].dropna(), synth[name].dropna()
    if name == "signed_up":
        a, b = a.astype("int64"), b.astype("int64")
    assert ks_2samp(a, b).statistic < 0.04


def test_bimodal_column_keeps_both_modes(real, synth):
    assert abs((synth["spend"] < 50).mean() - (real["spend"] < 50).mean()) < 0.03
    assert ((synth["spend"] > 35) & (synth["spend"] < 60)).mean() < 0.01


def test_correlated_pair_is_kept(real, synth):
    r_real = real["height"].corr(real["weight"])
    assert r_real > 0.8
    assert abs(synth["height"].corr(synth["weight"]) - r_real) < 0.1


def test_ordinal_integer_category_keeps_its_rank_correlation(real, synth):
    rho_real = spearmanr(real["visits"], real["height"]).statistic
    assert abs(spearmanr(synth["visits"], synth["height"]).statistic - rho_real) < 0.1


def test_categorical_frequencies_are_preserved(real, synth):
    assert tvd(real["segment"], synth["segment"]) < 0.03
    assert tvd(real["active"], synth["active"]) < 0.03
    assert tvd(real["visits"], synth["visits"]) < 0.05


def test_null_rate_is_kept_and_correlates_with_other_columns(real, synth):
    assert abs(synth["discount"].isna().mean() - real["discount"].isna().mean()) < 0.02
    by_segment = synth["discount"].isna().groupby(synth["segment"]).mean()
    # a Gaussian copula smooths the step (real: 0.8 vs 0.1) but keeps its direction
    assert by_segment["vip"] > by_segment["retail"] + 0.05


def test_constraints_are_respected(real, synth):
    assert synth["segment"].notna().all()  # not_null
    assert set(synth["segment"]) <= {"retail", "business", "vip"}
    for name in ("spend", "height", "weight", "discount"):
        assert synth[name].min() >= real[name].min()
        assert synth[name].max() <= real[name].max()
    present = synth["discount"].dropna()
    np.testing.assert_array_equal(present, present.round(2))


def test_accepted_range_integers_and_not_null_with_null_training_values():
    g = rng(3)
    frame = pd.DataFrame(
        {
            "qty": g.integers(1, 500, 400).astype(float),
            "score": g.normal(0.5, 0.4, 400),
            "kind": g.choice(["a", "b"], 400).astype(object),
        }
    )
    frame.loc[::10, ["qty", "kind"]] = None
    columns = [
        col("qty", LogicalType.INTEGER, not_null=True),
        col("score", LogicalType.FLOAT, accepted_range=(0.0, 1.0)),
        col("kind", LogicalType.TEXT, not_null=True, accepted_values=("a", "b", "c")),
    ]
    model = GaussianCopulaModel()
    model.fit(frame, columns, rng=rng(0))
    out = model.sample(2000, rng=rng(1))
    assert out["qty"].notna().all() and (out["qty"] == out["qty"].round()).all()
    assert out["score"].between(0.0, 1.0).all()
    assert out["kind"].notna().all() and set(out["kind"]) == {"a", "b"}


def test_conditional_sampling_follows_the_context():
    g = rng(5)
    income = g.lognormal(3, 0.5, 3000)  # a parent attribute, one row per child row
    frame = pd.DataFrame({"amount": 2 * income + g.normal(0, 4, 3000)})
    context = np.column_stack([income, np.ones(3000)])  # the second column has zero variance
    model = GaussianCopulaModel()
    model.fit(frame, [col("amount", LogicalType.FLOAT)], context, rng=rng(0))
    out = model.sample(3000, context, rng=rng(1))
    assert spearmanr(out["amount"], income).statistic > 0.8
    low, high = np.full((500, 2), [10.0, 1.0]), np.full((500, 2), [40.0, 1.0])
    assert model.sample(500, high, rng=rng(2))["amount"].mean() > (
        model.sample(500, low, rng=rng(2))["amount"].mean() + 30
    )
    marginal = model.sample(3000, rng=rng(3))  # no context: the marginal
    assert ks_2samp(marginal["amount"], frame["amount"]).statistic < 0.05


def test_context_errors_are_clear(model):
    with pytest.raises(ModelError, match="context has 1 columns; the model was fitted with 0"):
        model.sample(3, np.zeros((3, 1)), rng=rng(0))
    with pytest.raises(ModelError, match=r"must have shape \(4, k\)"):
        model.sample(4, np.zeros((3, 0)), rng=rng(0))
    fitted = GaussianCopulaModel()
    frame = pd.DataFrame({"x": np.arange(10.0)})
    with pytest.raises(ModelError, match="NaN or infinite"):
        fitted.fit(frame, [col("x", LogicalType.FLOAT)], np.full((10, 1), np.nan), rng=rng(0))


def test_same_seed_gives_bit_identical_output(real):
    runs = []
    for _ in range(2):
        model = GaussianCopulaModel()
        model.fit(real, COLUMNS, rng=rng(11))
        runs.append(model.sample(300, rng=rng(12)))
    pd.testing.assert_frame_equal(runs[0], runs[1], check_exact=True)
    other = model.sample(300, rng=rng(13))
    assert not other["spend"].equals(runs[0]["spend"])


def test_save_and_load_in_a_fresh_process_gives_identical_samples(model, tmp_path):
    model.save(tmp_path / "customers")
    script = textwrap.dedent(
        f"""
        import numpy as np
        from synthohive_dbt.synth.base import load_model
        model = load_model({str(tmp_path / "customers")!r})
        model.sample(700, rng=np.random.default_rng(9)).to_parquet({str(tmp_path / "s.parquet")!r})
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    expected = model.sample(700, rng=rng(9))
    fresh = pd.read_parquet(tmp_path / "s.parquet")
    pd.testing.assert_frame_equal(fresh, expected, check_exact=True)
    loaded = load_model(tmp_path / "customers")
    pd.testing.assert_frame_equal(loaded.sample(700, rng=rng(9)), expected, check_exact=True)


def test_state_is_json_and_float_arrays(model):
    meta, tensors = model.state()
    assert meta["columns"] == [c.name for c in COLUMNS]
    assert all(t.dtype == np.float64 for t in tensors.values())
    assert tensors["correlation"].shape == (len(meta["dims"]), len(meta["dims"]))
    np.testing.assert_allclose(np.diag(tensors["correlation"]), 1.0)
    assert np.linalg.eigvalsh(tensors["correlation"]).min() > 0


def test_incompatible_or_incomplete_state_is_a_model_error(model):
    meta, tensors = model.state()
    with pytest.raises(ModelError, match="state version 99"):
        GaussianCopulaModel.from_state({**meta, "state_version": 99}, tensors)
    partial = {k: v for k, v in tensors.items() if k != "correlation"}
    with pytest.raises(ModelError, match="incomplete or corrupt"):
        GaussianCopulaModel.from_state(meta, partial)


def test_quantiles_option_sets_the_table_size(real):
    model = GaussianCopulaModel(ModelOptions(extra={"quantiles": 64}))
    model.fit(real, COLUMNS[:2], rng=rng(0))
    assert model.state()[1]["quantiles"].shape == (2, 64)
    with pytest.raises(ModelError, match="quantiles=1 must be at least 2"):
        GaussianCopulaModel(ModelOptions(extra={"quantiles": 1})).fit(real, COLUMNS, rng=rng(0))


def test_single_row_table_repeats_its_values():
    frame = pd.DataFrame({"x": [3.25], "kind": ["a"], "n": [7]})
    columns = [
        col("x", LogicalType.FLOAT),
        col("kind", LogicalType.TEXT),
        col("n", LogicalType.INTEGER),
    ]
    model = GaussianCopulaModel(ModelOptions(min_category_rows=1))  # no rare-value protection
    model.fit(frame, columns, rng=rng(0))
    out = model.sample(5, rng=rng(1))
    pd.testing.assert_frame_equal(out, pd.concat([frame] * 5, ignore_index=True))


def test_single_row_table_keeps_no_real_text_by_default():
    frame = pd.DataFrame({"kind": ["Alice Smith"], "n": [7]})
    model = GaussianCopulaModel()
    model.fit(frame, [col("kind", LogicalType.TEXT), col("n", LogicalType.INTEGER)], rng=rng(0))
    out = model.sample(50, rng=rng(1))
    assert "Alice Smith" not in set(out["kind"])
    assert out["kind"].str.fullmatch(r"[A-Z]+[a-z]+").all()  # the letter classes only


def test_constant_and_all_null_columns():
    frame = pd.DataFrame(
        {"c": np.full(50, 2.5), "k": ["same"] * 50, "gone": [None] * 50, "x": np.arange(50.0)}
    )
    columns = [
        col(n, t)
        for n, t in zip(
            "c k gone x".split(),
            [LogicalType.FLOAT, LogicalType.TEXT, LogicalType.TEXT, LogicalType.FLOAT],
            strict=True,
        )
    ]
    model = GaussianCopulaModel()
    model.fit(frame, columns, rng=rng(0))
    out = model.sample(100, rng=rng(1))
    assert (out["c"] == 2.5).all() and (out["k"] == "same").all()
    assert out["gone"].isna().all()


def test_not_null_column_that_is_all_null_is_a_data_error():
    frame = pd.DataFrame({"gone": [None, None]})
    with pytest.raises(DataError, match="'gone'.*not_null but every value is null"):
        GaussianCopulaModel().fit(frame, [col("gone", LogicalType.TEXT, not_null=True)], rng=rng(0))


def test_no_modelled_columns_gives_n_rows(tmp_path):
    frame = pd.DataFrame({"id": [1, 2, 3], "token": ["a", "b", "c"]})
    model = GaussianCopulaModel()
    model.fit(frame, [], rng=rng(0))
    assert model.sample(4, rng=rng(1)).shape == (4, 0)
    model.save(tmp_path / "keys_only")
    assert load_model(tmp_path / "keys_only").sample(4, rng=rng(1)).shape == (4, 0)
    model.fit(frame, [col("token", LogicalType.UUID, not_null=True)], rng=rng(0))
    out = model.sample(4, rng=rng(1))
    assert list(out.columns) == ["token"] and out["token"].notna().all()


def test_zero_rows_and_unfitted_models_are_errors():
    with pytest.raises(DataError, match="no rows"):
        GaussianCopulaModel().fit(
            pd.DataFrame({"x": []}), [col("x", LogicalType.FLOAT)], rng=rng(0)
        )
    with pytest.raises(ModelError, match="not fitted"):
        GaussianCopulaModel().sample(3, rng=rng(0))
    with pytest.raises(DataError, match=r"lacks column\(s\) .y."):
        GaussianCopulaModel().fit(
            pd.DataFrame({"x": [1.0]}), [col("y", LogicalType.FLOAT)], rng=rng(0)
        )
