"""Find the personal data in a table: per column, whether it is personal, of what kind, why.

Three sources, strongest first. dbt markings: column meta ``synthohive_pii``, ``pii``,
``contains_pii``, ``sensitive``, ``data_privacy.level``, ``masking_policy``; a tag naming pii
or sensitive; BigQuery policy tags; ``contains_pii``/``pii`` (or such a tag) on the model,
which makes every text column a candidate. The column name, split on separators and
camelCase, counting only where the type fits (a float ``has_email`` is no email; an integer
``zip`` is a postal code). The sampled values (``values``): emails, phones, IBANs (mod-97),
payment cards (Luhn), IP addresses, US SSNs, at least 80% of at least 20 values.
``synthohive_pii: false`` overrides all of it. Evidence names columns, markings and shares,
never a sampled value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from synthohive_dbt.project.meta import MARKINGS
from synthohive_dbt.schema import Column, LogicalType, Table

from .values import MIN_VALUES, Sample, free_text, person_names, value_kind

KINDS = (
    "email", "phone", "first_name", "last_name", "full_name", "address", "postal_code",
    "national_id", "iban", "card", "ip", "birth_date", "username", "free_text", "other",
)  # fmt: skip
TREATMENTS = ("fake", "mask", "hash", "drop", "keep")

PII_KEY = "synthohive_pii"
KIND_KEY = "synthohive_pii_kind"


@dataclass(frozen=True)
class Finding:
    """A column that holds personal data: its ``kind`` (one of KINDS), the ``evidence``
    strongest first, the ``treatment`` (one of TREATMENTS) and whether a dbt marking said so."""

    column: str
    kind: str
    evidence: tuple[str, ...]
    treatment: str = "fake"
    marked: bool = False


def column_treatment(column_meta: Mapping[str, Any] | None) -> str | None:
    """The treatment that ``synthohive_pii`` asks for: a treatment name (any case) as is,
    ``true`` as "fake", ``false`` as "none"; None when the key is absent or the value unknown
    (the caller reports unknown values; this never raises)."""
    value = (column_meta or {}).get(PII_KEY)
    if isinstance(value, bool):
        return "fake" if value else "none"
    if isinstance(value, str):
        text = value.strip().lower()
        return text if text in TREATMENTS else {"true": "fake", "false": "none"}.get(text)
    return None


def column_kind(column_meta: Mapping[str, Any] | None) -> str | None:
    """The kind that ``synthohive_pii_kind`` sets, when it is one of KINDS."""
    value = (column_meta or {}).get(KIND_KEY)
    text = value.strip().lower() if isinstance(value, str) else None
    return text if text in KINDS else None


# -- markings -------------------------------------------------------------------------------

_FALSY = frozenset({"", "false", "no", "n", "f", "0", "off", "none", "null"})
_PUBLIC = _FALSY | {"public", "open", "unrestricted"}
_NEGATION = frozenset({"non", "not", "no"})
#: truthy markings; ``data_privacy`` is read by its ``level`` below
_MARK_KEYS = tuple(k for k in MARKINGS if k != "data_privacy")


def _truthy(value: Any, falsy: frozenset[str] = _FALSY) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in falsy
    if isinstance(value, bool | int | float):
        return bool(value)
    return bool(value) if isinstance(value, Mapping | list | tuple) else False


def _show(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _tag_marks(tag: str) -> bool:
    words = set(re.split(r"[^a-z0-9]+", str(tag).lower()))
    return bool(words & {"pii", "sensitive"}) and not words & _NEGATION


def _column_markings(column: Column) -> list[str]:
    meta = column.meta or {}
    found = []
    if column_treatment(meta) not in (None, "none"):
        found.append(f"meta {PII_KEY}: {_show(meta[PII_KEY])}")
    found += [f"meta {k}: {_show(meta[k])}" for k in _MARK_KEYS if _truthy(meta.get(k))]
    privacy = meta.get("data_privacy")
    if isinstance(privacy, Mapping) and _truthy(privacy.get("level"), _PUBLIC):
        found.append(f"meta data_privacy.level: {privacy['level']}")
    found += [f"tag '{tag}'" for tag in getattr(column, "tags", ()) if _tag_marks(tag)]
    policy_tags = tuple(getattr(column, "policy_tags", ()) or ())
    if policy_tags:
        found.append(f"BigQuery policy tags ({len(policy_tags)})")
    if column_kind(meta):
        found.append(f"meta {KIND_KEY}: {column_kind(meta)}")
    return found


def _table_markings(table: Table) -> list[str]:
    meta = table.meta or {}
    found = [
        f"model meta {k}: {_show(meta[k])}" for k in ("contains_pii", "pii") if _truthy(meta.get(k))
    ]
    return found + [f"model tag '{t}'" for t in getattr(table, "tags", ()) if _tag_marks(t)]


# -- names ----------------------------------------------------------------------------------

_PEOPLE = (
    "customer", "contact", "employee", "person", "client", "patient", "member", "holder",
    "cardholder", "recipient", "sender", "applicant", "student", "buyer", "guest", "passenger",
    "subscriber", "beneficiary", "driver", "author", "owner", "emergency contact",
)  # fmt: skip
_NAME_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("email", ("email", "e mail", "mail address", "emailaddress")),
    ("ip", ("ip", "ipv", "ipaddress", "ipaddr")),
    ("other", ("password", "passwd", "pwd")),
    ("first_name", ("first name", "given name", "forename", "firstname", "givenname",
                    "middle name", "middlename")),
    ("last_name", ("last name", "family name", "surname", "lastname", "familyname",
                   "maiden name")),
    ("username", ("username", "user name", "login", "screen name", "screenname")),
    ("full_name", ("full name", "fullname", *(f"{who} name" for who in _PEOPLE))),
    ("birth_date", ("date of birth", "dob", "birthdate", "birth date", "birth dt", "birthday",
                    "birth day")),
    ("national_id", ("ssn", "social security", "national id", "nationalid", "national number",
                     "national insurance", "passport", "tax id", "taxid", "tax number",
                     "driver license", "drivers license", "driving licence", "driving license")),
    ("iban", ("iban", "account number", "accountnumber", "bank account", "account no")),
    ("card", ("card number", "cardnumber", "credit card", "creditcard", "cc number", "ccnumber",
              "cc num", "card num", "debit card")),
    ("phone", ("phone", "mobile", "cell", "fax", "telephone", "tel", "phonenumber", "cellphone",
               "msisdn")),
    ("postal_code", ("postal code", "postalcode", "postcode", "postal", "zip", "zipcode")),
    ("address", ("address", "street", "addr", "addressline", "streetaddress")),
    ("free_text", ("comment", "comments", "note", "notes", "description", "bio", "biography",
                   "message", "remarks", "remark", "feedback", "free text")),
)  # fmt: skip
_PADDED_RULES = tuple((kind, tuple(f" {p} " for p in pats)) for kind, pats in _NAME_RULES)
# words that make a name about the data rather than the data: has_email, email_status
_NOT_DATA = frozenset(
    "has is count cnt status type flag verified valid validated domain opt optin optout "
    "consent sent opened bounced bounce format template provider enabled preference "
    "preferences length len method model brand os app device version mac".split()
)
# which kinds a name may claim on a column of each type class
_NAME_FITS = {"text": set(KINDS), "unknown": set(KINDS), "date": {"birth_date"},
              "integer": {"postal_code", "phone"}, "other": set()}  # fmt: skip
_PEOPLE_KINDS = frozenset(
    {"email", "phone", "first_name", "last_name", "birth_date", "national_id", "username"}
)
_LABEL = {"other": "a password"}
_TOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def name_tokens(name: str) -> tuple[str, ...]:
    """``customerEmail`` -> (customer, email); ``IPv4_addr`` -> (ipv, 4, addr)."""
    return tuple(t.lower() for t in _TOKEN.findall(re.sub(r"IPv(?=[46])", "Ipv", name)))


def _name_kind(tokens: tuple[str, ...]) -> str | None:
    if _NOT_DATA.intersection(tokens):
        return None
    padded = f" {' '.join(tokens)} "
    return next((k for k, pats in _PADDED_RULES if any(p in padded for p in pats)), None)


# -- putting it together --------------------------------------------------------------------

_T = LogicalType
_CLASS = {
    **dict.fromkeys((_T.TEXT,), "text"),
    **dict.fromkeys((_T.DATE, _T.TIMESTAMP, _T.TIMESTAMPTZ), "date"),
    **dict.fromkeys((_T.INTEGER, _T.NUMERIC), "integer"),
    **dict.fromkeys((_T.FLOAT, _T.BOOLEAN, _T.UUID), "other"),
}


def _type_class(column: Column, series: pd.Series | None) -> str:
    """text, date, integer, other; unknown without a warehouse type and without data."""
    logical = column.type.logical if column.type is not None else None
    if logical in _CLASS:
        return _CLASS[logical]
    if series is None:
        return "unknown"
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        dtype = dtype.categories.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        return "other"
    if pd.api.types.is_integer_dtype(dtype):
        return "integer"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    text = pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)
    return "text" if text else "other"


def _value_evidence(
    sample: Sample,
    tokens: tuple[str, ...],
    name_kind: str | None,
    marked: bool,
    people_like: bool,
) -> tuple[str | None, list[str], bool]:
    """The kind the values show, what they show, and whether they look like prose."""
    kind, said = value_kind(sample, name_kind == "phone")
    if kind is None and tokens == ("name",) and (people_like or marked):
        names = person_names(sample)
        if names is not None:
            where = " on a table with personal columns" if people_like else ""
            kind, said = "full_name", names + where
    prose = free_text(sample) if name_kind == "free_text" or (marked and not kind) else None
    return kind, [note for note in (said, prose) if note], prose is not None


def _detect_column(
    column: Column, series: pd.Series | None, table_marks: list[str], people_like: bool
) -> Finding | None:
    tokens = name_tokens(column.name)
    cls = _type_class(column, series)
    column_marks = _column_markings(column)
    table_only = not column_marks and bool(table_marks) and cls in ("text", "unknown")
    evidence = column_marks or ([f"{m} (text column)" for m in table_marks] if table_only else [])
    marked = bool(evidence)
    name_kind = _name_kind(tokens)
    if name_kind and not (marked or name_kind in _NAME_FITS[cls]):
        name_kind = None
    sample = Sample.of(series) if series is not None and cls == "text" else None
    value_kind, notes, prose = None, [], False
    if sample is not None and sample.total >= MIN_VALUES:
        value_kind, notes, prose = _value_evidence(sample, tokens, name_kind, marked, people_like)
        if name_kind == "free_text" and not (marked or prose):
            name_kind = None  # a short "notes" or "description" column: labels, not prose
    if name_kind:
        label = _LABEL.get(name_kind, name_kind.replace("_", " "))
        evidence.append(f"name '{column.name}' says {label}")
    fallback = "free_text" if prose or table_only else ("other" if marked else None)
    kind = column_kind(column.meta) or value_kind or name_kind or fallback
    if kind is None:
        return None
    treatment = column_treatment(column.meta)
    return Finding(
        column=column.name,
        kind=kind,
        evidence=(*evidence, *notes),
        treatment=treatment if treatment in TREATMENTS else "fake",
        marked=marked,
    )


def detect_table(
    table: Table, sample: pd.DataFrame | None, *, max_rows: int = 10_000
) -> tuple[Finding, ...]:
    """A Finding per column of ``table`` that holds personal data, in column order.

    ``sample`` holds real rows of the table (column names matched case-insensitively; the
    first ``max_rows`` are read); without it only markings and names count. Key columns are
    not skipped here: the caller decides what a marking on a key means."""
    frame = sample.head(max_rows) if sample is not None else None
    by_name = {str(c).lower(): c for c in frame.columns} if frame is not None else {}
    table_marks = _table_markings(table)
    people_like = any(_name_kind(name_tokens(c.name)) in _PEOPLE_KINDS for c in table.columns)
    findings = []
    for column in table.columns:
        if column_treatment(column.meta) == "none":
            continue  # synthohive_pii: false overrides every other sign
        key = by_name.get(column.name.lower())
        series = frame[key] if key is not None else None
        finding = _detect_column(column, series, table_marks, people_like)
        if finding is not None:
            findings.append(finding)
    return tuple(findings)
