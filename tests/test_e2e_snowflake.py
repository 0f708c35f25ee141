"""End to end on Snowflake: integration_tests/ through dbt-snowflake against fakesnow's server.

``dbt seed``, ``synthohive inspect``, ``fit``, ``generate`` (staged Parquet load, swap into
place), ``generate --environment`` (a second database as the synthetic environment), the
generated tests under ``dbt test --select source:synthohive`` (passing on fresh synthetic
data, failing on planted defects), the fidelity macros' own proof (``tag:fidelity_good``
passes, ``tag:fidelity_broken`` fails), ``dbt run-operation synthesize``, the in-warehouse
sample (``--sample-rows`` keeps the rows DuckDB keeps) and ``report``, all in-process.
The server runs from its own virtual environment (scripts/emulators.sh) on a free port; the
profile's ``snowflake`` targets reach it through ``host``, ``port`` and ``protocol: http``.

What the project needs on any Snowflake (not an emulator difference): the seed type ``uuid``
of integration_tests/dbt_project.yml does not exist there, so the copy tested here declares
``raw_customers.customer_uuid`` as ``varchar(36)`` (``snowflake_types``).

Where fakesnow differs from Snowflake, the product keeps Snowflake's documented behaviour and
the difference is isolated in the test setup; tests/emulators.py lists each one. Here:

- ``isolate_fakesnow_differences``: every ``SnowflakeWarehouse`` of the process (those the
  CLI opens from the profile, and the one the run-operation bridge wraps around dbt's
  connection) swaps by drop and rename and matches Parquet columns case-insensitively; every
  connector connection, dbt's too, gets bounded timeouts.
- The renamed tables forget ``VARCHAR(n)`` lengths: ``column_types`` reads every VARCHAR as
  ``VARCHAR``.
- A contracted model with model-level constraints cannot be built (fakesnow counts the
  constraints as columns): the synthetic environment builds everything but
  ``flight_legs_contract`` and what depends on it.
- Quoted identifiers match case-insensitively and unknown types pass: stored names and types
  are checked here, not left to the emulator.
- Values cast to text read as DuckDB writes them, where Snowflake follows its output formats
  (timestamps with milliseconds by default, floats in its own number format): the
  in-warehouse sample is compared with DuckDB's on integer and text keys only, whose text
  Snowflake writes alike (``DIALECT`` in synthohive_dbt/warehouse/snowflake.py lists the
  types that differ).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers import (
    check_generated_tests,
    check_sample_matches_duckdb,
    check_sampled_fit_and_report,
    dbt,
    failing,
    planted_defects,
    seed_and_fit,
    synthohive,
)

from synthohive_dbt import bridge
from synthohive_dbt.errors import ProfileError, WarehouseError
from synthohive_dbt.warehouse.snowflake import check_emulator_host
from tests.emulators import SNOWFLAKE_TIMEOUT_S, isolate_fakesnow_differences, start_fakesnow

connector = pytest.importorskip(
    "snowflake.connector", reason="snowflake-connector-python is not installed in .venv"
)
pytest.importorskip("dbt.adapters.snowflake", reason="dbt-snowflake is not installed in .venv")

pytestmark = [pytest.mark.integration, pytest.mark.snowflake]

TARGET, SYNTHETIC_TARGET = "snowflake", "snowflake_synthetic"
REAL_SCHEMAS = ("IT_RAW", "IT_OPS")  # the seeds: <profile schema>_raw and _ops
OPS_TABLES = {"AIRPORTS", "EMPLOYEES", "FLIGHTS", "FLIGHT_LEGS", "CREW_ASSIGNMENTS"}
#: (child, fk, parent, pk) of the ops tables, for orphan counts
OPS_FKS = [
    ("flights", "origin", "airports", "code"),
    ("flights", "dest", "airports", "code"),
    ("flight_legs", "flight_id", "flights", "flight_id"),
    ("crew_assignments", "employee_id", "employees", "employee_id"),
]
SOURCES_YAML = Path("models") / "synthohive" / "_synthohive__sources.yml"


#: beside planted_defects: the structural and privacy tests left, each with a defect to catch
MORE_DEFECTS = {
    ("not_null", "raw_customers", "customer_uuid"): (
        "update synthohive.raw_customers set customer_uuid = null "
        "where id = (select min(id) from synthohive.raw_customers)"
    ),
    ("accepted_values", "raw_products", "type"): (
        "update synthohive.raw_products set type = 'no-such-type' "
        "where sku = (select min(sku) from synthohive.raw_products)"
    ),
    # a real customer's name copied
    ("no_real_value_copied", "raw_customers", "name"): (
        "update synthohive.raw_customers "
        "set name = (select min(name) from it_raw.raw_customers) "
        "where id = (select max(id) from synthohive.raw_customers)"
    ),
}


def snowflake_types(project: Path) -> None:
    """Snowflake has no ``uuid`` type: the seed's canonical text form goes in varchar(36)."""
    path = project / "dbt_project.yml"
    text = path.read_text()
    assert text.count("customer_uuid: uuid") == 1, "integration_tests changed its uuid seed"
    path.write_text(text.replace("customer_uuid: uuid", "customer_uuid: varchar(36)"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = start_fakesnow(tmp_path_factory.mktemp("fakesnow"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def emulator(server) -> Iterator[str]:
    """The profile's variables (port, a fresh database) and fakesnow's differences isolated,
    for the module; yields the real database's name (the synthetic one adds ``_SYNTH``)."""
    database = f"IT_{uuid.uuid4().hex[:8].upper()}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYNTHOHIVE_IT_SNOWFLAKE_PORT", str(server.port))
        mp.setenv("SYNTHOHIVE_IT_SNOWFLAKE_DATABASE", database)
        isolate_fakesnow_differences(mp)
        yield database
    assert server.process.poll() is None, f"fakesnow died; log {server.log}:\n{server.log_tail()}"


@pytest.fixture(scope="module")
def sql(server, emulator) -> Iterator[Callable[..., list[tuple]]]:
    """``sql(statement, database=<the real one>)``: the rows of one statement."""
    conn = connector.connect(
        account="fakesnow", user="synthohive", password="unused", host="127.0.0.1",
        port=server.port, protocol="http", database=emulator, autocommit=True,
        network_timeout=SNOWFLAKE_TIMEOUT_S, login_timeout=30,
    )  # fmt: skip

    def run(statement: str, database: str = emulator) -> list[tuple]:
        with conn.cursor() as cur:
            cur.execute(f"use database {database}")
            cur.execute(statement)
            return cur.fetchall()

    yield run
    conn.close()


def execute(sql) -> Callable[[Iterable[str]], None]:
    def run(statements: Iterable[str]) -> None:
        for statement in statements:
            sql(statement)

    return run


def tables_of(sql, schema: str, database: str | None = None) -> set[str]:
    where = f"table_schema = '{schema.upper()}'"
    query = f"select table_name from information_schema.tables where {where}"
    return {r[0] for r in (sql(query, database) if database else sql(query))}


def fingerprint(sql, schemas: Iterable[str], database: str | None = None) -> dict[str, tuple]:
    """Row count and a content hash of every table in ``schemas`` (hashed here: fakesnow
    has no ``HASH(*)``; the tables are small)."""
    run = (lambda q: sql(q, database)) if database else sql
    found = {}
    for schema in schemas:
        for table in sorted(tables_of(sql, schema, database)):
            rows = sorted(map(repr, run(f"select * from {schema}.{table}")))
            found[f"{schema}.{table}"] = (
                len(rows),
                hashlib.sha256("\n".join(rows).encode()).hexdigest(),
            )
    return found


def orphan_sql(schema: str) -> str:
    """Child rows of the ops tables in ``schema`` whose FK value has no parent."""
    counts = [
        f"(select count(*) from {schema}.{child} c left join {schema}.{parent} p "
        f"on c.{fk} = p.{pk} where c.{fk} is not null and p.{pk} is null)"
        for child, fk, parent, pk in OPS_FKS
    ]
    return "select " + " + ".join(counts)


def column_types(sql, relation: str) -> list[tuple[str, str, str]]:
    """(name, type, nullable) in table order, as Snowflake stores them (upper-case names);
    every VARCHAR as VARCHAR, since fakesnow's rename forgets the length."""
    rows = sql(f"describe table {relation}")
    return [(r[0], re.sub(r"^VARCHAR\(\d+\)$", "VARCHAR", r[1]), r[3]) for r in rows]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, dbt_project, emulator) -> Path:
    """integration_tests with Snowflake's seed types, seeded (``dbt seed``) and fitted
    (``synthohive fit --model copula``) on the emulator once for the module."""
    project = dbt_project(tmp_path_factory.mktemp("e2e_snowflake"))
    snowflake_types(project)
    return seed_and_fit(project, TARGET)


def test_inspect_generate_and_generated_tests(fitted, sql, capsys):
    """inspect and generate on Snowflake; a second generate replaces every table and leaves
    no staging table; the generated tests pass, then catch a planted defect per table."""
    capsys.readouterr()
    assert synthohive(fitted, "inspect", "--json", target=TARGET) == 0
    doc = json.loads(capsys.readouterr().out)
    names = {t["name"] for t in doc["tables"]}
    assert names >= {t.lower() for t in OPS_TABLES} | {"raw_orders", "raw_customers"}
    flights = next(t for t in doc["tables"] if t["name"] == "flights")
    assert sorted(fk["columns"][0] for fk in flights["foreign_keys"]) == ["dest", "origin"]

    assert synthohive(fitted, "generate", "--seed", "3", target=TARGET) == 0
    first = fingerprint(sql, ["synthohive"])
    assert synthohive(fitted, "generate", "--seed", "2", target=TARGET) == 0
    assert "generated 11 tables" in capsys.readouterr().out
    second = fingerprint(sql, ["synthohive"])
    assert first.keys() == second.keys() and len(second) == 11
    assert all(first[t] != second[t] for t in first if first[t][0])  # every table replaced
    assert not [t for t in tables_of(sql, "synthohive") if t.startswith("__SYNTHOHIVE_STAGE")]

    assert sql(orphan_sql("synthohive")) == [(0,)]
    assert sql(
        "select (select count(*) from it_raw.raw_customers), "
        "(select count(*) from synthohive.raw_customers)"
    ) == [(300, 300)]  # roots keep their size at --scale 1
    for table in ("raw_orders", "flights", "raw_customers", "employees"):
        real = "it_raw" if table.startswith("raw_") else "it_ops"
        synthetic = column_types(sql, f"synthohive.{table}")
        assert synthetic == column_types(sql, f"{real}.{table}")
        assert all(name == name.upper() for name, _, _ in synthetic)  # stored unquoted

    planted = {**planted_defects("synthohive", "it_ops"), **MORE_DEFECTS}
    check_generated_tests(fitted, planted, execute(sql), target=TARGET)


def test_fidelity_macros_pass_on_good_and_fail_on_broken_data(fitted):
    """The Snowflake SQL of every synthohive generic test (integration_tests/models/fidelity):
    each test on good data passes, each on deliberately broken data fails (not errors)."""
    good = dbt(fitted, "test", "--select", "tag:fidelity_good", target=TARGET)
    assert good.success, f"failing on good data: {failing(good)}"
    assert len(good.result) >= 13
    broken = dbt(fitted, "test", "--select", "tag:fidelity_broken", target=TARGET)
    statuses = {r.node.name: str(r.status) for r in broken.result}
    assert len(statuses) >= 15 and set(statuses.values()) == {"fail"}, statuses


def test_environment(fitted, sql, emulator, capsys):
    """generate --environment writes each table where its source resolves under the
    synthetic target (the database ``<real>_SYNTH``); the unchanged project then builds and
    passes its own tests there, and the real database is untouched."""
    synth_db = f"{emulator}_SYNTH"
    real_before = fingerprint(sql, REAL_SCHEMAS)
    code = synthohive(fitted, "generate", "--environment", "--seed", "2", target=SYNTHETIC_TARGET)
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{synth_db}.it_ops.flights" in out
    assert tables_of(sql, "it_ops", synth_db) == OPS_TABLES
    # seeds are the real data; source:synthohive is the default mode's synthetic schema;
    # fakesnow cannot create flight_legs_contract (model-level constraints in its CTAS)
    exclude = ["--exclude", "resource_type:seed", "source:synthohive", "flight_legs_contract+"]
    result = dbt(fitted, "build", *exclude, target=SYNTHETIC_TARGET)
    assert result.success, f"failing in the synthetic environment: {failing(result)}"
    ran = {r.node.name for r in result.result}
    assert {"stg_orders", "stg_customers", "flights_contract"} <= ran
    assert len([r for r in result.result if r.node.resource_type == "test"]) >= 40
    uuids = "select customer_uuid from it_raw.raw_customers"
    synthetic = set(sql(uuids, synth_db))
    assert len(synthetic) == 300 and not synthetic & set(sql(uuids))
    assert fingerprint(sql, REAL_SCHEMAS) == real_before

    # the real target as the environment would overwrite the real tables
    assert synthohive(fitted, "generate", "--environment", target=TARGET) == 1
    assert "refusing" in capsys.readouterr().err
    assert fingerprint(sql, REAL_SCHEMAS) == real_before


def test_run_operation_synthesize(fitted, sql):
    """`dbt run-operation synthesize` fits and writes through dbt-snowflake's own
    connection (the bridge unwraps its handle to the connector's SnowflakeConnection)."""
    args = (
        '{select: "source:ops", scale: 2, seed: 7, refit: true, model: copula, '
        "schema: synth_op, artifacts: target/synthohive_op}"
    )
    result = dbt(fitted, "run-operation", "synthesize", "--args", args, target=TARGET)
    assert result.success, result.exception
    assert (fitted / "target" / "synthohive_op" / "plan.json").is_file()
    assert tables_of(sql, "synth_op") == OPS_TABLES
    assert sql(
        "select (select count(*) from it_ops.airports), (select count(*) from synth_op.airports)"
    ) == [(40, 80)]  # scale applies to root tables
    assert sql(orphan_sql("synth_op")) == [(0,)]


# -- in-warehouse sampling and the report ---------------------------------------------------


def test_sample_keeps_the_rows_duckdb_keeps(fitted, tmp_path, monkeypatch, capsys):
    """The in-warehouse sample keeps the same rows on Snowflake as on DuckDB for the same
    seeded data (md5 of the key as text with the seed: text keys of airports and
    raw_customers, the integer key of flights, their children and what those reference);
    fk_histogram counts the same; inspect --check-data --sample-rows reports them."""
    monkeypatch.setenv("SYNTHOHIVE_IT_DUCKDB", str(tmp_path / "same.duckdb"))
    seeds = ("--select", "path:seeds/ops", "path:seeds/jaffle_shop")
    assert dbt(fitted, "seed", *seeds, target="duckdb").success
    check_sample_matches_duckdb(fitted, fitted, TARGET, capsys)


def test_fit_sample_rows_generate_and_report(fitted, sql):
    """fit --sample-rows reads a sample but plans the real row counts; generate then writes
    tables of those sizes without orphans; report on them (whole and --sample-rows 40)
    counts the real rows and finds no orphans."""
    real = {t.lower(): sql(f"select count(*) from it_ops.{t}")[0][0] for t in OPS_TABLES}
    check_sampled_fit_and_report(
        fitted, TARGET, real, lambda query: sql(query)[0][0],
        lambda schema: sql(orphan_sql(schema))[0][0],
    )  # fmt: skip


# -- bad input: an emulator profile without a host ----------------------------------------

NO_HOST = {
    "account: fakesnow": {"account": "fakesnow"},
    "protocol: http": {"account": "xy12345", "protocol": "http"},
    "port: 8085": {"account": "xy12345", "port": 8085},
}


@pytest.mark.parametrize("settings", list(NO_HOST), ids=list(NO_HOST))
def test_emulator_profile_without_host_is_one_error_and_writes_nothing(
    fitted, sql, capsys, settings
):
    profiles = fitted / "profiles.yml"
    original = profiles.read_text()
    lines = [f"      {k}: {v}" for k, v in NO_HOST[settings].items()]
    target = "\n".join(
        ["    snowflake_no_host:", "      type: snowflake", "      user: synthohive",
         "      password: unused", "      database: IT_NO_HOST", "      schema: it",
         "      threads: 1", *lines]
    )  # fmt: skip
    outputs = "  outputs:\n"
    profiles.write_text(original.replace(outputs, f"{outputs}{target}\n", 1))
    written = [fitted / "target" / "synthohive" / "plan.json", fitted / SOURCES_YAML]
    before = [p.stat().st_mtime_ns if p.exists() else None for p in written]
    try:
        capsys.readouterr()
        start = time.monotonic()
        codes = [
            synthohive(fitted, "inspect", target="snowflake_no_host"),
            synthohive(fitted, "fit", "--model", "copula", target="snowflake_no_host"),
            synthohive(fitted, "generate", "--schema", "synth_bad", target="snowflake_no_host"),
        ]
        elapsed = time.monotonic() - start
        err = capsys.readouterr().err
    finally:
        profiles.write_text(original)
    assert codes == [1, 1, 1]
    assert elapsed < 15  # refused when the profile loads: nothing dials out and waits
    assert err.count("error:") == 3 and "Traceback" not in err
    first = err.split("error:")[1]
    assert "target 'snowflake_no_host'" in first and settings in first
    assert "no host" in first and "snowflakecomputing.com" in first
    assert str(profiles) in first and "host: 127.0.0.1" in first
    assert [p.stat().st_mtime_ns if p.exists() else None for p in written] == before
    assert "IT_NO_HOST" not in {r[1] for r in sql("show databases")}


def test_real_account_and_emulator_with_host_pass_the_host_check():
    check_emulator_host(SimpleNamespace(account="xy12345.eu-central-1", protocol="https"))
    check_emulator_host(SimpleNamespace(account="xy12345", port=443))
    check_emulator_host(
        SimpleNamespace(account="fakesnow", host="127.0.0.1", port=8085, protocol="http")
    )
    with pytest.raises(ProfileError, match="target 'ci' sets account: FakeSnow, protocol: http"):
        check_emulator_host(SimpleNamespace(account="FakeSnow", protocol="HTTP"), target="ci")


# -- the run-operation bridge on dbt-snowflake's handle ------------------------------------


def test_bridge_unwraps_dbt_snowflake_record_replay_handle():
    """Under DBT_RECORDER_MODE dbt-snowflake's handle is a proxy around the connector's
    connection; the bridge writes through the connection itself, and says so when replay
    mode has none."""
    from dbt.adapters.snowflake.record import SnowflakeRecordReplayHandle

    native = object()

    def adapter(handle):
        connection = SimpleNamespace(handle=handle)
        connections = SimpleNamespace(get_thread_connection=lambda: connection)
        return SimpleNamespace(connections=connections, type=lambda: "snowflake")

    assert bridge.native_connection(adapter(native)) is native
    proxied = SnowflakeRecordReplayHandle(native, SimpleNamespace(name="master"))
    assert bridge.native_connection(adapter(proxied)) is native
    replay = SnowflakeRecordReplayHandle(None, SimpleNamespace(name="master"))
    with pytest.raises(WarehouseError, match="replay mode"):
        bridge.native_connection(adapter(replay))
