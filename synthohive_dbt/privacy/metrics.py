"""Privacy metrics of a synthetic table against a holdout of real rows no model trained on.

The question is whether the synthetic rows sit closer to the rows the model saw (training)
than to real rows it never saw (holdout). If the model only learned the distribution, both
real sets are alike from the synthetic rows' point of view.

- Columns: those common to the three frames (the caller removes keys).
- Exact matches: on the raw values (rows hashed, nulls equal, numbers compared as floats,
  timestamps in UTC), never through distances, against all training and holdout rows;
  synthetic rows are sampled to at most ``max_exact_rows`` (200,000 by default).
  ``exact_match_training`` / ``exact_match_holdout``: share of synthetic rows equal to some
  training / holdout row. These shares depend on the set sizes (training is usually much
  larger), so the gate uses the unique real rows instead: values that occur once in
  training and holdout together. Rows go to the holdout by a hash of their key, whatever
  their values, so without copying a unique real row that reappears in the synthetic rows is
  a training row with probability p0 = training / (training + holdout).
  ``unique_matches``: how many distinct unique real rows reappear (each is one trial, however
  many synthetic rows repeat it); ``unique_matches_training_share``: the share of them that
  are training rows.
- Distances: both real sets are sampled to the same size, ``min(training, holdout,
  max_rows)`` (``max_rows`` = 10,000 by default), and the synthetic rows to at most
  ``max_rows``, so a model that did not memorise is closer to the training side for half of
  the synthetic rows (the ideal DCR share is 0.5). Encoding (``row_encoding``): numeric,
  date and timestamp columns are quantile-normalised to [0, 1] with the empirical CDF
  (mid-ranks) of the sampled real rows; a null becomes 0.5 plus a null indicator (1).
  Discrete columns (text, bool, categorical, or named in ``discrete``) are one-hot encoded
  over the sampled real rows' ``MAX_CATEGORIES`` most frequent values, the rest share an
  "other" slot and null has its own; each slot is 1/sqrt(2), so a mismatch costs a squared
  distance of 1: what a full-range numeric difference costs. Euclidean nearest neighbours
  (brute force), recomputed exactly for the neighbours found so that ties are ties; distances within
  ``TIE_TOLERANCE`` are equal.
- DCR share: synthetic rows closer to a training row than to a holdout row, ties count half.
- NNDR: nearest over second-nearest training distance; 1 when both are 0 (a row copied
  from two identical training rows singles out neither), 0 when only the nearest is 0.
- Gate: fails when the DCR share exceeds 0.5 + margin, margin = 1.96 * sqrt(0.25 /
  synthetic rows + 0.25 / reference rows): the binomial 95% half-width at p = 0.5 (the
  widest) for the synthetic rows, widened for the reference rows every synthetic row is
  measured against (a few dozen reference rows move the share as much as their own
  count of coin flips would; measured on the people fixture: the synthetic-rows term alone
  failed a model that copies nothing in 22% of reseeded samples), or when the unique
  matches' training share exceeds p0 + 1.96 * sqrt(p0 * (1 - p0) / unique_matches) (one-sided
  binomial test). The exact-match test needs at least ``MIN_UNIQUE_MATCHES`` (20) unique
  matches; with fewer, only distances judge and a ``note`` says so. Sampling is seeded by the
  caller's generator. With fewer than ``MIN_REFERENCE_ROWS`` (20) training or holdout rows
  the table is not judged: it passes, with a ``note`` saying why.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from .row_encoding import canonical_columns, distance_features, row_hashes

FORMAT_VERSION = 1
MIN_REFERENCE_ROWS = 20
MIN_UNIQUE_MATCHES = 20
TIE_TOLERANCE = 1e-9
Z_95 = 1.96
_DISTANCE_CHUNK = 1024  # rows per exact-distance block: bounds memory for wide one-hots


#: synthetic rows compared for exact matches at most (a sample of the generated table)
MAX_EXACT_ROWS = 200_000


@dataclass(frozen=True)
class TablePrivacy:
    """Privacy metrics of one synthetic table; the metrics are NaN when not computable.

    ``rows``: rows compared by distance (sampled); ``exact_rows``: rows compared for exact
    matches (all real rows, synthetic rows up to ``max_exact_rows``)."""

    table: str
    rows: dict
    exact_rows: dict
    columns: tuple[str, ...]
    exact_match_training: float
    exact_match_holdout: float
    unique_matches: int
    unique_matches_training_share: float
    dcr_share: float
    nndr_median: float
    margin: float
    passed: bool
    reasons: tuple[str, ...]
    note: str | None = None
    # distances to the closest training row and to the closest holdout row, as shares per
    # bin: {"edges", "training", "holdout"} (aggregates only; for the quality report)
    dcr_histogram: dict | None = None

    def to_json(self) -> dict:
        """A JSON-ready dict: tuples become lists, NaN becomes None."""
        out = asdict(self)
        out["rows"] = dict(self.rows)
        out["exact_rows"] = dict(self.exact_rows)
        out["columns"] = list(self.columns)
        out["reasons"] = list(self.reasons)
        for key, value in out.items():
            if isinstance(value, float) and math.isnan(value):
                out[key] = None
        return out


@dataclass(frozen=True)
class _ExactMatches:
    training: float
    holdout: float
    unique: int
    unique_training_share: float


def table_privacy(
    table: str,
    training: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    *,
    rng: np.random.Generator,
    max_rows: int = 10_000,
    max_exact_rows: int = MAX_EXACT_ROWS,
    discrete: Sequence[str] | None = None,
) -> TablePrivacy:
    """Compare ``synthetic`` with ``training`` and ``holdout`` (see the module docstring).

    ``discrete`` names columns to treat as categories whatever their dtype; names that are
    not compared (keys, absent columns) are ignored.
    """
    if max_rows < 1 or max_exact_rows < 1:
        raise ValueError(
            f"max_rows and max_exact_rows must be at least 1, got {max_rows} and {max_exact_rows}"
        )
    columns = tuple(c for c in training.columns if c in holdout.columns and c in synthetic.columns)
    n_train, n_hold = len(training), len(holdout)
    n_ref = min(n_train, n_hold, max_rows)
    n_exact = min(len(synthetic), max_exact_rows)
    n_syn = min(n_exact, max_rows)
    train_pick = _pick(n_train, n_ref, rng)
    hold_pick = _pick(n_hold, n_ref, rng)
    exact_pick = _pick(len(synthetic), n_exact, rng)
    syn_pick = _pick(n_exact, n_syn, rng)  # a sample of the exact-match rows
    rows = {"training": n_ref, "holdout": n_ref, "synthetic": n_syn}
    exact_rows = {"training": n_train, "holdout": n_hold, "synthetic": n_exact}
    margin = Z_95 * math.sqrt(0.25 / n_syn + 0.25 / max(n_ref, 1)) if n_syn else math.nan
    not_judged = _not_judged(columns, n_train, n_hold, n_syn)
    if not columns or n_ref < 2 or n_syn == 0:
        nan = math.nan
        return TablePrivacy(
            table, rows, exact_rows, columns, nan, nan, 0, nan, nan, nan, margin,
            passed=True, reasons=(), note=not_judged,
        )  # fmt: skip

    cols = list(columns)
    stacked = pd.concat(
        [training[cols], holdout[cols], synthetic[cols].iloc[exact_pick]], ignore_index=True
    )
    canonical = canonical_columns(stacked, n_real=n_train + n_hold, forced=set(discrete or ()))
    exact = _exact_matches(row_hashes(canonical), n_train, n_hold)

    sample = np.concatenate([train_pick, n_train + hold_pick, n_train + n_hold + syn_pick])
    features = distance_features(canonical, sample, n_real=2 * n_ref)
    x_train, x_hold, x_syn = np.split(features, [n_ref, 2 * n_ref])
    to_train = _nearest(x_train, x_syn, k=2)
    to_hold = _nearest(x_hold, x_syn, k=1)[:, 0]
    dcr = _dcr_share(to_train[:, 0], to_hold)
    nndr = _nndr_median(to_train)

    p0 = n_train / (n_train + n_hold)
    reasons = () if not_judged else _gate(dcr, margin, exact, p0)
    note = not_judged or _exact_not_judged(exact.unique)
    return TablePrivacy(
        table, rows, exact_rows, columns, exact.training, exact.holdout, exact.unique,
        exact.unique_training_share, dcr, nndr, margin,
        passed=not reasons, reasons=reasons, note=note,
        dcr_histogram=_dcr_histogram(to_train[:, 0], to_hold),
    )  # fmt: skip


def write_report(path: Path, results: Sequence[TablePrivacy]) -> None:
    """Write ``{"format_version": 1, "tables": {name: metrics}}`` to ``path`` atomically:
    a temporary file beside it, then ``os.replace``, so readers never see half a report."""
    path = Path(path)
    tables: dict[str, dict] = {}
    for result in results:
        if result.table in tables:
            raise ValueError(f"table {result.table!r} appears twice in the privacy report")
        tables[result.table] = result.to_json()
    document = {"format_version": FORMAT_VERSION, "tables": tables}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, allow_nan=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- sampling and judgement -----------------------------------------------------------------
def _pick(n_rows: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted positions of ``n`` of ``n_rows`` rows, all of them when ``n >= n_rows``."""
    if n >= n_rows:
        return np.arange(n_rows)
    return np.sort(rng.choice(n_rows, size=n, replace=False))


def _not_judged(
    columns: tuple[str, ...], n_training: int, n_holdout: int, n_syn: int
) -> str | None:
    """Why the gate cannot judge this table, or None when it can."""
    if not columns:
        return "no columns in common to compare"
    if n_holdout < MIN_REFERENCE_ROWS:
        return "too few holdout rows to judge"
    if n_training < MIN_REFERENCE_ROWS:
        return "too few training rows to judge"
    if n_syn == 0:
        return "no synthetic rows to judge"
    return None


def _exact_not_judged(unique: int) -> str | None:
    if unique >= MIN_UNIQUE_MATCHES:
        return None
    return (
        f"exact matches not judged: {unique} real rows that occur once in the real data "
        f"reappear in the synthetic rows, at least {MIN_UNIQUE_MATCHES} are needed; "
        "judged on distances only"
    )


def _gate(dcr: float, margin: float, exact: _ExactMatches, p0: float) -> tuple[str, ...]:
    """Failure reasons; ``p0``: the training share of the real rows."""
    reasons = []
    if dcr > 0.5 + margin:
        reasons.append(
            f"{dcr:.1%} of synthetic rows are closer to a training row than to a holdout "
            f"row; at most {0.5 + margin:.1%} is expected from a model that did not "
            "memorise its training rows (ideal 50%)"
        )
    m = exact.unique
    if m >= MIN_UNIQUE_MATCHES:
        limit = p0 + Z_95 * math.sqrt(p0 * (1.0 - p0) / m)
        if exact.unique_training_share > limit:
            reasons.append(
                f"{exact.unique_training_share:.1%} of the {m} real rows that occur once in "
                "the real data and reappear in the synthetic rows are training rows; at most "
                f"{limit:.1%} is expected from a model that did not copy training rows "
                f"({p0:.1%} of real rows are training rows; {exact.training:.1%} of synthetic "
                f"rows equal a training row, {exact.holdout:.1%} a holdout row)"
            )
    return tuple(reasons)


def _exact_matches(hashes: np.ndarray, n_train: int, n_hold: int) -> _ExactMatches:
    """Exact-match shares from row hashes of training, holdout and synthetic rows (in that
    order), and the distinct unique real rows that reappear in the synthetic rows."""
    h_train, h_hold, h_syn = np.split(hashes, [n_train, n_train + n_hold])
    values, counts = np.unique(hashes[: n_train + n_hold], return_counts=True)
    matched = np.intersect1d(values[counts == 1], h_syn)
    in_training = np.isin(matched, h_train)
    return _ExactMatches(
        training=float(np.isin(h_syn, h_train).mean()),
        holdout=float(np.isin(h_syn, h_hold).mean()),
        unique=len(matched),
        unique_training_share=float(in_training.mean()) if len(matched) else math.nan,
    )


def _dcr_share(to_train: np.ndarray, to_hold: np.ndarray) -> float:
    tie = np.abs(to_train - to_hold) <= TIE_TOLERANCE
    closer = (to_train < to_hold) & ~tie
    return float(closer.mean() + 0.5 * tie.mean())


def _dcr_histogram(to_train: np.ndarray, to_hold: np.ndarray, bins: int = 20) -> dict:
    """Shares of synthetic rows per distance bin, to training and to holdout rows; bins
    span 0 to the 99th percentile of both (farther rows count in the last bin)."""
    top = float(np.quantile(np.concatenate([to_train, to_hold]), 0.99))
    edges = np.linspace(0.0, top if top > 0 else 1.0, bins + 1)

    def shares(d: np.ndarray) -> list[float]:
        counts = np.bincount(np.clip(np.searchsorted(edges, d, "right") - 1, 0, bins - 1),
                             minlength=bins)  # fmt: skip
        return [float(c) for c in counts / max(len(d), 1)]

    return {"edges": [float(e) for e in edges], "training": shares(to_train),
            "holdout": shares(to_hold)}  # fmt: skip


def _nndr_median(dist: np.ndarray) -> float:
    nearest, second = dist[:, 0], dist[:, 1]
    ratio = np.ones_like(nearest)
    np.divide(nearest, second, out=ratio, where=second > TIE_TOLERANCE)
    return float(np.median(ratio))


def _nearest(reference: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """Sorted exact distances from each query row to its k nearest reference rows.

    The search uses the fast ||x||^2 + ||y||^2 - 2xy form, whose rounding turns equal
    distances into near-equal ones; recomputing the found neighbours' distances directly
    keeps identical rows at exactly 0 and ties within TIE_TOLERANCE.
    """
    search = NearestNeighbors(n_neighbors=k, algorithm="brute", metric="euclidean", n_jobs=1)
    index = search.fit(reference).kneighbors(query, return_distance=False)
    dist = np.empty(index.shape)
    for start in range(0, len(query), _DISTANCE_CHUNK):
        stop = start + _DISTANCE_CHUNK
        diff = query[start:stop, None, :] - reference[index[start:stop]]
        dist[start:stop] = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    return np.sort(dist, axis=1)
