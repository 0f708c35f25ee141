"""Speed of faking personal columns: the libraries per value against our bulk composition.

For Faker and mimesis, values per second of the library's own one-value-per-call methods
(first name, e-mail, street address, phone; ``--calls`` calls each, seeded per instance).
For ``synthohive_dbt.privacy``, values per second of ``fake_values`` for every kind at
``--rows`` rows (plain, unique where the kind allows it, and with five per-row locales for
the locale-bound kinds), of ``mask_values`` and of ``hmac_tokens``. One process, no torch.

    .venv/bin/python benchmarks/bench_faking.py --rows 1000000 --calls 20000

prints one JSON object; every figure is the best of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from synthohive_dbt.privacy.fake import KINDS, FakeSpec, fake_values, learn_spec
from synthohive_dbt.privacy.treat import hmac_tokens, mask_values

_NOT_UNIQUE = {"postal_code", "birth_date"}  # their default spaces hold fewer than 1M values
_LOCALE_BOUND = ("first_name", "full_name", "address", "email", "phone")
_LOCALES = np.array(["en_US", "de_DE", "fr_FR", "es_ES", "en_GB"], dtype=object)


def _rate(count: int, run: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return round(count / best)


def _libraries(calls: int, repeats: int) -> dict:
    from faker import Faker
    from mimesis import Address, Person
    from mimesis.locales import Locale

    faker = Faker("en_US")
    faker.seed_instance(1)
    person, address = Person(Locale.EN, seed=1), Address(Locale.EN, seed=1)
    methods = {
        "faker": {
            "first_name": faker.first_name,
            "email": faker.email,
            "address": faker.street_address,
            "phone": faker.phone_number,
        },
        "mimesis": {
            "first_name": person.first_name,
            "email": person.email,
            "address": address.address,
            "phone": person.phone_number,
        },
    }
    return {
        lib: {
            name: _rate(calls, lambda m=method: [m() for _ in range(calls)], repeats)
            for name, method in table.items()
        }
        for lib, table in methods.items()
    }


def _specs() -> dict[str, FakeSpec]:
    """Default specs, with learned formats where a kind lives on them."""
    specs = {kind: FakeSpec(kind) for kind in KINDS}
    phones = pd.Series([f"+49 30 {i:07d}" for i in range(0, 10**7, 10**4)])
    specs["phone"] = learn_spec("phone", phones)
    specs["other"] = learn_spec("other", pd.Series([f"CUST-{i:06d}" for i in range(1000)]))
    specs["email"] = FakeSpec("email", domains=(("acme-corp.com", 0.4),))
    return specs


def _ours(rows: int, repeats: int) -> dict:
    out: dict = {"fake": {}, "fake_unique": {}, "fake_5_locales": {}}
    locales = _LOCALES[np.random.default_rng(0).integers(0, len(_LOCALES), rows)]
    for kind, spec in _specs().items():
        rng = np.random.default_rng(1)
        out["fake"][kind] = _rate(rows, lambda s=spec, r=rng: fake_values(s, rows, r), repeats)
        if kind not in _NOT_UNIQUE:
            unique = replace(spec, unique=True)
            out["fake_unique"][kind] = _rate(
                rows, lambda s=unique, r=rng: fake_values(s, rows, r), repeats
            )
        if kind in _LOCALE_BOUND:
            out["fake_5_locales"][kind] = _rate(
                rows, lambda s=spec, r=rng: fake_values(s, rows, r, locales=locales), repeats
            )
    rng = np.random.default_rng(2)
    emails = fake_values(_specs()["email"], rows, rng)
    phones = fake_values(_specs()["phone"], rows, rng)
    out["mask"] = {
        "email": _rate(rows, lambda: mask_values(emails, rng), repeats),
        "phone": _rate(rows, lambda: mask_values(phones, rng), repeats),
    }
    ids = pd.Series(np.arange(rows))
    repeated = pd.Series(np.arange(rows) % max(rows // 10, 1))
    key = b"benchmark-key"
    out["hmac"] = {
        "distinct_emails": _rate(rows, lambda: hmac_tokens(emails, key), repeats),
        "distinct_ints": _rate(rows, lambda: hmac_tokens(ids, key), repeats),
        "ints_10pct_distinct": _rate(rows, lambda: hmac_tokens(repeated, key), repeats),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    import faker
    import mimesis

    result = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "faker": faker.VERSION,
            "mimesis": mimesis.__version__,
        },
        "rows": args.rows,
        "calls": args.calls,
        "unit": "values per second",
        "library_per_value": _libraries(args.calls, args.repeats),
        "synthohive_bulk": _ours(args.rows, args.repeats),
        "torch_imported": "torch" in sys.modules,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
