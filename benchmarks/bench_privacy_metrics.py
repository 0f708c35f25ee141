"""Speed of the holdout privacy metrics (``synthohive_dbt.privacy.metrics.table_privacy``).

Made-up data from one seeded generator: 200,000 training rows, 20,000 holdout rows and
200,000 synthetic rows of 10 mixed columns (4 numeric, two with nulls; a date stored as
Python ``date`` objects; a timestamp; a 1,000-value Zipf-distributed text column, which
the one-hot caps at its 256 most frequent values; a 5-value text column; a bool; a text
column with nulls). Two synthetic tables:

- ``fresh``: a new draw from the same generator (should pass; DCR share near 0.5);
- ``leaky``: the same with 10% of its rows copied from training (should fail, on the
  exact-match test: the copies are unique real rows that are all training rows).

Each call is timed end to end (sampling, encoding, row hashes of all real rows and up to
200,000 synthetic rows, neighbour search on ``max_rows`` samples) with the defaults and a
fixed seed; the figure is the median of ``--repeats`` calls. ``verdicts`` says per scenario
whether the table passed and whether that is the expected verdict.

    .venv/bin/python benchmarks/bench_privacy_metrics.py --repeats 3

prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
import pandas as pd

from synthohive_dbt.privacy.metrics import table_privacy

CITIES = np.array([f"city_{i:04d}" for i in range(1000)], dtype=object)
STATUS = np.array(["new", "active", "paused", "churned", "vip"], dtype=object)


def make_table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Ten mixed columns with some structure between them."""
    age = rng.integers(18, 90, n)
    income = rng.lognormal(9 + age / 60, 0.8)
    income[rng.random(n) < 0.05] = np.nan
    score = rng.normal(age / 10, 2.0)
    visits = rng.poisson(3 + (age % 7), n).astype(float)
    visits[rng.random(n) < 0.02] = np.nan
    day = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 2500, n), unit="D")
    seen = day + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
    city = CITIES[np.minimum(rng.zipf(1.3, n), len(CITIES)) - 1]
    note = rng.choice(np.array(["a", "b", "c", None], dtype=object), n, p=[0.4, 0.3, 0.2, 0.1])
    return pd.DataFrame(
        {
            "age": age,
            "income": income,
            "score": score,
            "visits": visits,
            "joined": pd.Series(day.date, dtype=object),
            "last_seen": seen,
            "city": city,
            "status": STATUS[rng.integers(0, len(STATUS), n)],
            "member": rng.random(n) < 0.3,
            "note": note,
        }
    )


def time_call(training, holdout, synthetic, repeats: int) -> tuple[float, list[float], dict]:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = table_privacy("bench", training, holdout, synthetic, rng=np.random.default_rng(0))
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), seconds, result.to_json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--training", type=int, default=200_000)
    parser.add_argument("--holdout", type=int, default=20_000)
    parser.add_argument("--synthetic", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(2026)
    training = make_table(rng, args.training)
    holdout = make_table(rng, args.holdout)
    fresh = make_table(rng, args.synthetic)
    copied = rng.choice(args.training, size=args.synthetic // 10, replace=False)
    leaky = pd.concat([training.iloc[copied], fresh.iloc[len(copied) :]], ignore_index=True)

    out = {
        "benchmark": "privacy_metrics",
        "rows": {"training": args.training, "holdout": args.holdout, "synthetic": args.synthetic},
        "columns": len(training.columns),
        "repeats": args.repeats,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "scenarios": {},
    }
    for name, synthetic in (("fresh", fresh), ("leaky", leaky)):
        median, raw, metrics = time_call(training, holdout, synthetic, args.repeats)
        out["scenarios"][name] = {"seconds": round(median, 3), "seconds_raw": raw, **metrics}
    expected = {"fresh": True, "leaky": False}
    out["verdicts"] = {
        name: {
            "passed": out["scenarios"][name]["passed"],
            "as_expected": out["scenarios"][name]["passed"] == should_pass,
        }
        for name, should_pass in expected.items()
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
