"""The Gaussian copula's parts: latent dimensions and the marginals that map columns to
normal scores (quantile tables for values, interval arrays for categories and nulls), the
parent context's latents and the regularised correlation of the joint latent."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from ..errors import ModelError
from .columns import ColumnCodec

ROLE_VALUE, ROLE_NULL, ROLE_CATEGORY = "value", "null", "category"
EIGEN_FLOOR = 1e-4  # conditional variances never fall below this: sampling stays stable


@dataclass(frozen=True)
class Dim:
    """One latent dimension: a column's value (quantile row) or its intervals (flat slice)."""

    column: int
    role: str  # ROLE_VALUE | ROLE_NULL | ROLE_CATEGORY
    row: int = -1  # value: row of the quantile table
    offset: int = 0  # null/category: start in the flat interval arrays
    size: int = 0  # null/category: number of intervals


# -- marginals ------------------------------------------------------------------------------
class Marginals:
    """Collects latent dimensions while fitting: quantile rows for values, flat interval
    arrays (lower edges, codes in layout order) for categories and null indicators."""

    def __init__(self, levels: np.ndarray):
        self.levels = levels
        self.dims: list[Dim] = []
        self.latents: list[np.ndarray] = []
        self.quantiles: list[np.ndarray] = []
        self.edges: list[np.ndarray] = []
        self.codes: list[np.ndarray] = []

    def add_continuous(
        self,
        column: int,
        codec: ColumnCodec,
        values: np.ndarray,
        rng: np.random.Generator,
        k: int = 1,
    ) -> None:
        """A value dimension, plus a null indicator when the codec lets nulls through
        (not_null codecs have null_rate 0: their null rows only drop out of the fit).
        The quantile table holds means of ``k`` neighbouring values, never one row's."""
        present = ~np.isnan(values)
        latent, ordered = value_latent(values, present, rng)
        self.dims.append(Dim(column, ROLE_VALUE, row=len(self.quantiles)))
        self.quantiles.append(quantile_table(k_means(ordered, k), self.levels))
        self.latents.append(latent)
        if codec.null_rate > 0:
            layout = np.array([0, -1], dtype=np.int64)
            self._add_intervals(column, ROLE_NULL, np.where(present, 0, -1), layout, rng)

    def add_discrete(
        self, column: int, codec: ColumnCodec, cat_codes: np.ndarray, rng: np.random.Generator
    ) -> None:
        if codec.null_rate == 0:  # not_null: null rows (-2) are left out of the fit
            cat_codes = np.where(cat_codes < 0, -2, cat_codes)
        self._add_intervals(
            column, ROLE_CATEGORY, cat_codes, category_layout(codec, cat_codes), rng
        )

    def _add_intervals(
        self,
        column: int,
        role: str,
        cat_codes: np.ndarray,
        layout: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        offset = sum(map(len, self.codes))
        self.dims.append(Dim(column, role, offset=offset, size=len(layout)))
        lower, latent = interval_latent(cat_codes, layout, rng)
        self.edges.append(lower)
        self.codes.append(layout)
        self.latents.append(latent)


def latent_levels(n: int, quantiles: int) -> np.ndarray:
    if quantiles < 2:
        raise ModelError(f"copula option quantiles={quantiles} must be at least 2")
    return np.linspace(0.0, 1.0, max(2, min(n, quantiles)))


def k_means(ordered: np.ndarray, k: int) -> np.ndarray:
    """Sorted values replaced by the mean of the ``k`` values around each (a moving
    window that stays inside the data): the stored marginal is made of means of at least
    k real values (privacy: no single row's value, extremes included), still sorted."""
    m = len(ordered)
    k = min(max(int(k), 1), m)
    if k <= 1:
        return ordered
    sums = np.concatenate([[0.0], np.cumsum(ordered)])
    start = np.clip(np.arange(m) - k // 2, 0, m - k)
    means = (sums[start + k] - sums[start]) / k
    # equal values stay exact (a tie run at least k long keeps its value)
    return np.maximum.accumulate(means)


def quantile_table(ordered: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Linear-interpolated quantiles of sorted values at ``levels`` (ties stay flat)."""
    m = len(ordered)
    return np.interp(levels * (m - 1), np.arange(m), ordered)


def value_latent(
    values: np.ndarray, present: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(normal scores, sorted present values) through the empirical CDF; a tied value
    spreads uniformly over its CDF jump. Null rows get NaN: correlations are estimated
    over present values only."""
    x = values[present]
    m = len(x)
    order = np.argsort(x, kind="stable")
    ordered = x[order]
    # sorted queries keep searchsorted cache-friendly (random ones are ~10x slower)
    below = np.searchsorted(ordered, ordered, side="left")
    upto = np.searchsorted(ordered, ordered, side="right")
    u = np.empty(m)
    u[order] = (below + rng.random(m) * (upto - below)) / m
    latent = np.full(len(values), np.nan)
    latent[present] = ndtri(np.clip(u, 0.5 / m, 1 - 0.5 / m))
    return latent, ordered


def category_layout(codec: ColumnCodec, cat_codes: np.ndarray) -> np.ndarray:
    """Interval order: numeric categories by value (ordinal), others as the codec orders
    them (by frequency); null (-1) last, present only when it occurs."""
    order = np.arange(codec.n_categories, dtype=np.int64)
    numeric = all(isinstance(c, (int, float)) for c in codec.categories)
    if numeric and codec.other_index is None:
        order = np.array(sorted(order, key=lambda i: codec.categories[i]), dtype=np.int64)
    if (cat_codes == -1).any():
        order = np.append(order, -1)
    return order


def interval_latent(
    cat_codes: np.ndarray, layout: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(lower interval edges, latent normals) for category codes laid out as ``layout``.

    Each code owns an interval of [0, 1) as wide as its frequency; a row's latent is a
    uniform draw inside its interval, mapped through the normal quantile function. Codes
    absent from ``layout`` (-2: nulls of a not_null column) get NaN.
    """
    observed = np.isin(cat_codes, layout)
    position = np.full(int(layout.max(initial=0)) + 2, -1, dtype=np.int64)
    position[layout] = np.arange(len(layout))  # code -1 (null) lands in the last slot
    pos = position[cat_codes[observed]]
    counts = np.bincount(pos, minlength=len(layout)).astype(np.float64)
    cum = np.concatenate([[0.0], np.cumsum(counts) / max(counts.sum(), 1.0)])
    cum[-1] = 1.0
    u = cum[pos] + rng.random(len(pos)) * (cum[pos + 1] - cum[pos])
    latent = np.full(len(cat_codes), np.nan)
    latent[observed] = ndtri(np.clip(u, 1e-12, 1 - 1e-12))
    return cum[:-1], latent


def stack(rows: list[np.ndarray], width: int) -> np.ndarray:
    return np.vstack(rows) if rows else np.zeros((0, width))


# -- context --------------------------------------------------------------------------------
def fit_context(
    context: np.ndarray | None, n: int, levels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(quantile tables, standardised latent, latent mean, latent std) of the context."""
    if context is None or context.shape[1] == 0:
        return np.zeros((0, len(levels))), np.zeros((n, 0)), np.zeros(0), np.ones(0)
    table = np.vstack([quantile_table(np.sort(col), levels) for col in context.T])
    latent = context_latent(context, table, levels)
    mean = latent.mean(axis=0)
    std = latent.std(axis=0)
    std[std < 1e-12] = 1.0  # constant context: latent 0, uncorrelated, ignored
    return table, (latent - mean) / std, mean, std


def context_latent(context: np.ndarray, table: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Deterministic normal scores of context values: mid-rank CDF on each quantile table."""
    k = len(levels)
    out = np.empty_like(context)
    for j in range(context.shape[1]):
        q, x = table[j], context[:, j]
        below = np.searchsorted(q, x, side="left")
        upto = np.searchsorted(q, x, side="right")
        tied = upto > below
        mid = (levels[np.minimum(below, k - 1)] + levels[np.maximum(upto - 1, 0)]) / 2
        u = np.where(tied, mid, np.interp(x, q, levels))
        out[:, j] = ndtri(np.clip(u, 0.5 / k, 1 - 0.5 / k))
    return out


# -- dependence -----------------------------------------------------------------------------
def regularised_correlation(latent: np.ndarray) -> np.ndarray:
    """Pairwise correlation of latent normals (NaN = absent), shrunk towards the identity
    and with its eigenvalues floored, so it is positive definite with a unit diagonal."""
    n, d = latent.shape
    if d == 0 or n < 2:
        return np.eye(d)
    present = ~np.isnan(latent)
    z = np.where(present, latent, 0.0)
    mask = present.astype(np.float64)
    cross = z.T @ z
    energy = (z * z).T @ mask  # [i, j]: sum of z_i^2 over rows where j is present too
    scale = np.sqrt(energy * energy.T)
    corr = np.divide(cross, scale, out=np.zeros_like(cross), where=scale > 0)
    np.fill_diagonal(corr, 1.0)
    corr = np.clip((corr + corr.T) / 2, -1.0, 1.0)
    shrink = min(0.5, d / n)
    corr = (1 - shrink) * corr + shrink * np.eye(d)
    eigval, eigvec = np.linalg.eigh(corr)
    corr = (eigvec * np.maximum(eigval, EIGEN_FLOOR)) @ eigvec.T
    unit = np.sqrt(np.diag(corr))
    corr = corr / np.outer(unit, unit)
    return (corr + corr.T) / 2
