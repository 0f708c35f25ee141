"""The registry of config.meta keys, the one meta merge and the up-front meta checks."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from types import SimpleNamespace

from synthohive_dbt.privacy.check import check_graph
from synthohive_dbt.project.meta import (
    KEYS,
    MODEL_OPTIONS,
    Place,
    markdown_table,
    meta_problems,
    model_overrides,
    node_meta,
)
from synthohive_dbt.schema import Column, SchemaGraph, Table

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "synthohive_dbt"


def _graph(table_meta=None, column_meta=None) -> SchemaGraph:
    table = Table(
        "model.p.orders",
        "orders",
        "model",
        None,
        "main",
        "orders",
        columns=(Column("id"), Column("note", meta=column_meta or {})),
        meta=table_meta or {},
    )
    return SchemaGraph({table.key: table}, (), (table.key,))


def _readme_table() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration (`config.meta`)", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("|")]


def test_readme_table_lists_exactly_the_registry_keys_and_where():
    rows = _readme_table()[2:]  # after the header and its rule
    documented = {}
    for row in rows:
        key_cell, on_cell = (cell.strip() for cell in row.strip("|").split(" | ")[:2])
        name = re.match(r"`([a-z_<>]+)", key_cell).group(1)
        documented[name] = on_cell
    expected = {k.name: k.where.label for k in KEYS.values()}
    expected["synthohive_<option>"] = MODEL_OPTIONS.where.label
    assert documented == expected


def test_readme_table_is_the_rendered_registry():
    assert "\n".join(_readme_table()) == markdown_table()


def test_node_meta_merges_source_then_table_then_config():
    node = SimpleNamespace(
        source_meta={"a": "source", "b": "source", "c": "source"},
        meta={"b": "table", "c": "table"},
        config=SimpleNamespace(meta={"c": "config"}),
    )
    assert node_meta(node) == {"a": "source", "b": "table", "c": "config"}
    column = SimpleNamespace(
        meta={"x": "column", "y": "column"}, config=SimpleNamespace(meta={"y": "config"})
    )
    assert node_meta(column) == {"x": "column", "y": "config"}
    assert node_meta(SimpleNamespace(meta=None, config=None)) == {}
    assert node_meta(None) == {}


def test_unknown_keys_are_reported_with_did_you_mean():
    graph = _graph(table_meta={"synthohive_epoch": 5}, column_meta={"synthohive_pi": "fake"})
    assert meta_problems(graph) == [
        "ref('orders'): config.meta synthohive_epoch is not a synthohive key; "
        "did you mean synthohive_epochs?",
        "ref('orders') column note: config.meta synthohive_pi is not a synthohive key; "
        "did you mean synthohive_pii?",
    ]


def test_an_unknown_key_far_from_any_lists_the_keys_of_its_place():
    (problem,) = meta_problems(_graph(column_meta={"synthohive_zzzzzz": 1}))
    assert "synthohive_zzzzzz is not a synthohive key" in problem
    assert "the keys of a column are synthohive_ignore, synthohive_kind" in problem


def test_keys_in_the_wrong_place_are_problems():
    graph = _graph(
        table_meta={"synthohive_pii": "fake"},
        column_meta={"synthohive_mode": "copy", "synthohive_embedding_dim": 64},
    )
    assert meta_problems(graph) == [
        "ref('orders'): config.meta synthohive_pii belongs on a column, not on a table; "
        "move it there",
        "ref('orders') column note: config.meta synthohive_mode belongs on a table, not on "
        "a column; move it there",
        "ref('orders') column note: config.meta synthohive_embedding_dim is a model "
        "option, which applies to a whole table; move it to the table's config.meta",
    ]


def test_values_of_the_wrong_type_are_problems():
    graph = _graph(
        table_meta={"synthohive_epochs": "50", "synthohive_fidelity_severity": "fatal"},
        column_meta={"synthohive_kind": "categorical"},
    )
    assert meta_problems(graph) == [
        "ref('orders'): config.meta synthohive_epochs: '50'; use 50",
        "ref('orders'): config.meta synthohive_fidelity_severity: 'fatal'; use warn|error",
        "ref('orders') column note: config.meta synthohive_kind: 'categorical'; "
        "use discrete|continuous",
    ]


def test_model_options_and_markings_are_accepted():
    meta = {
        "synthohive_embedding_dim": 64,
        "synthohive_quantiles": 100,
        "synthohive_epochs": 5,
        "synthohive_locale": "de_DE",
        "contains_pii": True,
    }
    graph = _graph(table_meta=meta, column_meta={"pii": True, "synthohive_locale": "fr_FR"})
    assert meta_problems(graph) == []
    assert model_overrides(meta) == {"embedding_dim": 64, "quantiles": 100, "epochs": 5}


def test_check_graph_refuses_meta_problems_with_the_privacy_ones():
    graph = _graph(table_meta={"synthohive_mdoe": "copy"}, column_meta={"synthohive_pii": "x"})
    problems = check_graph(graph, env={})
    assert len(problems) == 2, problems
    assert "did you mean synthohive_mode?" in problems[0]
    assert "'x' is not a treatment" in problems[1]


def test_model_options_are_the_models_own():
    from synthohive_dbt.synth.ctgan.options import CTGANConfig

    ctgan = {f.name for f in dataclasses.fields(CTGANConfig)} - {"epochs", "batch_size", "device"}
    assert set(MODEL_OPTIONS.options["ctgan"]) == ctgan
    from synthohive_dbt.synth.autoregressive import AutoregressiveConfig

    autoregressive = {f.name for f in dataclasses.fields(AutoregressiveConfig)}
    assert set(MODEL_OPTIONS.options["autoregressive"]) == autoregressive - {
        "epochs",
        "batch_size",
        "device",
    }
    copula = (PACKAGE / "synth" / "copula.py").read_text()
    assert set(MODEL_OPTIONS.options["copula"]) == set(re.findall(r'extra\.get\("(\w+)"', copula))
    assert not MODEL_OPTIONS.names & {k.removeprefix("synthohive_") for k in KEYS}
    assert Place.TABLE in MODEL_OPTIONS.where and Place.COLUMN not in MODEL_OPTIONS.where


def test_every_synthohive_key_the_package_spells_is_declared():
    # quoted names that are no meta keys: the package, a test tag, the adapter method
    others = {"synthohive_dbt", "synthohive_fidelity", "synthohive_synthesize"}
    spelled = set()
    for path in PACKAGE.rglob("*.py"):
        spelled |= set(re.findall(r"[\"'](synthohive_[a-z_]+)[\"']", path.read_text()))
    assert spelled - others <= set(KEYS), sorted(spelled - others - set(KEYS))
