"""CTGAN data transformer: variational mixtures, layout, round trips, bounded width."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthohive_dbt.errors import DataError
from synthohive_dbt.schema import Column
from synthohive_dbt.synth.codec_fit import MAX_CATEGORIES, fit_codecs
from synthohive_dbt.synth.ctgan.transformer import (
    CATEGORIES,
    CONSTANT,
    MODES,
    PASSTHROUGH,
    DataTransformer,
)
from synthohive_dbt.synth.ctgan.vgm import assign_modes, fit_mixture, restore_values


def fitted(frame: pd.DataFrame, seed: int = 0, not_null=None, min_rows: int = 1):
    """Codecs (without rare-value protection unless ``min_rows``), values, transformer."""
    codecs = fit_codecs(frame, [Column(c) for c in frame.columns], min_rows)
    values = [c.encode(frame[c.name]) for c in codecs]
    flags = not_null or [False] * len(codecs)
    rng = np.random.default_rng(seed)
    return codecs, values, DataTransformer.fit(values, codecs, flags, rng), rng


def test_mixture_finds_the_modes_of_a_bimodal_column():
    rng = np.random.default_rng(0)
    x = np.where(rng.random(30_000) < 0.3, rng.normal(-5, 1, 30_000), rng.normal(3, 0.3, 30_000))
    mix = fit_mixture(x, rng, subsample=10_000)
    assert abs(mix.weights.sum() - 1) < 1e-9
    assert mix.weights.min() > 0.005  # pruned at the threshold
    left = mix.weights[mix.means < -1].sum()
    assert 0.25 < left < 0.35
    assert np.all(np.abs(mix.means[mix.means > 0] - 3) < 0.5)


def test_mixture_of_a_constant_and_of_spikes():
    rng = np.random.default_rng(0)
    one = fit_mixture(np.full(100, 7.0), rng)
    assert one.n_modes == 1 and one.means[0] == 7.0 and one.stds[0] > 0
    spikes = fit_mixture(rng.choice([0.0, 1.0, 5.0, 10.0], 4000), rng)
    assert sorted(np.round(spikes.means, 3)) == [0.0, 1.0, 5.0, 10.0]
    modes, alpha = assign_modes(np.array([0.0, 5.0, 10.0]), spikes, rng.random(3))
    assert np.allclose(restore_values(alpha, modes, spikes), [0.0, 5.0, 10.0])


def test_continuous_round_trip_is_close_and_nulls_survive():
    rng = np.random.default_rng(1)
    n = 2000
    x = np.concatenate([rng.normal(0, 1, n // 2), rng.lognormal(5, 0.5, n // 2)])
    x[rng.random(n) < 0.1] = np.nan
    frame = pd.DataFrame({"x": x, "c": rng.choice(["a", "b", None], n)})
    _, values, tr, rng = fitted(frame)
    rows = tr.transform(values, rng)
    assert rows.alpha.dtype == np.float32 and rows.slots.dtype == np.int32
    back = tr.decode(rows.alpha, rows.slots, n)
    null = np.isnan(values[0])
    assert np.array_equal(np.isnan(back[0]), null)
    assert np.allclose(back[0][~null], values[0][~null], rtol=1e-5, atol=1e-5)
    assert np.array_equal(back[1], values[1])  # codes, -1 for null
    assert tr.layouts[0].nullable and tr.layouts[1].nullable


def test_layout_groups_equal_widths_and_puts_categories_last():
    rng = np.random.default_rng(2)
    n = 500
    frame = pd.DataFrame(
        {
            "a": rng.choice(list("xyz"), n),
            "b": rng.normal(size=n),
            "c": rng.choice(list("pq"), n),
            "d": rng.choice(list("uvw"), n),
        }
    )
    _, _, tr, _ = fitted(frame)
    kinds = {c.name: c.kind for c in tr.layouts}
    assert kinds == {"a": CATEGORIES, "b": MODES, "c": CATEGORIES, "d": CATEGORIES}
    assert tr.n_alpha == 1
    cats = tr.discrete_spans
    assert [c.name for c in cats] == ["c", "a", "d"]  # by width, then column order
    assert tr.cond_start == cats[0].offset and tr.cond_dim == 2 + 3 + 3
    discrete_groups = [(g.count, g.width) for g in tr.groups if g.discrete]
    assert discrete_groups == [(1, 2), (2, 3)]
    a, d = tr.layouts[0], tr.layouts[3]
    assert d.offset == a.offset + a.width  # same width: contiguous


def test_constant_and_all_null_columns_take_no_space():
    frame = pd.DataFrame(
        {
            "k": [5.0] * 50,
            "s": ["same"] * 50,
            "n": [None] * 50,
            "x": np.arange(50, dtype=float),
        }
    )
    codecs, values, tr, rng = fitted(frame)
    kinds = [c.kind for c in tr.layouts]
    assert kinds == [CONSTANT, CONSTANT, PASSTHROUGH, MODES]
    out = tr.decode(*(lambda r: (r.alpha, r.slots))(tr.transform(values, rng)), 50)
    assert np.all(out[0] == 5.0) and np.all(out[1] == 0)
    assert codecs[1].decode(out[1], rng).eq("same").all()


def test_high_cardinality_column_keeps_a_bounded_width():
    rng = np.random.default_rng(3)
    n = 40_000
    ids = rng.integers(0, 20_000, n)
    frame = pd.DataFrame({"sku": [f"sku-{i}" for i in ids]})
    codecs, values, tr, rng = fitted(frame, min_rows=1)
    assert codecs[0].n_categories == MAX_CATEGORIES + 1  # frequent values + "other"
    assert tr.width <= MAX_CATEGORIES + 2
    rows = tr.transform(values, rng)
    assert rows.slots.shape == (n, 1) and rows.slots.nbytes == 4 * n  # compact rows
    decoded = codecs[0].decode(tr.decode(rows.alpha, rows.slots, n)[0], rng)
    assert decoded.str.startswith("sku-").all()  # "other" draws observed values


def test_rare_values_decode_to_new_values_of_their_shape():
    rng = np.random.default_rng(3)
    frequent = np.repeat([f"sku-{i:07d}" for i in rng.choice(10**7, 300, replace=False)], 50)
    rare = [f"sku-{i:07d}" for i in rng.choice(10**7, 5_000, replace=False)]
    frame = pd.DataFrame({"sku": np.r_[frequent, rare, rare[:1000]]})
    codecs, values, tr, rng = fitted(frame, min_rows=5)
    kept = set(codecs[0].categories) - {"__synthohive_other__"}
    assert kept == set(frequent)  # only values seen in at least 5 rows are stored
    stored = json.dumps(codecs[0].to_json())
    assert not any(v in stored for v in rare)
    rows = tr.transform(values, rng)
    decoded = codecs[0].decode(tr.decode(rows.alpha, rows.slots, len(frame))[0], rng)
    generated = decoded[~decoded.isin(kept)]
    assert len(generated) > 2_000
    assert generated.str.fullmatch(r"sku-\d{7}").all()  # the shape and its shared prefix
    assert generated.isin(rare).mean() < 0.01  # new values, not the rare real ones


def test_transform_rejects_unseen_categories_and_new_nulls():
    frame = pd.DataFrame({"c": ["a", "b"] * 10, "x": np.arange(20.0)})
    _, values, tr, rng = fitted(frame)
    with pytest.raises(DataError, match="'c' holds a category"):
        tr.transform([np.array([0, 5]), np.array([1.0, 2.0])], rng)
    with pytest.raises(DataError, match="'x' has nulls"):
        tr.transform([np.array([0, 1]), np.array([1.0, np.nan])], rng)


def test_transformer_json_round_trip():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(["a", "b"], 300)})
    _, values, tr, rng = fitted(frame)
    back = DataTransformer.from_json(json.loads(json.dumps(tr.to_json())))
    assert back.layouts == tr.layouts and back.groups == tr.groups and back.width == tr.width


def test_timezone_timestamps_round_trip_through_codec_and_transformer():
    stamps = pd.date_range("2024-03-30 22:00", periods=300, freq="37min", tz="Europe/Berlin")
    frame = pd.DataFrame({"at": stamps})
    codecs, values, tr, rng = fitted(frame)
    rows = tr.transform(values, rng)
    decoded = codecs[0].decode(tr.decode(rows.alpha, rows.slots, 300)[0], rng)
    assert str(decoded.dt.tz) == "Europe/Berlin"
    diff = (decoded - frame["at"]).abs().max()
    assert diff <= pd.Timedelta(seconds=60)
