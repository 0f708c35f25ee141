"""Treatments of personal columns: fake (privacy.fake), mask, hash and drop (privacy.treat)."""

from __future__ import annotations

import ipaddress
import json
import re
from functools import cache

import numpy as np
import pandas as pd
import pytest
from mimesis.constants import DATADIR

from synthohive_dbt.errors import DataError, PrivacyError
from synthohive_dbt.privacy.fake import (
    KINDS,
    FakeSpec,
    email_pattern,
    fake_values,
    learn_spec,
    locale_for_country,
)
from synthohive_dbt.privacy.treat import drop_values, hmac_key, hmac_tokens, mask_values

EMAIL = re.compile(r"^[a-z0-9._]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")
N_REAL = 400
FIRST = ["Jürgen", "Anna", "Maria", "José", "Liam", "Chloé", "Noah", "Ingrid", "Mateo", "Zoë"]
LAST = ["Müller", "Smith", "O'Brien", "García", "Nguyen", "Kowalski", "Dubois", "Rossi"]


def _fold(text: str) -> str:
    table = str.maketrans("üéóëç", "ueoec")
    return re.sub(r"[^a-z]", "", text.lower().translate(table))


def _real(kind: str) -> pd.Series:
    """A real-looking column of ``kind``: common shapes and domains in >= 5 rows, a couple
    of rare ones in fewer."""
    rng = np.random.default_rng(42)
    n = N_REAL
    first, last = rng.choice(FIRST, n), rng.choice(LAST, n)
    num = rng.integers(0, 10**9, size=n)
    if kind == "email":
        local = [f"{_fold(f)}.{_fold(g)}{i}" for f, g, i in zip(first, last, range(n), strict=True)]
        domains = np.where(np.arange(n) < 3, "smith-family.org", "acme-corp.com")
        return pd.Series([f"{a}@{d}" for a, d in zip(local, domains, strict=True)])
    if kind == "phone":
        values = [f"+49 30 {x % 10**7:07d}" for x in num[:300]]
        values += [f"+1 (212) {x % 1000:03d}-{x % 10**4:04d}" for x in num[300:398]]
        return pd.Series(values + ["0049 30 1234567", "0049 30 7654321"])
    if kind in ("first_name", "last_name", "full_name", "username"):
        return pd.Series(
            {
                "first_name": first,
                "last_name": last,
                "full_name": [f"{f} {g}" for f, g in zip(first, last, strict=True)],
                "username": [f"{_fold(f)}{x % 10**6}" for f, x in zip(first, num, strict=True)],
            }[kind]
        )
    values = {
        "address": [f"{x % 900 + 1} Baker Street Apt {i}" for i, x in enumerate(num)],
        "postal_code": [f"{x % 10**5:05d}" for x in num],
        "national_id": [f"{x % 899 + 1:03d}-{x % 99 + 1:02d}-{x % 9999 + 1:04d}" for x in num],
        "iban": [f"DE89 3704 0044 {x % 10**4:04d} {x % 9999:04d} {x % 97:02d}" for x in num],
        "card": [f"4111 {x % 10**4:04d} {x % 9999:04d} {x % 9973:04d}" for x in num],
        "ip": [f"10.{x % 256}.{x // 256 % 256}.{x // 65536 % 254 + 1}" for x in num],
        "birth_date": [f"{1950 + x % 50}-{x % 12 + 1:02d}-{x % 27 + 2:02d}" for x in num],
        "free_text": [
            f"Called on {x} about the invoice of {f} {g}."
            for x, f, g in zip(num, first, last, strict=True)
        ],
        "other": [f"CUST-{x % 10**6:06d}" for x in num],
    }[kind]
    return pd.Series(values)


def _format_regex(fmt: str) -> str:
    out, chars = [], iter(fmt)
    for ch in chars:
        if ch == "\\":
            out.append(re.escape(next(chars)))
        else:
            out.append({"#": r"\d", "A": "[A-Z]", "a": "[a-z]"}.get(ch, re.escape(ch)))
    return "".join(out)


@cache
def _pool(code: str, *keys: str) -> frozenset[str]:
    data = json.loads((DATADIR / code / "person.json").read_text(encoding="utf-8"))
    for key in keys:
        data = data[key]
    return frozenset(data["female"] + data["male"] if isinstance(data, dict) else data)


def _iban_valid(iban: str) -> bool:
    compact = iban.replace(" ", "")
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


def _fake(kind: str, n: int = 2000, seed: int = 7, **kw) -> tuple[FakeSpec, pd.Series]:
    spec = learn_spec(kind, _real(kind))
    return spec, fake_values(spec, n, np.random.default_rng(seed), **kw)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_its_shape(kind):
    spec, fake = _fake(kind)
    assert fake.dtype == object and fake.notna().all() and len(fake) == 2000
    checks = {
        "email": lambda v: EMAIL.match(v),
        "first_name": lambda v: v in _pool("en", "names"),
        "last_name": lambda v: v in _pool("en", "surnames"),
        "full_name": lambda v: len(v.split(" ")) >= 2,
        "address": lambda v: re.match(r"^\d+ \S", v),
        "national_id": lambda v: re.match(r"^(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$", v),
        "iban": lambda v: v.startswith("DE") and _iban_valid(v),
        "card": lambda v: _luhn_valid(v) and re.match(r"^\d{4} \d{4} \d{4} \d{4}$", v),
        "ip": lambda v: ipaddress.ip_address(v).version == 4,
        "birth_date": lambda v: "1950-01-01" <= v <= "1999-12-31" and pd.Timestamp(v),
        "username": lambda v: re.match(r"^[a-z]+\d{2,}$", v),
        "free_text": lambda v: v[0].isupper() and v.rstrip('"')[-1] in ".!?",
    }
    if kind in ("phone", "postal_code", "other"):
        pattern = "|".join(_format_regex(f) for f, _ in spec.formats)
        checks[kind] = lambda v: re.fullmatch(pattern, v)
    failures = [v for v in fake if not checks[kind](v)]
    assert not failures, failures[:5]


def test_phones_keep_the_shared_prefix_and_drop_rare_shapes():
    spec, fake = _fake("phone")
    assert [f for f, _ in spec.formats] == ["+49 ## #######", "+1 (###) ###-####"]
    assert fake.str.startswith("+49 ").mean() == pytest.approx(0.75, abs=0.05)
    assert fake.str.match(r"^\+1 \(\d{3}\) \d{3}-\d{4}$").mean() == pytest.approx(0.25, abs=0.05)
    assert not fake.str.startswith("0049").any()


@pytest.mark.parametrize(
    "kind",
    [
        "email",
        "phone",
        "address",
        "national_id",
        "iban",
        "card",
        "ip",
        "username",
        "free_text",
        "other",
    ],
)
def test_no_fake_value_is_a_real_one(kind):
    assert not _fake(kind)[1].isin(_real(kind)).any()


@pytest.mark.parametrize(
    "kind", ["first_name", "last_name", "full_name", "postal_code", "birth_date"]
)
def test_avoid_keeps_even_common_real_values_out(kind):
    """Names, postcodes and dates come from small spaces that real values share by chance
    ("John Smith"); only the real column itself can keep them out."""
    real = _real(kind)
    assert not _fake(kind, avoid=real)[1].isin(real).any()


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ("postal_code", "birth_date")])
def test_unique_columns_stay_unique_at_100k_rows(kind):
    spec = FakeSpec(kind=kind, unique=True, formats=learn_spec(kind, _real(kind)).formats)
    fake = fake_values(spec, 100_000, np.random.default_rng(1))
    assert fake.is_unique and fake.notna().all()


def test_ipv6_columns_get_ipv6_values():
    real = pd.Series([f"2001:db8::{i:x}" for i in range(50)])
    spec = learn_spec("ip", real)
    fake = fake_values(spec, 1000, np.random.default_rng(0))
    assert spec.ip_version == 6
    assert all(ipaddress.ip_address(v).version == 6 for v in fake)
    assert not fake.isin(real).any()


def test_unique_beyond_the_format_space_is_an_error():
    spec = FakeSpec(kind="postal_code", unique=True, formats=(("###", 1.0),))
    with pytest.raises(DataError, match="distinct fake postal_code"):
        fake_values(spec, 2000, np.random.default_rng(0))


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_values_other_seed_other_values(kind):
    spec = FakeSpec(kind=kind, null_rate=0.2)
    a, b = (fake_values(spec, 500, np.random.default_rng(5)) for _ in range(2))
    c = fake_values(spec, 500, np.random.default_rng(6))
    assert a.equals(b)
    assert not a.equals(c)
    assert a.isna().mean() == pytest.approx(0.2, abs=0.06)


def test_per_row_locales_draw_from_their_own_pool():
    countries = pd.Series(["Germany", "DE", "DEU", "United States", "Atlantis", None] * 200)
    locales = locale_for_country(countries)
    assert list(locales[:6]) == ["de_DE", "de_DE", "de_DE", "en_US", "en_US", "en_US"]
    fake = fake_values(
        FakeSpec("first_name"), len(countries), np.random.default_rng(3), locales=locales
    )
    german, english = _pool("de", "names"), _pool("en", "names")
    is_de = locales == "de_DE"
    assert fake[is_de].isin(german).all()
    assert fake[~is_de].isin(english).all()
    assert not fake[is_de].isin(english - german).any()


def test_unique_names_in_a_small_pool_stay_unique_and_german():
    locales = np.full(50_000, "de_DE", dtype=object)
    spec = FakeSpec("full_name", unique=True)
    fake = fake_values(spec, 50_000, np.random.default_rng(2), locales=locales)
    german_last = _pool("de", "surnames")
    assert fake.is_unique
    assert fake.str.split(" ").str[-1].isin(german_last).mean() > 0.9


def test_emails_are_built_from_the_fake_names():
    rng = np.random.default_rng(4)
    first = pd.Series(["Jürgen", "Anna", "Anna", None] * 50)
    last = pd.Series(["Müller", "Smith", "Smith", "Lee"] * 50)
    spec = FakeSpec(
        "email", unique=True, email_pattern="{first}.{last}", domains=(("acme-corp.com", 1.0),)
    )
    fake = fake_values(spec, 200, rng, first=first, last=last)
    assert fake.is_unique and fake.str.endswith("@acme-corp.com").all()
    assert fake[0] == "jurgen.muller@acme-corp.com"
    assert fake[1] == "anna.smith@acme-corp.com"
    assert fake[1::4].str.match(r"^anna\.smith\d*@").all()
    assert fake[3::4].str.match(r"^[a-z]+\.lee\d*@").all()  # no first name: a pool one


def test_email_pattern_detection():
    first = pd.Series(["Anna", "José", "Liam", "Zoë", "Noah"] * 4)
    last = pd.Series(["Smith", "García", "O'Brien", "Dubois", "Rossi"] * 4)
    f, g = first.map(_fold), last.map(_fold)
    cases = {
        "{first}.{last}": f + "." + g + "@x.com",
        "{f}{last}": f.str[0] + g + "42@x.com",
        "{first}_{last}": (f + "_" + g).str.upper() + "@x.com",
        "{first}": f + "@x.com",
    }
    for pattern, emails in cases.items():
        assert email_pattern(emails, first, last) == pattern
    assert email_pattern(pd.Series([f"user{i}@x.com" for i in range(20)]), first, last) is None
    mostly = cases["{first}.{last}"].copy()
    mostly[:6] = "someone@x.com"  # 70% match: below the 80% bar
    assert email_pattern(mostly, first, last) is None
    assert (
        learn_spec("email", cases["{f}{last}"], first=first, last=last).email_pattern == "{f}{last}"
    )


def test_spec_round_trips_and_holds_no_real_value():
    for kind in KINDS:
        real = _real(kind)
        spec = learn_spec(kind, real)
        text = spec.to_json()
        assert FakeSpec.from_json(text) == spec
        assert not [v for v in real if v in text], kind
    email = learn_spec("email", _real("email"))
    assert [d for d, _ in email.domains] == ["acme-corp.com"]  # smith-family.org: 3 rows < k
    phone = learn_spec("phone", _real("phone"))
    assert not [f for f, _ in phone.formats if f.startswith("0049")]  # 2 rows < k
    assert learn_spec("birth_date", _real("birth_date")).date_range == ("1950-01-01", "1999-12-31")


def test_invalid_kind_and_locale_are_reported():
    with pytest.raises(PrivacyError, match="Unknown personal-data kind 'shoe_size'"):
        FakeSpec("shoe_size")
    with pytest.raises(PrivacyError, match="Locale 'xx_YY'"):
        learn_spec("first_name", pd.Series(["a"]), locale="xx_YY")


def test_mask_keeps_the_format_and_shared_domains_only():
    values = pd.Series(
        ["anna.smith@acme-corp.com"] * 5 + ["z.q@rare-family.org", None, "Ab-12 cd/Ü", "42"]
    )
    masked = mask_values(values, np.random.default_rng(0), k=5)
    assert masked.isna().tolist() == values.isna().tolist()
    for real, fake in zip(values.dropna(), masked.dropna(), strict=True):
        assert len(fake) == len(real)
        for r, f in zip(real, fake, strict=True):
            if r.isdigit():
                assert f.isdigit()
            elif r.isalpha():
                assert f.isalpha() and f.isupper() == r.isupper()
            else:
                assert f == r
    assert masked[:5].str.endswith("@acme-corp.com").all()
    assert masked[:5].nunique() == 5
    assert not masked[5].endswith("@rare-family.org") and masked[5][3] == "@"


def test_hmac_tokens_are_stable_per_key_and_keep_nulls():
    key = hmac_key({"SYNTHOHIVE_HMAC_KEY": "s3cret"})
    orders = pd.Series([1.0, None, 2.0, 1.0])  # a nullable id read as float
    customers = pd.Series([2, 1, 3])
    a, b = hmac_tokens(orders, key), hmac_tokens(customers, key)
    assert a.equals(hmac_tokens(orders, key))
    assert a[0] == a[3] == b[1] and a[2] == b[0] and pd.isna(a[1])
    assert a.dropna().str.fullmatch(r"[0-9a-f]{32}").all()
    other = hmac_tokens(orders, hmac_key({"SYNTHOHIVE_HMAC_KEY": "other"}))
    assert not (other.dropna() == a.dropna()).any()


@pytest.mark.parametrize("env", [{}, {"SYNTHOHIVE_HMAC_KEY": ""}])
def test_missing_hmac_key_is_an_error_that_says_how_to_set_it(env):
    with pytest.raises(PrivacyError, match="SYNTHOHIVE_HMAC_KEY is not set.*export"):
        hmac_key(env)


def test_drop_gives_nulls():
    dropped = drop_values(3)
    assert len(dropped) == 3 and dropped.isna().all()
