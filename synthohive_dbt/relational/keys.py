"""Key formats: learn how a key column looks and mint new, unique values in that format.

Integers stay integers, prefixed strings keep their prefix and zero-padded width
(``C00042``), UUIDs are fresh version-4 UUIDs, other text becomes random strings of the
observed length over the observed alphabet. Keys are never copied: sequences start past
the real maximum, except numbering within a parent (line numbers beside FK columns),
which restarts per parent like the real one. Identifiers that are not a key (a session id
on events) get fresh values too, each held by as many rows as the real histogram of rows
per value says: counts only, no value.
"""

from __future__ import annotations

import re
import string
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..schema import LogicalType
from ..synth.values import random_uuids

_PREFIXED = re.compile(r"^(\D*?)(\d+)$")
UUID_TEXT = r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
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
    # identifiers that are no key: (rows per value, how many real values had that many
    # rows) pairs, and the share of NULL rows; empty for keys (one row per value)
    repeats: tuple[tuple[int, int], ...] = ()
    null_rate: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyFormat:
        repeats = tuple((int(k), int(n)) for k, n in data.get("repeats", ()))
        return cls(**{**data, "repeats": repeats})

    def mint_rows(self, first: int, n: int, rng: np.random.Generator) -> pd.Series:
        """Values for rows ``first`` to ``first + n - 1`` of a table (chunks continue the
        numbering): one per row for a key; for repeated identifiers, fresh values shared
        by rows in the real rows-per-value proportions, in random order, NULL at the real
        rate."""
        if not self.repeats:
            return self.mint(np.arange(first, first + n), rng)
        present = np.flatnonzero(rng.random(n) >= self.null_rate)
        if not len(present):
            return pd.Series([None] * n, dtype=object)
        sizes = np.array([k for k, _ in self.repeats], dtype=np.int64)
        weights = np.array([c for _, c in self.repeats], dtype=np.float64)
        p = weights / weights.sum()
        drawn = rng.choice(sizes, size=int(np.ceil(len(present) / (sizes @ p))) + 16, p=p)
        while drawn.sum() < len(present):
            drawn = np.concatenate([drawn, rng.choice(sizes, size=len(drawn), p=p)])
        groups = np.repeat(np.arange(len(drawn)), drawn)[: len(present)]
        # at most one value per row: the ordinals stay within this chunk's row range
        values = self.mint(first + np.arange(groups[-1] + 1), rng)
        if pd.api.types.is_integer_dtype(values.dtype):
            values = values.astype("Int64")  # numpy ints cannot hold NULL
        rows = np.full(n, -1, dtype=np.int64)
        rows[present] = rng.permutation(groups)
        return pd.Series(values.array.take(rows, allow_fill=True))

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


def learn_key_format(series: pd.Series, logical: LogicalType, *, fresh: bool = True) -> KeyFormat:
    """Infer the format of an existing key column from its values. ``fresh``: numbers start
    past the real maximum, so that no real key is minted again; otherwise at the real
    minimum (numbering within a parent)."""
    dtype = str(series.dtype)
    values = series.dropna()
    if logical in (LogicalType.INTEGER, LogicalType.NUMERIC, LogicalType.FLOAT):
        start = 1
        if len(values):
            numbers = pd.to_numeric(values)
            start = int(np.floor(numbers.max())) + 1 if fresh else int(np.floor(numbers.min()))
        return KeyFormat(SEQUENCE, start=start, dtype=dtype)
    if logical is LogicalType.UUID:
        return KeyFormat(UUID, dtype=dtype)
    if logical in (LogicalType.DATE, LogicalType.TIMESTAMP, LogicalType.TIMESTAMPTZ):
        first = pd.to_datetime(values).min() if len(values) else pd.Timestamp("2000-01-01")
        return KeyFormat(DAYS, start=int(first.value // 86_400_000_000_000), dtype=dtype)
    text = values.astype(str)
    if len(text) and text.str.fullmatch(UUID_TEXT).all():
        return KeyFormat(UUID, dtype=dtype)
    parts = text.str.extract(_PREFIXED)
    # up to 18 digits: the numeric part must fit an int64
    fits = bool(parts[1].str.len().max() <= 18) if len(text) else False
    if fits and parts[0].notna().all() and parts[0].nunique() == 1:
        digits = parts[1]
        widths = digits.str.len()
        padded = bool((digits.str.startswith("0") & (widths > 1)).any()) or widths.nunique() == 1
        width = int(widths.max()) if padded else 0
        numbers = digits.astype(np.int64)
        start = int(numbers.max()) + 1 if fresh else int(numbers.min())
        return KeyFormat(PREFIXED, start=start, prefix=str(parts[0].iloc[0]), width=width)
    length = int(text.str.len().median()) if len(text) else 8
    alphabet = "".join(sorted(set("".join(text.head(10_000))))) or KeyFormat.alphabet
    return KeyFormat(RANDOM, length=max(length, 1), alphabet=alphabet, dtype=dtype)


def learn_identifier_format(series: pd.Series, logical: LogicalType) -> KeyFormat:
    """The format of a column of identifiers that is no key: fresh values (as for a key),
    repeated like the real ones (the histogram of rows per value) and NULL as often."""
    per_value = series.dropna().value_counts().to_numpy()
    sizes, counts = np.unique(per_value, return_counts=True)
    repeats = tuple(zip(sizes.tolist(), counts.tolist(), strict=True)) or ((1, 1),)
    null_rate = float(series.isna().mean()) if len(series) else 0.0
    return replace(learn_key_format(series, logical), repeats=repeats, null_rate=null_rate)


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
