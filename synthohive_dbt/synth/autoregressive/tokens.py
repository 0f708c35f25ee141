"""Every modelled column as discrete tokens, and back.

* a discrete column: its category codes (after the codecs' rare-value protection) are
  the tokens;
* a continuous column (numbers, dates, timestamps): the tokens are ``bins`` equal-mass
  bins of its quantile function (fewer in small tables: about 30 rows a bin, at least
  10). A value's token comes from its position on the quantile scale (a randomised
  position inside a run of equal values, so a frequent value spreads over the bins it
  fills); decoding draws a position uniformly inside the
  bin and reads the quantile table there, so the marginal is kept to the table's
  resolution. The table holds means of ``k`` neighbouring values (``copula_parts.k_means``:
  no single row's value, extremes included); equal values at least k long stay exact,
  and the codec rounds integers, decimals and time steps on decode;
* a null is a token of its own, after the value tokens, where the training rows had
  nulls; a ``not_null`` column never samples it.

Uuid and all-null columns are not modelled: the codec regenerates them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ...errors import ArtifactError, DataError
from ...schema import Column
from ..codec_fit import is_public
from ..columns import CONTINUOUS, DISCRETE, NULL, ColumnCodec
from ..copula_parts import k_means, quantile_table

NUMBER = "number"
MIN_BINS = 10
CATEGORY = "category"


@dataclass(frozen=True)
class TokenSpec:
    """How one modelled column is tokenised: ``values`` value tokens, then a null token
    when ``has_null``; ``column`` is the index of its codec."""

    column: int
    kind: str  # NUMBER | CATEGORY
    values: int
    has_null: bool
    allow_null: bool

    @property
    def vocab(self) -> int:
        return self.values + int(self.has_null)

    @property
    def null_token(self) -> int:
        return self.values


class Tokenizer:
    """Tokens for every modelled column of one table (see the module docstring)."""

    def __init__(self, specs: Sequence[TokenSpec], tables: Mapping[int, np.ndarray]):
        self.specs = list(specs)
        self.tables = dict(tables)  # codec index -> quantile table (numbers only)

    @classmethod
    def fit(
        cls,
        codecs: Sequence[ColumnCodec],
        columns: Sequence[Column],
        values: Sequence[np.ndarray],
        *,
        bins: int,
        quantiles: int,
        min_rows: int,
    ) -> Tokenizer:
        """From the codec values of the training rows."""
        specs: list[TokenSpec] = []
        tables: dict[int, np.ndarray] = {}
        empty: list[str] = []  # not_null columns without a value
        for i, (codec, column, v) in enumerate(zip(codecs, columns, values, strict=True)):
            allow_null = not column.not_null
            if codec.kind == DISCRETE:
                null = v < 0
                specs.append(TokenSpec(i, CATEGORY, max(codec.n_categories, 1),
                                       bool(null.any()), allow_null))  # fmt: skip
            elif codec.kind == CONTINUOUS:
                null = np.isnan(v)
                present = np.sort(v[~null])
                if not len(present):  # no training row has a value: the null token only
                    present = np.zeros(1)
                k = 1 if is_public(column) else min_rows
                levels = np.linspace(0.0, 1.0, max(2, min(len(present), quantiles)))
                tables[i] = quantile_table(k_means(present, k), levels)
                # small tables: coarser bins (about 30 rows each, at least 10), so that
                # a number's dependence on other columns is learnable from few rows
                n_bins = max(1, min(bins, len(present), max(MIN_BINS, len(present) // 30)))
                specs.append(TokenSpec(i, NUMBER, n_bins, bool(null.any()), allow_null))
            else:
                null = np.ones(len(v), bool) if codec.kind == NULL else np.zeros(len(v), bool)
            if not allow_null and len(null) and bool(null.all()):
                empty.append(codec.name)
        if empty:
            raise DataError(
                f"columns {empty} are declared not_null but every value is null; "
                "fix the data or drop the not_null test"
            )
        return cls(specs, tables)

    # -- encode -----------------------------------------------------------------------
    def encode(self, values: Sequence[np.ndarray], rng: np.random.Generator) -> np.ndarray:
        """(rows, modelled columns) int64 tokens from every codec's values."""
        n = len(values[0]) if values else 0
        out = np.zeros((n, len(self.specs)), dtype=np.int64)
        for j, spec in enumerate(self.specs):
            v = values[spec.column]
            if spec.kind == CATEGORY:
                tokens = np.where(v < 0, spec.null_token if spec.has_null else 0, v)
            else:
                null = np.isnan(v)
                u = _positions(np.where(null, 0.0, v), self.tables[spec.column], rng)
                tokens = np.minimum((u * spec.values).astype(np.int64), spec.values - 1)
                if spec.has_null:
                    tokens = np.where(null, spec.null_token, tokens)
            out[:, j] = np.clip(tokens, 0, spec.vocab - 1)
        return out

    # -- decode -----------------------------------------------------------------------
    def decode(
        self, tokens: np.ndarray, n_codecs: int, rng: np.random.Generator
    ) -> list[np.ndarray | None]:
        """Codec values per codec index (None for codecs that are not modelled)."""
        out: list[np.ndarray | None] = [None] * n_codecs
        for j, spec in enumerate(self.specs):
            t = tokens[:, j]
            null = t == spec.null_token if spec.has_null else np.zeros(len(t), bool)
            if spec.kind == CATEGORY:
                out[spec.column] = np.where(null, -1, t).astype(np.int64)
                continue
            table = self.tables[spec.column]
            u = (np.minimum(t, spec.values - 1) + rng.random(len(t))) / spec.values
            out[spec.column] = np.where(null, np.nan, _on_scale(u, table))
        return out

    # -- persistence ------------------------------------------------------------------
    def to_json(self) -> list[dict[str, Any]]:
        return [asdict(s) for s in self.specs]

    def tensors(self) -> dict[str, np.ndarray]:
        return {f"quantiles.{i}": table for i, table in self.tables.items()}

    @classmethod
    def from_state(cls, specs: Sequence[Mapping[str, Any]], tensors: Mapping[str, np.ndarray]):
        try:
            parsed = [TokenSpec(**s) for s in specs]
            tables = {
                s.column: np.asarray(tensors[f"quantiles.{s.column}"], dtype=np.float64)
                for s in parsed
                if s.kind == NUMBER
            }
        except (KeyError, TypeError) as exc:
            raise ArtifactError(f"autoregressive artifact lacks its token tables: {exc!r}") from exc
        return cls(parsed, tables)


def _on_scale(u: np.ndarray, table: np.ndarray) -> np.ndarray:
    """The values at positions ``u`` in [0, 1) of the quantile ``table`` (equally spaced
    points): linear between neighbouring entries (``np.interp`` on ``linspace(0, 1, m)``
    without its search, since the spacing is known)."""
    m = len(table)
    if m < 2:
        return np.full(len(u), table[0] if m else np.nan)
    pos = u * (m - 1)
    i = np.minimum(pos.astype(np.int64), m - 2)
    lo = table[i]
    return lo + (pos - i) * (table[i + 1] - lo)


def _positions(v: np.ndarray, table: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each value's position in [0, 1] on the quantile scale of ``table``: linear between
    neighbouring table values, uniform at random across a run of equal table values."""
    m = len(table)
    step = 1.0 / (m - 1)
    left = np.searchsorted(table, v, side="left")
    right = np.searchsorted(table, v, side="right")
    idx = np.clip(left, 1, m - 1)
    x0, x1 = table[idx - 1], table[idx]
    gap = x1 - x0
    frac = np.divide(v - x0, gap, out=np.full(len(v), 0.5), where=gap > 0)
    u = (idx - 1 + np.clip(frac, 0.0, 1.0)) * step
    flat = right - left >= 2  # the value is a run of equal table entries
    lo, hi = left * step, (right - 1) * step
    u = np.where(flat, lo + rng.random(len(v)) * (hi - lo), u)
    u = np.where(v <= table[0], np.where(flat, u, 0.0), u)
    u = np.where(v >= table[-1], np.where(flat, u, 1.0), u)
    return np.clip(u, 0.0, 1.0 - 1e-12)
