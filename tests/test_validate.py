"""validate_data: the schema graph checked against real column types and rows."""

from __future__ import annotations

import pandas as pd
import pytest

from synthohive_dbt.errors import SchemaValidationError
from synthohive_dbt.schema import (
    Column,
    ColumnType,
    ForeignKey,
    LogicalType,
    Origin,
    PrimaryKey,
    SchemaGraph,
    Table,
)
from synthohive_dbt.schema.validate import validate_data

CUSTOMERS = "source.shop.jaffle_shop.raw_customers"
ORDERS = "source.shop.jaffle_shop.raw_orders"
ITEMS = "model.shop.order_items"
INT = ColumnType(LogicalType.INTEGER, "INTEGER")
TEXT = ColumnType(LogicalType.TEXT, "VARCHAR")
DEC = ColumnType(LogicalType.NUMERIC, "DECIMAL(18,0)")


def _source(key: str, name: str, columns, pk=None) -> Table:
    return Table(
        key=key,
        name=name,
        resource_type="source",
        database="db",
        schema="raw",
        identifier=name,
        columns=tuple(columns),
        source_name="jaffle_shop",
        primary_key=PrimaryKey(pk, Origin("unique test + not_null", f"test.{name}"))
        if pk
        else None,
    )


def graph(customer_columns=None, order_fk=("customer_id",), extra_tables=(), extra_fks=()):
    customers = _source(
        CUSTOMERS,
        "raw_customers",
        customer_columns or [Column("id", not_null=True, unique=True)],
        pk=("id",),
    )
    orders = _source(
        ORDERS,
        "raw_orders",
        [Column("id"), Column(order_fk[0], not_null=True, meta={"synthohive_pii": False})],
        pk=("id",),
    )
    fk = ForeignKey(
        ORDERS, order_fk, CUSTOMERS, ("id",), Origin("relationships test", "t.fk"), nullable=False
    )
    tables = {t.key: t for t in (customers, orders, *extra_tables)}
    return SchemaGraph(tables=tables, foreign_keys=(fk, *extra_fks), order=tuple(tables))


def types(**tables):
    return {key: dict(cols) for key, cols in tables.items()}


def good_types():
    return {
        CUSTOMERS: {"id": INT, "name": TEXT},
        ORDERS: {"id": INT, "amount": DEC, "customer_id": INT},
    }


def good_frames():
    return {
        CUSTOMERS: pd.DataFrame({"id": [1, 2, 3], "name": ["a", "b", "c"]}),
        ORDERS: pd.DataFrame({"id": [10, 11], "amount": [1.5, 2.0], "customer_id": [1, 3]}),
    }


def problems_of(g, column_types, frames):
    with pytest.raises(SchemaValidationError) as info:
        validate_data(g, column_types, frames)
    return info.value.problems


def test_columns_are_completed_from_the_warehouse_in_its_order():
    result = validate_data(graph(), good_types(), good_frames())
    orders = result.table(ORDERS)
    assert orders.column_names == ("id", "amount", "customer_id")
    assert orders.column("amount").type == DEC
    # YAML facts survive the merge
    assert orders.column("customer_id").not_null
    assert orders.column("customer_id").meta["synthohive_pii"] is False
    assert result.table(CUSTOMERS).column("name").type == TEXT
    assert result.order == graph().order and not result.warnings


def test_names_match_case_insensitively_and_keys_take_the_warehouse_spelling():
    g = graph(order_fk=("Customer_ID",))
    column_types = good_types()
    column_types[CUSTOMERS] = {"ID": INT, "name": TEXT}
    frames = good_frames()
    frames[CUSTOMERS] = frames[CUSTOMERS].rename(columns={"id": "ID"})
    result = validate_data(g, column_types, frames)
    (fk,) = result.foreign_keys
    assert fk.columns == ("customer_id",) and fk.parent_columns == ("ID",)
    assert result.table(CUSTOMERS).primary_key.columns == ("ID",)
    assert result.table(ORDERS).column("customer_id").not_null  # YAML fact under new name


def test_missing_key_column_suggests_the_closest_real_column():
    column_types = good_types()
    column_types[ORDERS] = {"id": INT, "customerid": INT}
    frames = good_frames()
    frames[ORDERS] = pd.DataFrame({"id": [10], "customerid": [1]})
    (problem,) = problems_of(graph(), column_types, frames)
    assert "customer_id" in problem and "did you mean customerid?" in problem
    assert "source('jaffle_shop', 'raw_orders')" in problem


def test_integer_and_numeric_keys_are_compatible_integer_and_text_are_not():
    column_types = good_types()
    column_types[ORDERS] = {**column_types[ORDERS], "customer_id": DEC}
    validate_data(graph(), column_types, good_frames())
    column_types[ORDERS] = {**column_types[ORDERS], "customer_id": TEXT}
    (problem,) = problems_of(graph(), column_types, good_frames())
    assert "customer_id (VARCHAR)" in problem and "id (INTEGER)" in problem
    assert "text and integer" in problem


def test_parent_key_not_unique_reports_count_and_example():
    frames = good_frames()
    frames[CUSTOMERS] = pd.DataFrame({"id": [1, 2, 2, 3, 3, 3], "name": list("abcdef")})
    (problem,) = problems_of(graph(), good_types(), frames)
    assert "not unique" in problem
    assert "3 duplicate row(s)" in problem and "having count(*) > 1" in problem
    assert "e.g." not in problem  # no real value in an error message (it reaches logs)
    assert "source('jaffle_shop', 'raw_customers')(id)" in problem


def test_table_without_rows_is_a_problem():
    frames = good_frames()
    frames[ORDERS] = frames[ORDERS].iloc[0:0]
    (problem,) = problems_of(graph(), good_types(), frames)
    assert "has no rows" in problem and "raw_orders" in problem


def test_unsupported_type_names_column_type_and_the_ignore_meta():
    column_types = good_types()
    column_types[CUSTOMERS] = {
        **column_types[CUSTOMERS],
        "shape": ColumnType(LogicalType.UNSUPPORTED, "GEOMETRY"),
    }
    (problem,) = problems_of(graph(), column_types, good_frames())
    assert "shape" in problem and "GEOMETRY" in problem
    assert "synthohive_ignore: true" in problem


def test_synthohive_ignore_drops_the_column():
    g = graph(
        customer_columns=[
            Column("id", not_null=True),
            Column("Shape", meta={"synthohive_ignore": True}),
        ]
    )
    column_types = good_types()
    column_types[CUSTOMERS] = {
        **column_types[CUSTOMERS],
        "shape": ColumnType(LogicalType.UNSUPPORTED, "GEOMETRY"),
    }
    result = validate_data(g, column_types, good_frames())
    assert result.table(CUSTOMERS).column_names == ("id", "name")


def test_ignoring_a_key_column_is_a_problem():
    g = graph(customer_columns=[Column("id", meta={"synthohive_ignore": True})])
    problems = problems_of(g, good_types(), good_frames())
    assert any("cannot be skipped" in p and "id" in p for p in problems)


def test_orphans_are_a_warning_with_count_and_rate():
    frames = good_frames()
    frames[ORDERS] = pd.DataFrame(
        {"id": [1, 2, 3, 4], "amount": [1.0] * 4, "customer_id": pd.array([1, 9, 9, None], "Int64")}
    )
    result = validate_data(graph(), good_types(), frames)
    (warning,) = result.warnings
    assert "2 of 3 non-null values (66.7%)" in warning
    assert "source('jaffle_shop', 'raw_orders')(customer_id)" in warning


def test_composite_foreign_key_orphans_and_deferred_keys_are_checked():
    items = Table(
        ITEMS,
        "order_items",
        "model",
        "db",
        "main",
        "order_items",
        columns=(Column("order_id"), Column("line_no")),
    )
    shipments = Table("model.shop.shipments", "shipments", "model", "db", "main", "shipments")
    composite = ForeignKey(
        "model.shop.shipments",
        ("ORDER_ID", "line_no"),
        ITEMS,
        ("order_id", "line_no"),
        Origin("foreign_key constraint", "m"),
    )
    g = graph(extra_tables=(items, shipments))
    g = SchemaGraph(g.tables, g.foreign_keys, g.order, deferred=(composite,))
    column_types = {
        **good_types(),
        ITEMS: {"order_id": INT, "line_no": INT},
        "model.shop.shipments": {"order_id": INT, "line_no": INT},
    }
    frames = {
        **good_frames(),
        ITEMS: pd.DataFrame({"order_id": [1, 1, 2], "line_no": [1, 2, 1]}),
        "model.shop.shipments": pd.DataFrame({"order_id": [1, 2, 2], "line_no": [2, 1, 2]}),
    }
    result = validate_data(g, column_types, frames)
    (deferred,) = result.deferred
    assert deferred.columns == ("order_id", "line_no")
    (warning,) = result.warnings
    assert "1 of 3 non-null values" in warning and "ref('shipments')(order_id, line_no)" in warning


def test_table_not_read_from_the_warehouse_is_a_problem():
    column_types = good_types()
    del column_types[ORDERS]
    (problem,) = problems_of(graph(), column_types, good_frames())
    assert "source('jaffle_shop', 'raw_orders')" in problem and "db.raw.raw_orders" in problem


def test_every_problem_is_reported_at_once():
    column_types = good_types()
    column_types[ORDERS] = {
        "id": INT,
        "custid": INT,
        "blob": ColumnType(LogicalType.UNSUPPORTED, "BLOB"),
    }
    frames = {
        CUSTOMERS: pd.DataFrame({"id": [1, 1], "name": ["a", "b"]}),
        ORDERS: pd.DataFrame({"id": [], "custid": [], "blob": []}),
    }
    problems = problems_of(graph(), column_types, frames)
    assert len(problems) == 3  # no rows, unsupported type, missing FK column
    assert any("has no rows" in p for p in problems)
    assert any("BLOB" in p for p in problems)
    assert any("customer_id" in p and "custid" in p for p in problems)


def test_duplicate_primary_key_of_a_table_nobody_references_is_a_warning():
    frames = good_frames()
    frames[ORDERS] = pd.DataFrame({"id": [10, 10], "amount": [1.0, 2.0], "customer_id": [1, 2]})
    result = validate_data(graph(), good_types(), frames)
    assert any(
        "Primary key (id) of source('jaffle_shop', 'raw_orders')" in w for w in result.warnings
    )


def test_yaml_column_missing_from_the_warehouse_is_a_warning():
    g = graph(customer_columns=[Column("id", not_null=True), Column("nickname")])
    result = validate_data(g, good_types(), good_frames())
    assert result.table(CUSTOMERS).column("nickname") is None
    assert any("nickname" in w and "not in the warehouse" in w for w in result.warnings)


def test_without_frames_only_columns_and_types_are_checked():
    result = validate_data(graph(), good_types(), {})
    assert result.table(ORDERS).column("amount").type == DEC
    column_types = good_types()
    column_types[ORDERS] = {**column_types[ORDERS], "customer_id": TEXT}
    (problem,) = problems_of(graph(), column_types, {})
    assert "cannot match" in problem
