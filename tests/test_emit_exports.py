"""Exports: seeds (CSV + YAML) and dbt Python models."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from helpers import SHOP, shop_plans, shop_profiles

from synthohive_dbt.emit import render
from synthohive_dbt.emit.naming import name_clashes
from synthohive_dbt.emit.python_models import PYTHON_MODELS, model_parents, model_source
from synthohive_dbt.emit.seeds import SEEDS, csv_text, slow_seed_warning
from synthohive_dbt.emit.thresholds import resolve
from synthohive_dbt.errors import EmitError
from synthohive_dbt.schema import ColumnType, LogicalType


def fidelity():
    plans, _ = shop_plans()
    return resolve({}, {p.name: {} for p in plans.values()})


# -- seeds ---------------------------------------------------------------------------------


def test_seeds_yaml_golden(golden):
    plans, order = shop_plans()
    doc = SEEDS.document(plans, order, fidelity=fidelity(), profiles=shop_profiles())
    text = render(doc)
    golden("seeds_shop.yml", text)
    assert 'amount: "numeric(10,2)"' in text  # parenthesised types are quoted
    assert "to: \"ref('synth_customers')\"" in text


def test_csv_is_what_dbt_seed_reads():
    frame = pd.DataFrame(
        {
            "id": pd.array([1, None, 3], dtype="Int64"),
            "flag": pd.array([True, False, None], dtype="boolean"),
            "day": pd.to_datetime(["2024-01-02", None, "2024-03-04"]),
            "at": pd.to_datetime(["2024-01-02 03:04:05", "2024-01-02 00:00:00", None]),
            "at_tz": pd.to_datetime(["2024-01-02 03:04:05.25", None, None], utc=True),
            "amount": [1.5, np.nan, 2.25],
            "name": pd.array(["a,b", None, ""], dtype="string"),
        }
    )
    types = {
        "id": ColumnType(LogicalType.INTEGER, "integer"),
        "flag": ColumnType(LogicalType.BOOLEAN, "boolean"),
        "day": ColumnType(LogicalType.DATE, "date"),
        "at": ColumnType(LogicalType.TIMESTAMP, "timestamp"),
        "at_tz": ColumnType(LogicalType.TIMESTAMPTZ, "timestamptz"),
        "amount": ColumnType(LogicalType.FLOAT, "double"),
        "name": ColumnType(LogicalType.TEXT, "text"),
    }
    assert csv_text(frame, types).splitlines() == [
        "id,flag,day,at,at_tz,amount,name",
        '1,true,2024-01-02,2024-01-02 03:04:05,2024-01-02 03:04:05.250000+00:00,1.5,"a,b"',
        ",false,,2024-01-02 00:00:00,,,",
        "3,,2024-03-04,,,2.25,",  # CSV has no empty string: dbt seed reads NULL
    ]


def test_slow_seed_warning_above_ten_thousand_rows():
    plans, order = shop_plans()
    assert slow_seed_warning({order[0]: 100}, plans) is None
    warning = slow_seed_warning({order[0]: 6000, order[1]: 6000}, plans)
    assert "12000 rows" in warning and "1.4 ms" in warning


def test_name_clashes_with_user_nodes(tmp_path):
    node = SimpleNamespace(
        resource_type="model",
        name="synth_orders",
        package_name="shop",
        original_file_path="models/synth_orders.sql",
    )
    manifest = SimpleNamespace(nodes={"model.shop.synth_orders": node})
    planned = {"synth_orders": tmp_path / "models" / "synthohive" / "synth_orders.py"}
    problems = name_clashes(manifest, planned, tmp_path, "shop")
    assert len(problems) == 1 and "models/synth_orders.sql" in problems[0]
    node.original_file_path = "models/synthohive/synth_orders.py"  # our own earlier output
    assert name_clashes(manifest, planned, tmp_path, "shop") == []


# -- python models -------------------------------------------------------------------------


def test_python_model_golden(golden):
    plans, _ = shop_plans()
    text = model_source(
        plans[SHOP + "orders"],
        plans,
        artifacts="/work/project/target/synthohive",
        seed=7,
        scale=1.5,
        select="path:models/synthohive",
    )
    golden("synth_orders.py", text)
    compile(text, "synth_orders.py", "exec")


def test_python_models_ref_parents_but_not_themselves():
    plans, _ = shop_plans()
    assert model_parents(plans[SHOP + "employees"]) == []  # self-reference: no ref
    assert model_parents(plans[SHOP + "shipments"]) == [SHOP + "order_lines"]


def test_models_yaml_golden(golden):
    plans, order = shop_plans()
    doc = PYTHON_MODELS.document(plans, order, fidelity=fidelity(), profiles=shop_profiles())
    golden("models_shop.yml", render(doc))


def test_python_models_need_duckdb(tmp_path):
    project = SimpleNamespace(adapter_type="postgres", target_name="pg")
    with pytest.raises(EmitError, match="DuckDB"):
        PYTHON_MODELS.export(project, SimpleNamespace(), artifacts=tmp_path)
