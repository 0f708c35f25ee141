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
    """A uint64 per row from its values (columns in name order), mixed with ``seed``
    (pandas keys only the hashes of text, so the seed is mixed in afterwards)."""
    ordered = frame[sorted(frame.columns, key=str)]
    hashes = pd.util.hash_pandas_object(ordered, index=False).to_numpy().astype(np.uint64)
    salt = np.random.SeedSequence([seed, 0x5EED]).generate_state(1, dtype=np.uint64)[0]
    with np.errstate(over="ignore"):  # splitmix64 finaliser: wrapping arithmetic
        x = hashes ^ salt
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


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
