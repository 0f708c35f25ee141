"""Column codecs: raw values <-> model numbers, for every logical type."""

from __future__ import annotations

import datetime
import json
import re

import numpy as np
import pandas as pd
import pytest
from helpers import col

from synthohive_dbt.errors import DataError
from synthohive_dbt.schema import Column, LogicalType
from synthohive_dbt.synth.codec_fit import MAX_CATEGORIES, fit_codecs
from synthohive_dbt.synth.codec_fit import fit_codec as protected_codec
from synthohive_dbt.synth.columns import (
    CONTINUOUS,
    DISCRETE,
    NULL,
    UUID,
    ColumnCodec,
)


def fit_codec(series: pd.Series, column: Column) -> ColumnCodec:
    """The codec mechanics without rare-value protection (tests/test_privacy_rare.py
    covers the protection): every value kept, the real extremes bound the range."""
    return protected_codec(series, column, 1)


UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def round_trip(series: pd.Series, column: Column, seed: int = 0) -> tuple[ColumnCodec, pd.Series]:
    """Fit, encode, decode, with the codec passed through JSON on the way."""
    codec = fit_codec(series, column)
    codec = ColumnCodec.from_json(json.loads(json.dumps(codec.to_json())))
    return codec, codec.decode(codec.encode(series), np.random.default_rng(seed))


@pytest.mark.parametrize(
    ("series", "logical", "native", "kind"),
    [
        (pd.Series(np.arange(100), name="c"), LogicalType.INTEGER, "bigint", CONTINUOUS),
        (
            pd.Series([1, 2, None, 3] * 5, dtype="Int64", name="c"),
            LogicalType.INTEGER,
            "",
            DISCRETE,
        ),
        (pd.Series([1.0, 2.0, np.nan] * 4, name="c"), LogicalType.INTEGER, "", DISCRETE),
        (pd.Series([0.5, -1.25, np.nan, 3.0], name="c"), LogicalType.FLOAT, "double", CONTINUOUS),
        (pd.Series(["a", "b", None, "a"], name="c"), LogicalType.TEXT, "text", DISCRETE),
        (pd.Series([True, False, True], name="c"), LogicalType.BOOLEAN, "boolean", DISCRETE),
        (
            pd.Series([True, None, False], dtype="boolean", name="c"),
            LogicalType.BOOLEAN,
            "",
            DISCRETE,
        ),
        (pd.Series([True, None, False], dtype=object, name="c"), LogicalType.BOOLEAN, "", DISCRETE),
        (
            pd.Series(pd.to_datetime(["2024-01-01", None, "1999-12-31"]), name="c"),
            LogicalType.DATE,
            "date",
            CONTINUOUS,
        ),
        (
            pd.Series(
                pd.to_datetime(["2024-01-01 10:00:01.5", None, "1969-07-20 20:17:40.0"]), name="c"
            ),
            LogicalType.TIMESTAMP,
            "timestamp",
            CONTINUOUS,
        ),
    ],
)
def test_round_trip_restores_values_and_dtype(series, logical, native, kind):
    codec, decoded = round_trip(series, col("c", logical, native))
    assert codec.kind == kind
    assert decoded.dtype == series.dtype
    pd.testing.assert_series_equal(decoded, series, check_exact=True)


def test_timestamptz_keeps_its_time_zone():
    stamps = pd.to_datetime(["2024-03-31 01:30", "2024-03-31 03:30", None, "2023-10-29 02:30"])
    series = pd.Series(stamps.tz_localize("Europe/Berlin", ambiguous=True), name="at")
    codec, decoded = round_trip(series, col("at", LogicalType.TIMESTAMPTZ, "timestamptz"))
    assert codec.tz == "Europe/Berlin"
    assert str(decoded.dt.tz) == "Europe/Berlin"
    pd.testing.assert_series_equal(decoded, series)


def test_integers_come_back_integral_and_clipped():
    codec = fit_codec(pd.Series(np.arange(50), name="n"), col("n", LogicalType.INTEGER))
    decoded = codec.decode(np.array([3.4, 3.6, -10.0, 99.0, np.nan]), np.random.default_rng(0))
    assert decoded.tolist()[:4] == [3.0, 4.0, 0.0, 49.0]
    assert np.isnan(decoded.iloc[4])


def test_integer_dtype_restored_without_nulls():
    codec = fit_codec(pd.Series(np.arange(50), name="n"), col("n", LogicalType.INTEGER))
    decoded = codec.decode(np.array([3.4, 7.6]), np.random.default_rng(0))
    assert decoded.dtype == np.int64
    assert decoded.tolist() == [3, 8]


def test_numeric_decimals_are_rounded_to_the_declared_scale():
    series = pd.Series([1.0, 2.5, 9.99], name="price")
    codec = fit_codec(series, col("price", LogicalType.NUMERIC, "numeric(10,2)"))
    assert codec.decimals == 2
    decoded = codec.decode(np.array([1.23456, 5.55555]), np.random.default_rng(0))
    assert decoded.tolist() == [1.23, 5.56]


def test_accepted_range_narrows_the_clip():
    column = col("pct", LogicalType.FLOAT, accepted_range=(0.0, 1.0))
    codec = fit_codec(pd.Series([-0.5, 0.2, 1.5], name="pct"), column)
    assert (codec.minimum, codec.maximum) == (0.0, 1.0)
    decoded = codec.decode(np.array([-3.0, 0.5, 3.0]), np.random.default_rng(0))
    assert decoded.tolist() == [0.0, 0.5, 1.0]


def test_accepted_values_make_a_column_discrete():
    column = col("size", LogicalType.INTEGER, accepted_values=(1, 2, 3))
    series = pd.Series([1.0, 3.0, np.nan, 2.0] * 10, name="size")  # ints with nulls: float64
    codec, decoded = round_trip(series, column)
    assert codec.kind == DISCRETE
    assert sorted(codec.categories) == [1, 2, 3]
    pd.testing.assert_series_equal(decoded, series)


def test_uuid_columns_are_regenerated_in_canonical_form():
    series = pd.Series(["5f82c2d9-cfeb-4fa3-a1d7-d982f8bd1045", None] * 50, name="token")
    codec = fit_codec(series, col("token", LogicalType.UUID, "uuid"))
    assert codec.kind == UUID
    decoded = codec.decode(np.zeros(2000), np.random.default_rng(0))
    present = decoded.dropna()
    assert len(decoded) == 2000
    assert 0.4 < decoded.isna().mean() < 0.6
    assert all(UUID_RE.match(v) for v in present)
    assert present.nunique() == len(present)


def test_high_cardinality_text_uses_the_other_bucket():
    values = [f"v{i}" for i in range(MAX_CATEGORIES + 300)]
    counts = np.r_[np.full(MAX_CATEGORIES, 3), np.ones(300, dtype=int)]
    series = pd.Series(np.repeat(values, counts), name="word")
    codec = protected_codec(series, col("word", LogicalType.TEXT), 1)
    assert codec.n_categories == MAX_CATEGORIES + 1
    assert codec.other_index == MAX_CATEGORIES
    assert len(codec.other_values) == 300
    codes = codec.encode(series)
    assert (codes[-300:] == codec.other_index).all()
    decoded = codec.decode(np.full(100, codec.other_index), np.random.default_rng(0))
    assert set(decoded) <= set(codec.other_values)


def test_unseen_category_is_a_data_error():
    codec = fit_codec(pd.Series(["a", "b"], name="c"), col("c", LogicalType.TEXT))
    with pytest.raises(DataError, match=r"'c' holds 1 value\(s\) not seen during fit"):
        codec.encode(pd.Series(["a", "zzz"], name="c"))


def test_infinities_are_a_data_error():
    series = pd.Series([1.0, np.inf, 2.0], name="ratio")
    with pytest.raises(DataError, match="'ratio' holds infinite values"):
        fit_codec(series, col("ratio", LogicalType.FLOAT))


def test_mixed_numbers_and_text_are_a_data_error():
    series = pd.Series([1, "two", 3.0], dtype=object, name="mixed")
    with pytest.raises(DataError, match="'mixed' mixes numbers and text"):
        fit_codec(series, col("mixed", LogicalType.FLOAT))


def test_fit_codecs_reports_every_bad_column_at_once():
    frame = pd.DataFrame({"a": [1.0, np.inf], "b": [1, "x"], "ok": [1.0, 2.0]})
    columns = [
        col("a", LogicalType.FLOAT),
        col("b", LogicalType.FLOAT),
        col("ok", LogicalType.FLOAT),
    ]
    with pytest.raises(DataError) as info:
        fit_codecs(frame, columns)
    assert len(info.value.problems) == 2


def test_all_null_column_has_null_kind():
    series = pd.Series([None, None, None], dtype=object, name="empty")
    codec = fit_codec(series, col("empty", LogicalType.TEXT))
    assert codec.kind == NULL
    assert codec.decode(np.zeros(4), np.random.default_rng(0)).isna().all()


def test_codec_json_is_plain_json():
    series = pd.Series([True, False, None], dtype=object, name="flag")
    codec = fit_codec(series, col("flag", LogicalType.BOOLEAN))
    text = json.dumps(codec.to_json())
    assert ColumnCodec.from_json(json.loads(text)) == codec


def test_date_objects_round_trip_as_dates():
    series = pd.Series([datetime.date(2024, 1, 1), None, datetime.date(2020, 2, 29)], name="d")
    codec = fit_codec(series, col("d", LogicalType.DATE, "date"))
    values = codec.encode(series)
    assert values[0] == (pd.Timestamp("2024-01-01") - pd.Timestamp("1970-01-01")).days
    assert np.isnan(values[1])


def test_lumpy_numbers_are_categories_smooth_ones_continuous():
    rng = np.random.default_rng(0)
    cents = pd.Series(rng.choice(np.arange(1, 54) * 100, size=1500), name="subtotal")
    assert fit_codec(cents, col("subtotal", LogicalType.INTEGER)).kind == DISCRETE
    dollars = (cents / 100).rename("amount")  # the same lumps as decimals
    assert fit_codec(dollars, col("amount", LogicalType.NUMERIC)).kind == DISCRETE
    smooth = pd.Series(rng.normal(size=1500), name="x")
    assert fit_codec(smooth, col("x", LogicalType.FLOAT)).kind != DISCRETE
    few_rows = pd.Series(np.arange(30) * 100, name="y")  # 30 values seen once each
    assert fit_codec(few_rows, col("y", LogicalType.INTEGER)).kind != DISCRETE
