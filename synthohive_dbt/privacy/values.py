"""What a column's sampled values look like: value detectors for personal data.

Emails, phones, IBANs (mod-97 checksum), payment cards (Luhn), IP addresses, US SSNs and
person names count when at least MIN_SHARE of the sampled rows match; long, spaced,
mostly distinct values read as free text. Values are checked once per distinct value,
vectorised, a cheap shape test on a probe first. Evidence gives shares, never a value.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_VALUES = 20  # fewer non-null sampled values say nothing
MIN_SHARE = 0.8  # share of sampled values a value detector needs
_PROBE = 256  # unique values tried first, so a column that is plainly no match costs little

_EMAIL = r"[A-Za-z0-9._%+'\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
_PHONE = r"(?:\+[0-9]{1,3}[ .\-]?)?(?:\([0-9]{1,5}\)[ .\-]?)?[0-9]{1,12}(?:[ .\-/][0-9]{1,12}){0,5}"
_NOT_PHONE = (
    r"[0-9]{4}[\-/.][0-9]{1,2}[\-/.][0-9]{1,2}|[0-9]{1,2}[\-/.][0-9]{1,2}[\-/.][0-9]{2,4}"
    r"|[0-9]+\.[0-9]+|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9]{3}-[0-9]{2}-[0-9]{4}"
)  # dates, decimals, IPv4, the SSN layout
_IPV4 = r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}"
_IPV6_SHAPE = r"[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*"
_IBAN_SHAPE = r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}"
_CARD_SHAPE = r"[0-9]{13,19}|[0-9]{4}(?:[ \-][0-9]{3,6}){2,4}"
_SSN = r"[0-8][0-9]{2}-[0-9]{2}-[0-9]{4}"
_PERSON_WORD = r"[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿ'\-]*[a-zß-öø-ÿ]"
_PERSON = rf"{_PERSON_WORD}(?: {_PERSON_WORD}){{1,2}}"
_PERSON_SHAPE = re.compile(_PERSON)
_LETTERS = str.maketrans({chr(c): str(c - 55) for c in range(65, 91)})  # IBAN: A=10 .. Z=35


_Detector = Callable[[pd.Series, bool], np.ndarray]  # unique values, name hint -> matches


def _digit_matrix(digits: pd.Series, width: int) -> np.ndarray:
    """ASCII digit strings, left-padded with zeros to ``width``, as an (n, width) array."""
    joined = digits.str.zfill(width).str.cat()
    return (np.frombuffer(joined.encode("ascii"), np.uint8) - 48).reshape(-1, width)


def _luhn_ok(digits: pd.Series) -> np.ndarray:
    """Luhn check; leading zeros change nothing, so every number is padded to 19 digits."""
    m = _digit_matrix(digits, 19).astype(np.int64)
    m[:, 1::2] *= 2  # every second digit left of the check digit (index 18)
    m[m > 9] -= 9
    return (m.sum(axis=1) % 10 == 0) & (digits.str.strip("0") != "").to_numpy(bool)


def _mod97_ok(ibans: pd.Series) -> np.ndarray:
    """ISO 13616: country and check digits moved to the end, letters as 10..35, mod 97 == 1."""
    numeric = (ibans.str[4:] + ibans.str[:4]).str.translate(_LETTERS)
    m = _digit_matrix(numeric, int(numeric.str.len().max())).astype(np.int64)
    rest = np.zeros(len(m), np.int64)
    for column in m.T:  # one pass per digit position, all values at once
        rest = (rest * 10 + column) % 97
    return rest == 1


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _refine(shape: np.ndarray, values: pd.Series, check: Callable) -> np.ndarray:
    """``shape`` narrowed by ``check`` run on the values that have the shape only."""
    out = shape.copy()
    if shape.any():
        out[shape] = check(values[shape].reset_index(drop=True))
    return out


def _fullmatch(pattern: str) -> _Detector:
    return lambda u, hinted: u.str.fullmatch(pattern).to_numpy(bool)


def _ipv4_ok(v: pd.Series) -> np.ndarray:
    octets = v.str.split(".", expand=True).astype(np.int64).to_numpy()
    return (octets <= 255).all(axis=1) & ~v.str.contains(r"(?:^|\.)0[0-9]").to_numpy(bool)


def _ips(u: pd.Series, hinted: bool) -> np.ndarray:
    """IPv4 checked on the octets, all at once; IPv6 (rarer, subtler) by ``ipaddress``."""
    v4 = _refine(u.str.fullmatch(_IPV4).to_numpy(bool), u, _ipv4_ok)
    v6 = u.str.fullmatch(_IPV6_SHAPE).to_numpy(bool)
    return v4 | _refine(v6, u, lambda v: np.fromiter(map(_is_ip, v), bool, len(v)))


def _ibans(u: pd.Series, hinted: bool) -> np.ndarray:
    compact = u.str.replace(" ", "", regex=False).str.upper()
    return _refine(compact.str.fullmatch(_IBAN_SHAPE).to_numpy(bool), compact, _mod97_ok)


def _cards(u: pd.Series, hinted: bool) -> np.ndarray:
    digits = u.str.replace(r"[ \-]", "", regex=True)
    shape = u.str.fullmatch(_CARD_SHAPE) & digits.str.len().between(13, 19)
    return _refine(shape.to_numpy(bool), digits, _luhn_ok)


def _ssns(u: pd.Series, hinted: bool) -> np.ndarray:
    ok = u.str.fullmatch(_SSN) & ~u.str.startswith("666")
    ok &= (u.str[4:6] != "00") & (u.str[7:] != "0000") & ~u.str.startswith("000")
    return ok.to_numpy(bool)


def _phones(u: pd.Series, hinted: bool) -> np.ndarray:
    """Separators, a leading + or parentheses make a number a phone; plain digits only when
    the name says phone (a plain integer id column is no phone column)."""
    ok = u.str.fullmatch(_PHONE) & ~u.str.fullmatch(_NOT_PHONE)
    ok &= u.str.count(r"[0-9]").between(7, 15)
    if not hinted:
        ok &= u.str.contains(r"[ .\-/()+]")
    return ok.to_numpy(bool)


# kind, a shape every match has (tried first on a probe of the values), detector, label
_DETECTORS: tuple[tuple[str, re.Pattern, _Detector, str], ...] = (
    ("email", re.compile(_EMAIL), _fullmatch(_EMAIL), "emails"),
    ("ip", re.compile(f"{_IPV4}|{_IPV6_SHAPE}"), _ips, "IP addresses"),
    ("iban", re.compile(r"[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{11,40}"), _ibans,
     "IBANs (mod-97 checksum valid)"),
    ("card", re.compile(_CARD_SHAPE), _cards, "payment card numbers (Luhn check valid)"),
    ("national_id", re.compile(_SSN), _ssns, "US social security numbers"),
    ("phone", re.compile(_PHONE), _phones, "phone numbers"),
)  # fmt: skip


@dataclass(frozen=True)
class Sample:
    """A column's non-empty sampled values as unique strings, how often each occurs, and a
    probe: up to _PROBE of them, spread over the frequency order."""

    uniques: pd.Series
    counts: np.ndarray
    total: int
    probe: np.ndarray
    probe_values: list[str]

    @classmethod
    def of(cls, series: pd.Series) -> Sample:
        text = series.dropna().astype("str").str.strip()
        vc = text[text != ""].value_counts()
        uniques = pd.Series(vc.index, dtype="str")
        probe = np.unique(np.linspace(0, len(vc) - 1, min(len(vc), _PROBE)).astype(np.int64))
        counts = vc.to_numpy(np.int64)
        return cls(uniques, counts, int(counts.sum()), probe, uniques.iloc[probe].tolist())


def _share(sample: Sample, shape: re.Pattern, detect: _Detector, hinted: bool) -> float:
    """Share of the sampled rows (not of the unique values) the detector accepts. The shape
    is tried on the probe with plain ``re`` first: most columns fail there, cheaply."""
    shaped = np.fromiter((shape.fullmatch(v) is not None for v in sample.probe_values), bool)
    weights = sample.counts[sample.probe]
    whole = len(sample.probe) == len(sample.uniques)
    if weights[shaped].sum() < (MIN_SHARE if whole else MIN_SHARE / 2) * weights.sum():
        return 0.0
    return float(sample.counts[detect(sample.uniques, hinted)].sum() / sample.total)


def _say_share(share: float, total: int, label: str) -> str:
    return f"{int(share * 100)}% of {total:,} sampled values look like {label}"


def value_kind(sample: Sample, hinted_phone: bool) -> tuple[str | None, str | None]:
    """The kind (email, ip, iban, card, national_id, phone) most sampled rows show and what
    they show, or (None, None); ``hinted_phone``: the name says phone (plain digits count)."""
    for kind, shape, detect, label in _DETECTORS:
        share = _share(sample, shape, detect, kind == "phone" and hinted_phone)
        if share >= MIN_SHARE:
            return kind, _say_share(share, sample.total, label)
    return None, None


def person_names(sample: Sample) -> str | None:
    """What the values show when most sampled rows are person names ("Ada Lovelace")."""
    share = _share(sample, _PERSON_SHAPE, _fullmatch(_PERSON), False)
    return _say_share(share, sample.total, "person names") if share >= MIN_SHARE else None


def free_text(sample: Sample) -> str | None:
    """Long, spaced, mostly distinct values: prose. Only counts for named or marked columns
    (product descriptions look the same)."""
    lengths = sample.uniques.str.len().to_numpy(np.int64)
    mean = float((lengths * sample.counts).sum() / sample.total)
    spaced = sample.counts[sample.uniques.str.contains(" ", regex=False).to_numpy(bool)].sum()
    distinct = len(sample.uniques) / sample.total
    if mean > 40 and spaced >= MIN_SHARE * sample.total and distinct >= 0.5:
        return (
            f"sampled values look like free text ({mean:.0f} characters on average, "
            f"{distinct:.0%} distinct)"
        )
    return None
