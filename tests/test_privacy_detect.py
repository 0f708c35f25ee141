"""detect_table: personal data found by dbt markings, column names and sampled values."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd
import pytest

from synthohive_dbt.privacy.detect import (
    KINDS,
    TREATMENTS,
    Finding,
    column_kind,
    column_treatment,
    detect_table,
    name_tokens,
)
from synthohive_dbt.schema import Column, ColumnType, LogicalType, Table

T = LogicalType
N = 40  # sampled rows per column unless a test says otherwise


def col(name, logical=T.TEXT, meta=None, tags=(), policy_tags=()) -> Column:
    kind = ColumnType(logical, logical.value) if logical is not None else None
    return Column(name, meta=meta or {}, type=kind, tags=tags, policy_tags=policy_tags)


def table(*columns, meta=None, tags=()) -> Table:
    return Table(
        key="model.shop.people",
        name="people",
        resource_type="model",
        database="db",
        schema="main",
        identifier="people",
        columns=tuple(columns),
        meta=meta or {},
        tags=tags,
    )


def one(column: Column, values=None, **table_kw) -> Finding | None:
    """The finding for a single-column table, sampled with ``values`` when given."""
    sample = pd.DataFrame({column.name: values}) if values is not None else None
    found = detect_table(table(column, **table_kw), sample)
    assert len(found) <= 1
    return found[0] if found else None


def kind_of(name, values, logical=T.TEXT):
    finding = one(col(name, logical), values)
    return finding.kind if finding else None


# -- sampled values ---------------------------------------------------------------------------

EMAILS = [f"person.{i}@example{i % 3}.co.uk" for i in range(N)]
IPV4 = [f"192.168.{i}.{200 - i}" for i in range(N)]
IPV6 = [f"2001:db8::{i:x}:1" for i in range(N)] + ["fe80::1ff:fe23:4567:890a"]
SSNS = [f"{123 + i}-45-{6789 + i}" for i in range(N)]
IBANS = [
    "DE89370400440532013000",
    "GB82 WEST 1234 5698 7654 32",
    "FR1420041010050500013M02606",
    "NL91ABNA0417164300",
    "ES9121000418450200051332",
    "BE68539007547034",
] * 7
CARDS = [
    "4111111111111111",
    "5500 0000 0000 0004",
    "3400-000000-00009",
    "6011000990139424",
    "4012888888881881",
    "378282246310005",
] * 7
PHONES = {
    "uk": [f"+44 20 7946 {i:04d}" for i in range(N)],
    "us": [f"({200 + i}) 555-{1000 + i}" for i in range(N)],
    "us_dashes": [f"1-800-555-{1000 + i}" for i in range(N)],
    "de": [f"+49 30 {1234500 + i}" for i in range(N)],
    "fr": [f"06 12 34 56 {i:02d}" for i in range(N)],
    "jp": [f"03-1234-{5600 + i}" for i in range(N)],
    "in": [f"+91 98765 {43200 + i}" for i in range(N)],
    "dotted": [f"555.123.{4500 + i}" for i in range(N)],
}


def _one_digit_changed(value: str) -> str:
    i = max(i for i, ch in enumerate(value) if ch.isdigit())
    return value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1 :]


@pytest.mark.parametrize(
    "values, kind",
    [
        (EMAILS, "email"),
        (IPV4, "ip"),
        (IPV6, "ip"),
        (SSNS, "national_id"),
        (IBANS, "iban"),
        (CARDS, "card"),
        *((phones, "phone") for phones in PHONES.values()),
    ],
)
def test_values_alone_show_the_kind(values, kind):
    finding = one(col("ref"), values)
    assert finding is not None and finding.kind == kind and not finding.marked
    assert finding.evidence == (
        f"100% of {len(values)} sampled values look like "
        + {
            "email": "emails",
            "ip": "IP addresses",
            "national_id": "US social security numbers",
            "iban": "IBANs (mod-97 checksum valid)",
            "phone": "phone numbers",
            "card": "payment card numbers (Luhn check valid)",
        }[kind],
    )


@pytest.mark.parametrize(
    "values",
    [
        [_one_digit_changed(v) for v in IBANS],  # mod-97 fails
        [_one_digit_changed(v) for v in CARDS],  # Luhn fails
        [f"4111 {i:06d} 111111 111111 111111" for i in range(N)],  # too long for a card
        [f"{i}" for i in range(10_000_000, 10_000_000 + N)],  # integer ids kept as text
        [f"ORD-{i:07d}" for i in range(N)],
        [f"2021-03-{1 + i % 28:02d}" for i in range(N)],  # dates are no phones
        [f"{i}.{i * 7}" for i in range(1000, 1000 + N)],  # decimals neither
        [f"999.{i}.1.1" for i in range(N)],  # no IPv4
        [f"{i}:{i}:00" for i in range(10, 10 + N)],  # times are no IPv6
        [f"000-45-{6789 + i}" for i in range(N)],  # SSN areas never issued
        [f"666-45-{6789 + i}" for i in range(N)],
        [f"9{10 + i}-45-6789" for i in range(N)],
        [f"person.{i}@example" for i in range(N)],  # no domain
        [f"{i} apples" for i in range(N)],
    ],
)
def test_values_that_only_look_alike_are_not_personal(values):
    assert one(col("ref"), values) is None


def test_a_share_below_80_percent_or_too_few_values_show_nothing():
    mixed = EMAILS[:28] + [f"unknown {i}" for i in range(12)]  # 70%
    assert one(col("ref"), mixed) is None
    assert one(col("ref"), EMAILS[:19] + [None] * 30) is None
    finding = one(col("ref"), EMAILS[:34] + ["n/a"] * 6)  # 85%, nulls and blanks not counted
    assert finding.evidence == ("85% of 40 sampled values look like emails",)


def test_plain_digits_are_phones_only_when_the_name_says_so():
    digits = [f"{i}" for i in range(7_912_345_670, 7_912_345_670 + N)]
    assert kind_of("ref", digits) is None
    finding = one(col("mobile"), digits)
    assert finding.kind == "phone"
    assert finding.evidence[-1] == "100% of 40 sampled values look like phone numbers"


def test_values_beat_the_name_for_the_kind_and_evidence_goes_strongest_first():
    finding = one(col("contact_phone", meta={"pii": True}), EMAILS)
    assert finding.kind == "email"
    assert finding.evidence == (
        "meta pii: true",
        "name 'contact_phone' says phone",
        "100% of 40 sampled values look like emails",
    )


def test_the_sample_is_capped_at_max_rows_and_matched_case_insensitively():
    sample = pd.DataFrame({"CUSTOMER_REF": EMAILS + ["not an email"] * 200})
    found = detect_table(table(col("customer_ref")), sample, max_rows=N)
    assert [(f.column, f.kind) for f in found] == [("customer_ref", "email")]
    assert found[0].evidence == ("100% of 40 sampled values look like emails",)


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, kind",
    [
        ("email", "email"), ("customerEmail", "email"), ("E-Mail", "email"),
        ("mail_address", "email"), ("EmailAddress", "email"),
        ("phone", "phone"), ("mobile_number", "phone"), ("cellPhone", "phone"),
        ("fax", "phone"), ("telephone", "phone"), ("tel", "phone"),
        ("FirstName", "first_name"), ("given_name", "first_name"), ("forename", "first_name"),
        ("last_name", "last_name"), ("familyName", "last_name"), ("surname", "last_name"),
        ("full_name", "full_name"), ("customer_name", "full_name"),
        ("contact_name", "full_name"), ("employeeName", "full_name"),
        ("address", "address"), ("street", "address"), ("address_line_1", "address"),
        ("billingAddress", "address"),
        ("postal_code", "postal_code"), ("postcode", "postal_code"), ("zip", "postal_code"),
        ("ZIPCode", "postal_code"), ("zip_file", "postal_code"),
        ("ssn", "national_id"), ("social_security_number", "national_id"),
        ("national_id", "national_id"), ("passport_no", "national_id"),
        ("tax_id", "national_id"),
        ("iban", "iban"), ("account_number", "iban"), ("bank_account", "iban"),
        ("card_number", "card"), ("credit_card", "card"), ("cc_number", "card"),
        ("ip", "ip"), ("ip_address", "ip"), ("IPAddress", "ip"), ("ipv4", "ip"),
        ("client_ipv6", "ip"),
        ("date_of_birth", "birth_date"), ("dob", "birth_date"), ("birthdate", "birth_date"),
        ("birth_date", "birth_date"), ("birthday", "birth_date"), ("dateOfBirth", "birth_date"),
        ("username", "username"), ("user_name", "username"), ("login", "username"),
        ("password", "other"), ("password_hash", "other"),
        ("notes", "free_text"), ("comment", "free_text"), ("bio", "free_text"),
        ("name", None), ("product_name", None), ("city", None), ("state", None),
        ("country", None), ("email_status", None), ("mac_address", None), ("zipper", None),
        ("telemetry", None), ("ship_date", None), ("company", None),
    ],
)  # fmt: skip
def test_name_on_a_text_column(name, kind):
    assert name_tokens(name)  # every name splits into words
    finding = one(col(name))
    assert (finding.kind if finding else None) == kind
    if finding:
        assert finding.evidence == (
            f"name '{name}' says " + ("a password" if kind == "other" else kind.replace("_", " ")),
        )
        assert finding.treatment == "fake" and not finding.marked


@pytest.mark.parametrize(
    "name, logical, kind",
    [
        ("has_email", T.BOOLEAN, None), ("has_email", T.FLOAT, None),
        ("email_sent_count", T.INTEGER, None), ("email", T.INTEGER, None),
        ("email", T.TIMESTAMP, None), ("ssn", T.INTEGER, None), ("last_login", T.TIMESTAMP, None),
        ("zip", T.INTEGER, "postal_code"), ("phone", T.INTEGER, "phone"),
        ("postal_code", T.NUMERIC, "postal_code"), ("dob", T.DATE, "birth_date"),
        ("birth_date", T.TIMESTAMP, "birth_date"), ("birth_date", T.INTEGER, None),
        ("customer_email", T.UUID, None),
    ],
)  # fmt: skip
def test_a_name_counts_only_where_the_type_fits(name, logical, kind):
    finding = one(col(name, logical))
    assert (finding.kind if finding else None) == kind


def test_the_type_comes_from_the_sample_when_the_warehouse_gave_none():
    assert one(col("has_email", None), [True, False] * 20) is None
    assert one(col("email_score", None), np.linspace(0, 1, N)) is None
    assert one(col("phone", None), np.arange(N)).kind == "phone"
    assert one(col("email", None), EMAILS).kind == "email"
    assert one(col("has_email", None)) is None  # no type, no sample: the name still reads


def test_camel_case_and_separators_split_into_words():
    assert name_tokens("customerEmail") == ("customer", "email")
    assert name_tokens("FirstName") == ("first", "name")
    assert name_tokens("IPAddress") == ("ip", "address")
    assert name_tokens("client IPv4-addr") == ("client", "ipv", "4", "addr")


def test_name_alone_is_a_person_only_on_a_table_with_personal_columns():
    surnames = "Lovelace Hopper Turing O'Brien McCarthy Smith-Jones Piaf Noether".split()
    people = [f"{first} {last}" for first in ("Ada", "Grace", "Édith", "Alan") for last in surnames]
    sample = pd.DataFrame({"name": people, "email": EMAILS[: len(people)]})
    found = detect_table(table(col("name"), col("email")), sample)
    assert [(f.column, f.kind) for f in found] == [("name", "full_name"), ("email", "email")]
    assert found[0].evidence == (
        "100% of 32 sampled values look like person names on a table with personal columns",
    )
    assert one(col("name"), people) is None  # a product table has names too
    assert one(col("name", meta={"pii": True}), people).kind == "full_name"


def test_free_text_needs_a_free_text_name_or_marking_and_prose_values():
    prose = [
        f"Called on day {i}, asked about the delivery and a refund for the order" for i in range(N)
    ]
    labels = ["urgent", "call back", "vip"] * 14
    finding = one(col("notes"), prose)
    assert finding.kind == "free_text"
    assert finding.evidence[1].startswith("sampled values look like free text (")
    assert one(col("notes"), labels) is None
    assert one(col("body_copy"), prose) is None  # product copy looks the same: no name, no flag
    assert one(col("body_copy", meta={"sensitive": True}), prose).kind == "free_text"
    assert one(col("description")).kind == "free_text"  # without data the name counts


# -- markings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "meta, evidence",
    [
        ({"synthohive_pii": True}, "meta synthohive_pii: true"),
        ({"pii": True}, "meta pii: true"),
        ({"contains_pii": "yes"}, "meta contains_pii: yes"),
        ({"sensitive": 1}, "meta sensitive: 1"),
        ({"data_privacy": {"level": "confidential"}}, "meta data_privacy.level: confidential"),
        ({"masking_policy": "mask_email"}, "meta masking_policy: mask_email"),
        ({"synthohive_pii_kind": "phone"}, "meta synthohive_pii_kind: phone"),
    ],
)
def test_each_meta_marking_marks_the_column(meta, evidence):
    finding = one(col("attribute", meta=meta))
    assert finding == Finding(
        "attribute",
        "phone" if "synthohive_pii_kind" in meta else "other",
        (evidence,),
        "fake",
        True,
    )


@pytest.mark.parametrize(
    "meta",
    [
        {"pii": False},
        {"contains_pii": "no"},
        {"sensitive": 0},
        {"data_privacy": {"level": "public"}},
        {"data_privacy": {"level": "None"}},
        {"data_privacy": {"level": 0}},
        {"data_privacy": {"owner": "finance"}},
        {"masking_policy": ""},
        {"masking_policy": None},
        {"synthohive_pii_kind": "shoe_size"},
        {"owner": "finance"},
    ],
)
def test_meta_that_does_not_mark(meta):
    assert one(col("attribute", meta=meta)) is None


@pytest.mark.parametrize(
    "tags, marked",
    [
        (("PII",), True),
        (("finance", "contains_pii"), True),
        (("Sensitive-Data",), True),
        (("pii:email",), True),
        (("non_pii",), False),
        (("not-sensitive",), False),
        (("insensitive",), False),
        (("finance",), False),
    ],
)
def test_column_tags(tags, marked):
    finding = one(col("attribute", tags=tags))
    assert (finding is not None) == marked
    if marked:
        assert finding.marked and finding.evidence == tuple(
            f"tag '{t}'" for t in tags if t != "finance"
        )


def test_bigquery_policy_tags_mark_the_column():
    tag = "projects/p/locations/eu/taxonomies/1/policyTags/2"
    finding = one(col("attribute", policy_tags=(tag,)))
    assert finding.marked and finding.evidence == ("BigQuery policy tags (1)",)
    assert finding.kind == "other"


def test_model_contains_pii_makes_every_text_column_a_candidate():
    columns = (
        col("label"),
        col("email"),
        col("amount", T.FLOAT),
        col("created", T.DATE),
        col("zip", T.INTEGER),
    )
    for marking in (
        {"meta": {"contains_pii": True}},
        {"meta": {"pii": "true"}},
        {"tags": ("pii",)},
    ):
        found = {f.column: f for f in detect_table(table(*columns, **marking), None)}
        assert set(found) == {"label", "email", "zip"}
        assert found["label"].kind == "free_text" and found["label"].marked
        assert found["email"].kind == "email" and found["email"].marked
        assert found["email"].evidence[0].endswith("(text column)")
        assert not found["zip"].marked  # an integer column: the name alone found it
    assert detect_table(table(*columns, meta={"contains_pii": False}), None) == (
        Finding("email", "email", ("name 'email' says email",)),
        Finding("zip", "postal_code", ("name 'zip' says postal code",)),
    )


def test_synthohive_pii_false_undoes_every_other_sign():
    columns = (
        col("customer_email", meta={"synthohive_pii": False, "pii": True}),
        col("notes", meta={"synthohive_pii": "FALSE"}),
        col("ref", meta={"synthohive_pii": False}),
    )
    sample = pd.DataFrame({"customer_email": EMAILS, "notes": EMAILS, "ref": EMAILS})
    assert detect_table(table(*columns, meta={"contains_pii": True}), sample) == ()


@pytest.mark.parametrize(
    "value, treatment",
    [
        ("Hash", "hash"),
        ("mask", "mask"),
        ("DROP", "drop"),
        ("keep", "keep"),
        ("fake", "fake"),
        (True, "fake"),
    ],
)
def test_an_explicit_treatment_is_carried(value, treatment):
    finding = one(col("customer_email", meta={"synthohive_pii": value}))
    assert (finding.kind, finding.treatment, finding.marked) == ("email", treatment, True)
    assert finding.evidence[0] == f"meta synthohive_pii: {'true' if value is True else value}"


def test_an_explicit_kind_wins_over_name_and_values():
    finding = one(col("contact", meta={"synthohive_pii_kind": "Username"}), EMAILS)
    assert finding.kind == "username" and finding.marked


@pytest.mark.parametrize(
    "meta, treatment",
    [
        ({"synthohive_pii": True}, "fake"),
        ({"synthohive_pii": False}, "none"),
        ({"synthohive_pii": "true"}, "fake"),
        ({"synthohive_pii": " Mask "}, "mask"),
        ({"synthohive_pii": "hash"}, "hash"),
        ({"synthohive_pii": "encrypt"}, None),
        ({"synthohive_pii": 3}, None),
        ({"pii": True}, None),
        ({}, None),
        (None, None),
    ],
)
def test_column_treatment(meta, treatment):
    assert column_treatment(meta) == treatment


def test_column_kind():
    assert column_kind({"synthohive_pii_kind": "IBAN"}) == "iban"
    assert column_kind({"synthohive_pii_kind": "shoe_size"}) is None
    assert column_kind({}) is None


# -- the whole table --------------------------------------------------------------------------


def _wide_sample(rows: int) -> tuple[Table, pd.DataFrame]:
    rng = np.random.default_rng(7)
    i = np.arange(rows)
    data = {
        "customer_email": [f"c{k}@mail{k % 7}.example.org" for k in i],
        "phone": [f"+1 ({200 + k % 700}) 555-{k % 10000:04d}" for k in i],
        "ssn": [f"{100 + k % 600}-{10 + k % 89}-{1000 + k % 9000}" for k in i],
        "iban": [IBANS[k % 6] for k in i],
        "card": [CARDS[k % 6] for k in i],
        "ip": [f"10.{k % 256}.{k // 256 % 256}.7" for k in i],
        "notes": [
            f"Spoke to them on call {k}; they want the parcel left with a neighbour" for k in i
        ],
        "amount": rng.random(rows),
        "id": i,
    }
    for j in range(21):
        data[f"attr_{j}"] = [f"value {v} of {j}" for v in rng.integers(0, 50_000, rows)]
    kinds = {"amount": T.FLOAT, "id": T.INTEGER}
    columns = [col(name, kinds.get(name, T.TEXT)) for name in data]
    return table(*columns), pd.DataFrame(data)


def test_evidence_never_quotes_a_sampled_value():
    people = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edith Piaf"] * 10
    tbl, sample = _wide_sample(N)
    sample["name"] = people
    tbl = dataclasses.replace(tbl, columns=(*tbl.columns, col("name")))
    found = detect_table(tbl, sample)
    assert {f.column for f in found} == {
        "customer_email",
        "phone",
        "ssn",
        "iban",
        "card",
        "ip",
        "notes",
        "name",
    }
    values = {str(v) for column in sample for v in sample[column] if len(str(v)) >= 4}
    values |= {w for v in people for w in v.split()} | {v.replace(" ", "") for v in IBANS}
    for finding in found:
        assert finding.kind in KINDS and finding.treatment in TREATMENTS
        for line in finding.evidence:
            assert not any(v in line for v in values), line


def test_ten_thousand_rows_by_thirty_columns_take_well_under_a_second():
    tbl, sample = _wide_sample(10_000)
    detect_table(tbl, sample.head(100))  # warm up pandas and pyarrow
    started = time.perf_counter()
    found = detect_table(tbl, sample)
    elapsed = time.perf_counter() - started
    assert [f.kind for f in found] == [
        "email",
        "phone",
        "national_id",
        "iban",
        "card",
        "ip",
        "free_text",
    ]
    assert elapsed < 1.0, f"{elapsed:.2f}s"
