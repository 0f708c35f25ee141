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
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import solve_triangular
from scipy.special import ndtr

from ..errors import DataError, ModelError
from ..schema import Column
from .base import ModelOptions, TableModel
from .codec_fit import fit_codecs, is_public
from .columns import CONTINUOUS, DISCRETE, NULL, ColumnCodec
from .copula_parts import (
    ROLE_NULL,
    ROLE_VALUE,
    Dim,
    Marginals,
    context_latent,
    fit_context,
    latent_levels,
    regularised_correlation,
    stack,
)
from .inputs import FitData, check_context

STATE_VERSION = 1
DEFAULT_QUANTILES = 1000


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
    context_dtype = np.float64

    def __init__(self, options: ModelOptions | None = None):
        super().__init__(options)
        self._fitted = False
        self._table = ""

    # -- fit ------------------------------------------------------------------------------
    def learn(self, data: FitData) -> None:
        frame, columns, context, rng, table = (
            data.frame,
            data.columns,
            data.context,
            data.rng,
            data.table,
        )
        label = table or "table"
        n = len(frame)
        codecs = _not_null_codecs(
            fit_codecs(frame, columns, self.options.min_category_rows), columns, label
        )
        levels = latent_levels(n, int(self.options.extra.get("quantiles", DEFAULT_QUANTILES)))

        marginals = Marginals(levels)
        for i, (codec, column) in enumerate(zip(codecs, columns, strict=True)):
            if codec.kind == CONTINUOUS:
                k = 1 if is_public(column) else self.options.min_category_rows
                marginals.add_continuous(i, codec, codec.encode(frame[column.name]), rng, k)
            elif codec.kind == DISCRETE:
                marginals.add_discrete(i, codec, codec.encode(frame[column.name]), rng)
        ctx_table, ctx_latent, ctx_mean, ctx_std = fit_context(context, n, levels)
        joint = np.column_stack([ctx_latent, *marginals.latents])
        self._table, self._codecs, self._dims = table, codecs, marginals.dims
        self._levels = levels
        self._quantiles = stack(marginals.quantiles, len(levels))
        self._edges = np.concatenate([np.zeros(0), *marginals.edges])
        self._codes = np.concatenate([np.zeros(0, dtype=np.int64), *marginals.codes])
        self._ctx_quantiles, self._ctx_mean, self._ctx_std = ctx_table, ctx_mean, ctx_std
        self._corr = regularised_correlation(joint)
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
        context = check_context(
            context, n, d_c, self._table, optional=True, dtype=self.context_dtype
        )
        noise = rng.standard_normal((n, len(self._dims)))
        if context is None or d_c == 0:
            latent = noise @ self._marginal_chol.T
        else:
            ctx = context_latent(context, self._ctx_quantiles, self._levels)
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
            if dim.role == ROLE_VALUE:
                # a column's null dim comes after its value dim and blanks rows to NaN
                encoded[dim.column] = np.interp(u, self._levels, self._quantiles[dim.row])
                continue
            cuts = self._edges[dim.offset + 1 : dim.offset + dim.size]  # inner edges
            codes = self._codes[dim.offset : dim.offset + dim.size]
            picked = codes[np.searchsorted(cuts, u, side="right")]
            if dim.role == ROLE_NULL:
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
            model._dims = [Dim(**d) for d in meta["dims"]]
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
