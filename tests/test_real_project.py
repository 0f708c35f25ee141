"""Acceptance on a realistic project: integration_tests/jaffle_real (issue 9).

Six raw sources without keys or tests; staging models that call macros (the project's
``cents_to_dollars``, ``dbt.date_trunc``, ``dbt_utils.generate_surrogate_key``); 22
models; keys, relationships, accepted values and ranges and ``order_total = subtotal +
tax_paid`` declared on staging and mart models only. With default settings:

- ``fit`` on the real target, ``generate --environment`` into the synthetic target, and
  the project's own ``dbt build`` there passes every node that passes on the real data,
  with no failure and no skip;
- ``generate`` into a schema and ``dbt test --select source:synthohive`` passes.

Runs dbt and synthohive in-process on DuckDB files and on the Postgres server. Fitting
the default CTGAN on these 3,426 rows takes about two minutes on two cores, once per
warehouse (module-scoped fixtures).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import dbt, jaffle_real, synthohive

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N_ITEMS = 2_000  # rows of raw_items; the other tables follow (load_raw.make_raw)
OK = {"success", "pass"}  # a model that built, a test that passed
SOURCES = ("raw_customers", "raw_stores", "raw_products", "raw_supplies", "raw_orders", "raw_items")


@dataclass(frozen=True)
class Fitted:
    """A copy of jaffle_real with real raw data, built and fitted on ``target``."""

    project: Path
    target: str
    synthetic_target: str
    generated_schema: str  # for `generate` without --environment
    real_build: dict[str, tuple[str, str]]


def build(project: Path, target: str) -> dict[str, tuple[str, str]]:
    """``dbt build`` on ``target``: unique_id -> (status, message) of every node it ran."""
    result = dbt(project, "build", target=target)
    assert result.result is not None, f"dbt build --target {target}: {result.exception}"
    return {r.node.unique_id: (str(r.status), r.message or "") for r in result.result}


def source_rows(project: Path, target: str) -> dict[str, int]:
    """Rows of each raw source as it resolves under ``target`` (dbt show: any warehouse)."""
    counts = " union all ".join(
        f"select '{name}' as name, count(*) as n from {{{{ source('ecom', '{name}') }}}}"
        for name in SOURCES
    )
    result = dbt(project, "show", "--inline", counts, "--limit", "-1", target=target)
    assert result.success, result.exception
    return {row[0]: int(row[1]) for row in result.result.results[0].agate_table.rows}


def describe(outcome: dict[str, tuple[str, str]]) -> str:
    counts = Counter(status for status, _ in outcome.values())
    lines = [f"{len(outcome)} nodes: {dict(sorted(counts.items()))}"]
    lines += [
        f"  {status}: {node}  {message}".rstrip()
        for node, (status, message) in sorted(outcome.items())
        if status not in OK
    ]
    return "\n".join(lines)


def fit(project: Path, target: str, synthetic_target: str, generated_schema: str) -> Fitted:
    real = build(project, target)
    # the loader's data and the project agree: every node passes on the real data
    assert all(status in OK for status, _ in real.values()), describe(real)
    assert synthohive(project, "fit", target=target) == 0
    return Fitted(project, target, synthetic_target, generated_schema, real)


def check_environment(fitted: Fitted) -> None:
    code = synthohive(fitted.project, "generate", "--environment", target=fitted.synthetic_target)
    assert code == 0
    # at --scale 1 every table keeps its real size: the build below runs on real volumes
    real_rows = source_rows(fitted.project, fitted.target)
    assert source_rows(fitted.project, fitted.synthetic_target) == real_rows
    synthetic = build(fitted.project, fitted.synthetic_target)
    passing_real = {node for node, (status, _) in fitted.real_build.items() if status in OK}
    passing = {node for node, (status, _) in synthetic.items() if status in OK}
    assert passing_real <= passing and passing == set(synthetic), (
        f"real: {describe(fitted.real_build)}\nsynthetic: {describe(synthetic)}"
    )


def check_generated_tests(fitted: Fitted) -> None:
    yaml_file = fitted.project / "models" / "synthohive" / "_synthohive__sources.yml"
    try:
        schema = fitted.generated_schema
        assert synthohive(fitted.project, "generate", "--schema", schema, target=fitted.target) == 0
        result = dbt(fitted.project, "test", "--select", "source:synthohive", target=fitted.target)
        assert result.result is not None, result.exception
        outcome = {r.node.unique_id: (str(r.status), r.message or "") for r in result.result}
        assert result.success and outcome, describe(outcome)
    finally:
        # the project's own `dbt build` must not pick up tests of the generated source
        yaml_file.unlink(missing_ok=True)


# -- DuckDB ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_duckdb(tmp_path_factory, dbt_project) -> Iterator[Fitted]:
    raw = jaffle_real()
    tmp = tmp_path_factory.mktemp("jaffle_real_duckdb")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SYNTHOHIVE_JR_DUCKDB", str(tmp / "real.duckdb"))
        env.setenv("SYNTHOHIVE_JR_DUCKDB_SYNTH", str(tmp / "synthetic.duckdb"))
        project = dbt_project(tmp, "jaffle_real")
        raw.write_duckdb(tmp / "real.duckdb", "main_raw", raw.make_raw(N_ITEMS))
        yield fit(project, "duckdb", "duckdb_synthetic", "synthohive")


def test_synthetic_environment_builds_like_real_duckdb(fitted_duckdb):
    check_environment(fitted_duckdb)


def test_generated_source_tests_pass_duckdb(fitted_duckdb):
    check_generated_tests(fitted_duckdb)


# -- Postgres ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted_postgres(tmp_path_factory, dbt_project, postgres_server) -> Iterator[Fitted]:
    import psycopg2

    raw = jaffle_real()
    tmp = tmp_path_factory.mktemp("jaffle_real_postgres")
    base = f"jr_{uuid.uuid4().hex[:8]}"
    # models in base, sources in base_raw; the synthetic target's in base_synth(_raw)
    schemas = [base, f"{base}_raw", f"{base}_synth", f"{base}_synth_raw", f"{base}_synthohive"]
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("SYNTHOHIVE_JR_PG_SCHEMA", base)
            env.setenv("SYNTHOHIVE_JR_PG_SCHEMA_SYNTH", f"{base}_synth")
            project = dbt_project(tmp, "jaffle_real")
            raw.write_postgres(f"{base}_raw", raw.make_raw(N_ITEMS))
            yield fit(project, "postgres", "postgres_synthetic", f"{base}_synthohive")
    finally:
        conn = psycopg2.connect(**postgres_server)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                for schema in schemas:
                    cur.execute(f"drop schema if exists {schema} cascade")
        finally:
            conn.close()


@pytest.mark.postgres
def test_synthetic_environment_builds_like_real_postgres(fitted_postgres):
    check_environment(fitted_postgres)


@pytest.mark.postgres
def test_generated_source_tests_pass_postgres(fitted_postgres):
    check_generated_tests(fitted_postgres)
