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
import pyarrow as pa
import pyarrow.compute as pc

LITERAL, DIGIT, UPPER, LOWER = 0, 1, 2, 3
_SPECIAL = "#Aa\\"
_PLACEHOLDER = {"#": DIGIT, "A": UPPER, "a": LOWER}
_CODE = {DIGIT: ord("#"), UPPER: ord("A"), LOWER: ord("a")}
_RANGES = {DIGIT: (48, 10), UPPER: (65, 26), LOWER: (97, 26)}  # first code point, how many


def char_matrix(strings: np.ndarray, width: int | None = None) -> np.ndarray:
    """(rows, width) uint32 code points of an array of str, padded with 0. Passing the
    width (the longest length) spares numpy a scan and makes the conversion much faster."""
    if width is None:
        width = max(np.asarray(strings, dtype=str).dtype.itemsize // 4, 1)
    width = max(width, 1)
    fixed = np.asarray(strings, dtype=object).astype(f"<U{width}")
    return fixed.view(np.uint32).reshape(len(fixed), width)


def strings_of(matrix: np.ndarray) -> np.ndarray:
    """Object array of str from a code-point matrix (trailing NULs dropped)."""
    rows, width = matrix.shape
    if rows == 0:
        return np.empty(0, dtype=object)
    fixed = np.ascontiguousarray(matrix, dtype=np.uint32).view(f"<U{width}").reshape(rows)
    return fixed.astype(object)


def lengths_of(strings: np.ndarray) -> np.ndarray:
    """Length in characters of each str of an object array (Arrow's kernel)."""
    text = pa.array(strings, type=pa.string(), from_pandas=True)
    return pc.utf8_length(text).to_numpy(zero_copy_only=False).astype(np.int64)


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
    lengths = lengths_of(strings)
    for rows in length_groups(lengths):
        matrix = char_matrix(strings[rows], int(lengths[rows].max()))
        out[rows] = strings_of(_shape_matrix(matrix))
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


def fill_random(matrix: np.ndarray, kinds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Overwrite, in place, the cells of ``matrix`` whose kind is DIGIT, UPPER or LOWER
    with random characters of that kind (uint16 draws: the modulo bias is below 1e-3)."""
    draw = np.frombuffer(rng.bytes(2 * kinds.size), dtype=np.uint16).reshape(kinds.shape)
    for kind, (base, span) in _RANGES.items():
        np.copyto(matrix, draw % span + base, where=kinds == kind, casting="unsafe")
    return matrix


def random_chars(kinds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random code points for a kinds matrix: digit, upper or lower letter; 0 elsewhere."""
    return fill_random(np.zeros(kinds.shape, dtype=np.uint32), kinds, rng)


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
    shaped = shapes(strings.to_numpy())
    if prefixes is not None:
        prefixes = prefixes.fillna("").astype(object).reset_index(drop=True)
        counts = prefixes[prefixes != ""].value_counts()
        for prefix in counts.index[counts >= k]:
            rows = (prefixes == prefix).to_numpy()
            rest = strings[rows].str.slice(len(prefix)).to_numpy()
            shaped[rows] = escape(prefix) + shapes(rest)
    counts = pd.Series(shaped, dtype=object).value_counts()
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
    lengths = lengths_of(strings)
    for rows in length_groups(lengths):
        matrix = char_matrix(strings[rows], int(lengths[rows].max()))
        kinds = classify(matrix)
        if keep_from is not None:
            start = np.where(keep_from[rows] < 0, matrix.shape[1], keep_from[rows])
            kinds[np.arange(matrix.shape[1]) >= start[:, None]] = LITERAL
        out[rows] = strings_of(fill_random(matrix, kinds, rng))
    return out


def luhn_digit(digits: np.ndarray) -> np.ndarray:
    """The Luhn check digit for each row of a digit matrix (check digit not included)."""
    doubled = digits[:, ::-1].astype(np.int64)
    doubled[:, 0::2] *= 2
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    return (10 - doubled.sum(axis=1) % 10) % 10


def iban_check(country: np.ndarray, bban: np.ndarray) -> np.ndarray:
    """ISO 13616 check digits (2..98) per row from code-point matrices of the country code
    and the BBAN, all rows in one format (a column is a digit in every row or a letter in
    every row). The check is mod 97 of the number BBAN + country + "00" with letters as
    10..35; being linear, it is one weighted sum: column j weighs 10^(digits after j)."""
    codes = np.concatenate([bban, country, np.full((len(bban), 2), ord("0"), np.uint32)], axis=1)
    value = np.where(codes >= 65, codes.astype(np.int64) - 55, codes.astype(np.int64) - 48)
    width = np.where(value[0] >= 10, 2, 1) if len(value) else np.ones(codes.shape[1], int)
    after = np.cumsum(width[::-1])[::-1] - width
    weight = np.array([pow(10, int(e), 97) for e in after], dtype=np.int64)
    return 98 - (value @ weight) % 97
