"""Synthetic environment: where each table goes under another target, and the refusal to
touch real tables."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
from helpers import SHOP, shop_plans

from synthohive_dbt.cli import generate_mode_problems
from synthohive_dbt.errors import ProjectError, UnsafeWriteError
from synthohive_dbt.project.placements import placements, same_relation
from synthohive_dbt.warehouse import Relation


def source_node(name, database, schema, identifier=None):
    return SimpleNamespace(name=name, database=database, schema=schema, identifier=identifier)


def manifest_for(plans, database, schema, **overrides):
    sources = {}
    for key, plan in plans.items():
        sources[key] = overrides.get(plan.name) or source_node(plan.name, database, schema)
    return SimpleNamespace(sources=sources, nodes={})


def test_tables_go_where_the_sources_resolve_under_the_target():
    plans, _ = shop_plans()  # real: warehouse.raw.<name>
    manifest = manifest_for(plans, "synthetic", "raw")
    places = placements(manifest, plans, "synthetic")
    assert {p.name: str(p.target) for p in places}["orders"] == "synthetic.raw.orders"
    assert all(str(p.real).startswith("warehouse.raw.") for p in places)


def test_another_schema_in_the_same_database_is_fine():
    plans, _ = shop_plans()
    places = placements(manifest_for(plans, "warehouse", "raw_env"), plans, "env")
    assert len(places) == len(plans)


def test_refuses_every_real_relation_case_insensitively():
    plans, _ = shop_plans()
    manifest = manifest_for(
        plans,
        "synthetic",
        "raw",
        orders=source_node("orders", "WAREHOUSE", "RAW", "Orders"),  # its own real table
        customers=source_node("customers", None, "raw", "employees"),  # another real table
    )
    with pytest.raises(UnsafeWriteError) as info:
        placements(manifest, plans, "oops")
    problems = info.value.problems
    assert len(problems) == 2
    assert "its own" in problems[0] or "its own" in problems[1]
    assert any("source('raw', 'employees')" in p for p in problems)


def test_a_fitted_table_missing_from_the_project_is_reported():
    plans, _ = shop_plans()
    manifest = manifest_for(plans, "synthetic", "raw")
    del manifest.sources[SHOP + "orders"]
    with pytest.raises(ProjectError, match="not in the project"):
        placements(manifest, plans, "synthetic")


def test_models_use_their_alias():
    plans, _ = shop_plans()
    key = SHOP + "orders"
    plans = {key: replace(plans[key], key="model.shop.orders")}
    node = SimpleNamespace(name="orders", database="syn", schema="s", alias="orders_v2")
    manifest = SimpleNamespace(sources={}, nodes={"model.shop.orders": node})
    (place,) = placements(manifest, {"model.shop.orders": plans[key]}, "t")
    assert place.target == Relation("syn", "s", "orders_v2")


def test_same_relation_treats_unknown_database_as_same():
    assert same_relation(Relation(None, "a", "b"), Relation("db", "A", "B"))
    assert not same_relation(Relation("x", "a", "b"), Relation("y", "a", "b"))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(schema="s", environment=True, export=None, yaml_path=None),
        dict(schema=None, environment=True, export="seeds", yaml_path=None),
        dict(schema="s", environment=False, export="python_models", yaml_path=None),
        dict(schema=None, environment=False, export="parquet", yaml_path=None),
        dict(schema=None, environment=True, export=None, yaml_path="x.yml"),
    ],
)
def test_conflicting_generate_options(kwargs):
    assert len(generate_mode_problems(**kwargs)) >= 1
