"""The four raw tables of the people project, made deterministically and loaded directly.

People's data for the privacy tests: customers in four countries (names, e-mail, phone,
address and birth date in each country's own forms, drawn with Faker's locales), the
company's employees (work e-mail, mobile, US social security number, a manager), the
customers' invoices (the customer's e-mail repeated on each, an IBAN and a card number)
and a four-row country lookup. Personal values are realistic in form: e-mails are built
from the names (ASCII-folded, unique), IBANs carry their mod-97 check digits, card numbers
pass the Luhn check, SSNs have a valid area. A customer's ``lifetime_value`` is the sum of
its paid invoices; its invoices fall after its signup. The same ``seed`` always gives the
same tables (with the same Faker version).

    python load_raw.py --duckdb target/people.duckdb        # schema main_raw
    python load_raw.py --postgres-schema people_raw

``copy_project`` makes a copy of this project whose ``local:`` packages point at this
checkout, the way tests/helpers.py copies ``integration_tests``.
"""

from __future__ import annotations

import argparse
import functools
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))  # integration_tests/raw_tables.py, shared

import raw_tables  # noqa: E402

# Column types, spelled so that DuckDB and Postgres both accept them.
TYPES: dict[str, dict[str, str]] = {
    "countries": {"country_code": "text", "name": "text", "currency": "text"},
    "customers": {
        "customer_id": "integer",
        "first_name": "text",
        "last_name": "text",
        "email": "text",
        "phone": "text",
        "street_address": "text",
        "postal_code": "text",
        "city": "text",
        "country": "text",
        "birth_date": "date",
        "signup_date": "date",
        "segment": "text",
        "lifetime_value": "numeric(10,2)",
    },
    "employees": {
        "employee_id": "integer",
        "full_name": "text",
        "work_email": "text",
        "mobile": "text",
        "ssn": "text",
        "hire_date": "date",
        "title": "text",
        "manager_id": "integer",
    },
    "invoices": {
        "invoice_id": "integer",
        "customer_id": "integer",
        "customer_email": "text",
        "billing_iban": "text",
        "card_number": "text",
        "amount": "numeric(10,2)",
        "issued_at": "timestamp",
        "status": "text",
    },
}

# code, name, currency, Faker locale, share of the customers
COUNTRIES = [
    ("US", "United States", "USD", "en_US", 0.55),
    ("DE", "Germany", "EUR", "de_DE", 0.20),
    ("FR", "France", "EUR", "fr_FR", 0.13),
    ("GB", "United Kingdom", "GBP", "en_GB", 0.12),
]

TODAY = np.datetime64("2025-06-30")
SIGNUP_START = np.datetime64("2019-01-01")

SEGMENTS = ["consumer", "smb", "enterprise"]
SEGMENT_P = [0.80, 0.15, 0.05]
# invoice amount in dollars (median, log-sd) and invoicing appetite, per segment
AMOUNT = {"consumer": (60.0, 0.8), "smb": (450.0, 0.7), "enterprise": (3_800.0, 0.6)}
APPETITE = {"consumer": 1.0, "smb": 2.5, "enterprise": 4.0}

# common mail providers, weighted per country; company domains are rare and mostly
# used by business customers
MAIL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com",
                "web.de", "gmx.de", "orange.fr"]  # fmt: skip
MAIL_WEIGHTS = {
    "US": [0.45, 0.18, 0.14, 0.10, 0.13, 0.00, 0.00, 0.00],
    "DE": [0.30, 0.04, 0.08, 0.06, 0.04, 0.26, 0.22, 0.00],
    "FR": [0.38, 0.08, 0.08, 0.16, 0.04, 0.00, 0.00, 0.26],
    "GB": [0.42, 0.14, 0.16, 0.16, 0.12, 0.00, 0.00, 0.00],
}
COMPANY_DOMAINS = {
    "US": ["acme-logistics.com", "brightwave.io", "northpeak-consulting.com", "redoak-dental.com",
           "bluefin-capital.com"],
    "DE": ["nordlicht-technik.de", "hafenblick-gmbh.de"],
    "FR": ["atelier-moreau.fr", "cabinet-roux.fr"],
    "GB": ["harbourline.co.uk", "kestrel-analytics.co.uk"],
}  # fmt: skip
COMPANY_SHARE = {"consumer": 0.02, "smb": 0.45, "enterprise": 0.70}

# a phone number's form per country: "#" a digit, then the leading digits to choose from
PHONE_FORMS = {
    "US": "+1 (###) ###-####",
    "DE": "+49 ## #######",
    "FR": "+33 # ## ## ## ##",
    "GB": "+44 #### ######",
}
PHONE_LEADS = {
    "US": [str(area) for area in (201, 212, 213, 305, 312, 415, 512, 617, 646, 702, 718,
                                  773, 801, 818, 917, 919)],
    "DE": ["15", "16", "17", "30", "40", "69", "89", "21", "22", "71"],
    "FR": ["6", "6", "7", "1", "2", "3", "4", "5", "9"],
    "GB": ["7", "7", "7", "1", "2"],
}  # fmt: skip

# Faker card types: Visa (16 digits), Mastercard (16), American Express (15), Discover (16)
CARD_TYPES = ["visa16", "mastercard", "amex", "discover"]
CARD_TYPE_P = [0.50, 0.35, 0.10, 0.05]

COMPANY = "ourcompany.example"
N_EMPLOYEES = 40
N_MANAGERS = 5
STAFF_TITLES = ["Software Engineer", "Account Executive", "Support Specialist", "Data Analyst"]
STAFF_TITLE_P = [0.35, 0.25, 0.25, 0.15]


def fold(text: str) -> str:
    """``text`` lower-cased and reduced to ``a-z0-9-`` for an e-mail's local part
    ("Müller-Lüdenscheidt" -> "muller-ludenscheidt", "D'Aubigné" -> "daubigne")."""
    text = text.lower().replace("ß", "ss").replace("æ", "ae").replace("œ", "oe")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_text if c.isalnum() or c == "-")


def unique_emails(locals_: list[str], domains: list[str]) -> list[str]:
    """``local@domain`` for each pair; a repeated address gets a digit suffix on its local
    part (``anna.weber2@web.de``), the first one keeps none."""
    seen: set[str] = set()
    emails = []
    for local, domain in zip(locals_, domains, strict=True):
        email, n = f"{local}@{domain}", 1
        while email in seen:
            n += 1
            email = f"{local}{n}@{domain}"
        seen.add(email)
        emails.append(email)
    return emails


def phones(rng: np.random.Generator, codes: np.ndarray) -> list[str]:
    """A phone number in the form of each row's country (``codes``)."""
    out = []
    for code in codes:
        lead = PHONE_LEADS[code][rng.integers(len(PHONE_LEADS[code]))]
        rest = rng.integers(0, 10, size=12)
        if code == "US":
            rest[0] = rng.integers(2, 10)  # a US exchange code starts with 2 to 9
        digits = iter(lead + "".join(map(str, rest)))
        out.append("".join(next(digits) if c == "#" else c for c in PHONE_FORMS[code]))
    return out


def _fakers(rng: np.random.Generator) -> dict[str, object]:
    """One Faker per country, each with its own seed drawn from ``rng`` (one seed for all
    would make the locales draw the same digits)."""
    from faker import Faker

    fakers = {}
    for code, _name, _currency, locale, _share in COUNTRIES:
        fake = Faker(locale)
        fake.seed_instance(int(rng.integers(2**31)))
        fakers[code] = fake
    return fakers


def _countries() -> pd.DataFrame:
    return pd.DataFrame([c[:3] for c in COUNTRIES], columns=list(TYPES["countries"]))


def _days(start: np.datetime64, end: np.datetime64, u: np.ndarray) -> np.ndarray:
    """Dates from ``start`` to ``end`` at the fractions ``u`` of the span."""
    span = (end - start).astype(np.int64)
    return start + np.floor(u * (span + 1)).astype(np.int64)


def _customers(rng: np.random.Generator, fakers: dict, n: int) -> pd.DataFrame:
    codes = np.array([c[0] for c in COUNTRIES])
    share = np.array([c[4] for c in COUNTRIES])
    code = codes[rng.choice(len(codes), size=n, p=share)]
    segment = np.array(SEGMENTS)[rng.choice(len(SEGMENTS), size=n, p=SEGMENT_P)]

    # ages 18 to 85, most between 25 and 60; signup after the 18th birthday
    age_days = (np.clip(rng.normal(42, 13, size=n), 18.2, 85) * 365.25).astype(np.int64)
    birth = TODAY - age_days
    adult = birth + np.int64(round(18 * 365.25)) + 1
    first_signup = np.maximum(adult, SIGNUP_START)
    signup = _days(first_signup, TODAY, rng.random(n) ** 0.7)  # more of them recently

    first, last, street, postcode, city = [], [], [], [], []
    for c in code:
        fake = fakers[c]
        first.append(fake.first_name())
        last.append(fake.last_name())
        street.append(fake.street_address().replace("\n", ", "))  # en_GB: 'Flat 9\nX Lane'
        postcode.append(fake.postcode())
        city.append(fake.city())

    # e-mail: mostly first.last, some other habits; provider by country, company by segment
    habit = rng.choice(4, size=n, p=[0.75, 0.10, 0.10, 0.05])
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    locals_ = []
    for h, f, l_, y in zip(habit, first, last, year, strict=True):
        f, l_ = fold(f), fold(l_)
        locals_.append([f"{f}.{l_}", f"{f}{l_}", f"{f[:1]}.{l_}", f"{f}.{l_}{y % 100:02d}"][h])
    provider = [MAIL_DOMAINS[rng.choice(len(MAIL_DOMAINS), p=MAIL_WEIGHTS[c])] for c in code]
    at_work = rng.random(n) < np.array([COMPANY_SHARE[s] for s in segment])
    company = [COMPANY_DOMAINS[c][rng.integers(len(COMPANY_DOMAINS[c]))] for c in code]
    domain = np.where(at_work, np.array(company), np.array(provider))
    names = {c[0]: c[1] for c in COUNTRIES}

    frame = pd.DataFrame(
        {
            "first_name": first,
            "last_name": last,
            "email": unique_emails(locals_, list(domain)),
            "phone": phones(rng, code),
            "street_address": street,
            "postal_code": postcode,
            "city": city,
            "country": [names[c] for c in code],
            "birth_date": birth.astype("datetime64[s]"),
            "signup_date": signup.astype("datetime64[s]"),
            "segment": segment,
        }
    )
    # ids in signup order, as a sequence would give them
    frame = frame.sort_values("signup_date", kind="stable", ignore_index=True)
    frame.insert(0, "customer_id", np.arange(1, n + 1, dtype=np.int32))
    frame["country_code"] = frame["country"].map({v: k for k, v in names.items()})
    return frame


def _payment_means(
    rng: np.random.Generator, fakers: dict, customers: pd.DataFrame
) -> tuple[list, list]:
    """Each customer's IBAN (of its country; none for the US, which has no IBAN) and card."""
    kinds = rng.choice(CARD_TYPES, size=len(customers), p=CARD_TYPE_P)
    ibans, cards = [], []
    for code, kind in zip(customers["country_code"], kinds, strict=True):
        fake = fakers[code]
        ibans.append(None if code == "US" else fake.iban())
        cards.append(fake.credit_card_number(card_type=kind))
    return ibans, cards


def _invoices(
    rng: np.random.Generator, fakers: dict, customers: pd.DataFrame, n: int
) -> pd.DataFrame:
    n_customers = len(customers)
    segment = customers["segment"].to_numpy()

    # most customers are invoiced at least once; the rest go by appetite (a skewed share)
    active = np.flatnonzero(rng.random(n_customers) < 0.88)
    appetite = rng.gamma(0.8, size=n_customers) * np.array([APPETITE[s] for s in segment])
    customer_index = np.concatenate(
        [active, rng.choice(n_customers, size=n - len(active), p=appetite / appetite.sum())]
    )

    signup = customers["signup_date"].to_numpy().astype("datetime64[D]")[customer_index]
    day = _days(signup, TODAY, rng.random(n))
    second = rng.integers(8 * 3600, 20 * 3600, size=n)
    issued_at = day.astype("datetime64[s]") + second.astype("timedelta64[s]")

    median = np.array([AMOUNT[s][0] for s in segment[customer_index]])
    sigma = np.array([AMOUNT[s][1] for s in segment[customer_index]])
    cents = np.rint(median * 100 * np.exp(rng.normal(0, sigma))).astype(np.int64)
    cents = np.clip(cents, 500, 9_999_999_99)

    # recent invoices are often still open; a few are voided
    recent = (TODAY - day).astype(np.int64) < 30
    u = rng.random(n)
    status = np.where(u < np.where(recent, 0.55, 0.01), "open", np.where(u > 0.96, "void", "paid"))

    ibans, cards = _payment_means(rng, fakers, customers)
    frame = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy()[customer_index],
            "customer_email": customers["email"].to_numpy()[customer_index],
            "billing_iban": np.array(ibans, dtype=object)[customer_index],
            "card_number": np.array(cards, dtype=object)[customer_index],
            "amount": cents / 100,
            "issued_at": issued_at,
            "status": status,
            "_cents": cents,
        }
    )
    frame = frame.sort_values("issued_at", kind="stable", ignore_index=True)
    frame.insert(0, "invoice_id", np.arange(100_001, 100_001 + n, dtype=np.int32))
    return frame


def _employees(rng: np.random.Generator, fake) -> pd.DataFrame:
    """A CEO, ``N_MANAGERS`` managers reporting to the CEO and staff reporting to a manager;
    everyone hired after their manager, ids in hiring order."""
    n = N_EMPLOYEES
    first = [fake.first_name() for _ in range(n)]
    last = [fake.last_name() for _ in range(n)]
    ssns: list[str] = []
    while len(ssns) < n:
        ssn = fake.ssn()
        if ssn not in ssns:
            ssns.append(ssn)

    level = np.array([0] + [1] * N_MANAGERS + [2] * (n - 1 - N_MANAGERS))
    boss = np.full(n, -1)
    boss[level == 1] = 0
    boss[level == 2] = rng.integers(1, 1 + N_MANAGERS, size=int((level == 2).sum()))
    hired = np.empty(n, dtype="datetime64[D]")
    hired[0] = np.datetime64("2012-03-01")
    for level_ in (1, 2):
        rows = np.flatnonzero(level == level_)
        hired[rows] = _days(hired[boss[rows]] + 30, TODAY - 30, rng.random(len(rows)) ** 1.5)
    title = np.where(
        level == 0,
        "Chief Executive Officer",
        np.where(
            level == 1,
            "Manager",
            np.array(STAFF_TITLES)[rng.choice(len(STAFF_TITLES), size=n, p=STAFF_TITLE_P)],
        ),
    )

    order = np.argsort(hired, kind="stable")
    new_id = np.empty(n, dtype=np.int64)
    new_id[order] = np.arange(1, n + 1)
    manager = pd.array(np.where(boss < 0, 0, new_id[np.maximum(boss, 0)]), dtype="Int32")
    manager[boss < 0] = pd.NA
    locals_ = [f"{fold(f)}.{fold(l_)}" for f, l_ in zip(first, last, strict=True)]
    frame = pd.DataFrame(
        {
            "employee_id": new_id.astype(np.int32),
            "full_name": [f"{f} {l_}" for f, l_ in zip(first, last, strict=True)],
            "work_email": unique_emails(locals_, [COMPANY] * n),
            "mobile": phones(rng, np.full(n, "US")),
            "ssn": ssns,
            "hire_date": hired.astype("datetime64[s]"),
            "title": title,
            "manager_id": manager,
        }
    )
    return frame.sort_values("employee_id", ignore_index=True)


def make_raw(
    n_customers: int = 600, n_invoices: int = 2_500, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """The four raw tables, parents first."""
    if n_customers < 50 or n_invoices < n_customers:
        raise ValueError(
            f"need at least 50 customers and as many invoices, got {n_customers} and {n_invoices}"
        )
    rng = np.random.default_rng(seed)
    fakers = _fakers(rng)
    customers = _customers(rng, fakers, n_customers)
    invoices = _invoices(rng, fakers, customers, n_invoices)
    paid = invoices.loc[invoices["status"] == "paid"].groupby("customer_id")["_cents"].sum()
    ltv = customers["customer_id"].map(paid).fillna(0).astype(np.int64)
    customers["lifetime_value"] = ltv / 100
    employees = _employees(rng, fakers["US"])
    return {
        "countries": _countries(),
        "customers": customers[list(TYPES["customers"])],
        "employees": employees[list(TYPES["employees"])],
        "invoices": invoices[list(TYPES["invoices"])],
    }


# writing and copying are shared with the other integration projects (raw_tables.py)
write_duckdb = functools.partial(raw_tables.write_duckdb, types=TYPES)
write_postgres = functools.partial(raw_tables.write_postgres, types=TYPES)
copy_project = functools.partial(raw_tables.copy_project, HERE, root=ROOT)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=600, help="rows of customers")
    parser.add_argument("--invoices", type=int, default=2_500, help="rows of invoices")
    parser.add_argument("--seed", type=int, default=0)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--duckdb", metavar="PATH", help="DuckDB file (schema --schema)")
    where.add_argument("--postgres-schema", metavar="SCHEMA", help="schema on 127.0.0.1")
    parser.add_argument("--schema", default="main_raw", help="DuckDB schema (main_raw)")
    args = parser.parse_args(argv)
    frames = make_raw(args.customers, args.invoices, args.seed)
    if args.duckdb:
        write_duckdb(args.duckdb, args.schema, frames)
    else:
        write_postgres(args.postgres_schema, frames)


if __name__ == "__main__":
    main()
