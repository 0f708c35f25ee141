"""Self-referencing hierarchies (employee.manager_id -> employee.employee_id).

Fit measures each real row's depth (roots have depth 0). The depth becomes a modelled
column of the table, so it correlates with the other columns (managers earn more).
Generation assigns every row at depth d > 0 a parent at depth d - 1: the result is a
forest by construction (no cycles) with the real depth distribution.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEPTH_COLUMN = "__synthohive_depth"


def real_depths(frame: pd.DataFrame, key: list[str], ref: list[str]) -> np.ndarray:
    """Depth per row; rows whose chain of parents has a cycle or leaves the table count
    as roots of their own chain (depth measured up to that point)."""
    n = len(frame)
    keys = pd.MultiIndex.from_frame(frame[key].astype(object)) if n else None
    refs = frame[ref].astype(object)
    has_ref = refs.notna().all(axis=1).to_numpy()
    parent = np.full(n, -1, dtype=np.int64)
    if n:
        lookup = keys.get_indexer(pd.MultiIndex.from_frame(refs))
        parent = np.where(has_ref, lookup, -1)
    depth = np.zeros(n, dtype=np.int64)
    cursor = parent.copy()
    for _ in range(min(n, 10_000)):  # each pass moves every active chain up one level
        active = cursor >= 0
        if not active.any():
            break
        depth[active] += 1
        cursor[active] = parent[cursor[active]]
    return np.minimum(depth, n)


def tree_parents_by_depth(
    depths: np.ndarray, popularity: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Parent row index per row (-1 for roots): each row at depth d picks a row at depth
    d - 1, weighted by ``popularity``. Depths are first repaired so that every level
    below the deepest has rows (a row whose level above is empty moves up)."""
    depths = _repair(np.asarray(depths, dtype=np.int64))
    parents = np.full(len(depths), -1, dtype=np.int64)
    for level in range(1, int(depths.max(initial=0)) + 1):
        rows = np.flatnonzero(depths == level)
        above = np.flatnonzero(depths == level - 1)
        if len(rows) == 0:
            continue
        weights = popularity[above].astype(np.float64) + 1e-9
        parents[rows] = above[rng.choice(len(above), size=len(rows), p=weights / weights.sum())]
    return parents


def _repair(depths: np.ndarray) -> np.ndarray:
    if len(depths) == 0:
        return depths
    depths = np.maximum(depths, 0)
    if not (depths == 0).any():
        depths[np.argmin(depths)] = 0
    present = np.unique(depths)
    # compress gaps: levels 0, 2, 5 become 0, 1, 2
    return np.searchsorted(present, depths).astype(np.int64)
