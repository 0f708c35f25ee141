"""One generator per kind of personal column, all vectorised.

Every generator has the signature ``(spec, codes, rng, names, attempt) -> object array``:
``codes`` is the mimesis locale of each row, ``names`` the (first, last) fake names of the
rows when e-mails are to be built from them, and ``attempt`` counts redraws for unique
columns: name-like kinds widen their space as it grows (middle initials, more digits),
format-bound kinds simply draw again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from string import Formatter

import numpy as np
import pandas as pd

from synthohive_dbt.privacy import formats as F
from synthohive_dbt.privacy.pools import Pools, fold_ascii, free_email_domains, pools

EMAIL_PATTERNS = (
    "{first}.{last}",
    "{first}_{last}",
    "{first}{last}",
    "{f}{last}",
    "{f}.{last}",
    "{last}.{first}",
    "{first}{l}",
    "{first}",
)
_DEFAULT_PATTERN_WEIGHTS = (0.4, 0.1, 0.15, 0.2, 0.05, 0.05, 0.03, 0.02)
_FIELD = re.compile(r"\{(first|last|f|l)\}")
DEFAULT_BIRTH_RANGE = ("1940-01-01", "2005-12-31")
_SSN_FORMAT = "###-##-####"
_IBAN_DEFAULT = {"DE": "DE####################", "GB": "GB##AAAA##############"}
_LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), dtype=object)


def by_locale(codes: np.ndarray, make: Callable[[Pools, np.ndarray], np.ndarray]) -> np.ndarray:
    """``make(pools, rows)`` once per locale group, scattered back to the rows."""
    out = np.empty(len(codes), dtype=object)
    group, uniques = pd.factorize(pd.Series(codes, dtype=object), sort=True)
    for i, code in enumerate(uniques):
        rows = np.flatnonzero(group == i)
        out[rows] = make(pools(code), rows)
    return out


def choice(pool: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    return pool[rng.integers(0, len(pool), size=m)]


def numbers(low: int, high: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` random integers in [low, high) as an object array of str."""
    return rng.integers(low, high, size=m).astype(str).astype(object)


def digits(m: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` random numbers of exactly ``width`` digits (no leading zero, at most 18: int64)
    as str."""
    width = min(width, 18)
    return numbers(10 ** (width - 1), 10**width, m, rng)


def fill(pattern: str, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """An e-mail local-part pattern ("{f}.{last}") filled from folded name arrays."""
    parts: list[np.ndarray | str] = []
    pos = 0
    for match in _FIELD.finditer(pattern):
        parts.append(pattern[pos : match.start()])
        field = match.group(1)
        source = first if field in ("first", "f") else last
        parts.append(
            pd.Series(source, dtype=object).str[:1].to_numpy() if len(field) == 1 else source
        )
        pos = match.end()
    parts.append(pattern[pos:])
    out = np.full(len(first), "", dtype=object)
    for part in parts:
        if isinstance(part, str) and not part:
            continue
        out = out + part
    return out


def fold_names(values: np.ndarray, code: str) -> np.ndarray:
    """Names folded for e-mail addresses, once per distinct name."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    folded = np.array([fold_ascii(str(u), code) for u in uniques] + [""], dtype=object)
    return folded[np.where(codes < 0, len(uniques), codes)]


def _name(field: str) -> Callable:
    def generate(spec, codes, rng, names, attempt):
        values = by_locale(codes, lambda p, rows: choice(getattr(p, field), len(rows), rng))
        if attempt:  # single names repeat at a few thousand rows: numbered namesakes
            values = values + " " + digits(len(values), attempt, rng)
        return values

    return generate


def _full_name(spec, codes, rng, names, attempt):
    def make(p: Pools, rows: np.ndarray) -> np.ndarray:
        first, last = choice(p.first_names, len(rows), rng), choice(p.last_names, len(rows), rng)
        if attempt >= 2:
            first = first + " " + choice(_LETTERS, len(rows), rng) + "."
        return first + " " + last

    values = by_locale(codes, make)
    if attempt >= 5:
        values = values + " " + digits(len(values), attempt - 3, rng)
    return values


def _address(spec, codes, rng, names, attempt):
    top = 1400 * 10 ** min(attempt // 3, 2)  # house numbers up to mimesis' 1400, then more

    def make(p: Pools, rows: np.ndarray) -> np.ndarray:
        m = len(rows)
        fields = {
            "st_num": numbers(1, top, m, rng),
            "st_name": choice(p.streets, m, rng),
            "st_sfx": choice(p.street_suffixes, m, rng),
        }
        out = np.full(m, "", dtype=object)
        for literal, field, _, _ in Formatter().parse(p.address_format):
            out = out + literal if literal else out
            out = out + fields[field] if field else out
        return out

    return by_locale(codes, make)


def _email(spec, codes, rng, names, attempt):
    m = len(codes)
    patterns = (
        np.full(m, spec.email_pattern, dtype=object)
        if spec.email_pattern
        else np.array(EMAIL_PATTERNS, dtype=object)[F.pick(_DEFAULT_PATTERN_WEIGHTS, m, rng)]
    )

    def make(p: Pools, rows: np.ndarray) -> np.ndarray:
        first_pool, last_pool = p.email_first[p.email_first != ""], p.email_last[p.email_last != ""]
        first, last = choice(first_pool, len(rows), rng), choice(last_pool, len(rows), rng)
        if names is not None and spec.email_pattern:
            given_first = fold_names(names[0][rows], codes[rows[0]])
            given_last = fold_names(names[1][rows], codes[rows[0]])
            first = np.where(given_first != "", given_first, first)
            last = np.where(given_last != "", given_last, last)
        local = np.empty(len(rows), dtype=object)
        group, uniques = pd.factorize(pd.Series(patterns[rows], dtype=object))
        for i, pattern in enumerate(uniques):
            sub = np.flatnonzero(group == i)
            local[sub] = fill(pattern, first[sub], last[sub])
        return local

    local = by_locale(codes, make)
    if attempt:
        local = local + digits(m, min(attempt + 1, 9), rng)
    elif not spec.email_pattern:  # free addresses often carry a number
        tail = rng.random(m) < 0.3
        local[tail] = local[tail] + numbers(1, 100, int(tail.sum()), rng)
    return local + "@" + _domains(spec, m, rng)


def _domains(spec, m, rng):
    learned = [d for d, _ in spec.domains]
    rest = max(1.0 - sum(w for _, w in spec.domains), 0.0)
    free = [d for d in free_email_domains() if d not in learned]
    choices = np.array(learned + free, dtype=object)
    weights = [w for _, w in spec.domains] + [rest / len(free)] * len(free)
    return choices[F.pick(weights, m, rng)]


def _formatted(field: str):
    def generate(spec, codes, rng, names, attempt):
        if spec.formats:
            return F.render(
                [f for f, _ in spec.formats], [w for _, w in spec.formats], len(codes), rng
            )
        return by_locale(
            codes,
            lambda p, rows: F.render(
                getattr(p, field), [1.0] * len(getattr(p, field)), len(rows), rng
            ),
        )

    return generate


def _by_format(spec, default: dict[str, float], m, rng, make) -> np.ndarray:
    """Draw a format per row (learned, else ``default``) and let ``make(fmt, m)`` fill each
    format group."""
    table = dict(spec.formats) or default
    formats = list(table)
    chosen = F.pick(list(table.values()), m, rng)
    out = np.empty(m, dtype=object)
    for i, fmt in enumerate(formats):
        rows = np.flatnonzero(chosen == i)
        if len(rows):
            out[rows] = F.strings_of(make(fmt, len(rows)))
    return out


def _pour(matrix: np.ndarray, kinds: np.ndarray, payload: np.ndarray) -> np.ndarray:
    """Write a digit matrix into the digit places of a rendered format, in order."""
    places = np.flatnonzero(kinds == F.DIGIT)[: payload.shape[1]]
    matrix[:, places] = payload[:, : len(places)].astype(np.uint32) + 48
    return matrix


def _ssn_digits(m: int, rng: np.random.Generator) -> np.ndarray:
    """Valid US SSNs as digit rows: area 001-899 but 666, group 01-99, serial 0001-9999."""
    area = rng.integers(1, 899, size=m)
    area = area + (area >= 666)
    number = area * 10**6 + rng.integers(1, 100, size=m) * 10**4 + rng.integers(1, 10**4, size=m)
    return number[:, None] // 10 ** np.arange(8, -1, -1) % 10


def _national_id(spec, codes, rng, names, attempt):
    def make(fmt, m):
        matrix, kinds = F.render_matrix(fmt, m, rng)
        if int((kinds == F.DIGIT).sum()) == 9:  # SSN-sized: valid area/group/serial
            matrix = _pour(matrix, kinds, _ssn_digits(m, rng))
        return matrix

    return _by_format(spec, {_SSN_FORMAT: 1.0}, len(codes), rng, make)


def _card(spec, codes, rng, names, attempt):
    def make(fmt, m):
        matrix, kinds = F.render_matrix(fmt, m, rng)
        count = int((kinds == F.DIGIT).sum())
        if count < 12:  # not a card number shape: random digits are all it can hold
            return matrix
        body = rng.integers(0, 10, size=(m, count))
        if count == 15:  # American Express: 34 or 37
            body[:, 0], body[:, 1] = 3, np.where(rng.random(m) < 0.5, 4, 7)
        else:  # Visa (4) or Mastercard (51-55)
            visa = rng.random(m) < 0.5
            body[:, 0] = np.where(visa, 4, 5)
            body[~visa, 1] = rng.integers(1, 6, size=int((~visa).sum()))
        body[:, -1] = F.luhn_digit(body[:, :-1])
        return _pour(matrix, kinds, body)

    return _by_format(spec, {"#" * 16: 1.0}, len(codes), rng, make)


def _iban(spec, codes, rng, names, attempt):
    def make(fmt, m):
        matrix, kinds = F.render_matrix(fmt, m, rng)
        first = matrix[0]
        places = np.flatnonzero(((first >= 48) & (first <= 57)) | ((first >= 65) & (first <= 90)))
        country, check, bban = places[:2], places[2:4], places[4:]
        value = F.iban_check(matrix[:, country], matrix[:, bban])
        matrix[:, check[0]] = 48 + value // 10
        matrix[:, check[1]] = 48 + value % 10
        return matrix

    default = "GB" if spec.locale == "en_GB" else "DE"
    return _by_format(spec, {_IBAN_DEFAULT[default]: 1.0}, len(codes), rng, make)


@lru_cache(maxsize=1)
def _hex_groups() -> np.ndarray:
    return np.char.mod("%x", np.arange(1 << 16)).astype(object)


def _ip(spec, codes, rng, names, attempt):
    m = len(codes)
    if spec.ip_version == 6:
        groups = _hex_groups()
        out = groups[rng.integers(0x2000, 0x4000, size=m)]
        for word in rng.integers(0, 1 << 16, size=(7, m)):
            out = out + ":" + groups[word]
        return out
    octets = np.arange(256).astype(str).astype(object)
    first = rng.integers(1, 222, size=m)  # public unicast 1-223, skipping 10 and 127
    first = first + (first >= 10) + (first >= 126)
    out = octets[first]
    for high in (256, 256, 255):
        out = out + "." + octets[rng.integers(1 if high == 255 else 0, high, size=m)]
    return out


def _birth_date(spec, codes, rng, names, attempt):
    low, high = (np.datetime64(d, "D") for d in (spec.date_range or DEFAULT_BIRTH_RANGE))
    days = rng.integers(0, int((high - low).astype(int)) + 1, size=len(codes))
    return np.datetime_as_string(low + days, unit="D").astype(object)


def _username(spec, codes, rng, names, attempt):
    """A folded first name, or initial and surname, then digits ("maria84", "jlopez2211"):
    realistic and benign, unlike free word lists."""

    def make(p: Pools, rows: np.ndarray) -> np.ndarray:
        m = len(rows)
        first = choice(p.email_first[p.email_first != ""], m, rng)
        last = choice(p.email_last[p.email_last != ""], m, rng)
        initial = pd.Series(first, dtype=object).str[:1].to_numpy()
        word = np.where(rng.random(m) < 0.5, first, initial + last)
        return word + digits(m, 2 + attempt, rng)

    return by_locale(codes, make)


def sample_lengths(spec, m: int, rng, default: float) -> np.ndarray:
    """Lengths drawn from the learned quantiles (interpolated), else ``default``."""
    if not spec.lengths:
        return np.full(m, int(default))
    grid = np.linspace(0.0, 1.0, len(spec.lengths))
    return np.maximum(np.rint(np.interp(rng.random(m), grid, spec.lengths)), 1).astype(int)


def _free_text(spec, codes, rng, names, attempt):
    def make(p: Pools, rows: np.ndarray) -> np.ndarray:
        m = len(rows)
        mean = float(pd.Series(p.sentences, dtype=object).str.len().mean())
        count = np.clip(np.rint(sample_lengths(spec, m, rng, mean) / mean), 1, 20).astype(int)
        out = choice(p.sentences, m, rng)
        for j in range(1, int(count.max())):
            more = count > j
            out[more] = out[more] + " " + choice(p.sentences, int(more.sum()), rng)
        return out

    values = by_locale(codes, make)
    if not attempt:
        return values
    # A few dozen sentences per locale: a number wide enough to separate all redrawn rows.
    return values + " " + digits(len(values), attempt + len(str(len(values))), rng)


def _other(spec, codes, rng, names, attempt):
    m = len(codes)
    if spec.formats:
        return F.render([f for f, _ in spec.formats], [w for _, w in spec.formats], m, rng)
    lengths = sample_lengths(spec, m, rng, 12)
    kinds = np.where(rng.random((m, int(lengths.max()))) < 0.3, F.DIGIT, F.LOWER).astype(np.int8)
    kinds[np.arange(kinds.shape[1]) >= lengths[:, None]] = F.LITERAL
    return F.strings_of(F.random_chars(kinds, rng))


GENERATORS: dict[str, Callable] = {
    "email": _email,
    "phone": _formatted("phone_formats"),
    "first_name": _name("first_names"),
    "last_name": _name("last_names"),
    "full_name": _full_name,
    "address": _address,
    "postal_code": _formatted("postal_formats"),
    "national_id": _national_id,
    "iban": _iban,
    "card": _card,
    "ip": _ip,
    "birth_date": _birth_date,
    "username": _username,
    "free_text": _free_text,
    "other": _other,
}
