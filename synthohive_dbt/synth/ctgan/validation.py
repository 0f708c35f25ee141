"""Validation score: per-column similarity of generated rows to a held-out sample.

Continuous columns score 1 - KS statistic (nulls count as a point mass below every
value), discrete columns 1 - total variation distance; the score is their mean, in [0, 1].

With a parent context the generated rows are made from the held-out rows' contexts, and
the score is taken within groups of similar contexts (quantiles of the contexts' first
principal component), weighted by group size: a model that ignores its context matches
the marginals but not the groups, and scores lower.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .transformer import CATEGORIES, MODES, ColumnLayout

#: tables smaller than this validate on a sample of their training rows (no hold-out)
MIN_ROWS_FOR_HOLDOUT = 100
#: a given holdout smaller than this is not a validation sample (checkpoints would follow
#: noise): such tables validate on their training rows, as small tables do
MIN_VALIDATION_ROWS = 10
#: context groups for conditional validation: at most this many, of at least MIN rows
CONTEXT_GROUPS = 4
MIN_GROUP_ROWS = 25


def holdout_size(n: int, cap: int) -> int:
    """10% of the table, at most ``cap`` rows; 0 for tables too small to spare rows."""
    return 0 if n < MIN_ROWS_FOR_HOLDOUT else min(n // 10, cap)


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic; NaN sorts below every number."""
    a = np.sort(np.where(np.isnan(a), -np.inf, a))
    b = np.sort(np.where(np.isnan(b), -np.inf, b))
    if not len(a) or not len(b):
        return 1.0
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / len(a)
    cdf_b = np.searchsorted(b, points, side="right") / len(b)
    return float(np.abs(cdf_a - cdf_b).max())


def tv_distance(a: np.ndarray, b: np.ndarray, n_codes: int) -> float:
    """Total variation distance of two code arrays (-1 = null)."""
    if not len(a) or not len(b):
        return 1.0
    pa = np.bincount(a + 1, minlength=n_codes + 1) / len(a)
    pb = np.bincount(b + 1, minlength=n_codes + 1) / len(b)
    return float(0.5 * np.abs(pa - pb).sum())


def similarity(
    real: Sequence[np.ndarray], fake: Sequence[np.ndarray], layouts: Sequence[ColumnLayout]
) -> float:
    scores = []
    for layout, r, f in zip(layouts, real, fake, strict=True):
        if layout.kind == MODES:
            scores.append(1.0 - ks_statistic(np.asarray(r, float), np.asarray(f, float)))
        elif layout.kind == CATEGORIES:
            ra, fa = np.asarray(r, np.int64), np.asarray(f, np.int64)
            scores.append(1.0 - tv_distance(ra, fa, layout.width))
    return float(np.mean(scores)) if scores else 1.0


def context_groups(context: np.ndarray | None) -> list[np.ndarray] | None:
    """Row indices of up to CONTEXT_GROUPS groups of similar contexts (None: no context,
    too few rows, or a constant context)."""
    if context is None or len(context) < 2 * MIN_GROUP_ROWS or not context.shape[1]:
        return None
    centred = np.asarray(context, np.float64) - np.mean(context, axis=0)
    if not np.any(centred):
        return None
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    order = np.argsort(centred @ vt[0], kind="stable")
    return np.array_split(order, min(CONTEXT_GROUPS, len(context) // MIN_GROUP_ROWS))


def conditional_similarity(
    real: Sequence[np.ndarray],
    fake: Sequence[np.ndarray],
    layouts: Sequence[ColumnLayout],
    groups: Sequence[np.ndarray],
) -> float:
    """``similarity`` within each group of rows, weighted by group size (rows of ``real``
    and ``fake`` are aligned: fake row i was made from real row i's context)."""
    total = sum(len(g) for g in groups)
    return float(
        sum(
            len(g) / total * similarity([r[g] for r in real], [f[g] for f in fake], layouts)
            for g in groups
        )
    )
