"""AutoregressiveModel: joint structure, context, early stopping, determinism, artifacts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import (
    INT,
    TEXT,
    assert_same_samples_in_two_processes,
    col,
    columns_of,
    fit_autoregressive,
    mixed_frame,
)

from synthohive_dbt.errors import ArtifactError, DataError, ModelError
from synthohive_dbt.progress import EpochTrained, EventLog, Reporter, TrainingDone, TrainingStarted
from synthohive_dbt.synth.autoregressive import AutoregressiveModel
from synthohive_dbt.synth.autoregressive.train import Rows, validation_loss
from synthohive_dbt.synth.base import ModelOptions, available_models, get_model_class, load_model

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def fitted(one_thread) -> tuple[pd.DataFrame, AutoregressiveModel]:
    frame = mixed_frame()
    return frame, fit_autoregressive(frame, epochs=5)


def test_registered_and_samples_the_fitted_columns_and_dtypes(fitted):
    assert "autoregressive" in available_models()
    assert get_model_class("autoregressive") is AutoregressiveModel
    frame, model = fitted
    out = model.sample(123, rng=np.random.default_rng(0))
    assert list(out.columns) == list(frame.columns) and len(out) == 123
    assert dict(out.dtypes.astype(str)) == dict(frame.dtypes.astype(str))
    assert set(out["status"].dropna()) <= {"new", "paid", "shipped"}
    assert 0 < out["score"].isna().mean() < 0.5  # the real null share is 0.2


def test_joint_structure_is_learned():
    """city decides country and country decides the price level: pairs a marginal
    model mixes up stay together."""
    rng = np.random.default_rng(1)
    n = 3000
    cities = {"Paris": "FR", "Lyon": "FR", "Berlin": "DE", "Munich": "DE", "Rome": "IT"}
    city = rng.choice(list(cities), n)
    country = np.array([cities[c] for c in city])
    level = {"FR": 100.0, "DE": 300.0, "IT": 600.0}
    price = np.array([level[c] for c in country]) + rng.normal(0, 10, n)
    frame = pd.DataFrame({"price": price, "country": country, "city": city})
    model = fit_autoregressive(frame, epochs=40)
    out = model.sample(3000, rng=np.random.default_rng(2))
    pairs = out["city"].map(cities) == out["country"]
    assert pairs.mean() > 0.97
    for code, value in level.items():
        prices = out.loc[out["country"] == code, "price"]
        assert abs(prices.median() - value) < 40


def test_context_step_is_kept():
    """A child whose value and kind jump with a parent attribute (a step)."""
    rng = np.random.default_rng(5)
    n = 1500
    ctx = rng.normal(0, 1, n).astype(np.float32)[:, None]
    step = ctx[:, 0] > 0.3
    frame = pd.DataFrame(
        {"value": np.where(step, 50.0, 0.0) + rng.normal(0, 1, n),
         "kind": np.where(step, "big", "small")}
    )  # fmt: skip
    model = fit_autoregressive(frame, context=ctx, epochs=60)
    low = model.sample(500, np.full((500, 1), -1.0, np.float32), rng=np.random.default_rng(1))
    high = model.sample(500, np.full((500, 1), 1.5, np.float32), rng=np.random.default_rng(1))
    assert high["value"].mean() - low["value"].mean() > 40
    assert (high["kind"] == "big").mean() > 0.9 and (low["kind"] == "big").mean() < 0.1
    with pytest.raises(ModelError, match="1-wide context"):
        model.sample(5, rng=np.random.default_rng(1))
    with pytest.raises(ModelError, match="2 columns"):
        model.sample(5, np.zeros((5, 2)), rng=np.random.default_rng(1))
    with pytest.raises(ModelError, match="NaN or infinite"):
        model.sample(1, np.array([[np.nan]]), rng=np.random.default_rng(1))


def test_early_stopping_keeps_the_best_epochs_weights():
    """Noise columns with many values overfit fast: training stops before its epoch
    cap, and the kept weights score the best validation loss on the holdout rows."""
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({f"c{i}": rng.choice([f"v{j}" for j in range(12)], n) for i in range(5)})
    holdout = np.zeros(n, bool)
    holdout[rng.choice(n, 80, replace=False)] = True
    log = EventLog()
    model = AutoregressiveModel(ModelOptions(200, 16, extra={"hidden": 64, "patience": 2}))
    columns = columns_of(frame)
    model.fit(frame, columns, rng=np.random.default_rng(0), reporter=Reporter(log),
              table="t", holdout=holdout)  # fmt: skip
    training = model.training
    assert training["stopped_early"] and training["epochs_run"] < 200
    losses = [h["validation_loss"] for h in training["history"]]
    assert training["best_loss"] == min(losses)
    assert training["best_epoch"] == losses.index(min(losses)) + 1
    assert training["best_epoch"] < training["epochs_run"]
    codecs = model._codecs
    values = [c.encode(frame[x.name]) for c, x in zip(codecs, columns, strict=True)]
    tokens = model._tokens.encode([v[holdout] for v in values], np.random.default_rng(0))
    rows = Rows(torch.as_tensor(tokens), None)
    assert validation_loss(model._net, rows, 1000) == pytest.approx(training["best_loss"], 1e-5)
    assert len(log.of(EpochTrained)) == training["epochs_run"]
    (started,) = log.of(TrainingStarted)
    assert started.batch_size == 16 and started.modelled == 5
    (done,) = log.of(TrainingDone)
    assert done.best_epoch == training["best_epoch"] and done.stopped_early


def test_not_null_and_rare_values_are_respected():
    rng = np.random.default_rng(4)
    n = 1000
    amount = rng.normal(100, 10, n)
    amount[:40] = np.nan
    amount[40] = 1e6  # one row's extreme
    kind = rng.choice(["a", "b", "c"], n).astype(object)
    kind[:3] = "secret-one-off"
    frame = pd.DataFrame({"amount": amount, "kind": kind})
    columns = [col("amount", INT, not_null=True), col("kind", TEXT)]
    model = fit_autoregressive(frame, columns, epochs=10)
    out = model.sample(5000, rng=np.random.default_rng(9))
    assert out["amount"].notna().all()
    assert out["amount"].max() < 1e5
    assert "secret-one-off" not in set(out["kind"])


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_determinism_and_fresh_process_load(tmp_path, precision):
    """Same data and seed: bit-identical samples in two processes; the second first
    loads the first one's artifact, before it has seen any training data."""
    assert_same_samples_in_two_processes(
        tmp_path,
        f"model = fit_autoregressive(mixed_frame(), seed=11, epochs=3, precision={precision!r})",
    )


def test_artifact_round_trip_and_refusals(fitted, tmp_path):
    _, model = fitted
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    a = model.sample(50, rng=np.random.default_rng(3))
    pd.testing.assert_frame_equal(a, loaded.sample(50, rng=np.random.default_rng(3)))
    meta, tensors = model.state()
    assert not any(t.dtype == object for t in tensors.values())
    with pytest.raises(ArtifactError, match="state_version"):
        AutoregressiveModel.from_state({**meta, "state_version": 99}, tensors)
    broken = {k: v for k, v in tensors.items() if not k.startswith("net.heads")}
    with pytest.raises(ArtifactError, match="do not fit"):
        AutoregressiveModel.from_state(meta, broken)


def test_bad_input_is_refused():
    with pytest.raises(DataError, match="no rows"):
        fit_autoregressive(pd.DataFrame({"x": pd.Series([], dtype=float)}))
    with pytest.raises(DataError, match="lacks column"):
        fit_autoregressive(pd.DataFrame({"x": [1.0]}), [col("y", INT)])
    with pytest.raises(ModelError, match="unknown autoregressive option"):
        AutoregressiveModel(ModelOptions(extra={"hiden": 3}))
    with pytest.raises(ModelError, match="precision"):
        AutoregressiveModel(ModelOptions(extra={"precision": "half"}))
    with pytest.raises(ModelError, match="not fitted"):
        AutoregressiveModel().sample(3, rng=np.random.default_rng(0))


def test_constant_and_single_row_tables():
    one = pd.DataFrame({"x": [3.0], "k": ["a"]})
    model = fit_autoregressive(one, epochs=2, min_rows=1)  # k=1: values may be kept
    out = model.sample(4, rng=np.random.default_rng(0))
    assert out["x"].tolist() == [3.0] * 4 and out["k"].tolist() == ["a"] * 4
    # with the default k=5 the one row's text is a rare value: never sampled
    out = fit_autoregressive(one, epochs=2).sample(20, rng=np.random.default_rng(0))
    assert "a" not in set(out["k"])


def test_cuda_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: test_cuda_fit_and_sample runs instead")
    frame = pd.DataFrame({"x": np.arange(50.0)})
    with pytest.raises(ModelError, match="CUDA is not available"):
        fit_autoregressive(frame, device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_fit_and_sample(tmp_path):
    """On a GPU: fit and sample on CUDA, same seed same sample, the artifact loads."""
    frame = mixed_frame()
    model = fit_autoregressive(frame, epochs=3, device="cuda")
    a = model.sample(500, rng=np.random.default_rng(1))
    pd.testing.assert_frame_equal(a, model.sample(500, rng=np.random.default_rng(1)))
    model.save(tmp_path / "m")
    pd.testing.assert_frame_equal(
        a, load_model(tmp_path / "m").sample(500, rng=np.random.default_rng(1))
    )
