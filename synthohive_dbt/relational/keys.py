"""Key formats: learn how a key column looks and mint new, unique values in that format.

Integers stay integers (a sequence from the observed minimum), prefixed strings keep their
prefix and zero-padded width (``C00042``), UUIDs are fresh version-4 UUIDs, other text
becomes random strings of the observed length over the observed alphabet.
"""

from __future__ import annotations

import re
import string
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..schema import LogicalType
from ..synth.columns import random_uuids

_PREFIXED = re.compile(r"^(\D*?)(\d+)$")
_UUID_TEXT = r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
SEQUENCE = "sequence"
PREFIXED = "prefixed"
UUID = "uuid"
RANDOM = "random"
DAYS = "days"


@dataclass(frozen=True)
class KeyFormat:
    """How to mint values of one key column. JSON-serialisable; no raw values stored
    except a short prefix shared by every key."""

    kind: str  # SEQUENCE | PREFIXED | UUID | RANDOM | DAYS
    start: int = 1
    prefix: str = ""
    width: int = 0  # zero-padding width of the numeric part (0: no padding)
    length: int = 8  # RANDOM: string length
    alphabet: str = string.ascii_uppercase + string.digits
    dtype: str = "object"  # pandas dtype of the real column

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyFormat:
        return cls(**data)

    def mint(self, ordinals: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """Values for 0-based ``ordinals``; distinct ordinals give distinct values."""
        ordinals = np.asarray(ordinals, dtype=np.int64)
        if self.kind == SEQUENCE:
            return _restore(pd.Series(ordinals + self.start), self.dtype)
        if self.kind == DAYS:
            days = pd.to_datetime(ordinals + self.start, unit="D")
            return _restore(pd.Series(days), self.dtype)
        if self.kind == PREFIXED:
            numbers = (ordinals + self.start).astype(str)
            padded = pd.Series(numbers).str.zfill(self.width) if self.width else pd.Series(numbers)
            return self.prefix + padded
        if self.kind == UUID:
            return pd.Series(random_uuids(len(ordinals), rng))
        return pd.Series(_random_strings(ordinals, self.length, self.alphabet, rng))


def learn_key_format(series: pd.Series, logical: LogicalType) -> KeyFormat:
    """Infer the format of an existing key column from its values."""
    dtype = str(series.dtype)
    values = series.dropna()
    if logical in (LogicalType.INTEGER, LogicalType.NUMERIC, LogicalType.FLOAT):
        start = int(np.floor(pd.to_numeric(values).min())) if len(values) else 1
        return KeyFormat(SEQUENCE, start=start, dtype=dtype)
    if logical is LogicalType.UUID:
        return KeyFormat(UUID, dtype=dtype)
    if logical in (LogicalType.DATE, LogicalType.TIMESTAMP, LogicalType.TIMESTAMPTZ):
        first = pd.to_datetime(values).min() if len(values) else pd.Timestamp("2000-01-01")
        return KeyFormat(DAYS, start=int(first.value // 86_400_000_000_000), dtype=dtype)
    text = values.astype(str)
    if len(text) and text.str.fullmatch(_UUID_TEXT).all():
        return KeyFormat(UUID, dtype=dtype)
    parts = text.str.extract(_PREFIXED)
    if len(text) and parts[0].notna().all() and parts[0].nunique() == 1:
        digits = parts[1]
        widths = digits.str.len()
        padded = bool((digits.str.startswith("0") & (widths > 1)).any()) or widths.nunique() == 1
        width = int(widths.max()) if padded else 0
        start = int(digits.astype(np.int64).min())
        return KeyFormat(PREFIXED, start=start, prefix=str(parts[0].iloc[0]), width=width)
    length = int(text.str.len().median()) if len(text) else 8
    alphabet = "".join(sorted(set("".join(text.head(10_000))))) or KeyFormat.alphabet
    return KeyFormat(RANDOM, length=max(length, 1), alphabet=alphabet, dtype=dtype)


def _restore(series: pd.Series, dtype: str) -> pd.Series:
    try:
        return series.astype(dtype)
    except (TypeError, ValueError):
        return series


def _random_strings(
    ordinals: np.ndarray, length: int, alphabet: str, rng: np.random.Generator
) -> np.ndarray:
    """Random strings, made unique by re-drawing collisions (collisions are rare)."""
    letters = np.array(list(alphabet))
    n = len(ordinals)
    # enough entropy for uniqueness: grow the length if the space is too small
    while len(letters) ** length < max(4 * n, 16):
        length += 1
    out = np.empty(n, dtype=object)
    todo = np.arange(n)
    seen: set[str] = set()
    while len(todo):
        draws = letters[rng.integers(0, len(letters), size=(len(todo), length))]
        words = np.array(["".join(row) for row in draws], dtype=object)
        _, first = np.unique(words, return_index=True)
        fresh = np.zeros(len(todo), dtype=bool)
        fresh[first] = True
        fresh &= np.array([w not in seen for w in words])
        out[todo[fresh]] = words[fresh]
        seen.update(words[fresh])
        todo = todo[~fresh]
    return out
