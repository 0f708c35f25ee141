"""Shapes of strings: learn them, render random strings in them, mask strings to them.

The format language: ``#`` is a digit, ``A`` an upper-case letter, ``a`` a lower-case
letter, ``\\x`` the literal character x; every other character stands for itself. So
"+1 (###) ###-####" is a US phone number and "\\AT##################" an Austrian IBAN
(the country code escaped because A is a placeholder).

Everything works on matrices of code points, one row per string, padded with NUL (numpy's
fixed-width unicode arrays viewed as uint32), so that a million strings take a few numpy
operations instead of a million Python calls. Rows are grouped by length (powers of two) so
one long value does not pad every other row to its width.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

LITERAL, DIGIT, UPPER, LOWER = 0, 1, 2, 3
_SPECIAL = "#Aa\\"
_PLACEHOLDER = {"#": DIGIT, "A": UPPER, "a": LOWER}
_CODE = {DIGIT: ord("#"), UPPER: ord("A"), LOWER: ord("a")}
_RANGES = {DIGIT: (48, 10), UPPER: (65, 26), LOWER: (97, 26)}  # first code point, how many


def char_matrix(strings: np.ndarray) -> np.ndarray:
    """(rows, width) uint32 code points of an array of str, padded with 0."""
    fixed = np.asarray(strings, dtype=str)
    if fixed.size == 0:
        return np.zeros((0, 1), dtype=np.uint32)
    width = max(fixed.dtype.itemsize // 4, 1)
    return fixed.astype(f"<U{width}").view(np.uint32).reshape(len(fixed), width)


def strings_of(matrix: np.ndarray) -> np.ndarray:
    """Object array of str from a code-point matrix (trailing NULs dropped)."""
    rows, width = matrix.shape
    if rows == 0:
        return np.empty(0, dtype=object)
    fixed = np.ascontiguousarray(matrix, dtype=np.uint32).view(f"<U{width}").reshape(rows)
    return fixed.astype(object)


def length_groups(lengths: np.ndarray) -> Iterator[np.ndarray]:
    """Row indices grouped by the power of two that bounds their length."""
    bucket = np.ceil(np.log2(np.maximum(lengths, 1))).astype(np.int64)
    for b in np.unique(bucket):
        yield np.flatnonzero(bucket == b)


def classify(matrix: np.ndarray) -> np.ndarray:
    """Per code point: DIGIT, UPPER, LOWER (any other letter counts as LOWER) or LITERAL.
    ASCII by comparison; the few non-ASCII characters through numpy's unicode tests."""
    kinds = np.zeros(matrix.shape, dtype=np.int8)
    kinds[(matrix >= 48) & (matrix <= 57)] = DIGIT
    kinds[(matrix >= 65) & (matrix <= 90)] = UPPER
    kinds[(matrix >= 97) & (matrix <= 122)] = LOWER
    wide = matrix > 127
    if wide.any():
        chars = np.ascontiguousarray(matrix[wide]).view("<U1")
        sub = np.full(chars.shape, LITERAL, dtype=np.int8)
        sub[np.strings.isalpha(chars)] = LOWER
        sub[np.strings.isupper(chars)] = UPPER
        sub[np.strings.isdigit(chars)] = DIGIT
        kinds[wide] = sub
    return kinds


def _compact(matrix: np.ndarray) -> np.ndarray:
    """Each row's non-NUL code points moved to the front, order kept."""
    order = np.argsort(matrix == 0, axis=1, kind="stable")
    return np.take_along_axis(matrix, order, axis=1)


def _shape_matrix(matrix: np.ndarray) -> np.ndarray:
    kinds = classify(matrix)
    shape = matrix.copy()
    for kind, code in _CODE.items():
        shape[kinds == kind] = code
    literal = kinds == LITERAL
    escape = literal & ((matrix == ord("#")) | (matrix == ord("\\")))
    rows = escape.any(axis=1)
    if not rows.any():
        return shape
    # A literal '#' or '\' becomes two characters: interleave escapes and compact.
    pairs = np.zeros((int(rows.sum()), 2 * shape.shape[1]), dtype=np.uint32)
    pairs[:, 0::2] = np.where(escape[rows], ord("\\"), 0)
    pairs[:, 1::2] = shape[rows]
    wide = np.zeros((len(shape), pairs.shape[1]), dtype=np.uint32)
    wide[~rows, : shape.shape[1]] = shape[~rows]
    wide[rows] = _compact(pairs)
    return wide


def shapes(strings: np.ndarray) -> np.ndarray:
    """The format of each string: digits to '#', letters to 'A'/'a', literals escaped."""
    strings = np.asarray(strings, dtype=object)
    out = np.empty(len(strings), dtype=object)
    lengths = pd.Series(strings, dtype=object).str.len().to_numpy(dtype=np.int64)
    for rows in length_groups(lengths):
        out[rows] = strings_of(_shape_matrix(char_matrix(strings[rows])))
    return out


def escape(text: str) -> str:
    """``text`` as literal characters of the format language."""
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in text)


@lru_cache(maxsize=1024)
def parse(fmt: str) -> tuple[np.ndarray, np.ndarray]:
    """A format as (code points, kinds): literals carry their code point, placeholders 0."""
    codes, kinds = [], []
    chars = iter(fmt)
    for ch in chars:
        if ch == "\\":
            codes.append(ord(next(chars, "\\")))
            kinds.append(LITERAL)
        elif ch in _PLACEHOLDER:
            codes.append(0)
            kinds.append(_PLACEHOLDER[ch])
        else:
            codes.append(ord(ch))
            kinds.append(LITERAL)
    return np.array(codes, dtype=np.uint32), np.array(kinds, dtype=np.int8)


def random_chars(kinds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random code points for a kinds matrix: digit, upper or lower letter; 0 elsewhere.
    One uint8 draw per cell: 130 is a multiple of both 10 and 26, so both are uniform."""
    u = rng.integers(0, 130, size=kinds.shape, dtype=np.uint8).astype(np.uint32)
    out = np.zeros(kinds.shape, dtype=np.uint32)
    np.copyto(out, 48 + u % 10, where=kinds == DIGIT)
    np.copyto(out, 65 + u % 26, where=kinds == UPPER)
    np.copyto(out, 97 + u % 26, where=kinds == LOWER)
    return out


def render_matrix(fmt: str, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``m`` random strings in ``fmt`` as a code-point matrix, with the format's kinds."""
    codes, kinds = parse(fmt)
    matrix = np.empty((m, len(kinds)), dtype=np.uint32)
    matrix[:] = codes
    for kind, (base, span) in _RANGES.items():
        columns = np.flatnonzero(kinds == kind)
        if len(columns):
            draw = rng.integers(0, span, size=(m, len(columns)), dtype=np.uint8)
            matrix[:, columns] = draw + np.uint32(base)
    return matrix, kinds


def pick(weights: Sequence[float], m: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` indices drawn with the given (not necessarily normalised) weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=m, p=p / p.sum())


def render(formats: Sequence[str], weights: Sequence[float], m: int, rng) -> np.ndarray:
    """``m`` random strings, each in one of ``formats`` drawn by ``weights``."""
    out = np.empty(m, dtype=object)
    chosen = pick(weights, m, rng)
    for i, fmt in enumerate(formats):
        rows = np.flatnonzero(chosen == i)
        if len(rows):
            out[rows] = strings_of(render_matrix(fmt, len(rows), rng)[0])
    return out


def learn_formats(
    strings: pd.Series, k: int, prefixes: pd.Series | None = None
) -> tuple[tuple[str, float], ...]:
    """The shapes of ``strings`` seen in at least ``k`` rows, with their shares, most common
    first. A row's prefix (an international dialling code, an IBAN country) stays literal
    when at least ``k`` rows share it; other rows are shaped whole."""
    strings = strings.astype(object).reset_index(drop=True)
    shaped = pd.Series(shapes(strings.to_numpy()), dtype=object)
    if prefixes is not None:
        prefixes = prefixes.fillna("").astype(object).reset_index(drop=True)
        counts = prefixes[prefixes != ""].value_counts()
        for prefix in counts.index[counts >= k]:
            rows = (prefixes == prefix).to_numpy()
            rest = strings[rows].str.slice(len(prefix)).to_numpy()
            shaped[rows] = escape(prefix) + pd.Series(shapes(rest), dtype=object)
    counts = shaped.value_counts()
    kept = sorted(((int(c), s) for s, c in counts.items() if c >= k), key=lambda t: (-t[0], t[1]))
    total = sum(c for c, _ in kept)
    return tuple((s, c / total) for c, s in kept)


def mask_strings(
    strings: np.ndarray, rng: np.random.Generator, keep_from: np.ndarray | None = None
) -> np.ndarray:
    """Each string with its digits and letters replaced by random ones of the same kind and
    case; everything else, and the length, kept. Row i keeps its characters from position
    ``keep_from[i]`` on unchanged (-1: none kept)."""
    strings = np.asarray(strings, dtype=object)
    out = np.empty(len(strings), dtype=object)
    lengths = pd.Series(strings, dtype=object).str.len().to_numpy(dtype=np.int64)
    for rows in length_groups(lengths):
        matrix = char_matrix(strings[rows])
        kinds = classify(matrix)
        if keep_from is not None:
            start = np.where(keep_from[rows] < 0, matrix.shape[1], keep_from[rows])
            kinds[np.arange(matrix.shape[1]) >= start[:, None]] = LITERAL
        fresh = random_chars(kinds, rng)
        out[rows] = strings_of(np.where(kinds == LITERAL, matrix, fresh))
    return out


def luhn_digit(digits: np.ndarray) -> np.ndarray:
    """The Luhn check digit for each row of a digit matrix (check digit not included)."""
    doubled = digits[:, ::-1].astype(np.int64)
    doubled[:, 0::2] *= 2
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    return (10 - doubled.sum(axis=1) % 10) % 10


def iban_check(country: np.ndarray, bban: np.ndarray) -> np.ndarray:
    """ISO 13616 check digits (2..98) per row from code-point matrices of the country code
    and the BBAN: mod 97 of BBAN + country + "00", letters counting as 10..35."""
    rearranged = np.concatenate(
        [bban, country, np.full((len(bban), 2), ord("0"), np.uint32)], axis=1
    ).astype(np.int64)
    value = np.where(rearranged >= 65, rearranged - 55, rearranged - 48)
    rest = np.zeros(len(value), dtype=np.int64)
    for column in value.T:  # one pass per character, vectorised over rows
        rest = np.where(column >= 10, rest * 100 + column, rest * 10 + column) % 97
    return 98 - rest
