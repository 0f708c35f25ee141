"""Shapes of text values, and new values drawn from them.

Rare real values (seen in fewer than k rows) never reach an artifact or a synthetic table:
a codec keeps only their *shapes*, and the "other" category decodes to new strings of
those shapes. A shape maps every letter to ``A`` (upper case) or ``a`` (other letters)
and every digit to ``9``; spaces and punctuation stay as they are ("AB-1234" has shape
"AA-9999"); a letter or digit that every value of a shape has at the same place stays
as it is, escaped with a backslash ("sku-1234", "sku-0042", ... have shape "\\s\\k\\u-9999").
A shape is stored only when at least k rare values share it. The others are
generalised to their runs ("Aaaa Aaaaaa" -> runs "Aa a": upper, lower, space, lower) with
run lengths drawn from the column's run-length histogram, again only runs patterns shared
by at least k values; what remains takes the most common stored pattern.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

UPPER, LOWER, DIGIT = "A", "a", "9"
_CLASSES = (UPPER, LOWER, DIGIT)
_UPPER = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8).astype(np.uint32)
_LOWER = _UPPER + 32
_DIGIT = np.frombuffer(b"0123456789", dtype=np.uint8).astype(np.uint32)
_POOLS = {UPPER: _UPPER, LOWER: _LOWER, DIGIT: _DIGIT}
MAX_RUN = 40  # run lengths above this are drawn as this
MAX_SHAPES = 200


@dataclass(frozen=True)
class Shapes:
    """Exact shapes and run patterns of a column's rare values, with their weights."""

    exact: tuple[tuple[str, float], ...] = ()
    runs: tuple[tuple[str, float], ...] = ()  # run patterns: one class char per run
    run_lengths: Mapping[str, tuple[float, ...]] | None = None  # per class: P(len = i+1)

    @property
    def empty(self) -> bool:
        return not self.exact and not self.runs

    def to_json(self) -> dict[str, Any]:
        return {
            "exact": [list(x) for x in self.exact],
            "runs": [list(x) for x in self.runs],
            "run_lengths": {k: list(v) for k, v in (self.run_lengths or {}).items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Shapes:
        if not data:
            return cls()
        return cls(
            exact=tuple((str(s), float(w)) for s, w in data.get("exact", ())),
            runs=tuple((str(s), float(w)) for s, w in data.get("runs", ())),
            run_lengths={k: tuple(float(x) for x in v) for k, v in data["run_lengths"].items()}
            if data.get("run_lengths")
            else None,
        )

    # -- sampling ---------------------------------------------------------------------
    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` new strings (object array) of these shapes."""
        out = np.empty(n, dtype=object)
        if n == 0:
            return out
        patterns = list(self.exact) + [(r, w) for r, w in self.runs]
        if not patterns:
            patterns = [("Aaaaaa", 1.0)]
        weights = np.array([w for _, w in patterns], dtype=np.float64)
        pick = rng.choice(len(patterns), size=n, p=weights / weights.sum())
        for i in np.unique(pick):
            rows = np.flatnonzero(pick == i)
            shape = patterns[i][0]
            if i < len(self.exact):
                out[rows] = fill_shape(shape, len(rows), rng)
            else:
                out[rows] = self._fill_runs(shape, len(rows), rng)
        return out

    def _fill_runs(self, pattern: str, m: int, rng: np.random.Generator) -> np.ndarray:
        lengths = np.ones((m, len(pattern)), dtype=np.int64)
        for j, cls in enumerate(pattern):
            probs = (self.run_lengths or {}).get(cls)
            if cls in _POOLS and probs:
                p = np.asarray(probs, dtype=np.float64)
                lengths[:, j] = rng.choice(len(p), size=m, p=p / p.sum()) + 1
        total = lengths.sum(axis=1)
        width = int(total.max())
        codes = np.zeros((m, width), dtype=np.uint32)
        rows = np.repeat(np.arange(m), total)
        starts = np.repeat(np.cumsum(total) - total, total)
        cols = np.arange(len(rows)) - starts
        classes = np.repeat(np.tile(np.arange(len(pattern)), m), lengths.ravel())
        codes[rows, cols] = _chars(pattern, classes, rng)
        return codes.view(f"<U{width}").ravel().astype(object)


def fill_shape(shape: str, m: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` random strings of one exact ``shape`` (object array)."""
    chars, classes = _parse(shape)
    if not chars:
        return np.full(m, "", dtype=object)
    positions = np.tile(np.arange(len(chars)), m)
    codes = _chars(chars, positions, rng, classes).reshape(m, len(chars))
    return codes.view(f"<U{len(chars)}").ravel().astype(object)


def _parse(shape: str) -> tuple[str, list[bool]]:
    """(characters, whether each is a class to fill): a backslash escapes a literal."""
    chars: list[str] = []
    classes: list[bool] = []
    escaped = False
    for c in shape:
        if escaped:
            chars.append(c)
            classes.append(False)
            escaped = False
        elif c == "\\":
            escaped = True
        else:
            chars.append(c)
            classes.append(c in _POOLS)
    return "".join(chars), classes


def _chars(
    pattern: str,
    positions: np.ndarray,
    rng: np.random.Generator,
    classes: list[bool] | None = None,
) -> np.ndarray:
    """A character code per entry of ``positions`` (indices into ``pattern``); class
    characters (unless ``classes`` says a place is a literal) become random ones."""
    out = np.array([ord(c) for c in pattern], dtype=np.uint32)[positions]
    fill = classes if classes is not None else [c in _POOLS for c in pattern]
    for cls, pool in _POOLS.items():
        wanted = np.array([c == cls and f for c, f in zip(pattern, fill, strict=True)])
        hit = np.flatnonzero(wanted[positions])
        if len(hit):
            out[hit] = pool[rng.integers(0, len(pool), size=len(hit))]
    return out


def _with_literals(shape: str, values: pd.Series) -> str:
    """``shape`` with the letters and digits all ``values`` share at a place kept."""
    text = values.astype(str)
    if text.empty or text.str.len().nunique() != 1:
        return shape.replace("\\", "\\\\")
    grid = np.array([list(v) for v in text.iloc[:1000]])
    out = []
    for j, c in enumerate(shape):
        column = grid[:, j]
        if c in _POOLS and (column == column[0]).all():
            out.append("\\" + str(column[0]))
        else:
            out.append("\\\\" if c == "\\" else c)
    return "".join(out)


def shape_of(values: pd.Series) -> pd.Series:
    """Each value's exact shape (letters to A/a, digits to 9, the rest kept)."""
    text = values.astype(str)
    text = text.str.replace(r"\d", DIGIT, regex=True)
    text = text.str.replace(r"[^\W\d_]", _letter_class, regex=True)
    return text


def _letter_class(match: Any) -> str:
    return UPPER if match.group(0).isupper() else LOWER


def learn_shapes(values: Sequence[Any] | pd.Series, counts: Sequence[int], k: int) -> Shapes:
    """The shapes of ``values`` (each seen ``counts`` times), keeping only what at least
    ``k`` rows share; nothing of a single value survives on its own."""
    if not len(values):
        return Shapes()
    distinct = pd.Series(list(values), dtype=object).astype(str)
    weight = pd.Series(np.asarray(counts, dtype=np.float64))
    shapes = shape_of(distinct)
    by_shape = weight.groupby(shapes.to_numpy()).sum()
    exact = by_shape[by_shape >= k].sort_values(ascending=False, kind="stable")[:MAX_SHAPES]
    rest = ~shapes.isin(exact.index)
    exact.index = [_with_literals(sh, distinct[shapes == sh]) for sh in exact.index]
    run_shapes = shapes[rest].str.replace(r"(.)\1+", r"\1", regex=True)
    by_runs = weight[rest].groupby(run_shapes.to_numpy()).sum()
    runs = by_runs[by_runs >= k].sort_values(ascending=False, kind="stable")[:MAX_SHAPES]
    left = float(by_runs[by_runs < k].sum())
    run_items = [(str(s), float(w)) for s, w in runs.items()]
    if left > 0:  # values whose runs no k rows share: take the commonest stored pattern
        if run_items:
            run_items[0] = (run_items[0][0], run_items[0][1] + left)
        elif len(exact):
            exact.iloc[0] += left
        else:
            run_items = [(_fallback(shapes[rest]), left)]
    return Shapes(
        exact=tuple((str(s), float(w)) for s, w in exact.items()),
        runs=tuple(run_items),
        run_lengths=_run_lengths(shapes[rest], weight[rest], k) if run_items else None,
    )


def _fallback(shapes: pd.Series) -> str:
    """A run pattern no value owns: a word of the letter classes the column uses, a
    number when it uses digits, separated by spaces when its values hold spaces."""
    text = "".join(shapes.tolist())
    letters = "".join(c for c in (UPPER, LOWER) if c in text)
    words = [w for w in (letters, DIGIT if DIGIT in text else "") if w] or [LOWER]
    return (" " if " " in text else "").join(words)


def _run_lengths(shapes: pd.Series, weight: pd.Series, k: int) -> dict[str, tuple[float, ...]]:
    """Per class, the share of runs of each length (1..MAX_RUN) over all rare values."""
    out: dict[str, tuple[float, ...]] = {}
    for cls in _CLASSES:
        runs = shapes.str.findall(f"{cls}+")
        lengths = runs.explode().dropna().str.len().clip(upper=MAX_RUN)
        if lengths.empty:
            continue
        w = weight.loc[lengths.index].to_numpy()
        hist = np.bincount(lengths.to_numpy(dtype=np.int64) - 1, weights=w, minlength=MAX_RUN)
        if hist.sum() < k:  # too few runs to describe: a plain spread
            hist = np.ones(8)
        out[cls] = tuple(float(x) for x in hist / hist.sum())
    return out
