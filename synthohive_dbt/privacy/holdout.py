"""The holdout: real rows that no model trains on, kept aside to measure privacy.

Which rows are held out depends only on the rows' values and the seed (a keyed hash of
each row), not on the order a warehouse returns them in: ``generate`` reads the real table
again and finds the same rows without storing any of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .settings import PrivacySettings


def row_hashes(frame: pd.DataFrame, seed: int) -> np.ndarray:
    """A uint64 per row from its values (columns in name order), keyed by ``seed``."""
    ordered = frame[sorted(frame.columns, key=str)]
    key = f"synthohive{seed % 10**6:06d}"  # 16 characters, as pandas requires
    return pd.util.hash_pandas_object(ordered, index=False, hash_key=key).to_numpy()


def holdout_size(n: int, settings: PrivacySettings) -> int:
    return min(int(n * settings.holdout_share), settings.holdout_max_rows)


def holdout_mask(frame: pd.DataFrame, seed: int, settings: PrivacySettings) -> np.ndarray:
    """True for the held-out rows: the ``holdout_size`` rows with the smallest hashes
    (rows with equal values go together, so a duplicate never straddles the split)."""
    n = len(frame)
    size = holdout_size(n, settings)
    mask = np.zeros(n, dtype=bool)
    if size == 0:
        return mask
    hashes = row_hashes(frame, seed)
    cut = np.partition(hashes, size - 1)[size - 1]
    mask[hashes <= cut] = True
    if mask.sum() > size:  # ties at the cut (duplicate rows): keep whole groups below it
        below = hashes < cut
        mask = below if below.any() else mask
    return mask
