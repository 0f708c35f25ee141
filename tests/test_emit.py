"""Generated YAML: tests per table, thresholds from vars/meta, golden files, safe writes."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from emit_fixtures import P, shop_plans, shop_profiles

from synthohive_dbt.emit import render, sources_document, write_generated
from synthohive_dbt.emit.data_tests import ColumnProfile, distribution_test, table_tests
from synthohive_dbt.emit.files import HEADER, GeneratedFile, check_files, write_files
from synthohive_dbt.emit.sources_yaml import source_naming
from synthohive_dbt.emit.thresholds import Fidelity, resolve, synthohive_vars
from synthohive_dbt.errors import EmitError

GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, text: str) -> None:
    """Compare with tests/golden/<name>; SYNTHOHIVE_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("SYNTHOHIVE_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"missing golden file {path}; rerun with SYNTHOHIVE_UPDATE_GOLDEN=1"
    assert text == path.read_text()


def shop_config(settings=None, meta=None):
    plans, _ = shop_plans()
    tables = {p.name: (meta or {}).get(p.name, {}) for p in plans.values()}
    return resolve(settings or {}, tables)


# -- golden files ------------------------------------------------------------------------


def test_sources_yaml_golden():
    plans, order = shop_plans()
    doc = sources_document(
        plans, order, "synthohive", fidelity=shop_config(), profiles=shop_profiles()
    )
    assert_golden("sources_shop.yml", render(doc))


def test_sources_yaml_golden_structural_only():
    plans, order = shop_plans()
    assert_golden("sources_shop_structural.yml", render(sources_document(plans, order, "synth")))


def test_sources_yaml_golden_with_overrides_and_warn():
    settings = {
        "fidelity_severity": "warn",
        "thresholds": {"ks_distance": 0.3, "no_real_row_copied": False},
        "tables": {"orders": {"thresholds": {"row_count_ratio": [0.9, 1.1], "tvd": False}}},
    }
    plans, order = shop_plans()
    plans = {k: plans[k] for k in order[:2]}
    doc = sources_document(
        plans,
        order[:2],
        "synthohive",
        fidelity=shop_config(settings),
        profiles=shop_profiles(),
        scale=2.0,
    )
    assert_golden("sources_shop_warn_scale2.yml", render(doc))


def test_generated_yaml_quotes_refs_and_uses_current_test_style():
    plans, order = shop_plans()
    text = render(sources_document(plans, order, "synthohive", fidelity=shop_config(), profiles={}))
    assert text.startswith(HEADER)
    assert "to: \"source('synthohive', 'customers')\"" in text
    assert "compare_model: \"source('raw', 'orders')\"" in text
    doc = yaml.safe_load(text)
    for table in doc["sources"][0]["tables"]:
        for test in [t for c in table["columns"] for t in c.get("data_tests", [])]:
            if isinstance(test, dict):
                (body,) = test.values()
                assert set(body) <= {"arguments", "config"}  # no top-level test arguments


# -- which tests a table gets ---------------------------------------------------------------


DEFAULT = Fidelity()


def _tests_of(name, fidelity=DEFAULT, profiles=None, scale=1.0):
    plans, _ = shop_plans()
    profiles = shop_profiles() if profiles is None else profiles
    return table_tests(
        plans[P + name],
        plans,
        source_naming,
        fidelity=fidelity,
        profiles=profiles.get(P + name, {}),
        scale=scale,
    )


def names(tests):
    return [t if isinstance(t, str) else next(iter(t)) for t in tests]


def test_keys_relationships_and_carried_checks():
    columns, table = _tests_of("customers")
    assert names(columns["id"])[:2] == ["unique", "not_null"]
    assert "accepted_values" in names(columns["segment"])
    columns, table = _tests_of("order_lines")
    assert "synthohive.unique_combination_of_columns" in names(table)
    rel = next(t for t in columns["order_id"] if "relationships" in t)
    assert rel["relationships"]["arguments"]["to"] == "source('synthohive', 'orders')"
    columns, table = _tests_of("shipments")
    comp = next(t for t in table if "synthohive.relationships_composite" in t)
    args = comp["synthohive.relationships_composite"]["arguments"]
    assert args == {
        "columns": ["order_id", "line_no"],
        "to": "source('synthohive', 'order_lines')",
        "fields": ["order_id", "line_no"],
    }


def test_distribution_test_follows_the_model_codecs():
    plans, _ = shop_plans()
    customers = plans[P + "customers"]
    profiles = shop_profiles()[P + "customers"]
    assert distribution_test(customers, "segment", profiles["segment"]) == "tvd"
    assert distribution_test(customers, "signup", profiles["signup"]) == "ks_distance"
    assert distribution_test(customers, "name", profiles["name"]) is None  # names rows
    assert distribution_test(customers, "token", profiles["token"]) is None
    # without codecs (a third-party model) the type decides; text is skipped
    orders = plans[P + "orders"]
    assert distribution_test(orders, "gift", None) == "tvd"
    assert distribution_test(orders, "amount", None) == "ks_distance"
    assert distribution_test(customers, "name", None) is None
    # a discrete integer with few categories but one row each names rows, too
    assert distribution_test(orders, "quantity", ColumnProfile("discrete", 500)) is None


def test_fidelity_tests_point_at_the_real_relations():
    columns, table = _tests_of("orders")
    cpp = next(t for t in columns["customer_id"] if "synthohive.children_per_parent_distance" in t)
    args = cpp["synthohive.children_per_parent_distance"]["arguments"]
    assert args["parent_model"] == "source('synthohive', 'customers')"
    assert args["compare_model"] == "source('raw', 'orders')"
    assert args["compare_parent_model"] == "source('raw', 'customers')"
    assert args["parent_field"] == "id"
    assert "synthohive.null_rate_difference" not in names(columns["customer_id"])  # not_null
    assert {"synthohive.row_count_ratio", "synthohive.no_real_row_copied"} <= set(names(table))


def test_correlation_skips_constant_columns_and_copy_check_needs_two_columns():
    _, table = _tests_of("employees")
    corr = next(t for t in table if "synthohive.correlation_difference" in t)
    assert corr["synthohive.correlation_difference"]["arguments"]["pairs"] == [("salary", "level")]
    _, table = _tests_of("order_lines")  # one modelled column: nothing to copy
    assert "synthohive.no_real_row_copied" not in names(table)
    assert "synthohive.correlation_difference" not in names(table)


def test_copy_check_leaves_out_random_uuids():
    _, table = _tests_of("customers")
    copy = next(t for t in table if "synthohive.no_real_row_copied" in t)
    cols = copy["synthohive.no_real_row_copied"]["arguments"]["columns"]
    assert cols == ["name", "segment", "signup", "score"]


def test_row_count_ratio_scales():
    _, table = _tests_of("orders", scale=3.0)
    ratio = next(t for t in table if "synthohive.row_count_ratio" in t)
    args = ratio["synthohive.row_count_ratio"]["arguments"]
    assert (args["min_ratio"], args["max_ratio"]) == (1.5, 6.0)


def test_old_plans_without_real_ref_get_structural_tests_only():
    from dataclasses import replace

    plans, _ = shop_plans()
    plans = {k: replace(p, real_ref=None) for k, p in plans.items()}
    columns, table = table_tests(
        plans[P + "orders"], plans, source_naming, fidelity=Fidelity(), profiles={}
    )
    assert not any("synthohive." in n for n in names(table) + names(columns["amount"]))


# -- thresholds ---------------------------------------------------------------------------


def test_threshold_precedence_defaults_vars_meta_tables():
    settings = {
        "thresholds": {"ks_distance": 0.3, "tvd": 0.25},
        "tables": {"orders": {"thresholds": {"ks_distance": 0.5}}},
    }
    meta = {
        "orders": {"synthohive_thresholds": {"ks_distance": 0.4, "tvd": 0.35}},
        "customers": {"synthohive_fidelity_severity": "warn"},
    }
    config = shop_config(settings, meta)
    assert config.default.threshold("ks_distance") == 0.3
    assert config.default.threshold("null_rate_difference") == 0.1  # default kept
    orders = config.for_table("orders")
    assert orders.threshold("ks_distance") == 0.5  # vars tables.<name> wins over meta
    assert orders.threshold("tvd") == 0.35  # meta wins over vars thresholds
    assert config.for_table("customers").severity == "warn"
    assert config.for_table("employees") == config.default


def test_false_switches_a_test_off():
    config = shop_config({"thresholds": {"tvd": False, "row_count_ratio": False}})
    assert config.default.threshold("tvd") is None
    assert config.default.row_count_ratio is None
    _, table = _tests_of("orders", fidelity=config.default)
    assert "synthohive.row_count_ratio" not in names(table)


def test_every_bad_threshold_is_reported_at_once():
    settings = {
        "fidelity_severity": "fatal",
        "thresholds": {
            "ks_distance": 1.5,
            "tvd": -0.1,
            "null_rate_difference": "0.1",
            "children_per_parent_distance": True,
            "correlation_difference": 2.5,
            "row_count_ratio": [2.0, 0.5],
            "no_real_row_copied": "yes",
            "ks": 0.2,
        },
        "tables": {"nope": {"thresholds": {"tvd": 0.1}}, "orders": {"thresholds": [0.1]}},
        "threshold": {},
    }
    meta = {"customers": {"synthohive_thresholds": {"row_count_ratio": [0, 1]}}}
    with pytest.raises(EmitError) as info:
        shop_config(settings, meta)
    problems = info.value.problems
    text = "\n".join(problems)
    assert len(problems) == 13, text
    for needle in (
        "fidelity_severity must be warn or error",
        "ks_distance must be a number between 0 and 1",
        "tvd must be a number between 0 and 1",
        "correlation_difference must be a number between 0 and 2",
        "min 2 is greater than max 0.5",
        "no_real_row_copied must be true or false",
        "thresholds.ks: unknown test",
        "tables.nope: no table of that name",
        "customers: config.meta.synthohive_thresholds.row_count_ratio",
        "vars.synthohive.threshold is not a setting",
    ):
        assert needle in text


def test_synthohive_vars_merges_project_and_cli_vars():
    config = SimpleNamespace(
        project_name="shop",
        vars=SimpleNamespace(
            to_dict=lambda: {
                "synthohive": {"thresholds": {"ks_distance": 0.3, "tvd": 0.3}},
                "shop": {"synthohive": {"fidelity_severity": "warn"}},
            }
        ),
        cli_vars={"synthohive": {"thresholds": {"tvd": 0.4}}},
    )
    assert synthohive_vars(config) == {
        "fidelity_severity": "warn",
        "thresholds": {"ks_distance": 0.3, "tvd": 0.4},
    }
    assert synthohive_vars(SimpleNamespace(vars=None, cli_vars=None)) == {}


# -- files --------------------------------------------------------------------------------


def test_user_file_is_never_replaced(tmp_path):
    user = tmp_path / "models" / "synthohive" / "_synthohive__sources.yml"
    user.parent.mkdir(parents=True)
    user.write_text("version: 2\n# mine\n")
    other = tmp_path / "other.yml"
    with pytest.raises(EmitError) as info:
        write_files([GeneratedFile(other, HEADER), GeneratedFile(user, HEADER + "x: 1\n")])
    assert "was not generated by synthohive-dbt" in str(info.value)
    assert user.read_text() == "version: 2\n# mine\n"
    assert not other.exists()  # checked before the first write


def test_generated_file_is_rewritten(tmp_path):
    path = tmp_path / "a.yml"
    write_generated(path, HEADER + "a: 1\n")
    write_generated(path, HEADER + "a: 2\n")
    assert path.read_text() == HEADER + "a: 2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.yml"]  # no temp files left


def test_unmarked_files_only_replace_files_in_an_owned_folder(tmp_path):
    csv = tmp_path / "synth_orders.csv"
    csv.write_text("id\n1\n")
    check_files([GeneratedFile(csv, "", marked=False)], owned_dirs=[tmp_path])
    with pytest.raises(EmitError):
        check_files([GeneratedFile(csv, "", marked=False)])


def test_tables_of_the_project_not_generated_now_are_validated_not_refused():
    plans, _ = shop_plans()
    tables = {p.name: {} for p in plans.values()}
    settings = {"tables": {"suppliers": {"thresholds": {"tvd": 0.3}}}}
    config = resolve(settings, tables, known={"suppliers"})
    assert "suppliers" not in config.tables
    with pytest.raises(EmitError, match="tables.suppliers.thresholds.tvd"):
        resolve({"tables": {"suppliers": {"thresholds": {"tvd": 3}}}}, tables, known={"suppliers"})


def test_ignored_columns_do_not_carry_not_null():
    from dataclasses import replace

    plans, _ = shop_plans()
    customers = replace(plans[P + "customers"], ignored=("name",))
    columns, _ = table_tests(customers, plans, source_naming, fidelity=None, profiles={})
    assert columns["name"] == []
