"""End to end on BigQuery: integration_tests/ through dbt-bigquery against bqemulator.

``dbt seed``, ``synthohive inspect``, ``fit``, ``generate`` (staged load, atomic replace),
``generate --environment``, the generated tests under ``dbt test --select
source:synthohive`` (passing on fresh synthetic data, failing on planted defects), the
fidelity macros' own proof (``tag:fidelity_good`` passes, ``tag:fidelity_broken`` fails),
``dbt run-operation synthesize``, the in-warehouse sample (``--sample-rows`` keeps the rows
DuckDB keeps) and ``report``, all in-process. The emulator runs from its own virtual
environment (scripts/emulators.sh) on a free port; dbt-bigquery and the synthohive backend
find it through ``BIGQUERY_EMULATOR_HOST``.

What the project needs on any BigQuery (no emulator difference): the seeds'
``column_types`` of integration_tests/dbt_project.yml and its contracts' ``data_type`` are
spelled for DuckDB and Postgres (``text``, ``uuid``, ``double precision``, ``numeric(10,2)``,
``timestamp`` for a time without zone); BigQuery names its types differently (a time without
zone is DATETIME) and a load job's schema takes no type parameters, so the copy tested here
declares BigQuery's types (``bigquery_types``). UPDATE needs a WHERE clause and a FLOAT64
does not assign to a NUMERIC column, so the planted shift of ``flights.fare`` is spelled for
BigQuery. The client retries connection errors for ten minutes by default, against any
server: ``bounded_client_retries`` and the profile's job deadlines make a dead emulator fail
a test within a minute.

Where bqemulator 1.4.0 differs from BigQuery, the product keeps BigQuery's documented
behaviour and the difference is isolated here (tests/test_warehouse_bigquery.py lists those
of the backend's own statements):

- dbt-bigquery's DDL for a model with an enforced contract, ``create or replace table t
  (columns, primary key (...) not enforced, foreign key ... not enforced) options() as
  (query)``, is a parse error twice over: ``not enforced`` (BigQuery's only form of key
  constraints) and a parenthesized query after a column list. ``contract_ddl_rewritten``
  removes both from the SQL dbt-bigquery sends (the emulator ignores the column list anyway).
- ``select as struct`` over an ordered ``string_agg`` is translated wrongly (a parse error in
  DuckDB): ``fingerprint`` selects plain columns.
- ``(a, b) in (select x, y ...)`` runs, where BigQuery's IN takes a subquery of one column:
  the sample sends the struct form BigQuery documents, ``(a, b) in (select (x, y) ...)``,
  which the emulator runs too, so a test checks that SQL itself.
- ``cast(x as string)`` of a NUMERIC pads it to the emulator's own scale (``210.200``, where
  BigQuery writes ``210.2``): the sample is compared with DuckDB's on integer and text keys,
  whose text BigQuery documents alike (``DIALECT`` in synthohive_dbt/warehouse/bigquery.py
  lists the key types whose text differs from DuckDB's and Postgres's).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import jinja2
import pytest
import yaml
from helpers import (
    INT,
    ORIGIN,
    check_generated_tests,
    check_sample_matches_duckdb,
    check_sampled_fit_and_report,
    dbt,
    failing,
    graph_from,
    planted_defects,
    seed_and_fit,
    synthohive,
)
from helpers import table as source_table

from synthohive_dbt.schema import ForeignKey
from synthohive_dbt.warehouse.bigquery import BigQueryWarehouse
from synthohive_dbt.warehouse.sampling import plan_sample
from tests.emulators import BQEMULATOR_PROJECT, free_port, start_bqemulator

bigquery = pytest.importorskip(
    "google.cloud.bigquery", reason="google-cloud-bigquery is not installed in .venv"
)
pytest.importorskip("dbt.adapters.bigquery", reason="dbt-bigquery is not installed in .venv")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.bigquery,
    # query results come over REST without google-cloud-bigquery-storage; that is fine here
    pytest.mark.filterwarnings("ignore:BigQuery Storage module not found"),
]

TARGET, SYNTHETIC_TARGET = "bigquery", "bigquery_synthetic"
REAL_DATASETS = ("it_raw", "it_ops")  # the seeds: <profile dataset>_raw and _ops
OPS_TABLES = {"airports", "employees", "flights", "flight_legs", "crew_assignments"}
#: (child, fk, parent, pk) of the ops tables, for orphan counts
OPS_FKS = [
    ("flights", "origin", "airports", "code"),
    ("flights", "dest", "airports", "code"),
    ("flight_legs", "flight_id", "flights", "flight_id"),
    ("crew_assignments", "employee_id", "employees", "employee_id"),
]
CALL_TIMEOUT_S = 60.0
SOURCES_YAML = Path("models", "synthohive", "_synthohive__sources.yml")

#: the column types of integration_tests, as BigQuery spells them
BIGQUERY_TYPES = {
    "text": "string",
    "uuid": "string",  # BigQuery has no UUID type
    "integer": "int64",
    "double precision": "float64",
    "boolean": "bool",
    "date": "date",
    "timestamp": "datetime",  # without a time zone: DATETIME (BigQuery's TIMESTAMP has one)
    "timestamp with time zone": "timestamp",
    "numeric(6,4)": "numeric",  # a load job's schema takes no type parameters
    "numeric(10,2)": "numeric",
}


def bigquery_spelling(declared: str) -> str:
    """A column type of integration_tests in BigQuery's name (Jinja rendered for a BigQuery
    target first)."""
    rendered = jinja2.Template(declared).render(target={"type": "bigquery"}).strip()
    return BIGQUERY_TYPES[rendered.lower()]


def bigquery_types(project: Path) -> None:
    """Spell the seeds' ``column_types`` and the contracts' ``data_type`` of ``project``
    (a copy of integration_tests) in BigQuery's names."""
    path = project / "dbt_project.yml"
    doc = yaml.safe_load(path.read_text())

    def walk(node):
        if not isinstance(node, dict):
            return node
        return {
            k: {c: bigquery_spelling(t) for c, t in v.items()} if k == "+column_types" else walk(v)
            for k, v in node.items()
        }

    doc["seeds"] = walk(doc["seeds"])
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    path = project / "models" / "contracts" / "_contracts.yml"
    doc = yaml.safe_load(path.read_text())
    for model in doc["models"]:
        for column in model["columns"]:
            column["data_type"] = bigquery_spelling(column["data_type"])
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


# -- the emulator ----------------------------------------------------------------------------

_CONTRACT_DDL = re.compile(r"create\s+or\s+replace\s+table\s+\S+\s*\(", re.I)
_NOT_ENFORCED = re.compile(r"\s+not\s+enforced\b", re.I)
_PARENTHESIZED_QUERY = re.compile(r"\bas\s*\((?P<query>.*)\)\s*;?\s*$", re.I | re.S)


def contract_ddl_for_bqemulator(sql: str) -> str:
    """dbt-bigquery's DDL of a model with an enforced contract, ``create or replace table t
    (columns ... primary key ... not enforced) options() as (query)``, in a form bqemulator
    parses: without ``not enforced`` and without the parentheses around the query. Other
    SQL is returned as it is."""
    if not _CONTRACT_DDL.search(sql):
        return sql
    sql = _NOT_ENFORCED.sub("", sql)
    return _PARENTHESIZED_QUERY.sub(lambda m: "as " + m["query"], sql, count=1)


def contract_ddl_rewritten(mp: pytest.MonkeyPatch) -> None:
    """Every query dbt-bigquery sends goes through ``contract_ddl_for_bqemulator``."""
    from dbt.adapters.bigquery.connections import BigQueryConnectionManager

    original = BigQueryConnectionManager.raw_execute

    def raw_execute(self, sql, *args, **kwargs):
        return original(self, contract_ddl_for_bqemulator(sql), *args, **kwargs)

    mp.setattr(BigQueryConnectionManager, "raw_execute", raw_execute)


def bounded_client_retries(mp: pytest.MonkeyPatch, seconds: float = CALL_TIMEOUT_S) -> None:
    """The client's default retry objects (the defaults of every call the product and
    dbt-bigquery make) give up after ``seconds`` instead of ten minutes."""
    from google.cloud.bigquery import retry

    for default in (retry.DEFAULT_RETRY, retry.DEFAULT_JOB_RETRY):
        mp.setattr(default, "_timeout", seconds)
        mp.setattr(default, "_deadline", seconds)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_bqemulator(tmp_path_factory.mktemp("bqemulator"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def emulator_host(server) -> Iterator[str]:
    """``BIGQUERY_EMULATOR_HOST`` for the module, retries bounded, dbt-bigquery's contract
    DDL rewritten for bqemulator."""
    host = f"http://127.0.0.1:{server.port}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGQUERY_EMULATOR_HOST", host)
        bounded_client_retries(mp)
        contract_ddl_rewritten(mp)
        yield host


@pytest.fixture(scope="module")
def client(emulator_host):
    """A client of the emulator for the tests' own queries (no credentials needed)."""
    from google.auth.credentials import AnonymousCredentials

    c = bigquery.Client(project=BQEMULATOR_PROJECT, credentials=AnonymousCredentials())
    yield c
    c.close()


# -- the tests' own queries ------------------------------------------------------------------


def rows(client, sql: str) -> list[tuple]:
    job = client.query(sql, timeout=CALL_TIMEOUT_S)
    return [tuple(r.values()) for r in job.result(timeout=CALL_TIMEOUT_S)]


def execute(client):
    """Run statements one by one (the ``execute`` of ``check_generated_tests``)."""

    def run(statements: Iterable[str]) -> None:
        for sql in statements:
            client.query(sql, timeout=CALL_TIMEOUT_S).result(timeout=CALL_TIMEOUT_S)

    return run


def tables_of(client, dataset: str) -> set[str]:
    return {t.table_id for t in client.list_tables(dataset, timeout=CALL_TIMEOUT_S)}


def dataset_exists(client, dataset: str) -> bool:
    from google.api_core.exceptions import NotFound

    try:
        client.get_dataset(dataset, timeout=CALL_TIMEOUT_S)
    except NotFound:
        return False
    return True


def fingerprint(client, datasets: Iterable[str]) -> dict[str, tuple]:
    """Row count and a content hash of every table in ``datasets``."""
    out = {}
    for dataset in datasets:
        for table in sorted(tables_of(client, dataset)):
            (out[f"{dataset}.{table}"],) = rows(
                client,
                "select count(*), to_hex(md5(string_agg(to_json_string(t), '|' "
                f"order by to_json_string(t)))) from {dataset}.{table} t",
            )
    return out


def orphan_sql(dataset: str) -> str:
    checks = [
        f"(select count(*) from {dataset}.{child} c left join {dataset}.{parent} p "
        f"on c.{fk} = p.{pk} where c.{fk} is not null and p.{pk} is null)"
        for child, fk, parent, pk in OPS_FKS
    ]
    return "select " + " + ".join(checks)


def column_types(client, dataset: str, table: str) -> list[tuple[str, str]]:
    return rows(
        client,
        f"select column_name, data_type from {dataset}.INFORMATION_SCHEMA.COLUMNS "
        f"where table_name = '{table}' order by ordinal_position",
    )


# -- end to end ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, dbt_project, emulator_host) -> Path:
    """integration_tests with BigQuery's types, seeded (``dbt seed``) and fitted
    (``synthohive fit --model copula``) on the emulator once for the module."""
    project = dbt_project(tmp_path_factory.mktemp("e2e_bigquery"))
    bigquery_types(project)
    return seed_and_fit(project, TARGET)


def test_inspect_generate_and_generated_tests(fitted, client, capsys):
    """inspect and generate on BigQuery; a second generate replaces every table and leaves no
    staging table; the generated tests pass, then catch a planted defect per table."""
    capsys.readouterr()
    assert synthohive(fitted, "inspect", "--json", target=TARGET) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {t["name"] for t in doc["tables"]} >= OPS_TABLES | {"raw_orders", "raw_customers"}
    flights = next(t for t in doc["tables"] if t["name"] == "flights")
    assert sorted(fk["columns"][0] for fk in flights["foreign_keys"]) == ["dest", "origin"]

    assert synthohive(fitted, "generate", "--seed", "3", target=TARGET) == 0
    first = fingerprint(client, ["synthohive"])
    assert synthohive(fitted, "generate", "--seed", "2", target=TARGET) == 0
    assert "generated 11 tables" in capsys.readouterr().out
    second = fingerprint(client, ["synthohive"])
    assert first.keys() == second.keys() and len(second) == 11
    assert all(first[t] != second[t] for t in first)  # every table replaced
    assert not [t for t in tables_of(client, "synthohive") if t.startswith("synthohive_stage")]

    assert rows(client, orphan_sql("synthohive")) == [(0,)]
    assert rows(
        client,
        "select (select count(*) from it_raw.raw_customers), "
        "(select count(*) from synthohive.raw_customers)",
    ) == [(300, 300)]  # roots keep their size at --scale 1
    for table in ("raw_orders", "flights", "raw_customers"):
        real = "it_raw" if table.startswith("raw_") else "it_ops"
        assert column_types(client, "synthohive", table) == column_types(client, real, table)

    planted = planted_defects("synthohive", "it_ops")
    # BigQuery: UPDATE needs a WHERE clause, and FLOAT64 does not assign to NUMERIC
    planted[("ks_distance", "flights", "fare")] = (
        "update synthohive.flights set fare = fare + cast(5 * "
        "(select stddev(fare) from it_ops.flights) as numeric) where true"
    )
    check_generated_tests(fitted, planted, execute(client), target=TARGET)


def test_fidelity_macros_pass_on_good_and_fail_on_broken_data(fitted):
    """The BigQuery SQL of every synthohive generic test (integration_tests/models/fidelity,
    seeded by the fixture): each test on good data passes, each on deliberately broken data
    (empty and one-row sides, constant columns included) fails, never errors."""
    good = dbt(fitted, "test", "--select", "tag:fidelity_good", target=TARGET)
    assert good.success, f"failing on good data: {failing(good)}"
    assert len(good.result) >= 13
    broken = dbt(fitted, "test", "--select", "tag:fidelity_broken", target=TARGET)
    statuses = {r.node.name: str(r.status) for r in broken.result}
    assert len(statuses) >= 15 and set(statuses.values()) == {"fail"}, statuses


def test_environment(fitted, client, capsys):
    """generate --environment writes each table where its source resolves under the
    synthetic target (datasets it_synthetic_raw, it_synthetic_ops); the unchanged project
    then builds and passes its own tests there, and the real datasets are untouched."""
    real_before = fingerprint(client, REAL_DATASETS)
    code = synthohive(fitted, "generate", "--environment", "--seed", "2", target=SYNTHETIC_TARGET)
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{BQEMULATOR_PROJECT}.it_synthetic_ops.flights" in out
    assert tables_of(client, "it_synthetic_ops") == OPS_TABLES
    # seeds are the real data; source:synthohive is the default mode's synthetic dataset
    exclude = ["--exclude", "resource_type:seed", "source:synthohive"]
    result = dbt(fitted, "build", *exclude, target=SYNTHETIC_TARGET)
    assert result.success, f"failing in the synthetic environment: {failing(result)}"
    ran = {r.node.name for r in result.result}
    assert {"stg_orders", "stg_customers", "flights_contract", "crew_assignments_contract"} <= ran
    assert len([r for r in result.result if r.node.resource_type == "test"]) >= 40
    uuids = "select customer_uuid from {}.raw_customers"
    synthetic = set(rows(client, uuids.format("it_synthetic_raw")))
    assert len(synthetic) == 300 and not synthetic & set(rows(client, uuids.format("it_raw")))
    assert fingerprint(client, REAL_DATASETS) == real_before


def test_run_operation_synthesize(fitted, client, monkeypatch):
    """`dbt run-operation synthesize` fits and writes through dbt-bigquery's own client."""
    from synthohive_dbt.warehouse.bigquery import BigQueryWarehouse

    wrapped = []
    original = BigQueryWarehouse.from_connection.__func__
    monkeypatch.setattr(
        BigQueryWarehouse,
        "from_connection",
        classmethod(lambda cls, conn: wrapped.append(conn) or original(cls, conn)),
    )
    args = (
        '{select: "source:ops", scale: 2, seed: 7, refit: true, model: copula, '
        "schema: synth_op, artifacts: target/synthohive_op}"
    )
    result = dbt(fitted, "run-operation", "synthesize", "--args", args, target=TARGET)
    assert result.success, result.exception
    assert [type(c) for c in wrapped] == [bigquery.Client]  # dbt's handle, unwrapped
    assert (fitted / "target" / "synthohive_op" / "plan.json").is_file()
    assert tables_of(client, "synth_op") == OPS_TABLES
    assert rows(
        client,
        "select (select count(*) from it_ops.airports), (select count(*) from synth_op.airports)",
    ) == [(40, 80)]  # scale applies to root tables
    assert rows(client, orphan_sql("synth_op")) == [(0,)]


# -- in-warehouse sampling and the report ---------------------------------------------------


def test_sample_keeps_the_rows_duckdb_keeps(fitted, dbt_project, tmp_path, monkeypatch, capsys):
    """The in-warehouse sample keeps the same rows on BigQuery as on DuckDB for the same
    seeded data (md5 of the key as text with the seed: text keys of airports and
    raw_customers, the integer key of flights, their children and what those reference);
    fk_histogram counts the same; inspect --check-data --sample-rows reports them."""
    # DuckDB seeds a copy with the project's own types (the fixture's speaks BigQuery's)
    same = dbt_project(tmp_path)
    monkeypatch.setenv("SYNTHOHIVE_IT_DUCKDB", str(tmp_path / "same.duckdb"))
    seeds = ("--select", "path:seeds/ops", "path:seeds/jaffle_shop")
    assert dbt(same, "seed", *seeds, target="duckdb").success
    check_sample_matches_duckdb(same, fitted, TARGET, capsys)


def test_sample_compares_composite_keys_as_structs():
    """BigQuery's IN takes a subquery of one column: the sample compares a composite key
    with one struct column, ``(a, b) in (select (a, b) ...)`` (bqemulator also runs
    ``select a, b``, so the SQL itself is checked here), a single column as it is."""
    legs = source_table("legs", {"flight_id": INT, "leg_no": INT}, ["flight_id", "leg_no"])
    crew = source_table("crew", {"flight_id": INT, "leg_no": INT, "eid": INT}, ["eid"])
    fk = ForeignKey(crew.key, ("flight_id", "leg_no"), legs.key, ("flight_id", "leg_no"), ORIGIN)
    graph = graph_from(legs, crew, fks=[fk])
    limits, real = {legs.key: 5, crew.key: 5}, {legs.key: 9, crew.key: 20}
    conditions = plan_sample(graph, BigQueryWarehouse.dialect, limits, real, 5).conditions
    pair = "(`flight_id`, `leg_no`) in (select (`flight_id`, `leg_no`) from"
    assert conditions[legs.key].startswith(pair)  # the root's own rows
    assert conditions[crew.key].startswith(f"({pair}")  # the children of those
    assert "`eid` in (select `eid` from" in conditions[crew.key]  # its null FKs' own rows


def test_fit_sample_rows_generate_and_report(fitted, client):
    """fit --sample-rows reads a sample but plans the real row counts; generate then writes
    tables of those sizes without orphans; report on them (whole and --sample-rows 40)
    counts the real rows and finds no orphans."""
    real = {t: rows(client, f"select count(*) from it_ops.{t}")[0][0] for t in OPS_TABLES}
    check_sampled_fit_and_report(
        fitted, TARGET, real, lambda sql: rows(client, sql)[0][0],
        lambda schema: rows(client, orphan_sql(schema))[0][0],
    )  # fmt: skip


# -- bad input: a BIGQUERY_EMULATOR_HOST that cannot work ----------------------------------


@pytest.mark.parametrize(
    "host, says",
    [
        ("127.0.0.1:9050", "not an http(s)://host:port URL"),
        ("http://", "not an http(s)://host:port URL"),
        ("http://127.0.0.1:99999", "not a usable URL"),
        ("http://127.0.0.1:{closed}", "nothing answers at 127.0.0.1:{closed}"),
    ],
)
def test_unusable_emulator_host_is_one_error_and_writes_nothing(
    fitted, client, monkeypatch, capsys, host, says
):
    closed = free_port()  # nothing listens there
    host, says = host.format(closed=closed), says.format(closed=closed)
    written = [fitted / "target" / "synthohive" / "plan.json", fitted / SOURCES_YAML]
    before = [p.stat().st_mtime_ns if p.exists() else None for p in written]
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", host)
    capsys.readouterr()
    start = time.monotonic()
    fit = synthohive(fitted, "fit", "--model", "copula", target=TARGET)
    fit_err = capsys.readouterr().err
    generate = synthohive(fitted, "generate", "--schema", "synth_bad", target=TARGET)
    generate_err = capsys.readouterr().err
    assert time.monotonic() - start < 30  # no retries
    for code, err in ((fit, fit_err), (generate, generate_err)):
        assert code == 1
        assert err.count("error:") == 1 and "Traceback" not in err, err
        assert says in err and "BIGQUERY_EMULATOR_HOST" in err and "unset it" in err, err
    assert [p.stat().st_mtime_ns if p.exists() else None for p in written] == before
    monkeypatch.undo()  # the test client sees the emulator again
    assert not dataset_exists(client, "synth_bad")


def test_emulator_host_check_leaves_bigquery_itself_alone(emulator_host):
    from synthohive_dbt.errors import WarehouseError
    from synthohive_dbt.warehouse.bigquery import check_emulator_host

    assert check_emulator_host({}) is None  # no emulator: BigQuery itself, nothing probed
    assert check_emulator_host({"BIGQUERY_EMULATOR_HOST": f" {emulator_host} "}) == emulator_host
    with pytest.raises(WarehouseError, match="target dev"):
        check_emulator_host({"BIGQUERY_EMULATOR_HOST": "ftp://x:1"}, target="dev")
