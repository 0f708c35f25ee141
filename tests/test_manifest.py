"""build_graph: keys, foreign keys, order and problems read from real dbt manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthohive_dbt.errors import SchemaValidationError
from synthohive_dbt.project.load import load_project
from synthohive_dbt.schema import ForeignKey, Origin, Table
from synthohive_dbt.schema.manifest import build_graph
from synthohive_dbt.schema.ordering import order_tables

RAW = "source.shop.jaffle_shop."


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory, fixture_projects):
    root = fixture_projects(tmp_path_factory.mktemp("projects"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYNTHOHIVE_TEST_DUCKDB", str(root / "warehouse.duckdb"))
        mp.delenv("DBT_PROFILES_DIR", raising=False)
        yield root


def graph_of(project_dir: Path, select=()):
    project = load_project(project_dir, select=select)
    return build_graph(project.manifest, project.selected)


@pytest.fixture(scope="module")
def shop(projects):
    """Every table of the shop project: sources, models and the seed."""
    return graph_of(projects / "shop", ["package:shop"])


def fks(graph, child, parent=None):
    return [
        fk
        for fk in (*graph.foreign_keys, *graph.deferred)
        if fk.child == child and (parent is None or fk.parent == parent)
    ]


def test_tables_locate_their_relations(shop):
    orders = shop.table(RAW + "raw_orders")
    assert (orders.name, orders.identifier, orders.schema) == ("raw_orders", "orders_raw", "raw")
    assert orders.source_name == "jaffle_shop" and orders.resource_type == "source"
    assert orders.display == "source('jaffle_shop', 'raw_orders')"
    model = shop.table("model.shop.orders")
    assert (model.name, model.identifier, model.resource_type) == ("orders", "fct_orders", "model")
    assert shop.table("seed.shop.countries").resource_type == "seed"


def test_ephemeral_models_are_skipped_with_a_warning(shop):
    assert "model.shop.stg_customers" not in shop.tables
    assert any("ref('stg_customers') is ephemeral" in w for w in shop.warnings)


def test_column_facts_from_yaml_and_tests(shop):
    customers = shop.table(RAW + "raw_customers")
    assert customers.column("email").meta["synthohive_pii"] == "email"
    assert customers.column("ID").declared_type == "integer"
    status = shop.table(RAW + "raw_orders").column("status")
    assert status.accepted_values == ("placed", "shipped")
    amount = shop.table(RAW + "raw_payments").column("amount")
    assert amount.accepted_range == (0.0, 1000.0)
    # A column named only by unique_combination_of_columns still gets a record.
    assert shop.table(RAW + "raw_payments").column("payment_seq") is not None


def test_expression_tests_are_row_conditions_of_their_table(shop):
    # model level, column level (the expression follows the column), a dbt_expectations
    # column pair; a test restricted by `where` holds on part of the table only
    assert set(shop.table(RAW + "raw_orders").expressions) == {
        "total = subtotal + tax",
        "shipped_at >= ordered_at",
        "subtotal >= 0",
    }


def test_primary_key_from_column_constraint(shop):
    pk = shop.table("model.shop.customers").primary_key
    assert pk.columns == ("id",)
    assert pk.origin == Origin("primary_key constraint", "model.shop.customers")


def test_composite_primary_key_from_model_constraint(shop):
    table = shop.table("model.shop.order_items")
    assert table.primary_key.columns == ("order_id", "line_no")
    assert all(table.column(c).not_null for c in ("order_id", "line_no"))


def test_primary_key_from_unique_and_not_null_tests(shop):
    pk = shop.table(RAW + "raw_customers").primary_key
    assert pk.columns == ("id",)
    assert pk.origin.kind == "unique test + not_null"
    assert pk.origin.node.startswith("test.shop.source_unique_jaffle_shop_raw_customers_id")


def test_composite_primary_key_from_dbt_utils_unique_combination(shop):
    pk = shop.table(RAW + "raw_payments").primary_key
    assert pk.columns == ("order_id", "payment_seq")
    assert pk.origin.kind == "unique_combination_of_columns test"
    assert "dbt_utils" in pk.origin.node


def test_relationships_test_on_sources(shop):
    (fk,) = fks(shop, RAW + "raw_orders", RAW + "raw_customers")[:1]
    assert fk.columns == ("customer_id",) and fk.parent_columns == ("id",)
    assert fk.nullable is False  # customer_id has a not_null test
    assert fk.where is None
    assert fk.origin.kind == "relationships test"


def test_two_foreign_keys_to_one_parent(shop):
    both = fks(shop, RAW + "raw_orders", RAW + "raw_customers")
    assert sorted(fk.columns for fk in both) == [("customer_id",), ("gift_for_customer_id",)]
    gift = next(fk for fk in both if fk.columns == ("gift_for_customer_id",))
    assert gift.nullable is True
    assert gift.where == "gift_for_customer_id > 0"  # the test's config.where
    assert [fk.child for fk in shop.children_of(RAW + "raw_customers")].count(
        RAW + "raw_orders"
    ) == 2


def test_relationships_where_is_a_conditional_foreign_key(shop):
    (fk,) = fks(shop, RAW + "raw_payments")
    assert fk.parent == RAW + "raw_orders"
    assert fk.where == "amount > 0"
    assert fk.origin.kind == "relationships_where test"


def test_column_foreign_key_constraint_deduplicated_with_its_relationships_test(shop):
    (fk,) = fks(shop, "model.shop.orders")
    assert fk.parent == "model.shop.customers"
    assert fk.columns == ("customer_id",) and fk.parent_columns == ("id",)
    assert fk.origin.kind == "foreign_key constraint (column level)"
    assert fk.nullable is False


def test_model_level_composite_foreign_key_constraint(shop):
    (fk,) = fks(shop, "model.shop.shipments")
    assert fk.parent == "model.shop.order_items"
    assert fk.columns == ("order_id", "line_no")
    assert fk.parent_columns == ("order_id", "line_no")
    assert fk.nullable is True
    # Columns named only by the model-level constraint still get records.
    assert shop.table("model.shop.shipments").column_names == ("id", "order_id", "line_no")


def test_foreign_key_from_a_source_to_a_seed(shop):
    (fk,) = fks(shop, RAW + "raw_customers")
    assert fk.parent == "seed.shop.countries" and fk.parent_columns == ("code",)


def test_self_reference_is_kept_but_not_ordered(shop):
    (fk,) = fks(shop, RAW + "raw_employees")
    assert fk.is_self_reference and fk.nullable
    assert fk in shop.foreign_keys and not shop.deferred
    assert RAW + "raw_employees" in shop.order


def test_order_puts_parents_first_and_is_deterministic(shop, projects):
    position = {key: i for i, key in enumerate(shop.order)}
    assert set(position) == set(shop.tables)
    for fk in shop.foreign_keys:
        if not fk.is_self_reference:
            assert position[fk.parent] < position[fk.child], fk.describe()
    again = graph_of(projects / "shop", ["package:shop"])
    assert again.order == shop.order
    assert shop.order[:3] == ("seed.shop.countries", "model.shop.customers", "model.shop.orders")


def test_foreign_key_to_unselected_parent_is_dropped_with_a_warning(projects):
    graph = graph_of(projects / "shop")  # default: the project's sources only
    assert not fks(graph, RAW + "raw_customers")
    (warning,) = [w for w in graph.warnings if "country_code" in w]
    assert "ref('countries')" in warning and "not selected" in warning


def test_cycle_with_a_nullable_edge_is_deferred(projects):
    graph = graph_of(projects / "cycles", ["source:loose"])
    (deferred,) = graph.deferred
    assert deferred.child == "source.cycles.loose.departments"
    assert deferred.columns == ("head_employee_id",)
    assert deferred not in graph.foreign_keys
    assert graph.order == ("source.cycles.loose.departments", "source.cycles.loose.employees")


def test_cycle_without_a_nullable_edge_is_a_problem(projects):
    with pytest.raises(SchemaValidationError) as info:
        graph_of(projects / "cycles", ["source:strict"])
    (problem,) = info.value.problems
    assert "source('strict', 'a')" in problem and "source('strict', 'b')" in problem
    assert "nullable" in problem


def test_every_manifest_problem_is_reported_at_once(projects):
    with pytest.raises(SchemaValidationError) as info:
        graph_of(projects / "unknown_ref", ["source:raw", "orders", "customers"])
    problems = info.value.problems
    assert len(problems) == 4
    text = "\n".join(problems)
    assert "ref('customer')" in text and "did you mean 'customers'?" in text
    assert "ref('legacy_customers'), which is disabled" in text
    assert "source('raw', 'paymnts')" in text and "source('raw', 'payments')" in text
    assert "to_columns" in text
    assert "4 problems" in str(info.value)


# -- ordering on hand-made graphs ------------------------------------------------------


def _table(name: str) -> Table:
    return Table(
        key=f"model.p.{name}",
        name=name,
        resource_type="model",
        database=None,
        schema="s",
        identifier=name,
    )


def _fk(child: str, parent: str, nullable: bool) -> ForeignKey:
    return ForeignKey(
        f"model.p.{child}",
        (f"{parent}_id",),
        f"model.p.{parent}",
        ("id",),
        Origin("relationships test", f"test.{child}.{parent}"),
        nullable=nullable,
    )


def test_three_table_cycle_defers_its_only_nullable_edge():
    tables = {t.key: t for t in map(_table, ["a", "b", "c", "d"])}
    edges = [_fk("b", "a", False), _fk("c", "b", False), _fk("a", "c", True), _fk("d", "c", False)]
    result = order_tables(tables, edges)
    assert result.deferred == (edges[2],)
    assert result.order == ("model.p.a", "model.p.b", "model.p.c", "model.p.d")
    assert not result.problems


def test_independent_tables_are_ordered_by_name():
    tables = {t.key: t for t in map(_table, ["zeta", "alpha", "mid"])}
    assert order_tables(tables, []).order == ("model.p.alpha", "model.p.mid", "model.p.zeta")


def test_two_unbreakable_cycles_are_both_reported():
    tables = {t.key: t for t in map(_table, ["a", "b", "c", "d"])}
    edges = [_fk("a", "b", False), _fk("b", "a", False), _fk("c", "d", False), _fk("d", "c", False)]
    result = order_tables(tables, edges)
    assert len(result.problems) == 2
    assert "ref('a')" in result.problems[0] and "ref('c')" in result.problems[1]
