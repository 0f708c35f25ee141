"""Generated YAML: tests per table, thresholds from vars/meta, golden files, safe writes."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
import yaml
from helpers import (
    BOOL,
    DOUBLE_PRECISION,
    INT,
    MONEY,
    SHOP,
    TEXT,
    fk_plan,
    shop_plans,
    shop_profiles,
    table_plan,
)

from synthohive_dbt.emit import render, sources_document, write_generated
from synthohive_dbt.emit.data_tests import ColumnProfile, column_profiles, table_tests
from synthohive_dbt.emit.fidelity_tests import (
    MIN_ROWS_PER_CATEGORY,
    copies_are_telling,
    copy_check_columns,
    distribution_test,
)
from synthohive_dbt.emit.files import HEADER, GeneratedFile, check_files, write_files
from synthohive_dbt.emit.sources_yaml import source_naming
from synthohive_dbt.emit.thresholds import Fidelity, resolve, synthohive_vars
from synthohive_dbt.errors import EmitError


def shop_config(settings=None, meta=None):
    plans, _ = shop_plans()
    tables = {p.name: (meta or {}).get(p.name, {}) for p in plans.values()}
    return resolve(settings or {}, tables)


# -- golden files ------------------------------------------------------------------------


def test_sources_yaml_golden(golden):
    plans, order = shop_plans()
    doc = sources_document(
        plans, order, "synthohive", fidelity=shop_config(), profiles=shop_profiles()
    )
    golden("sources_shop.yml", render(doc))


def test_sources_yaml_golden_structural_only(golden):
    plans, order = shop_plans()
    golden("sources_shop_structural.yml", render(sources_document(plans, order, "synth")))


def test_sources_yaml_golden_with_overrides_and_warn(golden):
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
    golden("sources_shop_warn_scale2.yml", render(doc))


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
        plans[SHOP + name],
        plans,
        source_naming,
        fidelity=fidelity,
        profiles=profiles.get(SHOP + name, {}),
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
    customers = plans[SHOP + "customers"]
    profiles = shop_profiles()[SHOP + "customers"]
    assert distribution_test(customers, "segment", profiles["segment"]) == "tvd"
    assert distribution_test(customers, "signup", profiles["signup"]) == "ks_distance"
    assert distribution_test(customers, "name", profiles["name"]) is None  # names rows
    assert distribution_test(customers, "token", profiles["token"]) is None
    # without codecs (a third-party model) the type decides; text is skipped
    orders = plans[SHOP + "orders"]
    assert distribution_test(orders, "gift", None) == "tvd"
    assert distribution_test(orders, "amount", None) == "ks_distance"
    assert distribution_test(customers, "name", None) is None
    # a discrete integer with few categories but one row each names rows, too
    assert distribution_test(orders, "quantity", ColumnProfile("discrete", 500)) is None
    # many categories, each repeated (cents that are sums of prices): ordered, so KS
    lumpy = orders.with_(rows=60 * MIN_ROWS_PER_CATEGORY)
    assert distribution_test(lumpy, "amount", ColumnProfile("discrete", 60)) == "ks_distance"


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
        plans[SHOP + "orders"], plans, source_naming, fidelity=Fidelity(), profiles={}
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
    customers = replace(plans[SHOP + "customers"], ignored=("name",))
    columns, _ = table_tests(customers, plans, source_naming, fidelity=None, profiles={})
    assert columns["name"] == []


# -- thresholds follow the sample sizes (issue 9) -------------------------------------------


def _threshold(tests, name):
    found = [t[name]["arguments"] for t in tests if isinstance(t, dict) and name in t]
    return found[0].get("threshold") if found else None


def _sized(rows, scale=1.0):
    """customers with ``rows`` real rows: continuous signup, 3 segments, 10% NULL scores."""
    plans, _ = shop_plans()
    customers = replace(plans[SHOP + "customers"], rows=rows)
    return table_tests(
        customers,
        {**plans, customers.key: customers},
        source_naming,
        fidelity=DEFAULT,
        profiles=shop_profiles()[SHOP + "customers"],
        scale=scale,
    )


def test_thresholds_rise_for_small_tables_and_keep_the_configured_value_for_large_ones():
    big, _ = _sized(100_000)
    assert _threshold(big["signup"], "synthohive.ks_distance") == 0.2
    assert _threshold(big["segment"], "synthohive.tvd") == 0.2
    assert _threshold(big["score"], "synthohive.null_rate_difference") == 0.1
    small, _ = _sized(65)
    ks = _threshold(small["signup"], "synthohive.ks_distance")
    assert ks == 0.339  # the exact 0.999 quantile at 65 vs 65 is 22/65 = 0.3385
    assert _threshold(small["segment"], "synthohive.tvd") > 0.2
    # a larger synthetic sample is less noisy
    scaled, _ = _sized(65, scale=10.0)
    assert 0.2 < _threshold(scaled["signup"], "synthohive.ks_distance") < ks


def test_tests_that_noise_alone_fails_are_not_generated():
    columns, table = _sized(6)  # D = 1 for two samples of 6 happens 2 times in 924
    assert "synthohive.ks_distance" not in names(columns["signup"])
    assert "synthohive.row_count_ratio" in names(table)  # not a distance: still there


def test_configured_thresholds_are_the_floor():
    config = shop_config({"thresholds": {"ks_distance": 0.5, "tvd": 0.1}})
    plans, _ = shop_plans()
    customers = replace(plans[SHOP + "customers"], rows=65)
    columns, _ = table_tests(
        customers,
        plans,
        source_naming,
        fidelity=config.for_table("customers"),
        profiles=shop_profiles()[SHOP + "customers"],
    )
    assert _threshold(columns["signup"], "synthohive.ks_distance") == 0.5  # above the noise
    assert _threshold(columns["segment"], "synthohive.tvd") > 0.1  # raised to the noise


def test_children_per_parent_and_correlation_follow_the_sizes():
    plans, _ = shop_plans()
    small = {**plans, SHOP + "customers": replace(plans[SHOP + "customers"], rows=20)}
    columns, _ = table_tests(
        small[SHOP + "orders"], small, source_naming, fidelity=DEFAULT, profiles={}
    )
    cpp = _threshold(columns["customer_id"], "synthohive.children_per_parent_distance")
    assert cpp > 0.5  # 20 parents on each side
    employees = replace(plans[SHOP + "employees"], rows=5000)
    _, table = table_tests(
        employees, plans, source_naming, fidelity=DEFAULT, profiles=shop_profiles()[employees.key]
    )
    assert _threshold(table, "synthohive.correlation_difference") == 0.3
    _, table = _tests_of("employees")  # 150 rows: Fisher z, 3.29 * sqrt(2 / 147) = 0.3837
    assert _threshold(table, "synthohive.correlation_difference") == 0.384


# -- no_real_row_copied: only where a copy means something -------------------------------------


def _copy_test(table):
    found = [t for t in table if "synthohive.no_real_row_copied" in t]
    return found[0]["synthohive.no_real_row_copied"]["arguments"]["columns"] if found else None


def test_no_copy_test_on_a_table_of_keys():
    plans, _ = shop_plans()
    links = table_plan(
        "links",
        [("link_id", INT), ("order_id", INT)],
        pk=["link_id"],
        minted=["link_id"],
        fks=[fk_plan(["order_id"], "orders", ["order_id"])],
        rows=47_050,
        copy_unique_share=1.0,
    )
    columns, table = table_tests(links, plans, source_naming, fidelity=DEFAULT, profiles={})
    assert _copy_test(table) is None
    # keys are never compared, even if a plan lists them as modelled
    leaky = replace(links, model_columns=("link_id", "order_id"))
    assert copy_check_columns(leaky, {}) == []


def test_no_copy_test_where_chance_matches_are_likely():
    plans, _ = shop_plans()
    flags = table_plan(
        "flags",
        [("id", TEXT), ("active", BOOL), ("tier", TEXT)],
        pk=["id"],
        minted=["id"],
        model=["active", "tier"],
        rows=1000,
        copy_unique_share=0.0,  # 6 combinations for 1000 rows
    )
    profiles = {
        "active": ColumnProfile("discrete", 2, collision=0.5),
        "tier": ColumnProfile("discrete", 3, collision=0.4),
    }
    _, table = table_tests(flags, plans, source_naming, fidelity=DEFAULT, profiles=profiles)
    assert _copy_test(table) is None
    # even when the few real rows happen to be distinct, the codecs say chance matches
    few = replace(flags, rows=5, copy_unique_share=1.0)
    assert not copies_are_telling(few, ["active", "tier"], profiles, 1.0)


def test_copy_test_on_distinct_rows_with_continuous_columns():
    plans, _ = shop_plans()
    customers = replace(plans[SHOP + "customers"], copy_unique_share=1.0)
    _, table = table_tests(
        customers, plans, source_naming, fidelity=DEFAULT, profiles=shop_profiles()[customers.key]
    )
    assert _copy_test(table) == ["name", "segment", "signup", "score"]
    # but not when real rows repeat each other: a faithful sample repeats them too
    repeated = replace(customers, copy_unique_share=0.9)
    _, table = table_tests(
        repeated, plans, source_naming, fidelity=DEFAULT, profiles=shop_profiles()[customers.key]
    )
    assert _copy_test(table) is None


def test_no_copy_test_on_a_tiny_table_whose_extremes_are_its_rows():
    # six stores: a sampled opening date or tax rate clipped to the real extremes is a
    # real store's value; with one of six names a whole row matches by chance
    plans, _ = shop_plans()
    customers = replace(plans[SHOP + "customers"], copy_unique_share=1.0)
    profiles = {**shop_profiles()[customers.key], "name": ColumnProfile("discrete", 6)}
    for rows, expected in ((6, None), (customers.rows, ["name", "segment", "signup", "score"])):
        tiny = replace(customers, rows=rows)
        _, table = table_tests(tiny, plans, source_naming, fidelity=DEFAULT, profiles=profiles)
        assert _copy_test(table) == expected


def test_collision_chances_come_from_the_codecs():
    import pandas as pd

    from synthohive_dbt.schema import Column
    from synthohive_dbt.synth.codec_fit import fit_codecs

    frame = pd.DataFrame(
        {
            "flag": [True, False, True, True],
            "level": [1, 2, 2, None],
            "price": [1.25, 2.5, 3.75, 9.99],
            "weight": [0.1, 0.2, 0.3, 0.4],
        }
    )
    columns = [
        Column("flag", type=BOOL),
        Column("level", type=INT),
        Column("price", type=MONEY),
        Column("weight", type=DOUBLE_PRECISION),
    ]
    codecs = [c.to_json() for c in fit_codecs(frame, columns, 1)]
    model = SimpleNamespace(state=lambda: ({"codecs": codecs}, None))
    profiles = column_profiles(model)
    assert profiles["flag"].collision == pytest.approx(0.75**2 + 0.25**2)
    assert profiles["level"].collision == pytest.approx(0.75**2 * (1 / 9 + 4 / 9))
    assert profiles["price"].collision == pytest.approx(1 / 875)  # cents from 1.25 to 9.99
    assert profiles["weight"].collision == 0.0  # unrounded floats match only if copied


def test_unique_share_is_a_number_about_complete_rows():
    import pandas as pd

    from synthohive_dbt.relational.plan import unique_share

    frame = pd.DataFrame({"a": [1, 1, 2, 3, None], "b": ["x", "x", "y", "y", "z"]})
    assert unique_share(frame, ("a", "b")) == 0.5  # (1, x) twice; the NULL row not compared
    assert unique_share(frame, ("b",)) == 0.2
    assert unique_share(frame.assign(c=None), ("a", "c")) == 0.5  # all-NULL c left out
    assert unique_share(frame, ()) == 0.0


def test_plans_fitted_before_the_unique_share_load_without_it():
    from synthohive_dbt.relational.plan import TablePlan

    plans, _ = shop_plans()
    data = replace(plans[SHOP + "orders"], copy_unique_share=1.0).to_json()
    assert TablePlan.from_json(data).copy_unique_share == 1.0
    del data["copy_unique_share"]
    old = TablePlan.from_json(data)
    assert old.copy_unique_share is None
    # without it the codecs decide alone: orders has continuous columns
    _, table = table_tests(
        old, plans, source_naming, fidelity=DEFAULT, profiles=shop_profiles()[old.key]
    )
    assert _copy_test(table) == ["amount", "quantity", "placed_at", "gift"]
