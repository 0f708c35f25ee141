"""The synthohive generic tests (macros/fidelity, macros/generic_tests), run by dbt for real.

On a copy of integration_tests/ per warehouse (DuckDB file, Postgres schema): load
seeds/fidelity, run the tests tagged fidelity_good (each must pass) and fidelity_broken (each
must fail, not error), then run each failing test's compiled SQL to check the measured
statistic against a Python reference computed from the CSVs. Arguments out of range must stop
`dbt parse` with a compiler error that names the test and the argument.
"""

from __future__ import annotations

import os
import textwrap
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from dbt.cli.main import dbtRunnerResult
from helpers import ROOT, dbt
from scipy.stats import ks_2samp

SEEDS = ROOT / "integration_tests" / "seeds" / "fidelity"

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GOOD = {
    "good_ks_distance_amount",
    "good_ks_distance_score",
    "good_ks_distance_signup_date",
    "good_ks_distance_created_at",
    "good_tvd_segment",
    "good_null_rate_difference_score",
    "good_null_rate_difference_segment",
    "good_correlation_difference",
    "good_children_per_parent_distance",
    "good_row_count_ratio",
    "good_no_real_row_copied",
    "good_unique_combination_of_columns",
    "good_relationships_composite",
}
STATISTIC_TESTS = {
    "broken_ks_distance_amount",
    "broken_ks_distance_signup_date",
    "broken_ks_distance_created_at",
    "broken_tvd_segment",
    "broken_null_rate_difference_score",
    "broken_correlation_difference",
    "broken_children_per_parent_distance",
    "broken_row_count_ratio",
    "broken_ks_distance_empty",
    "broken_tvd_empty",
    "broken_null_rate_difference_empty",
    "broken_correlation_difference_one_row",
}
ROW_TESTS = {
    "broken_no_real_row_copied",
    "broken_unique_combination_of_columns",
    "broken_relationships_composite",
}
BROKEN = STATISTIC_TESTS | ROW_TESTS


# -- reference values from the CSVs ---------------------------------------------------------


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(SEEDS / f"{name}.csv")


def _ks(a: pd.Series, b: pd.Series) -> float:
    return float(ks_2samp(a.dropna(), b.dropna()).statistic)


def _epoch(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.dropna()).astype("int64")


def _children_per_parent(kind: str) -> np.ndarray:
    parents = _csv(f"fid_parent_{kind}")
    children = _csv(f"fid_child_{kind}")
    counts = children["parent_id"].dropna().astype(int).value_counts()
    return counts.reindex(parents["parent_id"], fill_value=0).to_numpy()


def reference_statistics() -> dict[str, float | None]:
    """What each broken test must measure, computed with pandas/scipy. The edge cases: an
    empty synthetic side gives 1, a correlation defined on one side only gives NULL."""
    real, broken = _csv("fid_real"), _csv("fid_broken")
    share_b = broken["segment"].fillna("<null>").value_counts(normalize=True)
    share_r = real["segment"].fillna("<null>").value_counts(normalize=True)
    corr_b = broken[["amount", "score"]].corr().iloc[0, 1]
    corr_r = real[["amount", "score"]].corr().iloc[0, 1]
    return {
        "broken_ks_distance_amount": _ks(broken["amount"], real["amount"]),
        "broken_ks_distance_signup_date": _ks(
            _epoch(broken["signup_date"]), _epoch(real["signup_date"])
        ),
        "broken_ks_distance_created_at": _ks(
            _epoch(broken["created_at"]), _epoch(real["created_at"])
        ),
        "broken_tvd_segment": 0.5 * float(share_b.sub(share_r, fill_value=0).abs().sum()),
        "broken_null_rate_difference_score": abs(
            broken["score"].isna().mean() - real["score"].isna().mean()
        ),
        "broken_correlation_difference": abs(corr_b - corr_r),
        "broken_children_per_parent_distance": float(
            ks_2samp(_children_per_parent("broken"), _children_per_parent("real")).statistic
        ),
        "broken_row_count_ratio": len(broken) / len(real),
        "broken_ks_distance_empty": 1.0,
        "broken_tvd_empty": 1.0,
        "broken_null_rate_difference_empty": 1.0,
        "broken_correlation_difference_one_row": None,
    }


def reference_rows() -> dict[str, set[tuple[Any, ...]]]:
    """The rows each row-returning broken test must return (compared as strings)."""
    cols = ["amount", "score", "signup_date", "segment"]
    real, broken = _csv("fid_real").dropna(subset=cols), _csv("fid_broken").dropna(subset=cols)
    copied = broken.merge(real[cols].drop_duplicates(), on=cols)[cols]
    legs = _csv("fid_legs_duplicated")
    dup = legs.groupby(["flight_id", "leg_no"]).size().reset_index(name="n_rows")
    events = _csv("fid_leg_events_orphaned").dropna(subset=["flight_id", "leg_no"])
    keys = set(_csv("fid_legs")[["flight_id", "leg_no"]].itertuples(index=False, name=None))
    orphans = {
        (int(f), int(g)) for f, g in events[["flight_id", "leg_no"]].itertuples(index=False)
    } - keys
    return {
        "broken_no_real_row_copied": _as_strings(copied.itertuples(index=False)),
        "broken_unique_combination_of_columns": _as_strings(
            dup[dup["n_rows"] > 1].itertuples(index=False)
        ),
        "broken_relationships_composite": _as_strings(orphans),
    }


def _as_strings(rows) -> set[tuple[str, ...]]:
    def text(value: Any) -> str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)

    return {tuple(text(v) for v in row) for row in rows}


# -- running dbt on a copy of integration_tests ---------------------------------------------


@contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass(frozen=True)
class Outcome:
    """One test's result: dbt's status and, for failures, the rows its SQL returns."""

    status: str
    failures: int | None
    columns: list[str]
    rows: list[tuple[Any, ...]]


Query = Callable[[str], tuple[list[str], list[tuple[Any, ...]]]]


def run_fidelity(project: Path, target: str, query: Query) -> dict[str, Outcome]:
    """dbt seed, then one dbt test over both tags (one parse fewer than two invocations)."""
    seeded = dbt(project, "seed", "--select", "path:seeds/fidelity", target=target)
    assert seeded.success, seeded.exception
    result = dbt(
        project, "test", "--select", "tag:fidelity_good", "tag:fidelity_broken", target=target
    )
    assert result.result is not None, result.exception
    outcomes: dict[str, Outcome] = {}
    for r in result.result:
        columns, rows = [], []
        if str(r.status) == "fail":
            columns, rows = query(r.node.compiled_code)
        outcomes[r.node.name] = Outcome(str(r.status), r.failures, columns, rows)
    return outcomes


@dataclass(frozen=True)
class Copy:
    project: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def duckdb_copy(tmp_path_factory, dbt_project) -> Copy:
    tmp = tmp_path_factory.mktemp("fidelity_duckdb")
    env = {"SYNTHOHIVE_IT_DUCKDB": str(tmp / "fidelity.duckdb"), "DO_NOT_TRACK": "1"}
    return Copy(dbt_project(tmp), env)


@pytest.fixture(scope="module")
def duckdb_outcomes(duckdb_copy) -> dict[str, Outcome]:
    import duckdb

    def query(sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        con = duckdb.connect(duckdb_copy.env["SYNTHOHIVE_IT_DUCKDB"])
        try:
            cursor = con.execute(sql)
            return [d[0] for d in cursor.description], cursor.fetchall()
        finally:
            con.close()

    with environment(**duckdb_copy.env):
        return run_fidelity(duckdb_copy.project, "duckdb", query)


@pytest.fixture(scope="module")
def postgres_outcomes(
    tmp_path_factory, dbt_project, postgres_server
) -> Iterator[dict[str, Outcome]]:
    import psycopg2

    schema = f"fid_{uuid.uuid4().hex[:8]}"  # the seeds land in the target schema
    project = dbt_project(tmp_path_factory.mktemp("fidelity_postgres"))

    def query(sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        with psycopg2.connect(**postgres_server) as conn, conn.cursor() as cursor:
            cursor.execute(sql)
            return [d[0] for d in cursor.description], cursor.fetchall()

    try:
        with environment(SYNTHOHIVE_IT_PG_SCHEMA=schema, DO_NOT_TRACK="1"):
            outcomes = run_fidelity(project, "postgres", query)
        yield outcomes
    finally:
        conn = psycopg2.connect(**postgres_server)
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f"drop schema if exists {schema} cascade")
        conn.close()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def outcomes(request) -> dict[str, Outcome]:
    return request.getfixturevalue(f"{request.param}_outcomes")


# -- good data passes, broken data fails ----------------------------------------------------


def test_seeds_are_small():
    assert sum(f.stat().st_size for f in SEEDS.glob("*.csv")) < 100_000


def test_every_good_test_passes(outcomes):
    assert {n for n in outcomes if n.startswith("good_")} == GOOD
    failing = {n: o.status for n, o in outcomes.items() if n in GOOD and o.status != "pass"}
    assert not failing


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_test_fails(outcomes, name):
    outcome = outcomes[name]
    assert outcome.status == "fail"  # not "error": the SQL ran and returned rows
    assert outcome.failures and outcome.failures == len(outcome.rows)


@pytest.mark.parametrize("name", sorted(STATISTIC_TESTS))
def test_failure_row_reports_the_statistic(outcomes, name):
    outcome = outcomes[name]
    assert len(outcome.rows) == 1
    row = dict(zip(outcome.columns, outcome.rows[0], strict=True))
    expected = reference_statistics()[name]
    if expected is None:
        assert row["statistic"] is None
        return
    assert float(row["statistic"]) == pytest.approx(expected, abs=1e-9)
    if "threshold" in row:
        assert float(row["statistic"]) > float(row["threshold"])
    else:  # row_count_ratio
        assert not float(row["min_ratio"]) <= float(row["statistic"]) <= float(row["max_ratio"])


@pytest.mark.parametrize("name", sorted(ROW_TESTS))
def test_failure_rows_are_the_offending_rows(outcomes, name):
    assert _as_strings(outcomes[name].rows) == reference_rows()[name]


def test_good_data_is_within_default_thresholds():
    """The seeds themselves: good data well inside the thresholds the YAML uses."""
    real, good = _csv("fid_real"), _csv("fid_good")
    assert _ks(good["amount"], real["amount"]) < 0.1
    assert _ks(_epoch(good["signup_date"]), _epoch(real["signup_date"])) < 0.1
    assert abs(good["score"].isna().mean() - real["score"].isna().mean()) < 0.05
    assert (
        float(ks_2samp(_children_per_parent("good"), _children_per_parent("real")).statistic) < 0.1
    )


# -- arguments out of range stop dbt parse ----------------------------------------------------

REAL = "compare_model: \"ref('fid_real')\""
RANGE = "threshold must be a number between"
INVALID = [
    ("ks_distance", "columns/amount", f"{{{REAL}, threshold: 1.5}}",
     f"synthohive.ks_distance: {RANGE} 0 and 1, got 1.5"),
    ("tvd", "columns/segment", f"{{{REAL}, threshold: -0.1}}",
     f"synthohive.tvd: {RANGE} 0 and 1, got -0.1"),
    ("null_rate_difference", "columns/score", f"{{{REAL}, threshold: high}}",
     f'synthohive.null_rate_difference: {RANGE} 0 and 1, got "high"'),
    ("correlation_difference", "table", f"{{pairs: [[amount, score]], {REAL}, threshold: 2.5}}",
     f"synthohive.correlation_difference: {RANGE} 0 and 2, got 2.5"),
    ("correlation_difference", "table", f"{{pairs: [amount, score], {REAL}}}",
     "synthohive.correlation_difference: pairs must be a non-empty list of [column_a, column_b]"),
    ("children_per_parent_distance", "columns/id",
     "{parent_model: \"ref('fid_parent_real')\", parent_field: parent_id, compare_model: "
     "\"ref('fid_child_real')\", compare_parent_model: \"ref('fid_parent_real')\", threshold: 1.2}",
     f"synthohive.children_per_parent_distance: {RANGE} 0 and 1, got 1.2"),
    ("row_count_ratio", "table", f"{{{REAL}, min_ratio: 3, max_ratio: 2}}",
     "synthohive.row_count_ratio: min_ratio (3) must not be greater than max_ratio (2)"),
    ("row_count_ratio", "table", f"{{{REAL}, min_ratio: -1}}",
     "synthohive.row_count_ratio: min_ratio must be a number >= 0, got -1"),
    ("no_real_row_copied", "table", f"{{{REAL}, columns: amount}}",
     "synthohive.no_real_row_copied: columns must be a non-empty list of column names"),
    ("unique_combination_of_columns", "table", "{combination_of_columns: 'id, amount'}",
     "synthohive.unique_combination_of_columns: combination_of_columns must be a non-empty list"),
    ("relationships_composite", "table",
     "{columns: [id, amount], to: \"ref('fid_real')\", fields: [id]}",
     'synthohive.relationships_composite: columns ["id", "amount"] and fields ["id"] must have'),
]  # fmt: skip


@pytest.fixture(scope="module")
def parse_project(duckdb_copy, duckdb_outcomes) -> Iterator[Callable[[str], dbtRunnerResult]]:
    """Parses the DuckDB copy with _fidelity.yml replaced. It runs after the fidelity tests
    there, so each parse is a partial parse of one file."""
    yml = duckdb_copy.project / "models" / "fidelity" / "_fidelity.yml"
    original = yml.read_text()

    def parse(text: str) -> dbtRunnerResult:
        yml.write_text(text)
        with environment(**duckdb_copy.env):
            return dbt(duckdb_copy.project, "parse", target="duckdb")

    yield parse
    yml.write_text(original)


def invalid_yaml(test: str, attach: str, arguments: str) -> str:
    """fid_good with one synthohive test, on the seed ("table") or on a column."""
    call = f"- synthohive.{test}:\n    arguments: {arguments}\n"
    if attach == "table":
        tests = "data_tests:\n" + textwrap.indent(call, "  ")
    else:
        column = attach.removeprefix("columns/")
        tests = f"columns:\n  - name: {column}\n    data_tests:\n" + textwrap.indent(call, "      ")
    return "version: 2\nseeds:\n  - name: fid_good\n" + textwrap.indent(tests, "    ")


@pytest.mark.parametrize(
    ("test", "attach", "arguments", "message"),
    INVALID,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(INVALID)],
)
def test_invalid_argument_is_a_compiler_error(parse_project, test, attach, arguments, message):
    result = parse_project(invalid_yaml(test, attach, arguments))
    assert not result.success
    assert "Compilation Error" in str(result.exception)
    assert message in str(result.exception)
