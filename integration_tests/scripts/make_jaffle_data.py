"""Subsample jafgen output into the small jaffle shop seeds under seeds/jaffle_shop/.

jafgen (https://pypi.org/project/jafgen/) simulates a year of a sandwich shop and writes
tens of thousands of orders. The integration project needs a few thousand rows that load in
seconds, so this script keeps a random set of customers, a random set of their orders and
every item of the kept orders. Subsampling top-down keeps every foreign key resolvable:
orders -> customers, orders -> stores, items -> orders, items -> products, supplies -> products.

Two columns are added so that the seeds exercise more warehouse types, both derived
deterministically from the row:

- raw_customers.customer_uuid (uuid): uuid5 of the jafgen customer id.
- raw_orders.created_at (timestamp with time zone): ordered_at plus a few seconds, in UTC.

jafgen itself is not seeded, so the committed CSVs are the source of truth; rerunning this
script against another jafgen run gives different (but equally consistent) data.

Usage:
    jafgen 1                      # writes ./jaffle-data/raw_*.csv
    python scripts/make_jaffle_data.py jaffle-data seeds/jaffle_shop
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import uuid
from pathlib import Path

SEED = 20240601
N_CUSTOMERS = 300
N_ORDERS = 1500
UUID_NAMESPACE = uuid.UUID("6f1c3a52-8d0e-4d7b-9a51-3f2b7c0de915")


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _created_at(ordered_at: str, rng: random.Random) -> str:
    moment = dt.datetime.fromisoformat(ordered_at) + dt.timedelta(seconds=rng.randint(5, 900))
    return moment.replace(tzinfo=dt.timezone.utc).isoformat(sep=" ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jafgen_dir", type=Path, help="folder with jafgen's raw_*.csv")
    parser.add_argument("out_dir", type=Path, help="seeds/jaffle_shop")
    args = parser.parse_args()
    rng = random.Random(SEED)

    c_fields, customers = _read(args.jafgen_dir / "raw_customers.csv")
    o_fields, orders = _read(args.jafgen_dir / "raw_orders.csv")
    i_fields, items = _read(args.jafgen_dir / "raw_items.csv")

    customers = sorted(customers, key=lambda r: r["id"])
    kept_customers = rng.sample(customers, N_CUSTOMERS)
    customer_ids = {r["id"] for r in kept_customers}

    candidate_orders = sorted(
        (r for r in orders if r["customer"] in customer_ids), key=lambda r: r["id"]
    )
    kept_orders = rng.sample(candidate_orders, N_ORDERS)
    kept_orders.sort(key=lambda r: (r["ordered_at"], r["id"]))
    order_ids = {r["id"] for r in kept_orders}
    kept_items = [r for r in items if r["order_id"] in order_ids]

    for row in kept_customers:
        row["customer_uuid"] = str(uuid.uuid5(UUID_NAMESPACE, row["id"]))
    for row in kept_orders:
        row["created_at"] = _created_at(row["ordered_at"], rng)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    _write(args.out_dir / "raw_customers.csv", [*c_fields, "customer_uuid"], kept_customers)
    _write(args.out_dir / "raw_orders.csv", [*o_fields, "created_at"], kept_orders)
    _write(args.out_dir / "raw_items.csv", i_fields, kept_items)
    for name in ("raw_products", "raw_stores", "raw_supplies"):
        fields, rows = _read(args.jafgen_dir / f"{name}.csv")
        _write(args.out_dir / f"{name}.csv", fields, rows)


if __name__ == "__main__":
    main()
