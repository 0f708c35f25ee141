"""Privacy metrics against a holdout: made-up tables from one seeded generator."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from synthohive_dbt.privacy.metrics import TablePrivacy, table_privacy, write_report


def _people(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Mixed columns: float, int, text, bool, date, timestamp, with some nulls."""
    income = rng.lognormal(10, 1, n)
    income[rng.random(n) < 0.1] = np.nan
    day = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "income": income,
            "city": pd.Series(rng.choice(["ams", "ber", "par", "rom", None], n), dtype=object),
            "member": rng.random(n) < 0.3,
            "joined": pd.Series(day.date, dtype=object),
            "seen_at": day + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s"),
        }
    )


@pytest.fixture(scope="module")
def real() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    return _people(rng, 2000), _people(rng, 2000)


def _run(training, holdout, synthetic, seed: int = 0, **kwargs) -> TablePrivacy:
    rng = np.random.default_rng(seed)
    return table_privacy("people", training, holdout, synthetic, rng=rng, **kwargs)


def test_copy_of_training_fails(real):
    training, holdout = real
    result = _run(training, holdout, training.copy())
    assert result.exact_match_training == 1.0
    assert result.exact_match_holdout < 0.05
    assert result.dcr_share > 0.99
    assert result.nndr_median == 0.0
    assert result.unique_matches == 2000
    assert result.unique_matches_training_share == 1.0
    assert not result.passed
    assert len(result.reasons) == 2
    assert result.note is None


def test_fresh_sample_passes(real):
    training, holdout = real
    synthetic = _people(np.random.default_rng(99), 2000)
    result = _run(training, holdout, synthetic)
    assert abs(result.dcr_share - 0.5) < result.margin
    assert result.exact_match_training < 0.05
    assert 0.0 < result.nndr_median < 1.0
    assert result.passed and result.reasons == ()
    assert result.columns == ("age", "income", "city", "member", "joined", "seen_at")
    assert result.rows == {"training": 2000, "holdout": 2000, "synthetic": 2000}
    assert result.unique_matches == 0
    assert math.isnan(result.unique_matches_training_share)
    assert result.note.startswith("exact matches not judged: 0 real rows")


def test_copy_of_holdout_passes(real):
    training, holdout = real
    result = _run(training, holdout, holdout.copy())
    assert result.exact_match_holdout == 1.0
    assert result.dcr_share < 0.01
    assert result.unique_matches == 2000
    assert result.unique_matches_training_share == 0.0
    assert result.passed


def test_ties_count_half():
    # Every synthetic row is at distance 0 from one training and one holdout row.
    frame = pd.DataFrame({"a": np.arange(40), "b": ["x", "y"] * 20})
    result = _run(frame, frame.copy(), frame.iloc[::-1].reset_index(drop=True))
    assert result.dcr_share == 0.5
    assert result.exact_match_training == result.exact_match_holdout == 1.0
    assert result.unique_matches == 0  # every real value occurs twice
    assert result.passed


def test_equidistant_nonzero_ties_count_half():
    # Real values 0, 2, 4, ... alternate between training and holdout; each odd synthetic
    # value sits midway between two of them on the real CDF (up to rounding).
    training = pd.DataFrame({"x": np.arange(0, 100, 4, dtype=float)})
    holdout = pd.DataFrame({"x": np.arange(2, 100, 4, dtype=float)})
    synthetic = pd.DataFrame({"x": np.arange(1, 97, 2, dtype=float)})
    result = _run(training, holdout, synthetic)
    assert result.dcr_share == 0.5


def test_half_copied_rows_are_flagged(real):
    training, holdout = real
    fresh = _people(np.random.default_rng(5), 1000)
    synthetic = pd.concat([training.iloc[:1000], fresh], ignore_index=True)
    result = _run(training, holdout, synthetic)
    assert result.exact_match_training == pytest.approx(0.5)
    assert 0.7 < result.dcr_share < 0.8
    assert not result.passed


def test_nulls_are_equal_and_distinct_from_values():
    training = pd.DataFrame({"x": [np.nan, 1.0] * 20, "c": [None, "a"] * 20})
    holdout = pd.DataFrame({"x": [2.0, 3.0] * 20, "c": ["b", "c"] * 20})
    synthetic = pd.DataFrame({"x": [np.nan] * 10, "c": pd.Series([pd.NA] * 10, dtype="string")})
    result = _run(training, holdout, synthetic)
    assert result.exact_match_training == 1.0
    assert result.exact_match_holdout == 0.0
    assert result.dcr_share == 1.0
    assert not result.passed


def test_equal_values_across_dtypes_match_exactly():
    n = 30
    training = pd.DataFrame(
        {
            "n": np.arange(n),
            "d": pd.date_range("2021-01-01", periods=n, tz="UTC"),
            "k": np.arange(n) % 3,
        }
    )
    synthetic = pd.DataFrame(
        {
            "n": np.arange(n, dtype=float),
            "d": pd.Series(pd.date_range("2021-01-01", periods=n).date, dtype=object),
            "k": (np.arange(n) % 3).astype(str),
        }
    )
    holdout = training.assign(n=training["n"] + 1000)
    result = _run(training, holdout, synthetic, discrete=["k"])
    assert result.exact_match_training == 1.0
    assert result.exact_match_holdout == 0.0


def test_discrete_names_override_dtype():
    training = pd.DataFrame({"code": [0] * 20 + [10] * 20})
    holdout = pd.DataFrame({"code": [11] * 40})
    synthetic = pd.DataFrame({"code": [12] * 40})
    numeric = _run(training, holdout, synthetic)
    categories = _run(training, holdout, synthetic, discrete=["code"])
    # As numbers 12 ranks next to holdout's 11; as a category it matches neither: ties.
    assert numeric.dcr_share == 0.0
    assert categories.dcr_share == 0.5


def test_sampling_bounds_rows_and_is_deterministic(real):
    training, holdout = real
    synthetic = _people(np.random.default_rng(3), 3000)
    first = _run(training, holdout.iloc[:500], synthetic, seed=11, max_rows=400)
    again = _run(training, holdout.iloc[:500], synthetic, seed=11, max_rows=400)
    assert first.rows == {"training": 400, "holdout": 400, "synthetic": 400}
    assert first.exact_rows == {"training": 2000, "holdout": 500, "synthetic": 3000}
    assert first == again
    other = _run(training, holdout.iloc[:500], synthetic, seed=12, max_rows=400)
    assert other.dcr_share != first.dcr_share


def test_training_sampled_to_holdout_size(real):
    training, holdout = real
    result = _run(training, holdout.iloc[:300], training.iloc[:50])
    assert result.rows == {"training": 300, "holdout": 300, "synthetic": 50}
    # Exact matches use every real row: all 50 copies are found.
    assert result.exact_rows == {"training": 2000, "holdout": 300, "synthetic": 50}
    assert result.exact_match_training == 1.0
    assert result.unique_matches == 50


def test_max_exact_rows_caps_synthetic_rows(real):
    training, holdout = real
    result = _run(training, holdout, training.copy(), max_rows=100, max_exact_rows=500)
    assert result.rows == {"training": 100, "holdout": 100, "synthetic": 100}
    assert result.exact_rows == {"training": 2000, "holdout": 2000, "synthetic": 500}
    assert result.unique_matches == 500
    with pytest.raises(ValueError, match="max_exact_rows must be at least 1"):
        _run(training, holdout, training, max_exact_rows=0)


def test_too_few_holdout_rows_passes_with_note(real):
    training, holdout = real
    result = _run(training, holdout.iloc[:10], holdout.iloc[:10])
    assert result.passed and result.reasons == ()
    assert result.note == "too few holdout rows to judge"
    assert result.exact_match_holdout == 1.0
    assert result.rows == {"training": 10, "holdout": 10, "synthetic": 10}


def test_nothing_to_compare_passes_with_note(real):
    training, holdout = real
    result = _run(training[["age"]], holdout[["income"]], training[["age"]])
    assert result.columns == ()
    assert result.passed and result.note == "no columns in common to compare"
    assert math.isnan(result.dcr_share)
    assert result.to_json()["dcr_share"] is None


def test_only_common_columns_are_compared(real):
    training, holdout = real
    synthetic = training.drop(columns=["income"]).assign(extra=1)
    result = _run(training, holdout, synthetic)
    assert result.columns == ("age", "city", "member", "joined", "seen_at")


def test_write_report_round_trip_and_atomic(real, tmp_path):
    training, holdout = real
    results = [
        _run(training, holdout, training.copy()),
        _run(training, holdout.iloc[:5], holdout.iloc[:5]),
    ]
    results[1] = dataclasses.replace(results[1], table="tiny")
    path = tmp_path / "privacy.json"
    path.write_text("old")
    write_report(path, results)
    document = json.loads(path.read_text())
    assert document["format_version"] == 1
    assert set(document["tables"]) == {"people", "tiny"}
    assert document["tables"]["people"] == results[0].to_json()
    assert document["tables"]["people"]["passed"] is False
    assert document["tables"]["tiny"]["note"] == "too few holdout rows to judge"
    assert [p.name for p in tmp_path.iterdir()] == ["privacy.json"]


def test_write_report_failure_leaves_old_file(real, tmp_path):
    training, holdout = real
    result = _run(training, holdout, training.copy())
    path = tmp_path / "privacy.json"
    path.write_text("old")
    with pytest.raises(ValueError, match="appears twice"):
        write_report(path, [result, result])
    broken = dataclasses.replace(result, rows={"training": object()})
    with pytest.raises(TypeError):
        write_report(path, [broken])
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["privacy.json"]


# -- exact matches against large training sets ------------------------------------------------
def _mixed(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Continuous and discrete columns: rows are unique, fresh draws match no real row."""
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "y": rng.exponential(size=n).round(3),
            "c": rng.choice(np.array(list("abcdefgh"), dtype=object), n),
            "k": rng.integers(0, 5, n),
        }
    )


def _codes(rng: np.random.Generator, n: int, categories: int) -> pd.DataFrame:
    """Three skewed discrete columns: most rows repeat, some combinations occur once."""
    return pd.DataFrame({name: np.minimum(rng.zipf(1.5, n), categories) for name in "abc"})


def test_copying_a_tenth_of_a_large_training_set_fails():
    # The exact-match test must find copies among all 200,000 training rows, not among a
    # holdout-sized sample of them; distances alone (on samples) do not catch this model.
    rng = np.random.default_rng(21)
    training, holdout = _mixed(rng, 200_000), _mixed(rng, 20_000)
    copied = training.iloc[rng.choice(len(training), size=2000, replace=False)]
    synthetic = pd.concat([copied, _mixed(rng, 18_000)], ignore_index=True)
    result = _run(training, holdout, synthetic, max_rows=2000)
    assert result.exact_rows == {"training": 200_000, "holdout": 20_000, "synthetic": 20_000}
    assert result.exact_match_training == pytest.approx(0.1)
    assert result.exact_match_holdout == 0.0
    assert result.unique_matches == 2000
    assert result.unique_matches_training_share == 1.0
    assert result.dcr_share <= 0.5 + result.margin
    assert not result.passed
    assert len(result.reasons) == 1
    assert "2000 real rows that occur once" in result.reasons[0]
    assert "at most 92.2% is expected" in result.reasons[0]
    assert result.note is None


def test_chance_matches_with_a_larger_training_set_pass():
    # Fresh draws match training rows more often than holdout rows only because training is
    # ten times larger; unique real rows that reappear are training rows at the base rate.
    rng = np.random.default_rng(22)
    training, holdout = _codes(rng, 200_000, 40), _codes(rng, 20_000, 40)
    result = _run(training, holdout, _codes(rng, 20_000, 40), max_rows=2000, discrete=list("abc"))
    assert result.exact_match_training > result.exact_match_holdout + 0.05
    assert result.unique_matches >= 100
    assert abs(result.unique_matches_training_share - 200 / 220) < 0.05
    assert result.passed and result.reasons == ()
    assert result.note is None


def test_discrete_rows_of_common_values_pass():
    rng = np.random.default_rng(23)
    training, holdout = _codes(rng, 20_000, 3), _codes(rng, 2000, 3)
    result = _run(training, holdout, _codes(rng, 2000, 3))
    assert result.exact_match_training == result.exact_match_holdout == 1.0
    assert result.unique_matches == 0
    assert result.passed and result.reasons == ()
    assert result.note.startswith("exact matches not judged")
    assert result.to_json()["unique_matches_training_share"] is None


def test_exact_matches_judged_from_twenty_unique_matches(real):
    training, holdout = real
    fresh = _people(np.random.default_rng(31), 2000)
    nineteen = _run(training, holdout, pd.concat([training.iloc[:19], fresh]))
    assert nineteen.unique_matches == 19
    assert nineteen.passed
    assert nineteen.note.startswith("exact matches not judged: 19 real rows")
    twenty = _run(training, holdout, pd.concat([training.iloc[:20], fresh]))
    assert twenty.unique_matches == 20
    assert not twenty.passed and twenty.note is None
    assert "occur once" in twenty.reasons[0]


def test_repeats_of_one_real_row_are_one_unique_match(real):
    training, holdout = real
    fresh = _people(np.random.default_rng(32), 2000)
    synthetic = pd.concat([training.iloc[[0] * 50], fresh], ignore_index=True)
    result = _run(training, holdout, synthetic)
    assert result.exact_match_training == pytest.approx(50 / 2050)
    assert result.unique_matches == 1
    assert result.to_json()["unique_matches"] == 1
