"""Tokens of the autoregressive model: every column type through encode and decode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import BOOL, DATE, INT, MONEY, TEXT, col

from synthohive_dbt.errors import DataError
from synthohive_dbt.schema import ColumnType, LogicalType
from synthohive_dbt.synth.autoregressive.tokens import CATEGORY, NUMBER, Tokenizer
from synthohive_dbt.synth.codec_fit import fit_codecs

TSTZ = ColumnType(LogicalType.TIMESTAMPTZ, "timestamptz")


def round_trip(frame: pd.DataFrame, columns, *, bins=100, min_rows=5, seed=0):
    """(tokenizer, tokens, decoded frame) of ``frame`` through tokens and back."""
    codecs = fit_codecs(frame, columns, min_rows)
    values = [c.encode(frame[col.name]) for c, col in zip(codecs, columns, strict=True)]
    tok = Tokenizer.fit(codecs, columns, values, bins=bins, quantiles=1000, min_rows=min_rows)
    rng = np.random.default_rng(seed)
    tokens = tok.encode(values, rng)
    back = tok.decode(tokens, len(codecs), rng)
    decoded = pd.DataFrame(
        {c.name: c.decode(np.full(len(frame), np.nan) if v is None else v, rng)
         for c, v in zip(codecs, back, strict=True)}
    )  # fmt: skip
    return tok, tokens, decoded


def ks(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return float(np.abs(np.searchsorted(a, grid, "right") / len(a)
                        - np.searchsorted(b, grid, "right") / len(b)).max())  # fmt: skip


def test_categories_booleans_and_nulls_come_back_exactly():
    rng = np.random.default_rng(1)
    n = 2000
    status = rng.choice(["new", "paid", "shipped"], n).astype(object)
    status[rng.random(n) < 0.1] = None
    frame = pd.DataFrame({"status": status, "flag": pd.array(rng.random(n) < 0.3, dtype="boolean")})
    frame.loc[frame.index[:50], "flag"] = pd.NA
    columns = [col("status", TEXT), col("flag", BOOL)]
    tok, tokens, back = round_trip(frame, columns)
    assert [s.kind for s in tok.specs] == [CATEGORY, CATEGORY]
    assert all(s.has_null for s in tok.specs)
    pd.testing.assert_series_equal(back["status"], frame["status"], check_dtype=False)
    pd.testing.assert_series_equal(back["flag"], frame["flag"], check_dtype=False)
    assert back["flag"].dtype == frame["flag"].dtype


def test_integers_stay_integral_with_their_marginal_and_nulls_in_place():
    rng = np.random.default_rng(2)
    n = 20_000
    values = np.concatenate([rng.poisson(3, n // 2), rng.integers(100, 10_000, n // 2)])
    qty = pd.array(values, dtype="Int64")
    qty[rng.random(n) < 0.05] = pd.NA
    frame = pd.DataFrame({"qty": qty})
    tok, tokens, back = round_trip(frame, [col("qty", INT)])
    (spec,) = tok.specs
    assert spec.kind == NUMBER and spec.values == 100 and spec.has_null
    assert back["qty"].dtype == "Int64"
    assert (back["qty"].isna() == frame["qty"].isna()).all()  # null token is exact
    real = frame["qty"].dropna().to_numpy(float)
    got = back["qty"].dropna().to_numpy(float)
    assert np.all(got == np.round(got))
    assert ks(real, got) < 0.01  # 100 bins read off a 1000-point quantile table
    # frequent small values (a Poisson's 0..6) keep their exact shares
    for v in range(6):
        assert np.mean(got == v) == pytest.approx(np.mean(real == v), abs=0.01)
    # a token is a position on the quantile scale: bins hold equal shares of rows
    counts = np.bincount(tokens[:, 0][frame["qty"].notna()], minlength=100)
    assert counts.min() > 0.6 * counts.mean() and counts.max() < 1.4 * counts.mean()


def test_decimals_keep_their_scale_and_the_protected_range():
    rng = np.random.default_rng(3)
    n = 5000
    amount = np.round(rng.lognormal(3, 1, n), 2)
    amount[0] = 1e7  # one extreme row: never a decoded value, nor a bound
    frame = pd.DataFrame({"amount": amount})
    _, _, back = round_trip(frame, [col("amount", MONEY)])
    got = back["amount"].to_numpy(float)
    assert np.allclose(got, np.round(got, 2))
    assert got.max() < 1e6 and got.max() <= np.sort(amount)[-5]
    assert ks(amount, got) < 0.02


def test_dates_and_zoned_timestamps_keep_type_zone_and_step():
    rng = np.random.default_rng(4)
    n = 3000
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    minutes = 1_699_999_980 + 60 * rng.integers(0, 200_000, n)
    stamps = pd.to_datetime(minutes, unit="s", utc=True).tz_convert("America/New_York")
    frame = pd.DataFrame({"day": days.date, "at": stamps})
    frame.loc[frame.index[:30], "at"] = pd.NaT
    _, _, back = round_trip(frame, [col("day", DATE), col("at", TSTZ)])
    assert str(back["at"].dt.tz) == "America/New_York"
    assert back["at"].isna().sum() == 30
    epoch = pd.Timestamp("1970-01-01", tz="UTC")
    seconds = (back["at"].dropna() - epoch).dt.total_seconds().to_numpy()
    assert np.all(seconds % 60 == 0)  # timestamps on whole minutes stay on minutes
    got_days = pd.to_datetime(back["day"])
    assert got_days.min() >= pd.Timestamp("2024-01-01")
    assert got_days.max() <= pd.Timestamp("2024-12-31")
    real = (pd.to_datetime(frame["day"]) - pd.Timestamp(0)).dt.days.to_numpy(float)
    assert ks(real, (got_days - pd.Timestamp(0)).dt.days.to_numpy(float)) < 0.02


def test_state_round_trip_and_not_null_checks():
    frame = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0] * 50, "y": [None] * 200})
    columns = [col("x", INT, not_null=True), col("y", TEXT)]
    codecs = fit_codecs(frame, columns)
    values = [c.encode(frame[x.name]) for c, x in zip(codecs, columns, strict=True)]
    tok = Tokenizer.fit(codecs, columns, values, bins=10, quantiles=100, min_rows=5)
    assert len(tok.specs) == 1  # the all-null column is the codec's, not a token column
    (spec,) = tok.specs
    assert spec.has_null and not spec.allow_null
    again = Tokenizer.from_state(tok.to_json(), tok.tensors())
    rng = np.random.default_rng(0)
    assert np.array_equal(again.encode(values, rng), tok.encode(values, np.random.default_rng(0)))
    everything_null = pd.DataFrame({"x": [np.nan] * 10})
    codecs = fit_codecs(everything_null, [col("x", INT)])
    with pytest.raises(DataError, match="declared not_null but every value is null"):
        Tokenizer.fit(
            codecs, [col("x", INT, not_null=True)], [np.full(10, np.nan)],
            bins=10, quantiles=100, min_rows=5,
        )  # fmt: skip
