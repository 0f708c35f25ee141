"""The report's charts: aggregates only, never a single real row's value.

- Histograms (numeric, datetime): ``HIST_BINS`` equal-width bins over the protected range
  [k-th smallest, k-th largest real value] with k = ``min_rows``; values outside it fall
  into the end bins, so no edge is a lone extreme. Fewer than 2k real values: no chart.
  Datetime edges are ISO-8601 strings.
- Bars (categorical): a label only for a value seen in at least ``min_rows`` real rows, the
  ``MAX_BARS`` most frequent of those; every other value, synthetic-only ones included, is
  one ``OTHER_LABEL`` bar.
- Children per parent: the same protected range over the real counts, one bin per count
  when the range is narrow.
Shares are of non-null values (the null shares are reported beside the chart).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthohive_dbt.quality.spec import DATETIME, OTHER_LABEL

HIST_BINS = 20
MAX_BARS = 30
NONE = {"type": "none"}


def protected_range(real: np.ndarray, k: int) -> tuple[float, float] | None:
    """[k-th smallest, k-th largest] of the real non-null values, or None when too few."""
    present = np.sort(real[~np.isnan(real)])
    k = max(int(k), 1)
    if len(present) < 2 * k:
        return None
    return float(present[k - 1]), float(present[-k])


def _shares(values: np.ndarray, edges: np.ndarray) -> list[float]:
    present = values[~np.isnan(values)]
    if len(present) == 0:
        return [0.0] * (len(edges) - 1)
    # searchsorted against the inner edges: below the range -> first bin, above -> last
    index = np.searchsorted(edges[1:-1], present, side="right")
    counts = np.bincount(index, minlength=len(edges) - 1)
    return (counts / len(present)).tolist()


def histogram(real: np.ndarray, synthetic: np.ndarray, kind: str, min_rows: int) -> dict:
    bounds = protected_range(real, min_rows)
    if bounds is None:
        return dict(NONE)
    lo, hi = bounds
    edges = np.linspace(lo, hi, HIST_BINS + 1) if hi > lo else np.array([lo, hi])
    shown = edges.tolist()
    if kind == DATETIME:
        shown = [pd.Timestamp(int(round(e))).isoformat() for e in edges]
    return {
        "type": "histogram",
        "edges": shown,
        "real": _shares(real, edges),
        "synthetic": _shares(synthetic, edges),
    }


def bars(real: pd.Series, synthetic: pd.Series, min_rows: int) -> dict:
    real, synthetic = real.dropna(), synthetic.dropna()
    counts = real.value_counts()
    counts = counts[counts >= min_rows]
    # most frequent first, ties by label so the choice does not depend on row order
    order = pd.DataFrame({"n": counts.to_numpy(), "label": counts.index.map(str)})
    order = order.sort_values(["n", "label"], ascending=[False, True], kind="stable")
    kept = counts.index[order.index[:MAX_BARS]]
    labels = [str(v) for v in kept]
    real_shares = _bar_shares(real, kept)
    synth_shares = _bar_shares(synthetic, kept)
    if real_shares[-1] > 0 or synth_shares[-1] > 0:
        labels.append(OTHER_LABEL)
    else:
        real_shares, synth_shares = real_shares[:-1], synth_shares[:-1]
    return {"type": "bars", "labels": labels, "real": real_shares, "synthetic": synth_shares}


def _bar_shares(values: pd.Series, kept: pd.Index) -> list[float]:
    """Shares of each kept value, then of everything else."""
    if len(values) == 0:
        return [0.0] * (len(kept) + 1)
    counts = values.value_counts()
    shown = counts.reindex(kept, fill_value=0).to_numpy(dtype="float64")
    other = len(values) - shown.sum()
    return (np.append(shown, other) / len(values)).tolist()


def children_histogram(real: np.ndarray, synthetic: np.ndarray, min_rows: int) -> dict:
    real_f, synth_f = real.astype("float64"), synthetic.astype("float64")
    bounds = protected_range(real_f, min_rows)
    if bounds is None:
        return dict(NONE)
    lo, hi = bounds
    if hi - lo < HIST_BINS:  # counts are integers: one bin per count, [n, n + 1)
        edges = np.arange(lo, hi + 2, dtype="float64")
    else:
        edges = np.linspace(lo, hi, HIST_BINS + 1)
    return {
        "type": "histogram",
        "edges": edges.tolist(),
        "real": _shares(real_f, edges),
        "synthetic": _shares(synth_f, edges),
    }
