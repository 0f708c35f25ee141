"""CTGANModel: fit/sample, constraints, context, events, checkpoints, artifacts, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import TINY, assert_same_samples_in_two_processes, columns_of, fit_ctgan, mixed_frame

from synthohive_dbt.errors import ArtifactError, DataError, ModelError
from synthohive_dbt.progress import (
    EpochEnded,
    EventLog,
    Reporter,
    TrainingDone,
    TrainingStarted,
    Validated,
)
from synthohive_dbt.schema import Column, ColumnType, LogicalType
from synthohive_dbt.synth.base import ModelOptions, get_model_class, load_model
from synthohive_dbt.synth.ctgan import CTGANModel
from synthohive_dbt.synth.ctgan import train as train_mod
from synthohive_dbt.synth.ctgan.options import auto_batch_size

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def fitted(one_thread) -> tuple[pd.DataFrame, CTGANModel]:
    frame = mixed_frame()
    return frame, fit_ctgan(frame)


def test_registry_names_ctgan():
    assert get_model_class("ctgan") is CTGANModel


def test_sample_has_the_fitted_columns_and_dtypes(fitted):
    frame, model = fitted
    out = model.sample(123, rng=np.random.default_rng(1))
    assert list(out.columns) == list(frame.columns) and len(out) == 123
    assert out["qty"].dtype == np.int64 and out["flag"].dtype == bool
    assert out["amount"].dtype == np.float64 and out["score"].isna().any()
    assert str(out["created"].dtype) == str(frame["created"].dtype)  # tz kept
    assert set(out["status"]) <= {"new", "paid", "shipped"}
    assert model.sample(0, rng=np.random.default_rng(1)).shape == (0, 6)


def test_same_seed_same_sample_and_state_round_trip(fitted, tmp_path):
    _, model = fitted
    a = model.sample(200, rng=np.random.default_rng(7))
    b = model.sample(200, rng=np.random.default_rng(7))
    pd.testing.assert_frame_equal(a, b)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded, CTGANModel)
    pd.testing.assert_frame_equal(loaded.sample(200, rng=np.random.default_rng(7)), a)
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert doc["model"] == "ctgan" and doc["meta"]["state_version"] == 1
    assert {"numpy", "synthohive_dbt"} <= set(doc["versions"])
    assert doc["meta"]["config"]["generator_dim"] == [32, 32]
    tensors = np.load(tmp_path / "m" / "tensors.npz", allow_pickle=False)
    assert "generator.out.weight" in tensors.files


def test_values_respect_column_facts():
    rng = np.random.default_rng(3)
    n = 300
    frame = pd.DataFrame(
        {
            "tier": rng.choice(["gold", "silver", None], n),
            "pct": rng.uniform(0, 100, n),
            "units": np.where(rng.random(n) < 0.1, np.nan, rng.integers(1, 500, n)),
        }
    )
    facts = {
        "tier": {"not_null": True, "accepted_values": ("gold", "silver", "bronze")},
        "pct": {"accepted_range": (10.0, 90.0)},
        "units": {"not_null": True, "type": ColumnType(LogicalType.INTEGER, "integer")},
    }
    model = fit_ctgan(frame, columns_of(frame, **facts), epochs=1)
    out = model.sample(2000, rng=np.random.default_rng(4))
    assert out["tier"].notna().all() and set(out["tier"]) <= {"gold", "silver"}
    assert out["pct"].between(10.0, 90.0).all()
    units = out["units"].to_numpy(dtype=float)
    assert not np.isnan(units).any()
    assert np.all(units == np.round(units)) and units.min() >= 1 and units.max() <= 499


def test_context_conditions_the_output():
    rng = np.random.default_rng(5)
    n = 600
    ctx = rng.integers(0, 2, n).astype(np.float32)[:, None]
    frame = pd.DataFrame(
        {
            "value": np.where(ctx[:, 0] > 0, 50.0, 0.0) + rng.normal(0, 1, n),
            "kind": np.where(ctx[:, 0] > 0, "big", "small"),
        }
    )
    model = fit_ctgan(
        frame, context=ctx, epochs=30, batch_size=100, generator_dim=[64, 64],
        discriminator_dim=[64, 64], lr=1e-3, dropout=0.0,
    )  # fmt: skip
    zeros = model.sample(400, np.zeros((400, 1), np.float32), rng=np.random.default_rng(1))
    ones = model.sample(400, np.ones((400, 1), np.float32), rng=np.random.default_rng(1))
    assert ones["value"].mean() - zeros["value"].mean() > 15
    assert (ones["kind"] == "big").mean() > (zeros["kind"] == "big").mean() + 0.3
    with pytest.raises(ModelError, match="1-wide context"):
        model.sample(5, rng=np.random.default_rng(1))
    with pytest.raises(ModelError, match="2 columns"):
        model.sample(5, np.zeros((5, 2)), rng=np.random.default_rng(1))
    with pytest.raises(ModelError, match="NaN or infinite"):
        model.sample(1, np.array([[np.nan]]), rng=np.random.default_rng(1))


def test_progress_events_and_quiet_by_default():
    log = EventLog()
    fit_ctgan(mixed_frame(200), reporter=Reporter(log), epochs=3)
    assert isinstance(log.events[0], TrainingStarted)
    assert isinstance(log.events[-1], TrainingDone)
    epochs = log.of(EpochEnded)
    assert [e.epoch for e in epochs] == [1, 2, 3] and {e.epochs for e in epochs} == {3}
    assert epochs[-1].eta_s == 0 and all(e.rows_per_s > 0 for e in epochs)
    validated = log.of(Validated)
    scores = [e.score for e in validated]
    assert len(scores) == 3 and all(0 <= s <= 1 for s in scores)
    best = int(np.argmax(scores)) + 1
    assert log.of(TrainingDone)[0].best_epoch == best
    assert [e.improved for e in validated][best - 1] and validated[-1].best_epoch == best


def test_saved_weights_are_from_the_best_validation_epoch(monkeypatch):
    scores = iter([0.2, 0.9, 0.5, 0.4])
    monkeypatch.setattr(train_mod.Trainer, "validate", lambda self, holdout: next(scores))
    snapshots = {}
    trainers = []
    original_init = train_mod.Trainer.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        trainers.append(self)

    def listen(evt):
        if isinstance(evt, Validated):
            state = trainers[0].generator.state_dict()
            snapshots[evt.epoch] = {k: v.clone() for k, v in state.items()}

    monkeypatch.setattr(train_mod.Trainer, "__init__", init)
    model = fit_ctgan(mixed_frame(200), reporter=Reporter(listen), epochs=4)
    assert model.training["best_epoch"] == 2 and model.training["best_score"] == 0.9
    final = model._generator.state_dict()
    assert all(torch.equal(final[k], snapshots[2][k]) for k in final)
    assert not all(torch.equal(final[k], snapshots[4][k]) for k in final)


def test_early_stopping_after_patience_validations(monkeypatch):
    scores = iter([0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    monkeypatch.setattr(train_mod.Trainer, "validate", lambda self, holdout: next(scores))
    log = EventLog()
    model = fit_ctgan(mixed_frame(200), reporter=Reporter(log), epochs=6, patience=2)
    (done,) = log.of(TrainingDone)
    assert done.stopped_early and done.epochs_run == 3 and done.best_epoch == 1
    assert len(log.of(EpochEnded)) == 3 and model.training["stopped_early"]


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_determinism_and_fresh_process_load(tmp_path, precision):
    """Same data and seed: bit-identical samples in two processes; the second process
    first loads the first one's artifact, before it has any training data. Both
    precisions (bfloat16 products run on whatever the CPU offers, emulated or not)."""
    assert_same_samples_in_two_processes(
        tmp_path, f"model = fit_ctgan(mixed_frame(), seed=11, precision={precision!r})"
    )


def test_incompatible_artifacts_are_refused(fitted, tmp_path):
    _, model = fitted
    model.save(tmp_path / "m")
    doc_path = tmp_path / "m" / "model.json"
    doc = json.loads(doc_path.read_text())
    doc["meta"]["state_version"] = 99
    doc_path.write_text(json.dumps(doc))
    with pytest.raises(ArtifactError, match="state_version 99.*refit"):
        load_model(tmp_path / "m")
    doc["meta"]["state_version"], doc["format_version"] = 1, 0
    doc_path.write_text(json.dumps(doc))
    with pytest.raises(ArtifactError, match="format_version"):
        load_model(tmp_path / "m")
    meta, tensors = model.state()
    tensors = {k: v for k, v in tensors.items() if not k.endswith("out.bias")}
    with pytest.raises(ArtifactError, match="do not match"):
        CTGANModel.from_state(meta, tensors)


# -- bad input ----------------------------------------------------------------------------
def test_all_null_column_is_sampled_as_null():
    frame = mixed_frame(200)
    frame["empty"] = None
    out = fit_ctgan(frame, epochs=1).sample(50, rng=np.random.default_rng(0))
    assert out["empty"].isna().all()


def test_single_row_table_samples_copies_of_its_row():
    frame = mixed_frame(1).drop(columns=["score"])
    log = EventLog()
    model = fit_ctgan(frame, reporter=Reporter(log), min_rows=1)  # rare-value protection off
    assert log.of(TrainingDone) == [TrainingDone("t", 0, 0, None, False, 0.0)]
    out = model.sample(3, rng=np.random.default_rng(0))
    for name in frame.columns:
        assert (out[name] == frame[name].iloc[0]).all(), name


def test_mixed_types_and_infinities_are_data_errors():
    frame = pd.DataFrame({"n": [*range(40), "two", 3.5]})
    integer = ColumnType(LogicalType.INTEGER, "integer")
    with pytest.raises(DataError, match="'n' mixes numbers and text"):
        fit_ctgan(frame, [Column("n", type=integer)])
    frame = pd.DataFrame({"x": [1.0, np.inf, 2.0] * 10})
    with pytest.raises(DataError, match="'x' holds infinite values"):
        fit_ctgan(frame)


def test_nan_is_null_and_mixed_object_column_is_categorical():
    frame = pd.DataFrame({"x": [1.0, np.nan, 2.5, 4.0] * 30, "o": [1, "a", 2.5, None] * 30})
    out = fit_ctgan(frame, epochs=1).sample(400, rng=np.random.default_rng(0))
    assert 0.05 < out["x"].isna().mean() < 0.6
    assert set(out["o"].dropna()) <= {1, "a", 2.5}


def test_empty_table_missing_column_and_bad_options():
    frame = mixed_frame(10)
    with pytest.raises(DataError, match="no rows"):
        fit_ctgan(frame.iloc[:0])
    with pytest.raises(DataError, match="lacks column"):
        fit_ctgan(frame, [Column("nope")])
    with pytest.raises(ModelError, match="unknown ctgan option.*'epoch'"):
        CTGANModel(ModelOptions(extra={"epoch": 3}))
    with pytest.raises(ModelError, match="not a multiple of pac"):
        CTGANModel(ModelOptions(batch_size=55, extra={"pac": 10}))
    with pytest.raises(ModelError, match=r"context must have shape \(10, k\)"):
        fit_ctgan(frame, context=np.zeros((9, 1)))


def test_per_table_overrides_reach_the_config():
    base = ModelOptions(epochs=300, batch_size=500)
    options = base.with_overrides({"epochs": 4, "pac": 5, "patience": 3})
    config = CTGANModel(options).config
    assert (config.epochs, config.batch_size, config.pac, config.patience) == (4, 500, 5, 3)


def test_batch_size_follows_the_table_unless_given():
    assert [auto_batch_size(n, 10) for n in (50_000, 5_000, 1_800, 300, 40)] == [
        500, 500, 180, 30, 10,
    ]  # fmt: skip
    assert auto_batch_size(1_234, 4) == 120  # a multiple of pac
    frame = mixed_frame(600)  # 540 training rows after the 60-row hold-out
    log = EventLog()
    model = CTGANModel(ModelOptions(1, None, "cpu", extra={**TINY}))
    model.fit(frame, columns_of(frame), rng=np.random.default_rng(0), reporter=Reporter(log))
    assert model.config.batch_size is None  # the artifact keeps "auto"
    assert model.training["batch_size"] == 54
    assert log.of(TrainingStarted)[0].batch_size == 54
    assert log.of(EpochEnded)[0].steps == 10
    given = fit_ctgan(frame, epochs=1, batch_size=100, reporter=Reporter(log))
    assert given.training["batch_size"] == 100


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(ModelError, match="CUDA is not available"):
        fit_ctgan(mixed_frame(20), device="cuda")
