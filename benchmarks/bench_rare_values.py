"""How rare-value protection decodes the "other" bucket: new values of the rare values'
shapes (what synthohive does) against the column's protected frequent values.

For Zipf-distributed text columns of several sizes (the long tail of cities, titles,
product names), every real row is encoded and decoded by the codec alone (no model, so only
the protection differs) and compared with the real column:

* ``tvd_raw``: TVD over the values themselves (what the generated ``tvd`` test measures);
* ``tvd_bucketed``: TVD with every value outside the protected frequent ones in one bucket
  (the distribution a reader of the column sees: its frequent values and a tail);
* ``distinct_ratio``: distinct synthetic values / distinct real values (a column that was
  mostly rare should stay mostly distinct).

Prints one JSON document. Usage: python benchmarks/bench_rare_values.py
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd

from synthohive_dbt.schema import Column, ColumnType, LogicalType
from synthohive_dbt.synth.codec_fit import fit_codec


def zipf_column(n: int, vocabulary: int, a: float, rng: np.random.Generator) -> pd.Series:
    """Street-like names ("Cbadjgh Road") with Zipf frequencies: a few frequent, a long tail."""
    stems = ["".join(r).title() for r in rng.choice(list("abcdefghij"), size=(vocabulary, 7))]
    kinds = rng.choice(["Street", "Road", "Lane", "Park"], size=vocabulary)
    words = np.array([f"{s} {k}" for s, k in zip(stems, kinds, strict=True)])
    ranks = np.minimum(rng.zipf(a, size=n), vocabulary) - 1
    return pd.Series(words[ranks], name="value")


def tvd(a: pd.Series, b: pd.Series) -> float:
    pa, pb = a.value_counts(normalize=True), b.value_counts(normalize=True)
    return 0.5 * float(pa.sub(pb, fill_value=0.0).abs().sum())


def measure(real: pd.Series, decoded: pd.Series, frequent: set) -> dict:
    bucket = lambda s: s.where(s.isin(frequent), "__tail__")  # noqa: E731
    return {
        "tvd_raw": round(tvd(real, decoded), 4),
        "tvd_bucketed": round(tvd(bucket(real), bucket(decoded)), 4),
        "distinct_ratio": round(decoded.nunique() / real.nunique(), 3),
    }


def main() -> None:
    rng = np.random.default_rng(0)
    out = []
    column = Column("value", type=ColumnType(LogicalType.TEXT, "text"))
    for n, vocabulary, a in [(2_000, 5_000, 1.3), (20_000, 50_000, 1.5), (100_000, 50_000, 2.0)]:
        real = zipf_column(n, vocabulary, a, rng)
        codec = fit_codec(real, column, 5)
        frequent = set(codec.categories) - {"__synthohive_other__"}
        codes = codec.encode(real)
        shapes = codec.decode(codes, np.random.default_rng(1))
        as_frequent = replace(codec, shapes=None, rare_range=None)  # rare -> frequent values
        frequents = as_frequent.decode(codes, np.random.default_rng(1))
        out.append(
            {
                "rows": n,
                "distinct_real": int(real.nunique()),
                "rare_share": round(float((~real.isin(frequent)).mean()), 4),
                "new_values_of_the_shapes": measure(real, shapes, frequent),
                "frequent_values": measure(real, frequents, frequent),
            }
        )
    print(json.dumps({"benchmark": "rare_values", "k": 5, "columns": out}, indent=1))


if __name__ == "__main__":
    main()
