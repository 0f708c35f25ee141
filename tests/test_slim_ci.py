"""Slim CI: fingerprints let fit keep unchanged models; --state refits what changed.

The fast tests fit a two-table graph in memory; the integration tests run dbt and
synthohive for real on a DuckDB copy of integration_tests, with the copula model.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from helpers import FLOAT, INT, ORIGIN, TEXT, dbt, graph_from, synthohive, table

from synthohive_dbt.progress import EventLog, FitStarted, Reporter
from synthohive_dbt.relational import fit_relational
from synthohive_dbt.relational.engine import SavedArtifacts
from synthohive_dbt.relational.fingerprint import training_fingerprint
from synthohive_dbt.relational.learn import prepare
from synthohive_dbt.relational.refit import families, subgraph
from synthohive_dbt.schema import Column, ForeignKey, SchemaGraph

CUSTOMERS, ORDERS, STORES = "source.p.s.customers", "source.p.s.orders", "source.p.s.stores"


# -- fingerprints and reuse, in memory ----------------------------------------------------


def shop_graph() -> SchemaGraph:
    """customers <- orders, and stores on their own (a second family)."""
    key = Column("id", type=INT, unique=True, not_null=True)
    customers = table("customers", [key, ("tier", TEXT), ("score", FLOAT)], ["id"])
    orders = table(
        "orders",
        [key, Column("customer_id", type=INT, not_null=True), ("amount", FLOAT)],
        ["id"],
    )
    stores = table("stores", [key, ("city", TEXT)], ["id"])
    fk = ForeignKey(ORDERS, ("customer_id",), CUSTOMERS, ("id",), ORIGIN, nullable=False)
    return graph_from(customers, orders, stores, fks=[fk], order=(CUSTOMERS, STORES, ORDERS))


def shop_frames(seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    customers = pd.DataFrame(
        {
            "id": np.arange(60),
            "tier": rng.choice(["gold", "silver", "bronze"], 60),
            "score": rng.normal(50, 10, 60),
        }
    )
    orders = pd.DataFrame(
        {
            "id": np.arange(200),
            "customer_id": rng.integers(0, 60, 200),
            "amount": rng.gamma(2.0, 20.0, 200),
        }
    )
    stores = pd.DataFrame({"id": np.arange(8), "city": rng.choice(["a", "b", "c"], 8)})
    return {CUSTOMERS: customers, ORDERS: orders, STORES: stores}


def _training(frames: dict[str, pd.DataFrame]) -> dict[str, str]:
    return {k: training_fingerprint(p) for k, p in prepare(shop_graph(), frames).items()}


def test_fingerprint_follows_what_each_model_learns():
    before = _training(shop_frames())
    shuffled = {k: f.sample(frac=1.0, random_state=3) for k, f in shop_frames().items()}
    assert _training(shuffled) == before  # warehouses promise no row order

    frames = shop_frames()
    frames[ORDERS].loc[0, "amount"] += 1.0  # the child's own column
    changed = _training(frames)
    assert changed[ORDERS] != before[ORDERS]
    assert changed[CUSTOMERS] == before[CUSTOMERS]  # its child counts did not change

    frames = shop_frames()
    frames[ORDERS] = frames[ORDERS].iloc[:-1]  # one child fewer: the parent's counts change
    assert _training(frames)[CUSTOMERS] != before[CUSTOMERS]

    frames = shop_frames()
    frames[CUSTOMERS].loc[0, "score"] += 5.0  # the children's parent context changes
    changed = _training(frames)
    assert changed[CUSTOMERS] != before[CUSTOMERS]
    assert changed[ORDERS] != before[ORDERS]
    assert changed[STORES] == before[STORES]


def _fit(frames, previous=None) -> tuple:
    log = EventLog()
    relational = fit_relational(
        shop_graph(), frames, model="copula", seed=1, reporter=Reporter(log), previous=previous
    )
    return relational, sorted(e.table for e in log.of(FitStarted))


def _model_files(artifacts: Path) -> dict[str, tuple[int, str]]:
    """Every model file: (mtime in ns, content hash)."""
    return {
        str(p.relative_to(artifacts)): (
            p.stat().st_mtime_ns,
            hashlib.sha256(p.read_bytes()).hexdigest(),
        )
        for p in sorted((artifacts / "models").rglob("*"))
        if p.is_file()
    }


def test_saved_models_are_reused_while_their_fingerprint_holds(tmp_path):
    relational, trained = _fit(shop_frames())
    assert trained == ["customers", "orders", "stores"]
    relational.save(tmp_path)
    files = _model_files(tmp_path)

    again, trained = _fit(shop_frames(), SavedArtifacts.read(tmp_path))
    assert trained == []
    assert sorted(again.loaded_from) == sorted(relational.models)
    again.save(tmp_path)
    assert _model_files(tmp_path) == files  # reused models are not written again
    assert SavedArtifacts.read(tmp_path).fingerprints == relational.fingerprints

    frames = shop_frames()
    frames[STORES].loc[0, "city"] = "d"
    changed, trained = _fit(frames, SavedArtifacts.read(tmp_path))
    assert trained == ["stores"]
    changed.save(tmp_path)
    after = _model_files(tmp_path)
    rewritten = {name for name in files if after[name] != files[name]}
    assert rewritten and all("stores" in name for name in rewritten)


def test_families_are_the_tables_linked_by_foreign_keys():
    graph = shop_graph()
    assert sorted(map(sorted, families(graph))) == [[CUSTOMERS, ORDERS], [STORES]]
    part = subgraph(graph, {CUSTOMERS, ORDERS})
    assert part.order == (CUSTOMERS, ORDERS)
    assert part.foreign_keys == graph.foreign_keys


# -- dbt and synthohive for real ------------------------------------------------------------

JAFFLE = {"raw_customers", "raw_products", "raw_stores", "raw_orders", "raw_items", "raw_supplies"}
OPS = {"airports", "employees", "flights", "flight_legs", "crew_assignments"}
FIT = ("fit", "--model", "copula", "--seed", "1")


def outcome(out: str) -> dict[str, set[str]]:
    """Tables per line of the fit summary: trained, reused, kept."""
    found = {"trained": set(), "reused": set(), "kept": set()}
    for label, names in re.findall(r"^  (trained|reused|kept)[^:]*: (.+)$", out, re.M):
        found[label] = set(names.split(", "))
    return found


@pytest.fixture(scope="module")
def slim_base(tmp_path_factory, dbt_project):
    """integration_tests seeded and fitted once, with the manifest of that run saved as
    production state in prod-state/; tests work on copies. Returns the folder and what the
    first fit printed."""
    base = tmp_path_factory.mktemp("slim")
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
        mp.setenv("SYNTHOHIVE_IT_DUCKDB", str(base / "it.duckdb"))
        project = dbt_project(base)
        assert dbt(project, "seed").success
        code = synthohive(project, *FIT)
    assert code == 0
    (base / "prod-state").mkdir()
    shutil.copy(project / "target" / "manifest.json", base / "prod-state" / "manifest.json")
    con = duckdb.connect(str(base / "it.duckdb"))
    try:  # fold the write-ahead log into the file, so that a copy of the file is complete
        con.execute("force checkpoint")
    finally:
        con.close()
    return base, printed.getvalue()


@pytest.fixture
def slim(slim_base, tmp_path, monkeypatch):
    """A copy of the fitted project and its DuckDB file; returns the copy's folder."""
    shutil.copytree(
        slim_base[0], tmp_path / "slim", symlinks=True, ignore=shutil.ignore_patterns("logs")
    )
    monkeypatch.setenv("SYNTHOHIVE_IT_DUCKDB", str(tmp_path / "slim" / "it.duckdb"))
    return tmp_path / "slim"


def _execute(database: Path, sql: str) -> None:
    con = duckdb.connect(str(database))
    try:
        con.execute(sql)
    finally:
        con.close()


def _fit_summary(project: Path, capsys, *args: str) -> dict[str, set[str]]:
    capsys.readouterr()
    assert synthohive(project, *FIT, *args) == 0
    return outcome(capsys.readouterr().out)


@pytest.mark.integration
def test_first_fit_trains_all_and_an_unchanged_refit_none(slim_base, slim, capsys):
    assert outcome(slim_base[1]) == {"trained": JAFFLE | OPS, "reused": set(), "kept": set()}
    project = slim / "project"
    artifacts = project / "target" / "synthohive"
    files = _model_files(artifacts)
    assert len(files) >= 2 * 11  # a tensors and a JSON file per table

    assert _fit_summary(project, capsys) == {
        "trained": set(),
        "reused": JAFFLE | OPS,
        "kept": set(),
    }
    assert _model_files(artifacts) == files


@pytest.mark.integration
def test_changed_data_retrains_the_table_and_the_tables_that_learn_from_it(slim, capsys):
    project = slim / "project"
    # airports' own column, and the parent context of flights (origin is its primary FK)
    _execute(slim / "it.duckdb", "update main_ops.airports set elevation_ft = elevation_ft + 100 "
             "where code = (select min(code) from main_ops.airports)")  # fmt: skip
    done = _fit_summary(project, capsys)
    assert done["trained"] == {"airports", "flights"}
    assert done["reused"] == JAFFLE | OPS - {"airports", "flights"}

    # one crew row fewer: its parents' child counts change (flight legs and employees)
    _execute(slim / "it.duckdb", "delete from main_ops.crew_assignments where employee_id = "
             "(select min(employee_id) from main_ops.crew_assignments)")  # fmt: skip
    done = _fit_summary(project, capsys)
    assert done["trained"] == {"crew_assignments", "flight_legs", "employees"}


@pytest.mark.integration
def test_full_refresh_trains_every_table(slim, capsys):
    project = slim / "project"
    artifacts = project / "target" / "synthohive"
    files = _model_files(artifacts)
    done = _fit_summary(project, capsys, "--full-refresh")
    assert done == {"trained": JAFFLE | OPS, "reused": set(), "kept": set()}
    after = _model_files(artifacts)
    assert after.keys() == files.keys()
    assert all(after[name][0] != files[name][0] for name in files)


@pytest.mark.integration
def test_state_modified_refits_the_changed_source_and_generate_writes_all(slim, capsys):
    """The CI recipe: production state, fit state:modified+, generate, dbt test."""
    project = slim / "project"
    artifacts = project / "target" / "synthohive"
    ops_files = {k: v for k, v in _model_files(artifacts).items() if ".ops." in k}
    sources = project / "models" / "sources" / "jaffle_shop.yml"
    text = sources.read_text()  # a config change: dbt's state:modified picks the source
    sources.write_text(text.replace(
        "      - name: raw_stores\n",
        "      - name: raw_stores\n"
        "        config:\n          meta:\n            synthohive_epochs: 5\n",
    ))  # fmt: skip

    state = ("--select", "state:modified+", "--state", str(slim / "prod-state"))
    done = _fit_summary(project, capsys, *state)
    assert done == {"trained": {"raw_stores"}, "reused": JAFFLE - {"raw_stores"}, "kept": OPS}
    assert {k: v for k, v in _model_files(artifacts).items() if ".ops." in k} == ops_files

    assert synthohive(project, "generate", "--seed", "2") == 0
    assert "generated 11 tables" in capsys.readouterr().out
    result = dbt(project, "test", "--select", "source:synthohive")
    failing = [r.node.name for r in result.result if str(r.status) != "pass"]
    assert result.success, f"failing synthetic tests: {failing}"

    # the same state again: raw_stores is still modified, its fingerprint is not
    done = _fit_summary(project, capsys, *state)
    assert done == {"trained": set(), "reused": JAFFLE, "kept": OPS}


@pytest.mark.integration
def test_state_refits_what_dbt_does_not_count_as_modified(slim, capsys):
    project = slim / "project"
    state = ("--select", "state:modified+", "--state", str(slim / "prod-state"))
    # a staging model's SQL: the sources it reads are refit (read again); their facts did
    # not change, so nothing trains
    model = project / "models" / "staging" / "stg_orders.sql"
    sql = model.read_text()
    model.write_text("-- reformatted\n" + sql)
    done = _fit_summary(project, capsys, *state)
    assert done == {"trained": set(), "reused": JAFFLE, "kept": OPS}
    model.write_text(sql)

    # column meta: dbt selects nothing (no error), the table's changed definition refits
    sources = project / "models" / "sources" / "jaffle_shop.yml"
    sources.write_text(sources.read_text().replace(
        "          - name: tax_rate\n",
        "          - name: tax_rate\n            config:\n              meta:\n"
        "                synthohive_kind: discrete\n",
    ))  # fmt: skip
    done = _fit_summary(project, capsys, *state)
    assert done == {"trained": {"raw_stores"}, "reused": JAFFLE - {"raw_stores"}, "kept": OPS}

    # a new test on a column: dbt picks the test, synthohive the table it tests
    ops = project / "models" / "sources" / "ops.yml"
    ops.write_text(ops.read_text().replace(
        "          - name: elevation_ft\n            data_tests:\n",
        "          - name: elevation_ft\n            data_tests:\n              - not_null\n",
    ))  # fmt: skip
    done = _fit_summary(project, capsys, *state)
    assert done == {"trained": {"airports"}, "reused": OPS - {"airports"}, "kept": JAFFLE}


@pytest.mark.integration
def test_state_without_a_manifest_is_an_error(slim, capsys):
    code = synthohive(
        slim / "project", *FIT, "--select", "state:modified+", "--state", str(slim / "nowhere")
    )
    assert code == 1
    assert "holds no manifest.json" in capsys.readouterr().err
