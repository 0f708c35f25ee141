"""End to end on integration_tests/: dbt seed, synthohive fit + generate, dbt test.

Runs dbt for real (dbtRunner) on a DuckDB file and on the Postgres server.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import duckdb
import pytest
from dbt.cli.main import dbtRunner

from synthohive_dbt import cli

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.integration


def copy_project(dest: Path) -> Path:
    project = dest / "project"
    shutil.copytree(
        ROOT / "integration_tests",
        project,
        ignore=shutil.ignore_patterns("target", "dbt_packages", "logs", "*.duckdb"),
    )
    packages = project / "packages.yml"
    packages.write_text(packages.read_text().replace("local: ../", f"local: {ROOT}/", 1))
    return project


def dbt(project: Path, *args: str, target: str):
    result = dbtRunner().invoke(
        [*args, "--project-dir", str(project), "--profiles-dir", str(project),
         "--target", target, "--quiet"]
    )
    return result


def synthohive(project: Path, *args: str, target: str) -> int:
    command, *rest = args
    return cli.main(
        [command, "--project", str(project), "--profiles-dir", str(project),
         "--target", target, "--quiet", *rest]
    )


def run_end_to_end(project: Path, target: str, schema: str, capsys) -> None:
    assert dbt(project, "deps", target=target).success
    assert dbt(project, "seed", target=target).success
    assert synthohive(project, "fit", "--seed", "1", target=target) == 0
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
def duckdb_project(tmp_path, monkeypatch):
    project = copy_project(tmp_path)
    monkeypatch.setenv("SYNTHOHIVE_IT_DUCKDB", str(tmp_path / "it.duckdb"))
    return project


def test_end_to_end_duckdb(duckdb_project, tmp_path, capsys):
    run_end_to_end(duckdb_project, "duckdb", "synthohive", capsys)
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
        types = dict(con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'synthohive' and table_name = 'raw_orders'"
        ).fetchall())
        real_types = dict(con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'main_raw' and table_name = 'raw_orders'"
        ).fetchall())
        assert types == real_types
    finally:
        con.close()


@pytest.mark.postgres
def test_end_to_end_postgres(tmp_path, monkeypatch, capsys):
    import psycopg2

    base = f"it_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("SYNTHOHIVE_IT_PG_SCHEMA", base)
    project = copy_project(tmp_path)
    synth_schema = f"{base}_synth"
    try:
        run_end_to_end(project, "postgres", synth_schema, capsys)
        with psycopg2.connect(host="127.0.0.1", user="postgres", dbname="test") as conn:
            cur = conn.cursor()
            cur.execute(
                f"select count(*) from {synth_schema}.flights f left join "
                f"{synth_schema}.airports a on f.dest = a.code "
                "where f.dest is not null and a.code is null"
            )
            assert cur.fetchone()[0] == 0
    finally:
        with psycopg2.connect(host="127.0.0.1", user="postgres", dbname="test") as conn:
            conn.autocommit = True
            cur = conn.cursor()
            for schema in (base, f"{base}_raw", f"{base}_ops", synth_schema):
                cur.execute(f"drop schema if exists {schema} cascade")


# -- bad input: one readable error, non-zero exit, nothing written -------------------------


@pytest.fixture
def seeded_duckdb(duckdb_project):
    assert dbt(duckdb_project, "deps", target="duckdb").success
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


def test_unreachable_postgres_is_one_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SYNTHOHIVE_IT_PG_HOST", "127.0.0.3")
    project = copy_project(tmp_path)
    assert dbt(project, "deps", target="postgres").success
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
    assert synthohive(seeded_duckdb, "fit", "--select", "source:ops", target="duckdb") == 0
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
