"""The report's metrics, as SDMetrics 0.32 defines them, on numpy arrays.

Columns arrive prepared once (``prepare``): numeric and datetime columns as float64 with
NaN for nulls (datetimes in nanoseconds), categorical columns as pandas Series. Then:

- ``ks_complement``: 1 - the two-sample KS statistic over non-null values (KSComplement).
- ``tv_complement``: 1 - the total variation distance of category shares over non-null
  values (TVComplement drops nulls before counting).
- ``correlations``: pairwise-complete Pearson matrix; ``correlation_similarity`` is
  1 - |r_real - r_synth| / 2, undefined for a column constant on either side.
- ``contingency``: 1 - TVD of the joint shares of two discrete codes (nulls are a
  category), and the real side's Cramér's V. Continuous columns enter as ``bin_codes``:
  10 equal-width bins over each side's own non-null range, ``np.digitize`` codes 0..11, as
  SDMetrics' ColumnPairTrends bins each frame separately (its maximum and its nulls share
  code 11).
- ``children_per_parent``: how many child rows each parent row has (0 included);
  ``cardinality`` is the KS complement of the real and synthetic counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from synthohive_dbt.quality.spec import CATEGORICAL, DATETIME

MAX_DECIMALS = 14  # SDMetrics rounds continuous values so float noise makes no KS ties
PAIR_BINS = 10
DENSE_CELLS = 1 << 20  # joint tables up to this many cells are counted with one bincount


def prepare(series: pd.Series, kind: str) -> np.ndarray | pd.Series:
    """A column in the form its metrics read: float64 (NaN for nulls) or the raw Series."""
    if kind == CATEGORICAL:
        return series.reset_index(drop=True)
    if kind == DATETIME:
        stamps = pd.to_datetime(series, errors="coerce")
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        values = stamps.astype("datetime64[ns]").to_numpy()
        out = values.view("int64").astype("float64")
        out[np.isnat(values)] = np.nan
        return out
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def null_share(values: np.ndarray | pd.Series) -> float | None:
    if len(values) == 0:
        return None
    return float(pd.isna(values).mean())


# -- single columns ------------------------------------------------------------------------
def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """The two-sample KS statistic: the largest gap between the empirical CDFs."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    real = np.round(real[~np.isnan(real)], MAX_DECIMALS)
    synthetic = np.round(synthetic[~np.isnan(synthetic)], MAX_DECIMALS)
    if len(real) == 0 or len(synthetic) == 0:
        return np.nan
    return 1.0 - ks_statistic(real, synthetic)


def tv_complement(real: pd.Series, synthetic: pd.Series) -> float:
    real, synthetic = real.dropna(), synthetic.dropna()
    if len(real) == 0 or len(synthetic) == 0:
        return np.nan
    p = real.value_counts(normalize=True)
    q = synthetic.value_counts(normalize=True)
    p, q = p.align(q, fill_value=0.0)
    # clipped: float sums of shares can stray a rounding error below 0
    return max(0.0, 1.0 - 0.5 * float(np.abs(p.to_numpy() - q.to_numpy()).sum()))


# -- pairs -----------------------------------------------------------------------------------
def correlations(columns: Sequence[np.ndarray]) -> np.ndarray:
    """Pearson over the rows where both columns are present (NaN where undefined)."""
    if not columns:
        return np.empty((0, 0))
    frame = pd.DataFrame({i: col for i, col in enumerate(columns)})
    return frame.corr(method="pearson").to_numpy()


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson over the rows where both are present; NaN when either side has no spread."""
    both = ~(np.isnan(a) | np.isnan(b))
    x, y = a[both], b[both]
    if len(x) < 2:
        return np.nan
    x, y = x - x.mean(), y - y.mean()
    # plain sums, not BLAS dot products: the same result whatever the thread count
    denominator = np.sqrt(np.sum(x * x) * np.sum(y * y))
    if denominator == 0:
        return np.nan
    return float(np.clip(np.sum(x * y) / denominator, -1.0, 1.0))


def constant(values: np.ndarray) -> bool:
    """One distinct non-null value: SDMetrics refuses a correlation with such a column."""
    present = values[~np.isnan(values)]
    return len(present) > 0 and bool(np.all(present == present[0]))


def correlation_similarity(real: float, synthetic: float) -> float:
    if np.isnan(real) or np.isnan(synthetic):
        return np.nan
    return max(0.0, 1.0 - abs(real - synthetic) / 2.0)


def bin_codes(values: np.ndarray, bins: int = PAIR_BINS) -> np.ndarray:
    present = values[~np.isnan(values)]
    edges = np.histogram_bin_edges(present, bins=bins)
    return np.digitize(values, edges)


def category_codes(real: pd.Series, synthetic: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes shared by both sides, nulls one code of their own."""
    both = pd.concat([real, synthetic], ignore_index=True)
    codes, _ = pd.factorize(both, use_na_sentinel=False)
    return codes[: len(real)], codes[len(real) :]


def contingency(
    real: tuple[np.ndarray, np.ndarray], synthetic: tuple[np.ndarray, np.ndarray]
) -> tuple[float, float]:
    """(ContingencySimilarity, Cramér's V of the real side) for two code columns a side."""
    n_real, n_synth = len(real[0]), len(synthetic[0])
    if n_real == 0 or n_synth == 0:
        return np.nan, np.nan
    width = int(max(real[1].max(), synthetic[1].max())) + 1
    height = int(max(real[0].max(), synthetic[0].max())) + 1
    joint = np.concatenate([real[0] * width + real[1], synthetic[0] * width + synthetic[1]])
    if height * width <= DENSE_CELLS:
        cells = np.arange(height * width)
        inverse = joint
    else:  # many categories on both sides: count the cells that occur only
        cells, inverse = np.unique(joint, return_inverse=True)
    counts_real = np.bincount(inverse[:n_real], minlength=len(cells))
    counts_synth = np.bincount(inverse[n_real:], minlength=len(cells))
    tvd = 0.5 * np.abs(counts_real / n_real - counts_synth / n_synth).sum()
    return max(0.0, float(1.0 - tvd)), cramers_v(cells // width, cells % width, counts_real)


def cramers_v(rows: np.ndarray, cols: np.ndarray, counts: np.ndarray) -> float:
    """Cramér's V (no continuity correction) of a sparse table; NaN below 2 x 2."""
    seen = counts > 0
    rows, cols, counts = rows[seen], cols[seen], counts[seen].astype("float64")
    row_ids, row_of = np.unique(rows, return_inverse=True)
    col_ids, col_of = np.unique(cols, return_inverse=True)
    if min(len(row_ids), len(col_ids)) < 2:
        return np.nan
    row_sums = np.bincount(row_of, weights=counts)
    col_sums = np.bincount(col_of, weights=counts)
    n = counts.sum()
    # chi2 = n * (sum O^2 / (R C) - 1): only the non-empty cells contribute to the sum
    chi2 = n * (np.sum(counts**2 / (row_sums[row_of] * col_sums[col_of])) - 1.0)
    return float(np.sqrt(max(chi2, 0.0) / n / (min(len(row_ids), len(col_ids)) - 1)))


# -- relationships -------------------------------------------------------------------------
def _keys(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Index:
    if len(columns) == 1:
        return pd.Index(frame[columns[0]])
    return pd.MultiIndex.from_frame(frame[list(columns)])


def children_per_parent(
    parent: pd.DataFrame,
    parent_columns: Sequence[str],
    child: pd.DataFrame,
    columns: Sequence[str],
) -> np.ndarray:
    """Child rows per parent row, in parent row order (parents without children: 0)."""
    child_keys = _keys(child, columns)
    counts = pd.Series(1, index=child_keys).groupby(level=list(range(len(columns)))).size()
    parent_keys = _keys(parent, parent_columns)
    if len(columns) > 1:
        counts.index = counts.index.set_names(parent_keys.names)
    return counts.reindex(parent_keys, fill_value=0).to_numpy(dtype="int64")


def cardinality(real: np.ndarray, synthetic: np.ndarray) -> float:
    if len(real) == 0 or len(synthetic) == 0:
        return np.nan
    return 1.0 - ks_statistic(real, synthetic)


def orphans(
    parent: pd.DataFrame,
    parent_columns: Sequence[str],
    child: pd.DataFrame,
    columns: Sequence[str],
) -> int:
    """Child rows with every FK column set and no parent row holding those values."""
    present = child[list(columns)].notna().all(axis=1).to_numpy()
    known = _keys(child, columns).isin(_keys(parent, parent_columns))
    return int(np.sum(present & ~known))
