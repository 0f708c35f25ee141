"""End to end on integration_tests/: dbt seed, synthohive fit + generate, dbt test.

Runs dbt for real (dbtRunner) on a DuckDB file and on the Postgres server.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from helpers import PG, ROOT, check_generated_tests, dbt, failing, planted_defects, synthohive

from synthohive_dbt import cli

pytestmark = pytest.mark.integration


def run_end_to_end(project: Path, target: str, schema: str, capsys) -> None:
    assert dbt(project, "seed", target=target).success
    assert synthohive(project, "fit", "--model", "copula", "--seed", "1", target=target) == 0
    assert synthohive(project, "generate", "--schema", schema, "--seed", "2", target=target) == 0
    out = capsys.readouterr().out
    assert "generated 11 tables" in out
    yaml_file = project / "models" / "synthohive" / "_synthohive__sources.yml"
    assert yaml_file.is_file()
    result = dbt(project, "test", "--select", "source:synthohive", target=target)
    statuses = [str(r.status) for r in result.result]
    failing = [r.node.name for r in result.result if str(r.status) != "pass"]
    assert result.success, f"failing synthetic tests: {failing}"
    # unique/not_null on keys, relationships, composite keys, accepted_values at least
    assert len(statuses) >= 30


@pytest.fixture
def duckdb_project(tmp_path, monkeypatch, dbt_project):
    project = dbt_project(tmp_path)
    monkeypatch.setenv("SYNTHOHIVE_IT_DUCKDB", str(tmp_path / "it.duckdb"))
    return project


def test_end_to_end_duckdb(duckdb_project, tmp_path, capsys):
    run_end_to_end(duckdb_project, "duckdb", "synthohive", capsys)
    # the generated `synthohive` source is synthetic data: a refit never selects it
    capsys.readouterr()
    assert synthohive(duckdb_project, "inspect", "--json", target="duckdb") == 0
    assert "source.synthohive_integration_tests.synthohive." not in capsys.readouterr().out
    con = duckdb.connect(str(tmp_path / "it.duckdb"))
    try:
        orphans = con.execute(
            "select count(*) from synthohive.raw_orders o "
            "left join synthohive.raw_customers c on o.customer = c.id where c.id is null"
        ).fetchone()[0]
        assert orphans == 0
        codes = con.execute("select code from synthohive.airports").fetchall()
        assert all(c[0].startswith("AP") and len(c[0]) == 5 for c in codes)
        real, synth = con.execute(
            "select (select count(*) from main_raw.raw_customers),"
            " (select count(*) from synthohive.raw_customers)"
        ).fetchone()
        assert synth == real  # roots keep their size at --scale 1
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'synthohive' and table_name = 'raw_orders'"
            ).fetchall()
        )
        real_types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'main_raw' and table_name = 'raw_orders'"
            ).fetchall()
        )
        assert types == real_types
    finally:
        con.close()


@pytest.mark.postgres
def test_end_to_end_postgres(postgres_project, capsys):
    import psycopg2

    project, synth_schema = postgres_project
    run_end_to_end(project, "postgres", synth_schema, capsys)
    with psycopg2.connect(**PG) as conn:
        cur = conn.cursor()
        cur.execute(
            f"select count(*) from {synth_schema}.flights f left join "
            f"{synth_schema}.airports a on f.dest = a.code "
            "where f.dest is not null and a.code is null"
        )
        assert cur.fetchone()[0] == 0


# -- bad input: one readable error, non-zero exit, nothing written -------------------------


@pytest.fixture
def seeded_duckdb(duckdb_project):
    assert dbt(duckdb_project, "seed", target="duckdb").success
    return duckdb_project


def _synthetic_schema_exists(path: str) -> bool:
    con = duckdb.connect(path)
    try:
        rows = con.execute(
            "select count(*) from information_schema.schemata where schema_name = 'synthohive'"
        ).fetchone()
        return rows[0] > 0
    finally:
        con.close()


def test_unknown_select_is_one_error(seeded_duckdb, capsys):
    code = synthohive(seeded_duckdb, "fit", "--select", "source:nope.nothing", target="duckdb")
    assert code != 0
    assert "error:" in capsys.readouterr().err


def test_missing_target_is_one_error(seeded_duckdb, capsys):
    code = synthohive(seeded_duckdb, "inspect", target="no_such_target")
    assert code != 0
    err = capsys.readouterr().err
    assert "no_such_target" in err


def test_broken_yaml_is_one_error(seeded_duckdb, capsys):
    (seeded_duckdb / "models" / "broken.yml").write_text("version: 2\nsources: [\n")
    code = synthohive(seeded_duckdb, "inspect", target="duckdb")
    assert code != 0
    assert "error:" in capsys.readouterr().err


def test_unreachable_postgres_is_one_error(tmp_path, monkeypatch, capsys, dbt_project):
    monkeypatch.setenv("SYNTHOHIVE_IT_PG_HOST", "127.0.0.3")
    project = dbt_project(tmp_path)
    code = synthohive(project, "fit", target="postgres")
    assert code != 0
    assert "127.0.0.3" in capsys.readouterr().err


def test_validation_problems_reported_together_nothing_written(seeded_duckdb, tmp_path, capsys):
    bad = seeded_duckdb / "models" / "sources" / "bad.yml"
    bad.write_text(
        "version: 2\n"
        "sources:\n"
        "  - name: extra\n"
        "    schema: main_raw\n"
        "    tables:\n"
        "      - name: raw_items\n"
        "        identifier: raw_items\n"
        "        columns:\n"
        "          - name: order_id\n"
        "            data_tests:\n"
        "              - relationships:\n"
        "                  arguments: {to: \"source('jaffle_shop', 'raw_order')\", field: id}\n"
        "          - name: no_such_column\n"
        "            data_tests: [unique, not_null]\n"
    )
    code = synthohive(seeded_duckdb, "fit", "--select", "source:extra", target="duckdb")
    err = capsys.readouterr().err
    assert code != 0
    assert "raw_order" in err and "did you mean" in err
    assert not (seeded_duckdb / "target" / "synthohive" / "plan.json").exists()
    assert not _synthetic_schema_exists(os.environ["SYNTHOHIVE_IT_DUCKDB"])


def test_refuses_to_write_into_real_schema(seeded_duckdb, capsys):
    assert (
        synthohive(
            seeded_duckdb, "fit", "--model", "copula", "--select", "source:ops", target="duckdb"
        )
        == 0
    )
    code = synthohive(seeded_duckdb, "generate", "--schema", "main_ops", target="duckdb")
    assert code != 0
    assert "main_ops" in capsys.readouterr().err


def test_inspect_json_lists_keys_and_order(seeded_duckdb, capsys):
    import json

    assert synthohive(seeded_duckdb, "inspect", "--json", target="duckdb") == 0
    doc = json.loads(capsys.readouterr().out)
    names = doc["order"]
    assert names.index("airports") < names.index("flights") < names.index("flight_legs")
    flights = next(t for t in doc["tables"] if t["name"] == "flights")
    parents = sorted(fk["columns"][0] for fk in flights["foreign_keys"])
    assert parents == ["dest", "origin"]
    employees = next(t for t in doc["tables"] if t["name"] == "employees")
    assert any(fk["self_reference"] for fk in employees["foreign_keys"])


# -- generate: fidelity thresholds, exports, synthetic environment (issue 5) ---------------


@pytest.fixture(scope="module")
def fitted_base(tmp_path_factory, dbt_project):
    """integration_tests seeded and fitted on DuckDB once; tests work on copies."""
    base = tmp_path_factory.mktemp("fitted")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYNTHOHIVE_IT_DUCKDB", str(base / "it.duckdb"))
        project = dbt_project(base)
        assert dbt(project, "seed", target="duckdb").success
        assert synthohive(project, "fit", "--model", "copula", "--seed", "1", target="duckdb") == 0
    con = duckdb.connect(str(base / "it.duckdb"))
    try:  # fold the write-ahead log into the file, so that a copy of the file is complete
        con.execute("force checkpoint")
    finally:
        con.close()
    return base


@pytest.fixture
def fitted(fitted_base, tmp_path, monkeypatch):
    """A fitted copy: project (artifacts in target/synthohive), real DuckDB file, and the
    file of the `duckdb_synthetic` target."""
    shutil.copytree(
        fitted_base / "project",
        tmp_path / "project",
        symlinks=True,
        ignore=shutil.ignore_patterns("logs", "partial_parse.msgpack"),
    )
    shutil.copy(fitted_base / "it.duckdb", tmp_path / "it.duckdb")
    monkeypatch.setenv("SYNTHOHIVE_IT_DUCKDB", str(tmp_path / "it.duckdb"))
    monkeypatch.setenv("SYNTHOHIVE_IT_DUCKDB_SYNTH", str(tmp_path / "synth.duckdb"))
    return tmp_path / "project"


def _query(path: Path, sql: str):
    con = duckdb.connect(str(path))  # as dbt opened it: one configuration per file
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _fingerprint(path: Path) -> list:
    """Row count and a content hash of every table in a DuckDB file."""
    con = duckdb.connect(str(path))  # as dbt opened it: one configuration per file
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        return [
            (s, t, *con.execute(f'select count(*), sum(hash(x)) from "{s}"."{t}" x').fetchone())
            for s, t in tables
        ]
    finally:
        con.close()


def test_environment_duckdb(fitted, tmp_path, capsys):
    """The unchanged project builds and passes its own tests on synthetic data."""
    real_before = _fingerprint(tmp_path / "it.duckdb")
    code = synthohive(fitted, "generate", "--environment", "--seed", "2", target="duckdb_synthetic")
    out = capsys.readouterr().out
    assert code == 0
    assert "synth.main_ops.flights" in out and "synth.main_raw.raw_orders" in out
    # seeds are the real data in this project: `dbt build` must not load them here
    result = dbt(fitted, "build", "--exclude", "resource_type:seed", target="duckdb_synthetic")
    assert result.success, f"failing in the synthetic environment: {failing(result)}"
    ran = {r.node.name for r in result.result}
    assert {"flights_contract", "flight_legs_contract", "crew_assignments_contract"} <= ran
    assert {"stg_orders", "stg_customers"} <= ran
    assert any(
        r.node.resource_type == "test" and "source" in r.node.unique_id for r in result.result
    )
    assert len([r for r in result.result if r.node.resource_type == "test"]) >= 40
    uuids = "select customer_uuid from main_raw.raw_customers"
    synthetic = set(_query(tmp_path / "synth.duckdb", uuids))
    assert len(synthetic) == 300 and not synthetic & set(_query(tmp_path / "it.duckdb", uuids))
    assert _fingerprint(tmp_path / "it.duckdb") == real_before


def test_environment_refuses_the_real_target(fitted, tmp_path, capsys):
    before = _fingerprint(tmp_path / "it.duckdb")
    code = synthohive(fitted, "generate", "--environment", target="duckdb")
    err = capsys.readouterr().err
    assert code == 1
    assert "refusing" in err and "it.main_raw.raw_orders" in err
    assert "Traceback" not in err
    assert _fingerprint(tmp_path / "it.duckdb") == before


def test_python_models_duckdb(fitted, tmp_path, capsys):
    """`dbt build --select path:models/synthohive` samples every table in-process."""
    assert synthohive(fitted, "generate", "--as-python-models", "--seed", "2", target="duckdb") == 0
    assert "dbt build --select path:models/synthohive" in capsys.readouterr().out
    models = sorted(p.name for p in (fitted / "models" / "synthohive").iterdir())
    assert "synth_crew_assignments.py" in models and "_synthohive__models.yml" in models
    result = dbt(fitted, "build", "--select", "path:models/synthohive", target="duckdb")
    assert result.success, f"failing: {failing(result)}"
    assert len([r for r in result.result if r.node.resource_type == "test"]) >= 60
    db = tmp_path / "it.duckdb"
    assert _query(
        db,
        "select count(*) from main.synth_raw_orders o left join main.synth_raw_customers c "
        "on o.customer = c.id where c.id is null",
    ) == [(0,)]
    assert _query(
        db,
        "select count(*) from main.synth_crew_assignments c left join main.synth_flight_legs l "
        "using (flight_id, leg_no) where l.flight_id is null",
    ) == [(0,)]
    types = "select column_name, data_type from information_schema.columns where table_name = "
    assert _query(db, types + "'synth_flights' order by ordinal_position") == _query(
        db, types + "'flights' and table_schema = 'main_ops' order by ordinal_position"
    )


def test_seeds_duckdb(fitted, tmp_path, capsys):
    assert synthohive(fitted, "generate", "--as-seeds", "--seed", "2", target="duckdb") == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err  # 6.6k rows: under the slow-seed limit
    folder = fitted / "seeds" / "synthohive"
    assert (folder / "_synthohive__seeds.yml").is_file()
    assert (folder / "synth_raw_orders.csv").is_file()
    result = dbt(fitted, "build", "--select", "path:seeds/synthohive", target="duckdb")
    assert result.success, f"failing: {failing(result)}"
    types = "select column_name, data_type from information_schema.columns where table_name = "
    db = tmp_path / "it.duckdb"
    assert _query(db, types + "'synth_raw_orders' order by ordinal_position") == _query(
        db, types + "'raw_orders' and table_schema = 'main_raw' order by ordinal_position"
    )
    # a second export replaces our own files
    assert synthohive(fitted, "generate", "--as-seeds", "--seed", "3", target="duckdb") == 0


def test_thresholds_come_from_vars_and_bad_ones_write_nothing(fitted, tmp_path, capsys):
    yaml_file = fitted / "models" / "synthohive" / "_synthohive__sources.yml"
    bad = "{synthohive: {thresholds: {ks_distance: 1.5, row_count_ratio: [2, 1]}}}"
    code = synthohive(fitted, "generate", "--vars", bad, target="duckdb")
    err = capsys.readouterr().err
    assert code == 1
    assert "ks_distance must be a number between 0 and 1" in err
    assert "min 2 is greater than max 1" in err
    assert not yaml_file.exists()
    assert not _synthetic_schema_exists(str(tmp_path / "it.duckdb"))
    good = "{synthohive: {thresholds: {ks_distance: 0.25}, fidelity_severity: warn}}"
    assert synthohive(fitted, "generate", "--vars", good, target="duckdb") == 0
    text = yaml_file.read_text()
    assert "threshold: 0.25" in text and "severity: warn" in text
    # the per-table override in integration_tests/dbt_project.yml is applied too
    tables = yaml.safe_load(text)["sources"][0]["tables"]
    crew = next(t for t in tables if t["name"] == "crew_assignments")
    role = next(c for c in crew["columns"] if c["name"] == "role")
    tvd = next(t["synthohive.tvd"] for t in role["data_tests"] if "synthohive.tvd" in t)
    assert tvd["arguments"]["threshold"] == 0.4


def test_generated_files_never_replace_user_files(fitted, tmp_path, capsys):
    yaml_file = fitted / "models" / "synthohive" / "_synthohive__sources.yml"
    yaml_file.parent.mkdir(parents=True)
    yaml_file.write_text("version: 2\n# the user's own file\n")
    code = synthohive(fitted, "generate", target="duckdb")
    assert code == 1
    assert "not generated by synthohive-dbt" in capsys.readouterr().err
    assert yaml_file.read_text() == "version: 2\n# the user's own file\n"
    assert not _synthetic_schema_exists(str(tmp_path / "it.duckdb"))
    seeds = fitted / "seeds" / "synthohive"
    seeds.mkdir(parents=True)
    (seeds / "synth_airports.csv").write_text("code\nX\n")
    assert synthohive(fitted, "generate", "--as-seeds", target="duckdb") == 1
    assert "synth_airports.csv" in capsys.readouterr().err
    assert sorted(p.name for p in seeds.iterdir()) == ["synth_airports.csv"]


def test_project_without_a_profile_is_one_clean_error(tmp_path, monkeypatch, capsys, dbt_project):
    project = dbt_project(tmp_path, deps=False)
    (project / "profiles.yml").unlink()
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    code = cli.main(["generate", "--project", str(project), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: No profiles.yml found") and "--profiles-dir" in err
    assert "Traceback" not in err and "internal error" not in err


def test_autoregressive_is_the_default_model_end_to_end(seeded_duckdb, capsys):
    """`synthohive fit` without --model trains the autoregressive model (--precision
    reaches every table's model); generate + dbt test still pass."""
    ops = ["--select", "source:ops", "--precision", "float32"]
    assert synthohive(seeded_duckdb, "fit", *ops, "--epochs", "2", target="duckdb") == 0
    assert "with autoregressive" in capsys.readouterr().out
    plan = seeded_duckdb / "target" / "synthohive" / "plan.json"
    assert '"model": "autoregressive"' in plan.read_text()
    configs = [
        json.loads(doc.read_text())["meta"]["config"]
        for doc in plan.parent.glob("models/*/model.json")
    ]
    assert configs and all(c["precision"] == "float32" for c in configs)
    ops = ops[:2]
    assert synthohive(seeded_duckdb, "generate", *ops, "--seed", "3", target="duckdb") == 0
    result = dbt(
        seeded_duckdb,
        "test",
        "--select",
        "source:synthohive",
        "--exclude",
        "tag:synthohive_fidelity",
        target="duckdb",
    )
    failing = [r.node.name for r in result.result if str(r.status) != "pass"]
    assert result.success, f"failing structural tests: {failing}"


def test_generate_without_the_synthohive_package_is_one_error_and_writes_nothing(
    fitted, tmp_path, capsys
):
    """The generated YAML calls synthohive's tests: a project without the package is told
    the fix before anything is written; --no-yaml still writes the tables."""
    packages = fitted / "packages.yml"
    packages.write_text(
        "\n".join(line for line in packages.read_text().splitlines() if str(ROOT) not in line)
    )
    shutil.rmtree(fitted / "dbt_packages")
    assert dbt(fitted, "deps").success
    before = _fingerprint(tmp_path / "it.duckdb")
    capsys.readouterr()
    assert synthohive(fitted, "generate", "--schema", "synth_nopkg", target="duckdb") == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1
    assert "does not install the synthohive dbt package" in err
    assert "`synthohive init`" in err and "`dbt deps`" in err and "--no-yaml" in err
    assert _fingerprint(tmp_path / "it.duckdb") == before
    assert not (fitted / "models" / "synthohive" / "_synthohive__sources.yml").exists()
    code = synthohive(fitted, "generate", "--schema", "synth_nopkg", "--no-yaml", target="duckdb")
    assert code == 0
    tables = _query(
        tmp_path / "it.duckdb",
        "select count(*) from information_schema.tables where table_schema = 'synth_nopkg'",
    )
    assert tables == [(11,)]


# -- generated tests: pass on fresh synthetic data, fail on planted defects (issue 9) -------


def _execute_duckdb(db: Path):
    def execute(statements) -> None:
        con = duckdb.connect(str(db))
        try:
            for sql in statements:
                con.execute(sql)
        finally:
            con.close()

    return execute


def test_generated_tests_pass_and_catch_planted_defects(fitted, tmp_path, capsys):
    assert synthohive(fitted, "generate", "--seed", "2", target="duckdb") == 0
    text = (fitted / "models" / "synthohive" / "_synthohive__sources.yml").read_text()
    assert text.count("synthohive.no_real_row_copied") >= 1
    planted = planted_defects("synthohive", "main_ops")
    check_generated_tests(fitted, planted, _execute_duckdb(tmp_path / "it.duckdb"))


def test_inspect_check_data_lists_the_rules_found_in_the_data(seeded_duckdb, capsys):
    import json

    code = synthohive(seeded_duckdb, "inspect", "--check-data", "--json", target="duckdb")
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    orders = next(t for t in doc["tables"] if t["name"] == "raw_orders")
    rules = {r["rule"] for r in orders["rules"]["enforced"]}
    assert "order_total = subtotal + tax_paid" in rules  # holds on every real row
    assert synthohive(seeded_duckdb, "inspect", "--check-data", target="duckdb") == 0
    assert "order_total = subtotal + tax_paid" in capsys.readouterr().out
