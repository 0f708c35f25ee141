"""Generate one table, in chunks, from its plan, its model and the parents already made.

Keys come from generated parents only, so every FK resolves (zero orphans, unless the
orphan opt-in asks for the real rate) and primary keys are unique by construction.
Children are made parent by parent: a chunk holds whole families, so per-parent numbering
(composite keys) never spans chunks, and memory stays bounded by the chunk size.
Everything is vectorised: counts via ``np.repeat``, parents via index arrays.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..privacy.personal import fill as fill_personal
from ..synth.base import TableModel
from .enforcement import enforce
from .features import assign
from .plan import FkPlan, TablePlan
from .tree import DEPTH_COLUMN, tree_parents_by_depth

DEFAULT_CHUNK_ROWS = 200_000


@dataclass
class Made:
    """What later tables need from a generated table (keys, features, counts)."""

    frame: pd.DataFrame
    clusters: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)
    weights: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)
    slots: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)


def child_counts(fk: FkPlan, n_parents: int, rng: np.random.Generator) -> np.ndarray:
    """Children per parent drawn from the real children-per-parent histogram."""
    hist = np.asarray(fk.histogram, dtype=np.float64)
    if n_parents == 0 or hist.sum() == 0:
        return np.zeros(n_parents, dtype=np.int64)
    return rng.choice(len(hist), size=n_parents, p=hist / hist.sum()).astype(np.int64)


def ranked_counts(
    generated: np.ndarray, histogram: tuple[int, ...], rng: np.random.Generator
) -> np.ndarray:
    """The real children-per-parent distribution, given to the parents in the order of
    the counts their model generated (ties in random order).

    The parent's model learns which parents have many children (its count column is
    conditioned on the parent's attributes), but a generative model blurs the marginal of
    a small-integer column; the real histogram is known exactly, so the model only ranks.
    """
    hist = np.asarray(histogram, dtype=np.float64)
    n = len(generated)
    if n == 0 or hist.sum() == 0:
        return np.clip(np.round(generated), 0, None).astype(np.int64)
    cdf = np.cumsum(hist) / hist.sum()
    quantiles = (np.arange(n) + 0.5) / n
    values = np.minimum(np.searchsorted(cdf, quantiles, side="right"), len(hist) - 1)
    order = np.lexsort((rng.random(n), generated))
    out = np.empty(n, dtype=np.int64)
    out[order] = values
    return out


def fill_counts(
    counts: np.ndarray, target: int, lo: int, hi: int | None, rng: np.random.Generator
) -> np.ndarray:
    """Integer counts proportional to ``counts`` (zeros stay zero) that sum to ``target``
    where the bounds allow, each positive count within ``[lo, hi]``: the common factor
    is found by bisection (parents at ``hi`` leave the rest to the others), then floors,
    then the missing units to parents below ``hi``, drawn without replacement in
    proportion to what their floors cut off."""
    positive = counts > 0
    cap = np.inf if hi is None else float(hi)

    def scaled_by(factor: float) -> np.ndarray:
        return np.where(positive, np.clip(counts * factor, lo, cap), 0.0)

    # from ``high`` up every positive count is at the cap (or the target is reached)
    low, high = 0.0, max(target / counts.sum(), cap / counts[positive].min())
    if not np.isfinite(high):
        high = target / counts.sum()  # no cap: the plain factor reaches the target
    for _ in range(60):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if scaled_by(mid).sum() < target else (low, mid)
    scaled = scaled_by(high)
    base = np.floor(scaled).astype(np.int64)
    room = np.where(base < cap, scaled - base, 0.0)
    missing = min(target - int(base.sum()), int(np.count_nonzero(room)))
    if missing > 0:
        extra = rng.choice(len(base), size=missing, replace=False, p=room / room.sum())
        base[extra] += 1
    return base


class TableGenerator:
    """Yields output chunks of one table; ``made`` holds the parents' retained frames."""

    def __init__(
        self,
        plan: TablePlan,
        model: TableModel | None,
        made: Mapping[str, Made],
        plans: Mapping[str, TablePlan],
        *,
        scale: float,
        rng: np.random.Generator,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        keep_orphans: bool = False,
        avoid: Mapping[str, pd.Series] | None = None,
    ):
        self.plan, self.model, self.made, self.plans = plan, model, made, plans
        self.avoid = avoid  # real values of personal columns, never generated
        self.seen: dict[str, set[str]] = {}  # values unique personal columns gave so far
        self.scale, self.rng, self.keep_orphans = scale, rng, keep_orphans
        self.self_ref = next((fk for fk in plan.fks if fk.self_reference and not fk.deferred), None)
        # a hierarchy is built over the whole table at once
        self.chunk_rows = chunk_rows if self.self_ref is None else np.iinfo(np.int64).max
        self.emitted = 0

    # -- row plan ---------------------------------------------------------------------
    def _families(self) -> Iterator[np.ndarray]:
        """Per chunk: the primary-parent row index of each row (-1: root or NULL FK)."""
        plan = self.plan
        if plan.primary_fk is None:
            total = int(round(plan.rows * self.scale))
            for start in range(0, total, self.chunk_rows):
                yield np.full(min(self.chunk_rows, total - start), -1, dtype=np.int64)
            return
        fk = plan.fks[plan.primary_fk]
        parent = self.made[fk.parent].frame
        counts = self._scaled_counts(fk, self._parent_counts(fk, parent))
        total = int(counts.sum())
        n_null = 0
        if 0 < fk.null_rate < 1:
            n_null = int(round(total * fk.null_rate / (1.0 - fk.null_rate)))
        cum = np.cumsum(counts)
        cuts = np.searchsorted(cum, np.arange(self.chunk_rows, total, self.chunk_rows), "right")
        bounds = [0, *cuts.tolist(), len(parent)]
        n_chunks = max(len(bounds) - 1, 1)
        for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            idx = np.repeat(np.arange(lo, hi, dtype=np.int64), counts[lo:hi])
            nulls = n_null // n_chunks + (1 if i < n_null % n_chunks else 0)
            if len(idx) + nulls:
                yield np.concatenate([idx, np.full(nulls, -1, dtype=np.int64)])

    def _scaled_counts(self, fk: FkPlan, counts: np.ndarray) -> np.ndarray:
        """Children per parent rescaled so that the table gets its real number of FK
        rows times the parent's scale: the parents' generated counts keep their shape
        (zeros stay zero) but not their sampling error in the total, and stay within the
        real range of children per parent (``fill_counts``)."""
        parent_plan = self.plans.get(fk.parent)
        if parent_plan is None or not parent_plan.rows or not len(counts):
            return counts
        target = self.plan.rows * (1.0 - fk.null_rate) * len(counts) / parent_plan.rows
        target = int(round(target))
        if counts.sum() == 0:
            counts = child_counts(fk, len(counts), self.rng)
        if counts.sum() == 0 or target <= 0:
            return np.zeros_like(counts) if target <= 0 else counts
        observed = np.flatnonzero(np.asarray(fk.histogram))
        lo, hi = (int(observed[0]), int(observed[-1])) if len(observed) else (0, None)
        return fill_counts(counts, target, lo, hi, self.rng)

    def _parent_counts(self, fk: FkPlan, parent: pd.DataFrame) -> np.ndarray:
        if fk.count_column and fk.count_column in parent:
            values = pd.to_numeric(parent[fk.count_column]).fillna(0).to_numpy()
            return ranked_counts(values, fk.histogram, self.rng)
        return child_counts(fk, len(parent), self.rng)

    # -- chunks -----------------------------------------------------------------------
    def chunks(self) -> Iterator[pd.DataFrame]:
        """Output chunks (real columns plus derived ones; the caller strips derived)."""
        if self.plan.copied:  # a reference table, as it is: one chunk, never scaled
            if self.model is not None:
                body = self.model.sample(self.plan.rows, rng=self.rng)
                self.emitted += len(body)
                yield body[[n for n, _ in self.plan.columns] + list(self.plan.derived)]
            return
        for families in self._families():
            yield self._chunk(families)

    def _chunk(self, families: np.ndarray) -> pd.DataFrame:
        plan, rng = self.plan, self.rng
        n = len(families)
        context = self._context(families)
        body = enforce(plan, self._sample(n, context))  # identities and orderings hold
        out = pd.DataFrame(index=range(n))
        parents: dict[int, tuple[pd.DataFrame, np.ndarray]] = {}
        for i, fk in enumerate(plan.fks):
            if fk.deferred:  # filled once its parent exists (it closes a cycle)
                for col in fk.columns:
                    out[col] = pd.Series([None] * n, dtype=object)
                continue
            if fk.self_reference:
                continue
            parent = self.made[fk.parent].frame
            if i == plan.primary_fk:
                idx = families
            else:
                idx = self.secondary_index(i, fk, body, n)
            assign_fk(out, fk, parent, idx)
            parents[i] = (parent, idx)
            if self.keep_orphans and fk.orphan_rate > 0:
                self._orphans(out, fk, len(parent))
        self._mint_keys(out, n)
        if self.self_ref is not None:
            depths = body[DEPTH_COLUMN] if DEPTH_COLUMN in body else pd.Series(np.zeros(n))
            depths = pd.to_numeric(depths).fillna(0).to_numpy().astype(np.int64)
            popularity = child_counts(self.self_ref, n, rng).astype(np.float64)
            assign_fk(out, self.self_ref, out, tree_parents_by_depth(depths, popularity, rng))
        for name in plan.learned_columns:
            # .array keeps the dtype the model restored (Int64 with NULLs, string, ...)
            out[name] = body[name].array if name in body else None
        for name in plan.ignored:
            out[name] = None
        if plan.personal:  # faked, masked, dropped or repeated from the parent
            fill_personal(plan.personal, out, parents, rng, self.avoid, self.seen)
        order = [name for name, _ in plan.columns] + list(plan.derived)
        out = out[order]
        if plan.primary_key and not plan.minted.keys() & set(plan.primary_key):
            # a key made only of FK columns (junction tables): drop repeated combinations
            out = out.drop_duplicates(subset=list(plan.primary_key)).reset_index(drop=True)
        self.emitted += n
        return out

    def _context(self, families: np.ndarray) -> np.ndarray | None:
        plan = self.plan
        if plan.context is None or plan.primary_fk is None:
            return None
        parent = self.made[plan.fks[plan.primary_fk].parent].frame
        valid = families >= 0
        rows = parent.iloc[np.clip(families, 0, None)] if len(parent) else parent
        return plan.context.encode(rows.reset_index(drop=True), valid=valid)

    def _sample(self, n: int, context: np.ndarray | None) -> pd.DataFrame:
        if self.model is None or n == 0:
            return pd.DataFrame(index=range(n))
        return self.model.sample(n, context, rng=self.rng).reset_index(drop=True)

    def secondary_index(self, i: int, fk: FkPlan, body: pd.DataFrame, n: int) -> np.ndarray:
        """Parents for a secondary FK: within the cluster the model chose for each row,
        each parent taken as many times as its generated children-per-parent count for
        this FK (slots drawn without replacement, across chunks); rows beyond the free
        slots pick parents in proportion to those counts."""
        made = self.made[fk.parent]
        n_parents = len(made.frame)
        if n_parents == 0:
            return np.full(n, -1, dtype=np.int64)
        weights, free = self._slots(i, fk, made)
        idx = np.full(n, -1, dtype=np.int64)
        if fk.cluster_column and fk.cluster_column in body and fk.centroids:
            labels = pd.to_numeric(body[fk.cluster_column]).to_numpy(dtype=np.float64)
            clusters = self._clusters(i, fk, made)
            for label in np.unique(labels[~np.isnan(labels)]).astype(np.int64):
                rows = np.flatnonzero(labels == label)
                members = np.flatnonzero(clusters == label)
                if len(members) == 0 or weights[members].sum() <= 0:
                    # no popular synthetic parent in that cluster: any popular parent
                    members = np.flatnonzero(weights > 0)
                idx[rows] = self._take(members, len(rows), weights, free)
            return idx
        rows = np.flatnonzero(self.rng.random(n) >= fk.null_rate)
        idx[rows] = self._take(np.flatnonzero(weights > 0), len(rows), weights, free)
        return idx

    def _take(
        self, members: np.ndarray, k: int, weights: np.ndarray, free: np.ndarray
    ) -> np.ndarray:
        """``k`` parents among ``members`` in random order: free slots first (without
        replacement), then by weight with replacement; ``free`` is decremented."""
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        if len(members) == 0:
            members = np.arange(len(weights))
        avail = free[members]
        if avail.sum() >= k:
            drawn = self.rng.multivariate_hypergeometric(avail, k, method="marginals")
        else:
            drawn = avail.copy()
        free[members] -= drawn
        picked = np.repeat(members, drawn)
        short = k - len(picked)
        if short:
            w = weights[members]
            p = w / w.sum() if w.sum() > 0 else None
            picked = np.concatenate([picked, members[self.rng.choice(len(members), short, p=p)]])
        return self.rng.permutation(picked)

    def _slots(self, i: int, fk: FkPlan, made: Made) -> tuple[np.ndarray, np.ndarray]:
        """(popularity weights, free slots) of the parents for the ``i``-th FK."""
        key = (self.plan.key, i)
        if key not in made.weights:
            counts = self._scaled_counts(fk, self._parent_counts(fk, made.frame))
            weights = counts.astype(np.float64)
            made.weights[key] = weights if weights.sum() > 0 else np.ones(len(made.frame))
            made.slots[key] = counts.astype(np.int64)
        return made.weights[key], made.slots[key]

    def _clusters(self, i: int, fk: FkPlan, made: Made) -> np.ndarray:
        key = (self.plan.key, i)
        if key not in made.clusters:
            vectors = fk.encoder.encode(made.frame).astype(np.float64)
            made.clusters[key] = assign(vectors, np.asarray(fk.centroids, dtype=np.float64))
        return made.clusters[key]

    def _orphans(self, out: pd.DataFrame, fk: FkPlan, n_parents: int) -> None:
        """Opt-in: replace the real share of FK values by keys no parent has."""
        parent_plan = self.plans.get(fk.parent)
        if parent_plan is None or len(fk.columns) != 1:
            return  # composite orphans are not reproduced (documented)
        fmt = parent_plan.minted.get(fk.parent_columns[0])
        present = np.flatnonzero(out[fk.columns[0]].notna().to_numpy())
        hit = present[self.rng.random(len(present)) < fk.orphan_rate]
        if fmt is None or len(hit) == 0:
            return
        # ordinals past every generated parent cannot collide with a parent key
        ordinals = n_parents * 10 + 1_000_000 + np.arange(self.emitted, self.emitted + len(hit))
        values = fmt.mint(ordinals, self.rng).to_numpy()
        column = out[fk.columns[0]].astype(object)
        column.iloc[hit] = values
        out[fk.columns[0]] = column

    def _mint_keys(self, out: pd.DataFrame, n: int) -> None:
        plan = self.plan
        fk_cols = [c for c in plan.primary_key if c not in plan.minted]
        for name, fmt in plan.minted.items():
            if name in plan.primary_key and fk_cols:
                # composite key with FK parts: number rows within each FK combination
                ordinals = out.groupby(fk_cols, dropna=False, sort=False).cumcount().to_numpy()
                out[name] = fmt.mint(ordinals, self.rng).to_numpy()
            else:  # keys, and identifiers repeated like the real ones
                out[name] = fmt.mint_rows(self.emitted, n, self.rng).array


def fill_deferred(
    frame: pd.DataFrame, fk: FkPlan, parent: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Fill an FK that closed a cycle, once its parent exists (popularity-weighted)."""
    frame = frame.copy()
    n, n_parents = len(frame), len(parent)
    if n_parents == 0:
        assign_fk(frame, fk, parent, np.full(n, -1, dtype=np.int64))
        return frame
    weights = child_counts(fk, n_parents, rng).astype(np.float64)
    weights = weights / weights.sum() if weights.sum() > 0 else None
    idx = rng.choice(n_parents, size=n, p=weights).astype(np.int64)
    idx[rng.random(n) < fk.null_rate] = -1
    assign_fk(frame, fk, parent, idx)
    return frame


def assign_fk(out: pd.DataFrame, fk: FkPlan, parent: pd.DataFrame, idx: np.ndarray) -> None:
    missing = idx < 0
    safe = np.clip(idx, 0, max(len(parent) - 1, 0))
    for col, pcol in zip(fk.columns, fk.parent_columns, strict=True):
        if len(parent) == 0:
            out[col] = pd.Series([None] * len(idx), dtype=object)
            continue
        values = parent[pcol].iloc[safe].reset_index(drop=True)
        if missing.any():
            values = values.astype(_nullable(values.dtype))
            values[missing] = None
        out[col] = values


def _nullable(dtype: object) -> object:
    """numpy ints/bools cannot hold NULL: switch to the pandas nullable dtypes."""
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return dtype
    if pd.api.types.is_integer_dtype(dtype):
        return "Int64"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    return dtype
