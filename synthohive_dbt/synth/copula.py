"""Gaussian copula: the fast, simple table model.

Every modelled column becomes one or two standard-normal *latent dimensions*:

* a continuous column: its value through the empirical CDF (a randomised rank, so ties
  stay exact normal scores), inverted by ``np.interp`` on a compact quantile table; a
  nullable column adds a null indicator dimension (two intervals: present, null) so that
  null-ness can correlate with the other columns;
* a discrete column: each category (null included, unless the column is not_null) owns an
  interval of the uniform scale sized by its frequency; fitting draws a point inside the
  interval, sampling maps back with ``searchsorted``. Numeric categories are laid out in
  value order, so ordinal columns correlate naturally.

Context columns (parent attributes, one row per child row) are rank-gaussianised and
standardised into extra dimensions. One correlation matrix over [context, columns] is
estimated (pairwise over present values, shrunk and floored to stay positive definite);
sampling draws the column block conditioned on the context block.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import solve_triangular
from scipy.special import ndtr, ndtri

from ..errors import DataError, ModelError
from ..progress import SILENT, Reporter
from ..schema import Column
from .base import ModelOptions, TableModel
from .codec_fit import fit_codecs, is_public
from .columns import CONTINUOUS, DISCRETE, NULL, ColumnCodec

STATE_VERSION = 1
DEFAULT_QUANTILES = 1000
_EIGEN_FLOOR = 1e-4  # conditional variances never fall below this: sampling stays stable
_VALUE, _NULL, _CATEGORY = "value", "null", "category"


@dataclass(frozen=True)
class _Dim:
    """One latent dimension: a column's value (quantile row) or its intervals (flat slice)."""

    column: int
    role: str  # _VALUE | _NULL | _CATEGORY
    row: int = -1  # value: row of the quantile table
    offset: int = 0  # null/category: start in the flat interval arrays
    size: int = 0  # null/category: number of intervals


class GaussianCopulaModel(TableModel):
    """Gaussian copula over the table's columns, optionally conditioned on a context.

    Options (``ModelOptions.extra``): ``quantiles``, quantile-table size (default 1000).

    Degenerate cases:

    * a table with no rows raises DataError (nothing to learn from);
    * a single-row table fits; sampling repeats that row's values (uuid columns are
      still regenerated, as always);
    * constant columns sample their constant; all-null columns sample all-null, unless
      the column is not_null, which raises DataError at fit;
    * no modelled columns (only keys, uuids or all-null columns): sampling returns n rows
      of the unmodelled columns, or an n-row frame without columns;
    * zero-variance context columns carry no information and are ignored;
    * context must be finite: NaN/inf raise ModelError (the relational layer encodes
      nulls); a model fitted with context samples without one from the marginal.
    """

    name = "copula"

    def __init__(self, options: ModelOptions | None = None):
        super().__init__(options)
        self._fitted = False
        self._table = ""

    # -- fit ------------------------------------------------------------------------------
    def fit(
        self,
        frame: pd.DataFrame,
        columns: Sequence[Column],
        context: np.ndarray | None = None,
        *,
        rng: np.random.Generator,
        reporter: Reporter = SILENT,
        table: str = "",
    ) -> None:
        label = table or "table"
        n = len(frame)
        _check_frame(frame, columns, label)
        context = _check_context(context, n, None, label)
        codecs = _not_null_codecs(
            fit_codecs(frame, columns, self.options.min_category_rows), columns, label
        )
        levels = _levels(n, int(self.options.extra.get("quantiles", DEFAULT_QUANTILES)))

        marginals = _Marginals(levels)
        for i, (codec, column) in enumerate(zip(codecs, columns, strict=True)):
            if codec.kind == CONTINUOUS:
                k = 1 if is_public(column) else self.options.min_category_rows
                marginals.add_continuous(i, codec, codec.encode(frame[column.name]), rng, k)
            elif codec.kind == DISCRETE:
                marginals.add_discrete(i, codec, codec.encode(frame[column.name]), rng)
        ctx_table, ctx_latent, ctx_mean, ctx_std = _fit_context(context, n, levels)
        joint = np.column_stack([ctx_latent, *marginals.latents])
        self._table, self._codecs, self._dims = table, codecs, marginals.dims
        self._levels = levels
        self._quantiles = _stack(marginals.quantiles, len(levels))
        self._edges = np.concatenate([np.zeros(0), *marginals.edges])
        self._codes = np.concatenate([np.zeros(0, dtype=np.int64), *marginals.codes])
        self._ctx_quantiles, self._ctx_mean, self._ctx_std = ctx_table, ctx_mean, ctx_std
        self._corr = _regularised_correlation(joint)
        self._prepare()

    def _prepare(self) -> None:
        """Derive the sampling matrices (from the stored correlation only, so a loaded
        model samples bit-identically)."""
        d_c = self._ctx_quantiles.shape[0]
        corr = self._corr
        self._marginal_chol = np.linalg.cholesky(corr[d_c:, d_c:])
        if d_c:
            r_cc, r_xc = corr[:d_c, :d_c], corr[d_c:, :d_c]
            chol_cc = np.linalg.cholesky(r_cc)
            # mix = R_xc R_cc^-1 through two triangular solves
            half = solve_triangular(chol_cc, r_xc.T, lower=True)
            self._mix = solve_triangular(chol_cc.T, half, lower=False).T
            schur = corr[d_c:, d_c:] - half.T @ half
            self._conditional_chol = np.linalg.cholesky((schur + schur.T) / 2)
        self._fitted = True

    # -- sample ---------------------------------------------------------------------------
    def sample(
        self, n: int, context: np.ndarray | None = None, *, rng: np.random.Generator
    ) -> pd.DataFrame:
        if not self._fitted:
            raise ModelError("the copula model is not fitted; call fit() or load() first")
        n = int(n)
        if n < 0:
            raise ModelError(f"cannot sample {n} rows; ask for 0 or more")
        d_c = self._ctx_quantiles.shape[0]
        context = _check_context(context, n, d_c, self._table or "copula model")
        noise = rng.standard_normal((n, len(self._dims)))
        if context is None or d_c == 0:
            latent = noise @ self._marginal_chol.T
        else:
            ctx = _context_latent(context, self._ctx_quantiles, self._levels)
            ctx = (ctx - self._ctx_mean) / self._ctx_std
            latent = ctx @ self._mix.T + noise @ self._conditional_chol.T
        encoded = self._encoded_columns(latent, n)
        data = {c.name: c.decode(v, rng) for c, v in zip(self._codecs, encoded, strict=True)}
        return pd.DataFrame(data, index=pd.RangeIndex(n))

    def _encoded_columns(self, latent: np.ndarray, n: int) -> list[np.ndarray]:
        """Latent normals -> each codec's encoded values (floats with NaN / int codes)."""
        uniform = ndtr(latent)
        encoded: list[np.ndarray] = []
        for codec in self._codecs:
            encoded.append(np.full(n, np.nan) if codec.kind != DISCRETE else np.full(n, -1))
        for j, dim in enumerate(self._dims):
            u = uniform[:, j]
            if dim.role == _VALUE:
                # a column's null dim comes after its value dim and blanks rows to NaN
                encoded[dim.column] = np.interp(u, self._levels, self._quantiles[dim.row])
                continue
            cuts = self._edges[dim.offset + 1 : dim.offset + dim.size]  # inner edges
            codes = self._codes[dim.offset : dim.offset + dim.size]
            picked = codes[np.searchsorted(cuts, u, side="right")]
            if dim.role == _NULL:
                encoded[dim.column] = np.where(picked < 0, np.nan, encoded[dim.column])
            else:
                encoded[dim.column] = picked
        return encoded

    # -- persistence ----------------------------------------------------------------------
    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        if not self._fitted:
            raise ModelError("the copula model is not fitted; nothing to save")
        meta = {
            "state_version": STATE_VERSION,
            "table": self._table,
            "codecs": [c.to_json() for c in self._codecs],
            "columns": [c.name for c in self._codecs],
            "dims": [asdict(d) for d in self._dims],
            "context_dims": int(self._ctx_quantiles.shape[0]),
        }
        tensors = {
            "levels": self._levels,
            "quantiles": self._quantiles,
            "interval_edges": self._edges,
            "interval_codes": self._codes.astype(np.float64),
            "context_quantiles": self._ctx_quantiles,
            "context_mean": self._ctx_mean,
            "context_std": self._ctx_std,
            "correlation": self._corr,
        }
        return meta, tensors

    @classmethod
    def from_state(
        cls, meta: Mapping[str, Any], tensors: Mapping[str, np.ndarray]
    ) -> GaussianCopulaModel:
        if meta.get("state_version") != STATE_VERSION:
            raise ModelError(
                f"copula state version {meta.get('state_version')!r} is not {STATE_VERSION}; "
                "refit with `synthohive fit`"
            )
        try:
            model = cls()
            model._table = str(meta.get("table", ""))
            model._codecs = [ColumnCodec.from_json(c) for c in meta["codecs"]]
            model._dims = [_Dim(**d) for d in meta["dims"]]
            model._levels = np.asarray(tensors["levels"], dtype=np.float64)
            model._quantiles = np.asarray(tensors["quantiles"], dtype=np.float64)
            model._edges = np.asarray(tensors["interval_edges"], dtype=np.float64)
            model._codes = np.asarray(tensors["interval_codes"]).astype(np.int64)
            model._ctx_quantiles = np.asarray(tensors["context_quantiles"], dtype=np.float64)
            model._ctx_mean = np.asarray(tensors["context_mean"], dtype=np.float64)
            model._ctx_std = np.asarray(tensors["context_std"], dtype=np.float64)
            model._corr = np.asarray(tensors["correlation"], dtype=np.float64)
            model._prepare()
        except (KeyError, TypeError, ValueError, np.linalg.LinAlgError) as exc:
            raise ModelError(f"copula artifact is incomplete or corrupt: {exc!r}") from exc
        return model


# -- validation ----------------------------------------------------------------------------
def _check_frame(frame: pd.DataFrame, columns: Sequence[Column], label: str) -> None:
    names = [c.name for c in columns]
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise DataError(f"{label}: the frame lacks columns {missing}; read them from the table")
    if len(set(names)) != len(names):
        raise ModelError(f"{label}: columns are listed twice: {sorted(names)}")
    if len(frame) == 0:
        raise DataError(f"{label} has no rows, so there is nothing to learn; fill it or exclude it")


def _check_context(
    context: np.ndarray | None, n: int, dims: int | None, label: str
) -> np.ndarray | None:
    if context is None:
        return None
    context = np.asarray(context, dtype=np.float64)
    if context.ndim == 1:
        context = context[:, None]
    if context.ndim != 2 or context.shape[0] != n:
        raise ModelError(f"{label}: context has shape {context.shape}, expected ({n}, d)")
    if dims is not None and context.shape[1] != dims:
        raise ModelError(
            f"{label}: context has {context.shape[1]} columns but the model was fitted with "
            f"{dims}; pass the context the model was fitted with"
        )
    if not np.isfinite(context).all():
        raise ModelError(f"{label}: context holds NaN or infinite values; encode nulls first")
    return context


def _not_null_codecs(
    codecs: list[ColumnCodec], columns: Sequence[Column], label: str
) -> list[ColumnCodec]:
    """not_null columns never sample nulls; an all-null not_null column is a data error."""
    bad = [
        c.name for c, col in zip(codecs, columns, strict=True) if col.not_null and c.kind == NULL
    ]
    if bad:
        raise DataError(
            f"{label}: columns {bad} are declared not_null but every value is null; "
            "fix the data or drop the not_null test"
        )
    return [
        replace(c, null_rate=0.0) if col.not_null else c
        for c, col in zip(codecs, columns, strict=True)
    ]


# -- marginals ------------------------------------------------------------------------------
class _Marginals:
    """Collects latent dimensions while fitting: quantile rows for values, flat interval
    arrays (lower edges, codes in layout order) for categories and null indicators."""

    def __init__(self, levels: np.ndarray):
        self.levels = levels
        self.dims: list[_Dim] = []
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
        latent, ordered = _value_latent(values, present, rng)
        self.dims.append(_Dim(column, _VALUE, row=len(self.quantiles)))
        self.quantiles.append(_quantile_table(_k_means(ordered, k), self.levels))
        self.latents.append(latent)
        if codec.null_rate > 0:
            layout = np.array([0, -1], dtype=np.int64)
            self._add_intervals(column, _NULL, np.where(present, 0, -1), layout, rng)

    def add_discrete(
        self, column: int, codec: ColumnCodec, cat_codes: np.ndarray, rng: np.random.Generator
    ) -> None:
        if codec.null_rate == 0:  # not_null: null rows (-2) are left out of the fit
            cat_codes = np.where(cat_codes < 0, -2, cat_codes)
        self._add_intervals(column, _CATEGORY, cat_codes, _category_layout(codec, cat_codes), rng)

    def _add_intervals(
        self,
        column: int,
        role: str,
        cat_codes: np.ndarray,
        layout: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        offset = sum(map(len, self.codes))
        self.dims.append(_Dim(column, role, offset=offset, size=len(layout)))
        lower, latent = _interval_latent(cat_codes, layout, rng)
        self.edges.append(lower)
        self.codes.append(layout)
        self.latents.append(latent)


def _levels(n: int, quantiles: int) -> np.ndarray:
    if quantiles < 2:
        raise ModelError(f"copula option quantiles={quantiles} must be at least 2")
    return np.linspace(0.0, 1.0, max(2, min(n, quantiles)))


def _k_means(ordered: np.ndarray, k: int) -> np.ndarray:
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


def _quantile_table(ordered: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Linear-interpolated quantiles of sorted values at ``levels`` (ties stay flat)."""
    m = len(ordered)
    return np.interp(levels * (m - 1), np.arange(m), ordered)


def _value_latent(
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


def _category_layout(codec: ColumnCodec, cat_codes: np.ndarray) -> np.ndarray:
    """Interval order: numeric categories by value (ordinal), others as the codec orders
    them (by frequency); null (-1) last, present only when it occurs."""
    order = np.arange(codec.n_categories, dtype=np.int64)
    numeric = all(isinstance(c, (int, float)) for c in codec.categories)
    if numeric and codec.other_index is None:
        order = np.array(sorted(order, key=lambda i: codec.categories[i]), dtype=np.int64)
    if (cat_codes == -1).any():
        order = np.append(order, -1)
    return order


def _interval_latent(
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


def _stack(rows: list[np.ndarray], width: int) -> np.ndarray:
    return np.vstack(rows) if rows else np.zeros((0, width))


# -- context --------------------------------------------------------------------------------
def _fit_context(
    context: np.ndarray | None, n: int, levels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(quantile tables, standardised latent, latent mean, latent std) of the context."""
    if context is None or context.shape[1] == 0:
        return np.zeros((0, len(levels))), np.zeros((n, 0)), np.zeros(0), np.ones(0)
    table = np.vstack([_quantile_table(np.sort(col), levels) for col in context.T])
    latent = _context_latent(context, table, levels)
    mean = latent.mean(axis=0)
    std = latent.std(axis=0)
    std[std < 1e-12] = 1.0  # constant context: latent 0, uncorrelated, ignored
    return table, (latent - mean) / std, mean, std


def _context_latent(context: np.ndarray, table: np.ndarray, levels: np.ndarray) -> np.ndarray:
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
def _regularised_correlation(latent: np.ndarray) -> np.ndarray:
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
    corr = (eigvec * np.maximum(eigval, _EIGEN_FLOOR)) @ eigvec.T
    unit = np.sqrt(np.diag(corr))
    corr = corr / np.outer(unit, unit)
    return (corr + corr.T) / 2
