"""Fake personal columns: learn a spec from the real column, then make values up.

The spec (``FakeSpec``) keeps only what is safe to store beside a model: the kind, the
null rate, whether the column is unique, the locale, shapes seen in at least k rows (digits
as '#', letters as 'A'/'a'; a dialling code or IBAN country shared by k rows stays literal),
e-mail domains shared by at least k rows, how e-mails are built from names, birth years
rounded outward to whole years and length quantiles. No real value ever enters it.

Values are composed from the mimesis word pools with numpy (see ``pools``, ``kinds``):
never taken from the real column, deterministic for a given ``numpy.random.Generator``,
unique when the spec says so (collisions are redrawn, widening the space as needed).
Birth dates come back as ISO "YYYY-MM-DD" strings; every kind returns an object Series of
str with None for nulls.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from synthohive_dbt.errors import DataError, PrivacyError
from synthohive_dbt.privacy import formats as F
from synthohive_dbt.privacy.kinds import EMAIL_PATTERNS, GENERATORS, fill, fold_names
from synthohive_dbt.privacy.pools import (
    DEFAULT_LOCALE,
    calling_codes,
    library_locale,
    locale_for_country,
    supported_locales,
)

__all__ = [
    "KINDS",
    "FakeSpec",
    "email_pattern",
    "fake_values",
    "learn_spec",
    "locale_for_country",
]

KINDS = tuple(GENERATORS)
_MAX_ATTEMPTS = 12
_PATTERN_SHARE = 0.8
_LENGTH_QUANTILES = np.linspace(0.05, 0.95, 11)  # the extremes of one person stay out
# Distinct by chance in a small table, never by rule: a unique fake would need numbered
# names or texts. Pass unique=True when a dbt unique test says so.
_UNIQUE_NOT_INFERRED = frozenset({"first_name", "last_name", "birth_date", "free_text"})


@dataclass(frozen=True)
class FakeSpec:
    """How to fake one column; JSON-serialisable and free of real values (see module doc).

    ``formats``/``domains`` pair a shape or domain with its share of the rows;
    ``email_pattern`` is e.g. "{first}.{last}"; ``date_range`` the first and last day of
    the real birth years; ``lengths`` length quantiles (5% to 95%) for free text and
    shapeless other columns; ``ip_version`` 4 or 6."""

    kind: str
    unique: bool = False
    null_rate: float = 0.0
    locale: str = DEFAULT_LOCALE
    formats: tuple[tuple[str, float], ...] = ()
    domains: tuple[tuple[str, float], ...] = ()
    email_pattern: str | None = None
    date_range: tuple[str, str] | None = None
    lengths: tuple[float, ...] = ()
    ip_version: int = 4

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise PrivacyError(
                f"Unknown personal-data kind {self.kind!r}; use one of {', '.join(KINDS)}."
            )
        if library_locale(self.locale) is None:
            raise PrivacyError(
                f"Locale {self.locale!r} has no fake-data pool; use one of "
                f"{', '.join(supported_locales())}."
            )
        if self.email_pattern is not None and self.email_pattern not in EMAIL_PATTERNS:
            raise PrivacyError(
                f"E-mail pattern {self.email_pattern!r} is not known; use one of "
                f"{', '.join(EMAIL_PATTERNS)}."
            )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FakeSpec:
        data = json.loads(text)
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise PrivacyError(f"Fake spec has unknown fields {sorted(unknown)}: {text[:200]}")
        for key in ("formats", "domains"):
            data[key] = tuple((str(a), float(b)) for a, b in data.get(key, ()))
        data["lengths"] = tuple(float(x) for x in data.get("lengths", ()))
        if data.get("date_range") is not None:
            data["date_range"] = tuple(data["date_range"])
        return cls(**data)


def _dial_prefix(strings: pd.Series) -> pd.Series:
    """The international dialling code a phone number starts with ("+49"), else "": the
    digits after '+' up to a separator, or the longest known code when none follows."""
    s = strings
    out = s.str.extract(r"^(\+\d{1,3})(?=[\s\-./(])", expand=False).fillna("")
    known = set(calling_codes())
    for width in sorted({len(c) for c in known}, reverse=True):
        head = s.str.slice(0, width)
        hit = (out == "") & head.isin(known)
        out[hit] = head[hit]
    return out


def _learn_formats(kind: str, strings: pd.Series, k: int) -> tuple[tuple[str, float], ...]:
    if kind == "phone":
        return F.learn_formats(strings, k, _dial_prefix(strings))
    if kind == "iban":
        compact = strings.str.upper()
        country = compact.str.extract(r"^([A-Z]{2})", expand=False).fillna("")
        learned = F.learn_formats(compact, k, country)
        # Only shapes whose country stayed literal can carry a valid checksum.
        kept = [(f, w) for f, w in learned if (F.parse(f)[1][:2] == F.LITERAL).all()]
        total = sum(w for _, w in kept)
        return tuple((f, w / total) for f, w in kept)
    return F.learn_formats(strings, k)


def _learn_domains(strings: pd.Series, k: int) -> tuple[tuple[str, float], ...]:
    domains = strings.str.extract(r"@([^@]+)$", expand=False).dropna().str.lower()
    counts = domains.value_counts()
    kept = sorted((d, int(c)) for d, c in counts.items() if c >= k)
    return tuple((d, c / len(strings)) for d, c in sorted(kept, key=lambda t: -t[1]))


def _learn_years(values: pd.Series) -> tuple[str, str] | None:
    dates = pd.to_datetime(values, errors="coerce", format="mixed").dropna()
    if dates.empty:
        return None
    return f"{dates.min().year:04d}-01-01", f"{dates.max().year:04d}-12-31"


def learn_spec(
    kind: str,
    values: pd.Series,
    *,
    k: int = 5,
    locale: str = DEFAULT_LOCALE,
    unique: bool | None = None,
    first: pd.Series | None = None,
    last: pd.Series | None = None,
) -> FakeSpec:
    """Learn how to fake ``values`` (a column of personal data of ``kind``): shapes and
    domains shared by at least ``k`` rows, the null rate, uniqueness (when None: all
    non-null values distinct, except for single names, birth dates and free text) and,
    for e-mails with the row's ``first``/``last`` names given, the pattern that builds
    addresses from names."""
    FakeSpec(kind=kind, locale=locale)  # validates kind and locale before any work
    present = values.dropna()
    strings = present.astype(str).astype(object)
    null_rate = 1.0 - len(present) / len(values) if len(values) else 0.0
    if unique is None:
        unique = kind not in _UNIQUE_NOT_INFERRED and len(present) >= k and present.is_unique
    learned: dict = {}
    if kind in ("phone", "postal_code", "national_id", "iban", "card", "other"):
        learned["formats"] = _learn_formats(kind, strings, k)
    if kind == "email":
        learned["domains"] = _learn_domains(strings, k)
        if first is not None and last is not None:
            learned["email_pattern"] = email_pattern(values, first, last)
    if kind == "ip":
        learned["ip_version"] = 6 if strings.str.contains(":").mean() > 0.5 else 4
    if kind == "birth_date":
        learned["date_range"] = _learn_years(present)
    if kind in ("free_text", "other") and len(strings) >= k:
        quantiles = np.quantile(strings.str.len().to_numpy(dtype=float), _LENGTH_QUANTILES)
        learned["lengths"] = tuple(float(q) for q in np.rint(quantiles))
    return FakeSpec(kind=kind, unique=unique, null_rate=null_rate, locale=locale, **learned)


def email_pattern(emails: pd.Series, first: pd.Series, last: pd.Series) -> str | None:
    """How e-mail local parts are built from the row's names ("{first}.{last}",
    "{f}{last}", ...), compared case-insensitively after folding accents and ignoring
    trailing digits: when the known patterns together match at least 80% of the rows with
    all three present, the most common of them (fake addresses then follow the fake names
    in that one pattern); else None."""
    frame = pd.DataFrame(
        {"e": emails.to_numpy(), "f": first.to_numpy(), "l": last.to_numpy()}, dtype=object
    ).dropna()
    if frame.empty:
        return None
    local = frame["e"].astype(str).str.extract(r"^(.*?)\d*@[^@]*$", expand=False)
    local = local.fillna("").str.lower().to_numpy()
    given_first = fold_names(frame["f"].to_numpy(), "")
    given_last = fold_names(frame["l"].to_numpy(), "")
    shares = {p: float(np.mean(fill(p, given_first, given_last) == local)) for p in EMAIL_PATTERNS}
    best = max(shares, key=shares.get)
    built = np.zeros(len(local), dtype=bool)
    for p in EMAIL_PATTERNS:
        built |= fill(p, given_first, given_last) == local
    return best if float(built.mean()) >= _PATTERN_SHARE and shares[best] > 0 else None


def _row_codes(spec: FakeSpec, locales: np.ndarray | None, rows: np.ndarray) -> np.ndarray:
    """The mimesis locale of each row: the row's own where given and known, else the spec's."""
    default = library_locale(spec.locale)
    if locales is None:
        return np.full(len(rows), default, dtype=object)
    codes, uniques = pd.factorize(pd.Series(np.asarray(locales, dtype=object)[rows]))
    table = [library_locale(str(u)) or default for u in uniques] + [default]
    return np.array(table, dtype=object)[np.where(codes < 0, len(uniques), codes)]


def fake_values(
    spec: FakeSpec,
    n: int,
    rng: np.random.Generator,
    *,
    locales: np.ndarray | None = None,
    first: pd.Series | None = None,
    last: pd.Series | None = None,
    avoid: pd.Series | None = None,
) -> pd.Series:
    """``n`` made-up values for a column learned as ``spec``: nulls at its null rate,
    unique if it is unique. ``locales`` gives each row's POSIX locale (see
    :func:`locale_for_country`); ``first``/``last`` the row's fake names, used for
    e-mails when the spec has a pattern; values equal to one in ``avoid`` (say, the real
    column, when at hand) are drawn again."""
    for name, given in (("locales", locales), ("first", first), ("last", last)):
        if given is not None and len(given) != n:
            raise ValueError(f"{name} has {len(given)} rows, not n={n}")
    rows = np.flatnonzero(rng.random(n) >= spec.null_rate)
    out = np.full(n, None, dtype=object)
    if not len(rows):
        return pd.Series(out, dtype=object)
    codes = _row_codes(spec, locales, rows)
    names = None
    if first is not None and last is not None:
        names = (first.to_numpy(dtype=object)[rows], last.to_numpy(dtype=object)[rows])
    generate = GENERATORS[spec.kind]
    values = generate(spec, codes, rng, names, 0)
    forbidden = None if avoid is None else pd.unique(avoid.dropna().astype(str))
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        bad = _bad(values, spec.unique, forbidden)
        if not bad.any():
            break
        sub = None if names is None else (names[0][bad], names[1][bad])
        values[bad] = generate(spec, codes[bad], rng, sub, attempt)
    else:
        if _bad(values, spec.unique, forbidden).any():
            raise DataError(
                f"Cannot make {len(rows):,} distinct fake {spec.kind} values: its formats "
                f"{[f for f, _ in spec.formats][:3] or '(the locale defaults)'} or range "
                "hold too few; treat the column with mask or hash instead, or generate "
                "fewer rows."
            )
    out[rows] = values
    return pd.Series(out, dtype=object)


def _bad(values: np.ndarray, unique: bool, forbidden: np.ndarray | None) -> np.ndarray:
    series = pd.Series(values, dtype=object)
    bad = series.duplicated().to_numpy(copy=True) if unique else np.zeros(len(values), bool)
    if forbidden is not None and len(forbidden):
        bad |= series.isin(forbidden).to_numpy()
    return bad
