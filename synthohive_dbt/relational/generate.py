"""Generate one table from its plan, its model and the synthetic parents already made.

Keys come from generated parents only, so every FK resolves (zero orphans) and primary
keys are unique by construction. Everything is vectorised: counts via ``np.repeat``,
parents via index arrays.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..synth.base import TableModel
from .plan import FkPlan, TablePlan


def child_counts(fk: FkPlan, n_parents: int, rng: np.random.Generator) -> np.ndarray:
    """Children per synthetic parent, drawn from the real children-per-parent histogram."""
    hist = np.asarray(fk.histogram, dtype=np.float64)
    if n_parents == 0 or hist.sum() == 0:
        return np.zeros(n_parents, dtype=np.int64)
    return rng.choice(len(hist), size=n_parents, p=hist / hist.sum()).astype(np.int64)


def popularity_weights(fk: FkPlan, n_parents: int, rng: np.random.Generator) -> np.ndarray:
    """Selection weights per synthetic parent for a secondary FK: each parent draws a
    popularity from the real children-per-parent histogram, so a few popular parents
    and many unpopular ones appear as in the real data."""
    weights = child_counts(fk, n_parents, rng).astype(np.float64)
    if weights.sum() == 0:
        weights = np.ones(n_parents)
    return weights / weights.sum()


def row_count(
    plan: TablePlan, parents: Mapping[str, pd.DataFrame], scale: float, rng: np.random.Generator
) -> tuple[int, np.ndarray | None]:
    """(rows to generate, parent row index per attached row or None for roots)."""
    if plan.primary_fk is None:
        return int(round(plan.rows * scale)), None
    fk = plan.fks[plan.primary_fk]
    parent = parents[fk.parent]
    counts = child_counts(fk, len(parent), rng)
    index = np.repeat(np.arange(len(parent)), counts)
    n_null = 0
    if 0 < fk.null_rate < 1:
        n_null = int(round(len(index) * fk.null_rate / (1.0 - fk.null_rate)))
    return len(index) + n_null, index


def generate_table(
    plan: TablePlan,
    model: TableModel | None,
    parents: Mapping[str, pd.DataFrame],
    scale: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    n, attached = row_count(plan, parents, scale, rng)
    order = rng.permutation(n) if attached is not None else None
    body = model.sample(n, rng=rng) if model is not None and n else pd.DataFrame(index=range(n))
    body = body.reset_index(drop=True)
    out = pd.DataFrame(index=range(n))
    for i, fk in enumerate(plan.fks):
        if fk.self_reference or fk.deferred:
            continue
        parent = parents[fk.parent]
        if i == plan.primary_fk:
            idx = np.full(n, -1, dtype=np.int64)
            idx[: len(attached)] = attached
            idx = idx[order]  # null-FK rows spread among the rest
        else:
            idx = _secondary_index(fk, len(parent), n, rng)
        _assign_fk(out, fk, parent, idx)
    _mint_keys(out, plan, n, rng)
    for fk in plan.fks:
        if fk.self_reference and not fk.deferred:
            idx = tree_parents(n, fk.null_rate, rng)
            _assign_fk(out, fk, out, idx)
    for name in plan.model_columns:
        out[name] = body[name].to_numpy() if name in body else None
    for name in plan.ignored:
        out[name] = None
    out = out[[name for name, _ in plan.columns]]
    if plan.primary_key and not plan.minted.keys() & set(plan.primary_key):
        # a key made only of FK columns (junction tables): drop repeated combinations
        out = out.drop_duplicates(subset=list(plan.primary_key)).reset_index(drop=True)
    return out


def fill_deferred(
    frame: pd.DataFrame, fk: FkPlan, parent: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Fill an FK that closed a cycle, once its parent exists."""
    frame = frame.copy()
    _assign_fk(frame, fk, parent, _secondary_index(fk, len(parent), len(frame), rng))
    return frame


def tree_parents(n: int, root_rate: float, rng: np.random.Generator) -> np.ndarray:
    """Parent row index per row (-1 for roots) forming a forest: rows are visited in a
    random order and each non-root picks a parent visited before it, so no cycles."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    visit = rng.permutation(n)
    position = np.arange(n)
    earlier = np.floor(rng.random(n) * position).astype(np.int64)  # in [0, position)
    is_root = rng.random(n) < root_rate
    is_root[0] = True  # the first visited row has nobody before it
    parent_pos = np.where(is_root, -1, earlier)
    parents = np.full(n, -1, dtype=np.int64)
    parents[visit] = np.where(parent_pos >= 0, visit[np.clip(parent_pos, 0, None)], -1)
    return parents


def _secondary_index(fk: FkPlan, n_parents: int, n: int, rng: np.random.Generator) -> np.ndarray:
    if n_parents == 0:
        return np.full(n, -1, dtype=np.int64)
    weights = popularity_weights(fk, n_parents, rng)
    idx = rng.choice(n_parents, size=n, p=weights).astype(np.int64)
    idx[rng.random(n) < fk.null_rate] = -1
    return idx


def _assign_fk(out: pd.DataFrame, fk: FkPlan, parent: pd.DataFrame, idx: np.ndarray) -> None:
    missing = idx < 0
    safe = np.clip(idx, 0, max(len(parent) - 1, 0))
    for col, pcol in zip(fk.columns, fk.parent_columns, strict=True):
        values = parent[pcol].iloc[safe].reset_index(drop=True) if len(parent) else None
        if values is None:
            out[col] = pd.Series([None] * len(idx), dtype=object)
            continue
        if missing.any():
            values = values.astype(_nullable(values.dtype))
            values[missing] = None
        out[col] = values


def _mint_keys(out: pd.DataFrame, plan: TablePlan, n: int, rng: np.random.Generator) -> None:
    fk_cols = [c for c in plan.primary_key if c not in plan.minted]
    for name, fmt in plan.minted.items():
        if name in plan.primary_key and fk_cols:
            # composite key with FK parts: number rows within each FK combination
            ordinals = out.groupby(fk_cols, dropna=False, sort=False).cumcount().to_numpy()
        else:
            ordinals = np.arange(n)
        out[name] = fmt.mint(ordinals, rng).to_numpy()


def _nullable(dtype: object) -> object:
    """numpy ints/bools cannot hold NULL: switch to the pandas nullable dtypes."""
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return dtype
    if pd.api.types.is_integer_dtype(dtype):
        return "Int64"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    return dtype
