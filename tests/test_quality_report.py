"""`synthohive report` end to end on integration_tests: DuckDB and Postgres, the JSON's
shape, the scores in the generated YAML, the gate's exit codes, refusals, and
`dbt run-operation synthesize` with `report: true`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import dbt, synthohive

from synthohive_dbt.errors import EmitError
from synthohive_dbt.quality.gate import GateSettings, apply_gate, gate_settings
from synthohive_dbt.quality.run import HTML_MARK

pytestmark = pytest.mark.integration

TABLES = 11  # integration_tests: ops (5) and jaffle_shop (6)


def fit_generate(project: Path, target: str, schema: str) -> None:
    assert dbt(project, "seed", target=target).success
    assert synthohive(project, "fit", "--model", "copula", "--seed", "1", target=target) == 0
    assert synthohive(project, "generate", "--schema", schema, "--seed", "2", target=target) == 0


def check_report(project: Path, schema: str, target: str, capsys) -> dict:
    capsys.readouterr()
    assert synthohive(project, "report", "--schema", schema, "--quiet", target=target) == 0
    out = capsys.readouterr().out
    assert out.startswith("quality score ")
    artifacts = project / "target" / "synthohive"
    report = json.loads((artifacts / "report.json").read_text())
    assert report["format_version"] == 1 and report["schema"] == schema
    assert len(report["tables"]) == TABLES
    assert 0 < report["overall"]["score"] <= 1
    scores = {t["name"]: t["score"] for t in report["tables"]}
    assert scores["raw_orders"] > 0.8 and scores["flights"] > 0.8  # the largest tables
    # keys are minted, names nearly unique: listed as unscored, with the reason
    unscored = {u["name"]: u["reason"] for u in report["tables"][0]["unscored"]}
    assert unscored["code"].startswith("key") and "unique" in unscored["name"]
    for table in report["tables"]:
        assert table["rows_real"] > 0 and table["rows_synthetic"] > 0
        assert table["score"] is None or 0 <= table["score"] <= 1
        assert table["integrity"] == {"duplicate_keys": 0, "null_keys": 0, "orphans": 0}
    relationships = [r for t in report["tables"] for r in t["relationships"]]
    assert relationships and all(r["orphans"] == 0 for r in relationships)
    assert report["gate"] == {"fail_under": None, "tables": {}, "passed": True, "failures": []}
    # the holdout privacy metrics of the generate, with their distance histograms
    histograms = [t["privacy"]["dcr_histogram"] for t in report["tables"] if t["privacy"]]
    assert histograms and all(h is None or len(h["edges"]) == 21 for h in histograms)
    drawn = [h for h in histograms if h]
    assert drawn and all(abs(sum(h["training"]) - 1) < 1e-9 for h in drawn)
    html = (artifacts / "report.html").read_text()
    assert "Distance of synthetic rows" in html
    assert html.startswith(HTML_MARK) and "<svg" in html and "Not scored" in html
    return report


def test_report_duckdb(tmp_path, monkeypatch, dbt_project, capsys):
    project = dbt_project(tmp_path)
    monkeypatch.setenv("SYNTHOHIVE_IT_DUCKDB", str(tmp_path / "it.duckdb"))
    fit_generate(project, "duckdb", "synthohive")
    report = check_report(project, "synthohive", "duckdb", capsys)

    # the scores are in the generated sources YAML, which dbt still parses
    sources = project / "models" / "synthohive" / "_synthohive__sources.yml"
    document = yaml.safe_load(sources.read_text())
    tables = {t["name"]: t for t in document["sources"][0]["tables"]}
    scores = {t["name"]: t["score"] for t in report["tables"]}
    for name, score in scores.items():
        meta = tables[name]["config"]["meta"]["synthohive"]
        assert meta["quality"]["score"] == score and meta["report"].endswith("report.html")
    assert "compare_model: \"source('ops', 'airports')\"" in sources.read_text()
    assert dbt(project, "parse", target="duckdb").success

    # the gate: overall and per table, exit 1 with every failure named
    capsys.readouterr()
    code = synthohive(project, "report", "--fail-under", "0.999", "--quiet", target="duckdb")
    err = capsys.readouterr().err
    assert code == 1 and "overall score" in err and "below 0.999" in err
    written = json.loads((project / "target/synthohive/report.json").read_text())
    assert written["gate"]["passed"] is False
    tables = "{airports: {fail_under: 0.9999}, nope: {fail_under: 0.1}}"
    vars_ = f"{{synthohive: {{report: {{tables: {tables}}}}}}}"
    code = synthohive(project, "report", "--vars", vars_, "--quiet", target="duckdb")
    err = capsys.readouterr().err
    assert code == 1 and "'airports' scores" in err and "'nope' has a threshold" in err

    # --select: the selected tables among the saved ones
    select = ("--select", "source:ops.flights", "source:ops.airports")
    assert synthohive(project, "report", *select, "--quiet", target="duckdb") == 0
    written = json.loads((project / "target/synthohive/report.json").read_text())
    assert [t["name"] for t in written["tables"]] == ["airports", "flights"]
    assert [r["fk"] for r in written["tables"][1]["relationships"]] == [
        "flights(dest) -> airports(code)", "flights(origin) -> airports(code)"
    ]  # fmt: skip

    # --sample-rows: both sides sampled in SQL, FK-closed: no sampled child row lost its
    # parent (samples drawn table by table would leave orphans), real row counts kept
    assert synthohive(project, "report", "--sample-rows", "40", "--quiet", target="duckdb") == 0
    small = json.loads((project / "target/synthohive/report.json").read_text())
    assert [(t["name"], t["rows_real"], t["rows_synthetic"]) for t in small["tables"]] == [
        (t["name"], t["rows_real"], t["rows_synthetic"]) for t in report["tables"]
    ]
    assert max(t["rows_real"] for t in small["tables"]) > 40
    assert all(t["integrity"]["orphans"] == 0 for t in small["tables"])
    assert all(r["orphans"] == 0 for t in small["tables"] for r in t["relationships"])

    # a file the report did not write is never replaced; nothing is written
    mine = tmp_path / "mine.html"
    mine.write_text("<p>my notes</p>")
    before = (project / "target/synthohive/report.json").read_text()
    code = synthohive(project, "report", "--output", str(mine), "--quiet", target="duckdb")
    assert code == 1 and "was not written by `synthohive report`" in capsys.readouterr().err
    assert mine.read_text() == "<p>my notes</p>"
    assert (project / "target/synthohive/report.json").read_text() == before

    # a schema without the synthetic tables: one error naming them
    code = synthohive(project, "report", "--schema", "nothing_here", "--quiet", target="duckdb")
    err = capsys.readouterr().err
    assert code == 1 and "run `synthohive generate`" in err


@pytest.mark.postgres
def test_report_postgres(postgres_project, capsys):
    project, synth = postgres_project
    fit_generate(project, "postgres", synth)
    check_report(project, synth, "postgres", capsys)


def test_run_operation_writes_the_report(tmp_path, monkeypatch, dbt_project):
    project = dbt_project(tmp_path)
    monkeypatch.setenv("SYNTHOHIVE_IT_DUCKDB", str(tmp_path / "it.duckdb"))
    assert dbt(project, "seed", target="duckdb").success
    args = '{select: "source:ops", model: copula, report: true}'
    result = dbt(project, "run-operation", "synthesize", "--args", args, target="duckdb")
    assert result.success, result.exception
    report = json.loads((project / "target/synthohive/report.json").read_text())
    assert {t["name"] for t in report["tables"]} == {
        "airports", "employees", "flights", "flight_legs", "crew_assignments"
    }  # fmt: skip
    assert (project / "target/synthohive/report.html").read_text().startswith(HTML_MARK)


def test_gate_settings_and_outcome():
    report = {"overall": {"score": 0.8}, "tables": [{"name": "a", "score": 0.7}]}
    assert apply_gate(report, GateSettings())["passed"]
    outcome = apply_gate(report, gate_settings({"report": {"fail_under": 0.9}}))
    assert not outcome["passed"] and outcome["failures"] == ["overall score 0.800 is below 0.9"]
    outcome = apply_gate(report, gate_settings({"report": {"tables": {"a": {"fail_under": 0.75}}}}))
    assert outcome["failures"] == ["table 'a' scores 0.700, below 0.75"]
    assert apply_gate(report, gate_settings({"report": {"fail_under": 0.9}}, 0.5))["passed"]
    with pytest.raises(EmitError) as info:
        gate_settings({"report": {"fail_under": 2, "tabels": {}, "tables": {"a": 0.5}}})
    assert len(info.value.problems) == 3
