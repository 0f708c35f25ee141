"""The six raw tables of the jaffle_real project, made deterministically and loaded directly.

Not dbt seeds: `dbt seed` inserts about one cell per 1.4 ms on Postgres, far too slow for
100,000 items. The data is shaped like a shop's (and like dbt-labs' jaffle-shop): six
stores and ten products next to many customers, orders and items; prices in cents; each
order's subtotal is the sum of its items' prices, its tax the subtotal times its store's
tax rate, rounded to the cent, and ``order_total = subtotal + tax_paid`` exactly; orders
fall after their store opened; a supply (``id``) serves several products, so only
``(id, sku)`` is unique in ``raw_supplies``. The same ``n_items`` and ``seed`` always give
the same tables.

    python load_raw.py --duckdb target/jaffle_real.duckdb              # schema main_raw
    python load_raw.py --postgres-schema jaffle_real_raw --items 100000

``copy_project`` makes a copy of this project whose ``local:`` packages point at this
checkout, the way tests/helpers.py copies ``integration_tests``.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))  # integration_tests/raw_tables.py, shared

import raw_tables  # noqa: E402

# Column types, spelled so that DuckDB and Postgres both accept them.
TYPES: dict[str, dict[str, str]] = {
    "raw_customers": {"id": "text", "name": "text"},
    "raw_stores": {
        "id": "text",
        "name": "text",
        "opened_at": "timestamp",
        "tax_rate": "double precision",
    },
    "raw_products": {
        "sku": "text",
        "name": "text",
        "type": "text",
        "price": "integer",
        "description": "text",
    },
    "raw_supplies": {
        "id": "text",
        "name": "text",
        "cost": "integer",
        "perishable": "boolean",
        "sku": "text",
    },
    "raw_orders": {
        "id": "text",
        "customer": "text",
        "ordered_at": "timestamp",
        "store_id": "text",
        "subtotal": "integer",
        "tax_paid": "integer",
        "order_total": "integer",
    },
    "raw_items": {"id": "text", "order_id": "text", "sku": "text"},
}

WINDOW_START = np.datetime64("2024-09-01T00:00:00")
WINDOW_DAYS = 365

# name, opened_at, tax rate, share of the orders once open
STORES = [
    ("Philadelphia", "2016-09-01T00:00:00", 0.06, 0.30),
    ("Brooklyn", "2017-03-12T00:00:00", 0.04, 0.25),
    ("Chicago", "2018-04-29T00:00:00", 0.0625, 0.15),
    ("San Francisco", "2024-11-05T00:00:00", 0.075, 0.12),
    ("New Orleans", "2025-02-18T00:00:00", 0.04, 0.10),
    ("Los Angeles", "2025-05-20T00:00:00", 0.08, 0.08),
]

# sku, name, type, price in cents, share of the items of its type, description
PRODUCTS = [
    ("JAF-001", "nutellaphone who dis?", "jaffle", 1100, 0.30, "nutella and banana jaffle"),
    ("JAF-002", "doctor stew", "jaffle", 1100, 0.20, "house-made beef stew jaffle"),
    ("JAF-003", "the krautback", "jaffle", 1200, 0.15, "lamb and pork bratwurst jaffle"),
    ("JAF-004", "flame impala", "jaffle", 1400, 0.20, "pulled pork and pineapple jaffle"),
    ("JAF-005", "mel-bun", "jaffle", 1200, 0.15, "melon and minced beef bao jaffle"),
    ("BEV-001", "tangaroo", "beverage", 600, 0.30, "mango and tangerine smoothie"),
    ("BEV-002", "chai and mighty", "beverage", 500, 0.25, "oatmilk chai latte"),
    ("BEV-003", "vanilla ice", "beverage", 600, 0.15, "iced coffee with vanilla syrup"),
    ("BEV-004", "for richer or pourover", "beverage", 700, 0.15, "daily selection of pourover"),
    ("BEV-005", "adele-ade", "beverage", 400, 0.15, "kiwi and lime agua fresca"),
]
JAFFLE_SHARE = 0.6  # of the items

# name, cost in cents, perishable, the skus it serves ("jaffle"/"beverage": all of that type)
SUPPLIES = [
    ("compostable cutlery - knife", 7, False, "jaffle"),
    ("compostable cutlery - fork", 7, False, "jaffle"),
    ("serving boat", 11, False, "jaffle"),
    ("napkin", 4, False, "jaffle"),
    ("bread", 33, True, "jaffle"),
    ("16oz compostable clear cup", 13, False, "beverage"),
    ("16oz compostable clear lid", 4, False, "beverage"),
    ("biodegradable straw", 13, False, "beverage"),
    ("nutella", 46, True, "JAF-001"),
    ("banana", 13, True, "JAF-001"),
    ("beef stew", 169, True, "JAF-002"),
    ("lamb and pork bratwurst", 234, True, "JAF-003"),
    ("house-pickled cabbage", 43, True, "JAF-003"),
    ("mustard", 7, True, "JAF-003"),
    ("pulled pork", 215, True, "JAF-004"),
    ("pineapple", 26, True, "JAF-004"),
    ("melon", 33, True, "JAF-005"),
    ("minced beef", 124, True, "JAF-005"),
    ("mango", 32, True, "BEV-001"),
    ("tangerine", 20, True, "BEV-001"),
    ("chai mix", 98, True, "BEV-002"),
    ("oatmilk", 11, True, "BEV-002"),
    ("whole coffee beans", 26, True, "BEV-003 BEV-004"),
    ("vanilla syrup", 17, True, "BEV-003"),
    ("ice", 3, True, "BEV-001 BEV-003 BEV-005"),
    ("kiwi", 20, True, "BEV-005"),
    ("lime", 13, True, "BEV-005"),
]

FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy "
    "Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily "
    "Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah "
    "Timothy Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Amy"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter"
).split()

# items per order: 1 to 5
ITEM_COUNTS = np.array([1, 2, 3, 4, 5])
ITEM_COUNT_P = np.array([0.50, 0.28, 0.13, 0.06, 0.03])


def uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random version-4 UUID strings drawn from ``rng``."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexdigits = np.frombuffer(raw.tobytes().hex().encode(), dtype=np.uint8).reshape(n, 32)
    text = np.full((n, 36), ord("-"), dtype=np.uint8)
    positions = [i for i in range(36) if i not in (8, 13, 18, 23)]
    text[:, positions] = hexdigits
    return text.view("S36").ravel().astype(str)


def _stores(rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": uuids(rng, len(STORES)),
            "name": [s[0] for s in STORES],
            "opened_at": np.array([s[1] for s in STORES], dtype="datetime64[us]"),
            "tax_rate": [s[2] for s in STORES],
        }
    )


def _products() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": [p[0] for p in PRODUCTS],
            "name": [p[1] for p in PRODUCTS],
            "type": [p[2] for p in PRODUCTS],
            "price": np.array([p[3] for p in PRODUCTS], dtype=np.int32),
            "description": [p[5] for p in PRODUCTS],
        }
    )


def _supplies() -> pd.DataFrame:
    skus = np.array([p[0] for p in PRODUCTS])
    types = np.array([p[2] for p in PRODUCTS])
    rows = []
    for number, (name, cost, perishable, serves) in enumerate(SUPPLIES, start=1):
        served = skus[types == serves] if serves in ("jaffle", "beverage") else serves.split()
        rows += [(f"SUP-{number:03d}", name, cost, perishable, sku) for sku in served]
    frame = pd.DataFrame(rows, columns=list(TYPES["raw_supplies"]))
    frame["cost"] = frame["cost"].astype(np.int32)
    return frame


def _customers(rng: np.random.Generator, n: int) -> pd.DataFrame:
    first = rng.choice(FIRST_NAMES, size=n)
    last = rng.choice(LAST_NAMES, size=n)
    return pd.DataFrame({"id": uuids(rng, n), "name": np.char.add(np.char.add(first, " "), last)})


def _items_per_order(rng: np.random.Generator, n_items: int) -> np.ndarray:
    """Items of each order (at least one), summing to exactly ``n_items``."""
    mean = float(ITEM_COUNTS @ ITEM_COUNT_P)
    counts = rng.choice(ITEM_COUNTS, size=int(n_items / mean * 1.2) + 10, p=ITEM_COUNT_P)
    ends = np.cumsum(counts)
    n_orders = int(np.searchsorted(ends, n_items)) + 1
    counts = counts[:n_orders].copy()
    counts[-1] -= ends[n_orders - 1] - n_items
    return counts


def _orders_and_items(
    rng: np.random.Generator,
    n_items: int,
    customers: pd.DataFrame,
    stores: pd.DataFrame,
    products: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    counts = _items_per_order(rng, n_items)
    n_orders = len(counts)

    # every customer orders at least once; the rest go to regulars (a skewed share)
    n_customers = len(customers)
    appetite = rng.gamma(0.7, size=n_customers)
    customer_index = np.concatenate(
        [
            rng.permutation(n_customers)[: min(n_customers, n_orders)],
            rng.choice(
                n_customers, size=max(0, n_orders - n_customers), p=appetite / appetite.sum()
            ),
        ]
    )
    rng.shuffle(customer_index)

    # a store by its share, then a time after it opened, in opening hours (7:00 to 21:00)
    share = np.array([s[3] for s in STORES])
    store_index = rng.choice(len(STORES), size=n_orders, p=share)
    opened = stores["opened_at"].to_numpy().astype("datetime64[D]")
    first_day = np.maximum(opened, WINDOW_START.astype("datetime64[D]"))[store_index]
    last_day = WINDOW_START.astype("datetime64[D]") + WINDOW_DAYS
    span = (last_day - first_day).astype(np.int64)
    day = first_day + (rng.random(n_orders) * span).astype(np.int64)
    second = rng.integers(7 * 3600, 21 * 3600, size=n_orders)
    ordered_at = day.astype("datetime64[us]") + second.astype("timedelta64[s]")

    # items: jaffle or beverage, then a product by its share within the type
    is_jaffle = rng.random(n_items) < JAFFLE_SHARE
    kind_share = np.array([p[4] for p in PRODUCTS])
    jaffles = np.flatnonzero(products["type"].to_numpy() == "jaffle")
    beverages = np.flatnonzero(products["type"].to_numpy() == "beverage")
    product_index = np.where(
        is_jaffle,
        rng.choice(jaffles, size=n_items, p=kind_share[jaffles] / kind_share[jaffles].sum()),
        rng.choice(beverages, size=n_items, p=kind_share[beverages] / kind_share[beverages].sum()),
    )
    item_order = np.repeat(np.arange(n_orders), counts)

    price = products["price"].to_numpy().astype(np.int64)[product_index]
    subtotal = np.bincount(item_order, weights=price, minlength=n_orders).astype(np.int64)
    tax_rate = stores["tax_rate"].to_numpy()[store_index]
    # half-up rounding to the cent, in integers so no binary fraction decides a tie
    tax_paid = (subtotal * np.rint(tax_rate * 10_000).astype(np.int64) + 5_000) // 10_000

    order_ids = uuids(rng, n_orders)
    orders = pd.DataFrame(
        {
            "id": order_ids,
            "customer": customers["id"].to_numpy()[customer_index],
            "ordered_at": ordered_at,
            "store_id": stores["id"].to_numpy()[store_index],
            "subtotal": subtotal.astype(np.int32),
            "tax_paid": tax_paid.astype(np.int32),
            "order_total": (subtotal + tax_paid).astype(np.int32),
        }
    )
    orders = orders.sort_values("ordered_at", kind="stable", ignore_index=True)
    items = pd.DataFrame(
        {
            "id": uuids(rng, n_items),
            "order_id": order_ids[item_order],
            "sku": products["sku"].to_numpy()[product_index],
        }
    )
    return orders, items


def make_raw(n_items: int = 2_000, seed: int = 0) -> dict[str, pd.DataFrame]:
    """The six raw tables, parents first, with ``n_items`` rows in ``raw_items``."""
    if n_items < 100:
        raise ValueError(f"n_items must be at least 100, got {n_items}")
    rng = np.random.default_rng(seed)
    stores = _stores(rng)
    products = _products()
    # about 1.8 items an order and 4.5 orders a customer, as in a year of a small chain
    n_customers = max(50, round(n_items / 1.8 / 4.5))
    customers = _customers(rng, n_customers)
    orders, items = _orders_and_items(rng, n_items, customers, stores, products)
    return {
        "raw_customers": customers,
        "raw_stores": stores,
        "raw_products": products,
        "raw_supplies": _supplies(),
        "raw_orders": orders,
        "raw_items": items,
    }


# writing and copying are shared with the other integration projects (raw_tables.py)
write_duckdb = functools.partial(raw_tables.write_duckdb, types=TYPES)
write_postgres = functools.partial(raw_tables.write_postgres, types=TYPES)
copy_project = functools.partial(raw_tables.copy_project, HERE, root=ROOT)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2_000, help="rows of raw_items")
    parser.add_argument("--seed", type=int, default=0)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--duckdb", metavar="PATH", help="DuckDB file (schema --schema)")
    where.add_argument("--postgres-schema", metavar="SCHEMA", help="schema on 127.0.0.1")
    parser.add_argument("--schema", default="main_raw", help="DuckDB schema (main_raw)")
    args = parser.parse_args(argv)
    frames = make_raw(args.items, args.seed)
    if args.duckdb:
        write_duckdb(args.duckdb, args.schema, frames)
    else:
        write_postgres(args.postgres_schema, frames)


if __name__ == "__main__":
    main()
