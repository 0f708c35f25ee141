"""Word pools and locales for faking, taken from the mimesis data sets.

Fakes are composed with numpy from whole pools (first names, surnames, street names, phone
and postal formats, sentences) rather than by calling a library once per value: that is
what makes a million values a second possible. mimesis was chosen over Faker because its
data is one JSON document per locale with the same keys everywhere (Faker's providers
differ in shape per locale) and because it is the faster of the two per value
(``benchmarks/bench_faking.py``).

Locales are named POSIX-style (``en_US``, ``de_DE``, ``pt_BR``), independent of the
library, so that stored specs survive a change of library; :func:`library_locale` maps
them to mimesis codes. Country names and ISO codes are resolved with babel (CLDR), which
dbt already installs through agate.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

DEFAULT_LOCALE = "en_US"
_DEFAULT_ADDRESS = "{st_num} {st_name}"
# Fewer sentences than this (some locales ship a single "Test") and free text uses English.
_MIN_SENTENCES = 20


@dataclass(frozen=True)
class Pools:
    """What one locale offers: arrays of words and formats in this package's format language
    (see ``formats``)."""

    first_names: np.ndarray
    last_names: np.ndarray
    streets: np.ndarray
    street_suffixes: np.ndarray
    address_format: str
    phone_formats: tuple[str, ...]
    postal_formats: tuple[str, ...]
    sentences: np.ndarray
    email_first: np.ndarray  # first_names lower-cased and folded to [a-z0-9]; "" if none
    email_last: np.ndarray


def _read(code: str, name: str) -> dict:
    """One mimesis data file for ``code``; a regional locale (``de-at``) overrides its
    language's file key by key, as mimesis itself does."""
    from mimesis.constants import DATADIR, LOCALE_SEP

    def read(folder: str) -> dict:
        path = DATADIR / folder / name
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def merge(base: dict, over: dict) -> dict:
        for key, value in over.items():
            base[key] = merge(base.get(key, {}), value) if isinstance(value, dict) else value
        return base

    data = read(code.split(LOCALE_SEP)[0])
    return merge(data, read(code)) if LOCALE_SEP in code else data


def _words(value: object) -> list[str]:
    """A pool that is a list, or a dict of lists (names by gender), as one deduplicated list."""
    if isinstance(value, dict):
        return list(dict.fromkeys(w for part in value.values() for w in _words(part)))
    return list(dict.fromkeys(str(w) for w in value or ()))


def from_mimesis_mask(mask: str) -> str:
    """A mimesis mask ('#' digit, '@' upper-case letter, everything else literal) in this
    package's format language."""
    out = []
    for ch in mask:
        if ch == "@":
            out.append("A")
        elif ch in "Aa\\":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def fold_ascii(text: str, code: str = "") -> str:
    """``text`` lower-cased and reduced to [a-z0-9] for e-mail addresses: accents dropped,
    Cyrillic romanised with mimesis' table; scripts without a Latin form give ""."""
    from mimesis.datasets import COMMON_LETTERS, ROMANIZATION_DICT

    lang = code.split("-")[0]
    if lang in ROMANIZATION_DICT:  # as mimesis' own romanize(): common letters + locale's
        table = {**COMMON_LETTERS, **ROMANIZATION_DICT[lang]}
        text = "".join(table.get(ch, ch) for ch in text)
    text = text.replace("ß", "ss")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", text.lower())


@lru_cache(maxsize=64)
def pools(code: str) -> Pools:
    """The pools of mimesis locale ``code`` (cached: loaded once per process)."""
    person, address, text = (_read(code, f) for f in ("person.json", "address.json", "text.json"))
    street = address.get("street", {})
    fmt = address.get("address_fmt", _DEFAULT_ADDRESS)
    if "{st_name}" not in fmt:  # ja: positional city/block format
        fmt = _DEFAULT_ADDRESS
    sentences = _words(text.get("text"))
    if len(sentences) < _MIN_SENTENCES and code != "en":
        sentences = list(pools("en").sentences)
    first, last = _words(person.get("names")), _words(person.get("surnames"))
    email_first = np.array([fold_ascii(w, code) for w in first], dtype=object)
    email_last = np.array([fold_ascii(w, code) for w in last], dtype=object)
    if np.mean(email_first == "") > 0.5:  # non-Latin script: English names for addresses
        email_first, email_last = pools("en").email_first, pools("en").email_last
    return Pools(
        first_names=np.array(first, dtype=object),
        last_names=np.array(last, dtype=object),
        streets=np.array(_words(street.get("name")), dtype=object),
        street_suffixes=np.array(_words(street.get("suffix")) or [""], dtype=object),
        address_format=fmt,
        phone_formats=tuple(from_mimesis_mask(m) for m in _words(person.get("telephone_fmt"))),
        postal_formats=(from_mimesis_mask(address.get("postal_code_fmt", "#####")),),
        sentences=np.array(sentences, dtype=object),
        email_first=email_first,
        email_last=email_last,
    )


def free_email_domains() -> tuple[str, ...]:
    """The library's free-mail domains (documentation domains left out)."""
    from mimesis.datasets import EMAIL_DOMAINS

    return tuple(d.lstrip("@") for d in EMAIL_DOMAINS if not d.startswith("@example."))


def calling_codes() -> tuple[str, ...]:
    """International dialling prefixes ("+1", "+49", ...), longest first."""
    from mimesis.datasets import CALLING_CODES

    return tuple(sorted(set(CALLING_CODES), key=len, reverse=True))


@lru_cache(maxsize=1)
def _locale_table() -> dict[str, str]:
    """POSIX locale -> mimesis code for every mimesis locale. A regional code names its
    region (``de-at`` -> ``de_AT``); a bare language gets the country its data describes
    (``pt`` -> Portugal), else CLDR's likely region for the language."""
    from babel import Locale as Cldr
    from babel.core import get_global
    from mimesis.enums import Locale

    likely = get_global("likely_subtags")
    table: dict[str, str] = {}
    for member in Locale:
        code = member.value
        if "-" in code:
            lang, region = code.split("-", 1)
            table[f"{lang}_{region.upper()}"] = code
            continue
        own = _read(code, "address.json").get("country", {}).get("current_locale", "")
        names = {v.casefold(): k for k, v in Cldr.parse(code).territories.items()}
        region = names.get(own.casefold()) or likely.get(code, "").rsplit("_", 1)[-1]
        table.setdefault(f"{code}_{region}", code)
    return table


def supported_locales() -> tuple[str, ...]:
    """Every POSIX locale that faking supports."""
    return tuple(sorted(_locale_table()))


def library_locale(locale: str) -> str | None:
    """The mimesis code for a POSIX locale (``de_DE``, ``de-DE``, ``de``): the exact
    locale, else the library's locale for the language, else None."""
    table = _locale_table()
    name = locale.replace("-", "_")
    lang, _, region = name.partition("_")
    exact = table.get(f"{lang.lower()}_{region.upper()}")
    if exact:
        return exact
    codes = set(table.values())
    return lang.lower() if lang.lower() in codes else None


def posix_locale(code: str) -> str:
    """The POSIX name of mimesis locale ``code``."""
    return {v: k for k, v in _locale_table().items()}[code]


@lru_cache(maxsize=1)
def _country_index() -> dict[str, str]:
    """Casefolded country name or ISO code -> ISO 3166 alpha-2: English names, each
    supported locale's own name for its country, alpha-2, alpha-3 and CLDR aliases."""
    from babel import Locale as Cldr
    from babel.core import get_global

    english = Cldr.parse("en").territories
    index = {k.casefold(): k for k in english if len(k) == 2 and k.isalpha()}
    index.update({v.casefold(): k for k, v in english.items() if k.casefold() in index})
    for alias, targets in get_global("territory_aliases").items():
        if targets and targets[0].casefold() in index:
            index.setdefault(alias.casefold(), targets[0])
    for posix in _locale_table():
        lang, region = posix.split("_")
        local = Cldr.parse(lang).territories.get(region)
        if local:
            index.setdefault(local.casefold(), region)
    return index


def _locale_of_region(region: str) -> str:
    """The supported POSIX locale for a country: of its languages (CLDR; official ones
    first, then by speakers) the first the library has, for that country if it can, else
    the default."""
    from babel.core import get_global

    spoken = get_global("territory_languages").get(region, {})
    rank = {"official": 0, "de_facto_official": 0, "official_regional": 1}
    ranked = sorted(
        spoken,
        key=lambda lang: (
            rank.get(spoken[lang].get("official_status") or "", 2),
            -(spoken[lang].get("population_percent") or 0),
        ),
    )
    for lang in ranked:
        code = library_locale(f"{lang}_{region}")
        if code:
            return posix_locale(code)
    return DEFAULT_LOCALE


def locale_for_country(values: pd.Series) -> np.ndarray:
    """Per row, the POSIX locale to fake names and addresses with, from a country column
    ("Germany", "Deutschland", "DE", "DEU"); unknown or null -> ``en_US``. Resolved once
    per distinct value."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    index = _country_index()
    resolved = []
    for value in uniques:
        region = index.get(str(value).strip().casefold())
        resolved.append(_locale_of_region(region) if region else DEFAULT_LOCALE)
    table = np.array([*resolved, DEFAULT_LOCALE], dtype=object)
    return table[np.where(codes < 0, len(resolved), codes)]
