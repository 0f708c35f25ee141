"""Hand-built plans and profiles for the emit tests (no fitting, so golden files stay put).

A small shop: customers (text key), orders (FK to customers), order_lines (composite key
with an FK part), shipments (composite FK to order_lines), employees (self-reference).
"""

from __future__ import annotations

from synthohive_dbt.emit.data_tests import ColumnProfile
from synthohive_dbt.relational.keys import KeyFormat
from synthohive_dbt.relational.plan import FkPlan, TablePlan
from synthohive_dbt.schema import ColumnType, LogicalType

P = "source.shop.raw."
TEXT = ColumnType(LogicalType.TEXT, "text")
INT = ColumnType(LogicalType.INTEGER, "integer")
NUM = ColumnType(LogicalType.NUMERIC, "numeric(10,2)")
FLOAT = ColumnType(LogicalType.FLOAT, "double precision")
DATE = ColumnType(LogicalType.DATE, "date")
TS = ColumnType(LogicalType.TIMESTAMP, "timestamp")
BOOL = ColumnType(LogicalType.BOOLEAN, "boolean")
UUID = ColumnType(LogicalType.UUID, "uuid")
SEQ = KeyFormat("sequence")


def fk(columns, parent, parent_columns, null_rate=0.0, **kw) -> FkPlan:
    return FkPlan(tuple(columns), P + parent, tuple(parent_columns), null_rate, (0, 5, 3), **kw)


def plan(name, columns, pk=(), minted=(), fks=(), model=(), rows=100, checks=None, **kw):
    return TablePlan(
        key=P + name,
        name=name,
        identifier=name,
        database="warehouse",
        schema="raw",
        rows=rows,
        columns=tuple(columns),
        primary_key=tuple(pk),
        minted={m: SEQ for m in minted},
        fks=tuple(fks),
        primary_fk=0 if fks else None,
        model_columns=tuple(model),
        checks=checks or {},
        real_ref=kw.pop("real_ref", f"source('raw', '{name}')"),
        **kw,
    )


def shop_plans() -> tuple[dict[str, TablePlan], tuple[str, ...]]:
    customers = plan(
        "customers",
        [
            ("id", TEXT),
            ("name", TEXT),
            ("segment", TEXT),
            ("signup", DATE),
            ("score", FLOAT),
            ("token", UUID),
        ],
        pk=["id"],
        minted=["id"],
        model=["name", "segment", "signup", "score", "token"],
        rows=300,
        checks={
            "id": {"not_null": True},
            "name": {"not_null": True},
            "segment": {"not_null": True, "accepted_values": ["a", "b", "c"]},
        },
    )
    orders = plan(
        "orders",
        [
            ("order_id", INT),
            ("customer_id", TEXT),
            ("amount", NUM),
            ("quantity", INT),
            ("placed_at", TS),
            ("gift", BOOL),
        ],
        pk=["order_id"],
        minted=["order_id"],
        fks=[fk(["customer_id"], "customers", ["id"])],
        model=["amount", "quantity", "placed_at", "gift"],
        rows=1000,
        checks={"customer_id": {"not_null": True}},
    )
    lines = plan(
        "order_lines",
        [("order_id", INT), ("line_no", INT), ("price", FLOAT)],
        pk=["order_id", "line_no"],
        minted=["line_no"],
        fks=[fk(["order_id"], "orders", ["order_id"])],
        model=["price"],
        rows=2500,
        checks={"order_id": {"not_null": True}, "line_no": {"not_null": True}},
    )
    shipments = plan(
        "shipments",
        [("shipment_id", INT), ("order_id", INT), ("line_no", INT)],
        pk=["shipment_id"],
        minted=["shipment_id"],
        fks=[fk(["order_id", "line_no"], "order_lines", ["order_id", "line_no"])],
        rows=800,
    )
    employees = plan(
        "employees",
        [
            ("employee_id", INT),
            ("manager_id", INT),
            ("salary", FLOAT),
            ("bonus", FLOAT),
            ("level", INT),
        ],
        pk=["employee_id"],
        minted=["employee_id"],
        fks=[fk(["manager_id"], "employees", ["employee_id"], 0.03, self_reference=True)],
        model=["salary", "bonus", "level"],
        rows=150,
    )
    tables = [customers, orders, lines, shipments, employees]
    return {t.key: t for t in tables}, tuple(t.key for t in tables)


def shop_profiles() -> dict[str, dict[str, ColumnProfile]]:
    return {
        P + "customers": {
            "name": ColumnProfile("discrete", n_categories=290),  # names: no tvd
            "segment": ColumnProfile("discrete", n_categories=3),
            "signup": ColumnProfile("continuous"),
            "score": ColumnProfile("continuous", null_rate=0.1),
            "token": ColumnProfile("uuid"),
        },
        P + "orders": {
            "amount": ColumnProfile("continuous"),
            "quantity": ColumnProfile("discrete", n_categories=5),
            "placed_at": ColumnProfile("continuous"),
            "gift": ColumnProfile("discrete", n_categories=2),
        },
        P + "order_lines": {"price": ColumnProfile("continuous")},
        P + "employees": {
            "salary": ColumnProfile("continuous"),
            "bonus": ColumnProfile("continuous", constant=True),
            "level": ColumnProfile("discrete", n_categories=4),
        },
    }
