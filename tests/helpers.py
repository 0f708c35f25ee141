"""Plain functions and records the tests share (fixtures live in ``conftest.py``).

- running dbt and ``synthohive`` in-process on a project;
- the raw-data loaders of the integration projects (``integration_tests/*/load_raw.py``);
- schema records by hand: column types, columns, tables, graphs;
- a hand-built shop of table plans and profiles for the emit tests (no fitting, so the
  golden files stay put);
- a tiny CTGAN and the mixed frame it is fitted on;
- defects planted in synthetic tables, and the generated tests that must catch them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from synthohive_dbt.emit.data_tests import ColumnProfile
from synthohive_dbt.progress import Reporter
from synthohive_dbt.relational.keys import KeyFormat
from synthohive_dbt.relational.plan import FkPlan, TablePlan
from synthohive_dbt.schema import (
    Column,
    ColumnType,
    ForeignKey,
    LogicalType,
    Origin,
    PrimaryKey,
    SchemaGraph,
    Table,
)
from synthohive_dbt.synth.base import ModelOptions

ROOT = Path(__file__).resolve().parent.parent
#: psycopg2.connect arguments of the server the ``postgres`` tests use
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}


# -- dbt and synthohive on a project ------------------------------------------------------


def dbt(project: Path, *args: str, target: str | None = "duckdb"):
    """``dbt ARGS`` on ``project`` (its own profiles.yml), quietly; ``target=None``: the
    profile's default target. Returns dbt's ``dbtRunnerResult``."""
    # imported here: importing dbt is slow and the subprocesses of some tests import helpers
    from dbt.cli.main import dbtRunner

    where = ["--project-dir", str(project), "--profiles-dir", str(project)]
    chosen = ["--target", target] if target else []
    return dbtRunner().invoke([*args, *where, *chosen, "--quiet"])


def synthohive(project: Path, *args: str, target: str | None = "duckdb") -> int:
    """``synthohive ARGS`` in-process on ``project`` (its own profiles.yml), quietly;
    ``target=None``: the profile's default target."""
    from synthohive_dbt import cli

    command, *rest = args
    where = ["--project", str(project), "--profiles-dir", str(project)]
    chosen = ["--target", target] if target else []
    return cli.main([command, *where, *chosen, "--quiet", *rest])


# -- the integration projects' raw data ---------------------------------------------------


def raw_loader(project: str) -> ModuleType:
    """``integration_tests/<project>/load_raw.py`` as a module (``make_raw``,
    ``write_duckdb``, ``write_postgres``, ``copy_project``); loaded by path since the
    project folder is no package."""
    path = ROOT / "integration_tests" / project / "load_raw.py"
    spec = importlib.util.spec_from_file_location(f"{project}_load_raw", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def raw_tables() -> ModuleType:
    """``integration_tests/raw_tables.py``: ``write_duckdb(path, schema, frames, types)``
    and ``write_postgres(schema, frames, types)`` (types: table -> column -> SQL type)."""
    path = ROOT / "integration_tests" / "raw_tables.py"
    spec = importlib.util.spec_from_file_location("integration_raw_tables", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def jaffle_real() -> ModuleType:
    """``integration_tests/jaffle_real/load_raw.py``."""
    return raw_loader("jaffle_real")


def people_raw() -> ModuleType:
    """``integration_tests/people/load_raw.py``."""
    return raw_loader("people")


# -- warehouse round trips ----------------------------------------------------------------

UUIDS = ["0f8fad5b-d9cb-469f-a165-70867728950e", "7c9e6679-7425-40de-944b-e07fc1f90ae7"]


def typed_frame(*, text_tail: str = "", last_micro: int = 0, upper: bool = False) -> pd.DataFrame:
    """Three rows in the documented in-memory representation, NULLs in the middle one:
    every logical type a warehouse round trip must keep. ``text_tail`` ends the awkward
    text value (e.g. a COPY null marker), ``last_micro`` the microseconds of the last
    timestamp; ``upper``: upper-case column names (Snowflake's folding)."""
    frame = pd.DataFrame(
        {
            "id": pd.array([1, 2, 3], dtype="Int64"),
            "amount": [12.34, None, -0.01],
            "ratio": [0.1, None, 1e300],
            "name": pd.array(["", None, 'a"b,\nc' + text_tail], dtype="string"),
            "active": pd.array([True, None, False], dtype="boolean"),
            "born": pd.to_datetime(["2024-01-02", None, "1900-03-01"]).as_unit("us"),
            "seen_at": pd.to_datetime(
                ["2024-01-02 03:04:05.123456", None, f"1970-01-01 00:00:00.{last_micro:06d}"]
            ).as_unit("us"),
            "paid_at": pd.to_datetime(
                ["2024-01-02 01:04:05.123456", None, "1999-12-31 23:59:59.999999"], utc=True
            ).as_unit("us"),
            "key": pd.array([UUIDS[0], None, UUIDS[1]], dtype="string"),
        }
    )
    return frame.rename(columns=str.upper) if upper else frame


# -- schema records -----------------------------------------------------------------------

ORIGIN = Origin("test", "fixture")
INT = ColumnType(LogicalType.INTEGER, "integer")
TEXT = ColumnType(LogicalType.TEXT, "text")
FLOAT = ColumnType(LogicalType.FLOAT, "double")
DOUBLE_PRECISION = ColumnType(LogicalType.FLOAT, "double precision")
MONEY = ColumnType(LogicalType.NUMERIC, "numeric(10,2)")
DATE = ColumnType(LogicalType.DATE, "date")
TS = ColumnType(LogicalType.TIMESTAMP, "timestamp")
BOOL = ColumnType(LogicalType.BOOLEAN, "boolean")
UUID = ColumnType(LogicalType.UUID, "uuid")

Columns = Iterable[Column | tuple[str, ColumnType]] | Mapping[str, ColumnType]


def col(name: str, type: ColumnType | LogicalType, native: str = "", **facts: Any) -> Column:
    """A column of ``type``: a ColumnType, or a LogicalType spelled ``native``."""
    if isinstance(type, LogicalType):
        type = ColumnType(type, native)
    return Column(name, type=type, **facts)


def table(
    name: str, columns: Columns = (), pk: Iterable[str] = (), *, prefix: str = "source.p.s.", **kw
) -> Table:
    """The source table ``prefix + name`` in schema ``raw``; ``columns``: Columns,
    (name, type) pairs or a {name: type} mapping; ``pk``: its primary key columns."""
    items = columns.items() if isinstance(columns, Mapping) else columns
    built = tuple(c if isinstance(c, Column) else Column(c[0], type=c[1]) for c in items)
    pk = tuple(pk)
    return Table(
        prefix + name,
        name,
        "source",
        None,
        "raw",
        name,
        columns=built,
        primary_key=PrimaryKey(pk, ORIGIN) if pk else None,
        **kw,
    )


def graph_from(
    *tables: Table, fks: Iterable[ForeignKey] = (), order: Iterable[str] = (), **kw
) -> SchemaGraph:
    """A graph of ``tables``; ``order``: parents first (default: as given)."""
    order = tuple(order) or tuple(t.key for t in tables)
    return SchemaGraph({t.key: t for t in tables}, tuple(fks), order, **kw)


# -- a shop of table plans for the emit tests ---------------------------------------------
# customers (text key), orders (FK to customers), order_lines (composite key with an FK
# part), shipments (composite FK to order_lines), employees (self-reference). Postgres
# spells the types: the golden files show them.

SHOP = "source.shop.raw."
SEQ = KeyFormat("sequence")


def fk_plan(columns, parent, parent_columns, null_rate=0.0, **kw) -> FkPlan:
    """An FK of a shop table to ``SHOP + parent``."""
    return FkPlan(tuple(columns), SHOP + parent, tuple(parent_columns), null_rate, (0, 5, 3), **kw)


def table_plan(name, columns, pk=(), minted=(), fks=(), model=(), rows=100, checks=None, **kw):
    """The plan of the shop table ``name``; ``minted``: key columns made as sequences."""
    return TablePlan(
        key=SHOP + name,
        name=name,
        identifier=name,
        database="warehouse",
        schema="raw",
        rows=rows,
        columns=tuple(columns),
        primary_key=tuple(pk),
        minted={m: SEQ for m in minted},
        fks=tuple(fks),
        primary_fk=0 if fks else None,
        model_columns=tuple(model),
        checks=checks or {},
        real_ref=kw.pop("real_ref", f"source('raw', '{name}')"),
        **kw,
    )


def shop_plans() -> tuple[dict[str, TablePlan], tuple[str, ...]]:
    """The shop's plans by key, and their order (parents first)."""
    customers = table_plan(
        "customers",
        [
            ("id", TEXT),
            ("name", TEXT),
            ("segment", TEXT),
            ("signup", DATE),
            ("score", DOUBLE_PRECISION),
            ("token", UUID),
        ],
        pk=["id"],
        minted=["id"],
        model=["name", "segment", "signup", "score", "token"],
        rows=300,
        checks={
            "id": {"not_null": True},
            "name": {"not_null": True},
            "segment": {"not_null": True, "accepted_values": ["a", "b", "c"]},
        },
    )
    orders = table_plan(
        "orders",
        [
            ("order_id", INT),
            ("customer_id", TEXT),
            ("amount", MONEY),
            ("quantity", INT),
            ("placed_at", TS),
            ("gift", BOOL),
        ],
        pk=["order_id"],
        minted=["order_id"],
        fks=[fk_plan(["customer_id"], "customers", ["id"])],
        model=["amount", "quantity", "placed_at", "gift"],
        rows=1000,
        checks={"customer_id": {"not_null": True}},
    )
    lines = table_plan(
        "order_lines",
        [("order_id", INT), ("line_no", INT), ("price", DOUBLE_PRECISION)],
        pk=["order_id", "line_no"],
        minted=["line_no"],
        fks=[fk_plan(["order_id"], "orders", ["order_id"])],
        model=["price"],
        rows=2500,
        checks={"order_id": {"not_null": True}, "line_no": {"not_null": True}},
    )
    shipments = table_plan(
        "shipments",
        [("shipment_id", INT), ("order_id", INT), ("line_no", INT)],
        pk=["shipment_id"],
        minted=["shipment_id"],
        fks=[fk_plan(["order_id", "line_no"], "order_lines", ["order_id", "line_no"])],
        rows=800,
    )
    employees = table_plan(
        "employees",
        [
            ("employee_id", INT),
            ("manager_id", INT),
            ("salary", DOUBLE_PRECISION),
            ("bonus", DOUBLE_PRECISION),
            ("level", INT),
        ],
        pk=["employee_id"],
        minted=["employee_id"],
        fks=[fk_plan(["manager_id"], "employees", ["employee_id"], 0.03, self_reference=True)],
        model=["salary", "bonus", "level"],
        rows=150,
    )
    tables = [customers, orders, lines, shipments, employees]
    return {t.key: t for t in tables}, tuple(t.key for t in tables)


def shop_profiles() -> dict[str, dict[str, ColumnProfile]]:
    """What fitting the shop's models would have learned about their columns."""
    return {
        SHOP + "customers": {
            "name": ColumnProfile("discrete", n_categories=290),  # names: no tvd
            "segment": ColumnProfile("discrete", n_categories=3),
            "signup": ColumnProfile("continuous"),
            "score": ColumnProfile("continuous", null_rate=0.1),
            "token": ColumnProfile("uuid"),
        },
        SHOP + "orders": {
            "amount": ColumnProfile("continuous"),
            "quantity": ColumnProfile("discrete", n_categories=5),
            "placed_at": ColumnProfile("continuous"),
            "gift": ColumnProfile("discrete", n_categories=2),
        },
        SHOP + "order_lines": {"price": ColumnProfile("continuous")},
        SHOP + "employees": {
            "salary": ColumnProfile("continuous"),
            "bonus": ColumnProfile("continuous", constant=True),
            "level": ColumnProfile("discrete", n_categories=4),
        },
    }


# -- a tiny CTGAN -------------------------------------------------------------------------

TINY = {"embedding_dim": 8, "generator_dim": [32, 32], "discriminator_dim": [32], "pac": 2}


def tiny_ctgan(
    epochs: int = 2, batch_size: int = 50, device: str = "cpu", min_rows: int = 5, **extra
) -> ModelOptions:
    """Options of a CTGAN small enough to fit in a second or two."""
    return ModelOptions(
        epochs, batch_size, device, extra={**TINY, **extra}, min_category_rows=min_rows
    )


def mixed_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A bimodal float, an integer, a category, a flag, a float with NULLs and a
    timestamp with a time zone."""
    rng = np.random.default_rng(seed)
    seconds = 1.7e9 + rng.integers(0, 10_000_000, n)
    return pd.DataFrame(
        {
            "amount": np.where(rng.random(n) < 0.4, rng.normal(-5, 1, n), rng.normal(20, 2, n)),
            "qty": rng.integers(0, 100, n),
            "status": rng.choice(["new", "paid", "shipped"], n, p=[0.5, 0.3, 0.2]),
            "flag": rng.random(n) < 0.3,
            "score": np.where(rng.random(n) < 0.2, np.nan, rng.random(n)),
            "created": pd.to_datetime(seconds, unit="s", utc=True).tz_convert("Europe/Berlin"),
        }
    )


def columns_of(frame: pd.DataFrame, **facts) -> list[Column]:
    """Untyped columns of ``frame``; ``facts``: Column keywords by column name."""
    return [Column(c, **facts.get(c, {})) for c in frame.columns]


def fit_table_model(model, frame, columns=None, context=None, seed=0, reporter=None):
    """``model`` fitted on ``frame`` (untyped columns unless given) as table "t"."""
    model.fit(
        frame,
        columns or columns_of(frame),
        context,
        rng=np.random.default_rng(seed),
        reporter=reporter or Reporter(),
        table="t",
    )
    return model


def fit_ctgan(frame, columns=None, context=None, seed=0, reporter=None, **opts):
    """A tiny CTGAN (``tiny_ctgan(**opts)``) fitted on ``frame``."""
    from synthohive_dbt.synth.ctgan import CTGANModel

    return fit_table_model(CTGANModel(tiny_ctgan(**opts)), frame, columns, context, seed, reporter)


# -- a small autoregressive model ---------------------------------------------------------


def fit_autoregressive(frame, columns=None, context=None, seed=0, reporter=None, **opts):
    """An autoregressive model with a narrow network (``opts``: ModelOptions extras,
    ``epochs``, ``batch_size``, ``device``, ``min_rows``) fitted on ``frame``."""
    from synthohive_dbt.synth.autoregressive import AutoregressiveModel

    epochs, batch = opts.pop("epochs", None), opts.pop("batch_size", None)
    min_rows, device = opts.pop("min_rows", 5), opts.pop("device", "cpu")
    extra = {"hidden": 32, **opts}
    options = ModelOptions(epochs, batch, device, extra=extra, min_category_rows=min_rows)
    return fit_table_model(AutoregressiveModel(options), frame, columns, context, seed, reporter)


# -- determinism across processes ---------------------------------------------------------


def assert_same_samples_in_two_processes(tmp_path: Path, fit_code: str) -> None:
    """Run ``fit_code`` (which binds ``model``; ``helpers`` names are imported) in two
    fresh processes with one thread: their samples of 300 rows must be byte-identical,
    and the second process first loads the first one's artifact, before it has seen any
    training data, and samples the same bytes from it."""
    script = (
        textwrap.dedent(
            f"""
        import sys, numpy as np, torch
        torch.set_num_threads(1)
        from synthohive_dbt.synth.base import load_model
        out = sys.argv[1]
        if len(sys.argv) > 2:
            loaded = load_model(sys.argv[2])
            loaded.sample(300, rng=np.random.default_rng(5)).to_parquet(out + "_loaded.parquet")
        sys.path.insert(0, {str(Path(__file__).resolve().parent)!r})
        from helpers import *
        """
        )
        + textwrap.dedent(fit_code)
        + textwrap.dedent(
            """
        model.save(out + "_model")
        model.sample(300, rng=np.random.default_rng(5)).to_parquet(out + ".parquet")
        """
        )
    )

    def run(*args: str) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, env=env)
        assert proc.returncode == 0, proc.stderr.decode()[-3000:]

    run(str(tmp_path / "a"))
    run(str(tmp_path / "b"), str(tmp_path / "a_model"))
    a = (tmp_path / "a.parquet").read_bytes()
    assert a == (tmp_path / "b.parquet").read_bytes()
    assert a == (tmp_path / "b_loaded.parquet").read_bytes()


# -- generated tests: pass on fresh synthetic data, fail on planted defects (issue 9) -------

Outcome = tuple[str, str, str | None]  # (test, synthetic table, column)


def planted_defects(synthetic: str, real_ops: str) -> dict[Outcome, str]:
    """One defect per synthetic table of integration_tests (in schema ``synthetic``;
    ``real_ops``: the schema of the real ops seeds), keyed by the generated test that must
    catch it. Plain SQL that DuckDB, Postgres and Snowflake all run."""
    return {
        # an FK value without a parent
        ("relationships", "raw_orders", "customer"): (
            f"update {synthetic}.raw_orders set customer = 'no-such-customer' "
            f"where id = (select min(id) from {synthetic}.raw_orders)"
        ),
        # a primary key twice
        ("unique", "airports", "code"): (
            f"insert into {synthetic}.airports select * from {synthetic}.airports limit 1"
        ),
        # a numeric column shifted by five real standard deviations
        ("ks_distance", "flights", "fare"): (
            f"update {synthetic}.flights "
            f"set fare = fare + 5 * (select stddev(fare) from {real_ops}.flights)"
        ),
        # a real row copied (under a fresh key)
        ("no_real_row_copied", "employees", None): (
            f"insert into {synthetic}.employees "
            "(employee_id, hired_on, salary, name, department) "
            f"select (select max(employee_id) + 1 from {synthetic}.employees), "
            f"hired_on, salary, name, department from {real_ops}.employees "
            "order by employee_id limit 1"
        ),
    }


def generated_outcomes(result) -> dict[Outcome, set[str]]:
    """(test, synthetic table, column) -> the statuses of the generated tests that ran;
    columns in lower case (Snowflake's generated YAML names them in upper case)."""
    outcomes: dict[Outcome, set[str]] = {}
    for r in result.result:
        meta = r.node.test_metadata
        table = re.search(r"source\('synthohive', '(\w+)'\)", meta.kwargs["model"]).group(1)
        column = r.node.column_name.lower() if r.node.column_name else None
        outcomes.setdefault((meta.name, table, column), set()).add(str(r.status))
    return outcomes


def check_generated_tests(
    project: Path,
    planted: Mapping[Outcome, str],
    execute: Callable[[Iterable[str]], None],
    target: str = "duckdb",
) -> None:
    """Every generated test (``dbt test --select source:synthohive``) passes on the fresh
    synthetic tables; after ``execute`` has run the ``planted`` defects, each fails the test
    meant to catch it."""
    fresh = dbt(project, "test", "--select", "source:synthohive", target=target)
    outcomes = generated_outcomes(fresh)
    failing = {k: v for k, v in outcomes.items() if v != {"pass"}}
    assert fresh.success and not failing, f"failing on fresh synthetic data: {failing}"
    assert set(planted) <= set(outcomes), set(planted) - set(outcomes)
    execute(planted.values())
    broken = generated_outcomes(
        dbt(project, "test", "--select", "source:synthohive", target=target)
    )
    caught = {k: broken[k] for k in planted}
    assert all(v == {"fail"} for v in caught.values()), caught


# -- in-warehouse sampling on any target ------------------------------------------------

SAMPLED = ("source:ops", "source:jaffle_shop")


def sample_of(project: Path, target: str, rows: int, seed: int) -> tuple[dict, dict]:
    """(per sampled table, the keys that ``fit --sample-rows rows --seed seed`` reads, as
    text; per FK, ``fk_histogram``) on ``target``. ``flights*`` is flights selected alone:
    a root with an integer key (with its airports it is their child)."""
    # imported here: the API imports dbt, which is slow (see ``dbt``)
    from synthohive_dbt.api import open_project, schema_graph
    from synthohive_dbt.options import ProjectOptions
    from synthohive_dbt.pipeline import plan_warehouse_sample
    from synthohive_dbt.warehouse import open_warehouse

    opts = ProjectOptions(project_dir=project, profiles_dir=project, target=target,
                          select=SAMPLED)  # fmt: skip
    loaded = open_project(opts)
    graph = schema_graph(loaded)
    flights = next(k for k in graph.order if graph.table(k).name == "flights")
    alone = SchemaGraph({flights: graph.table(flights)}, (), (flights,))
    kept, histograms = {}, {}
    with open_warehouse(loaded.adapter_type, loaded.credentials) as wh:
        for suffix, g in (("", graph), ("*", alone)):
            plan, _ = plan_warehouse_sample(g, wh, rows, seed)
            for key, condition in plan.conditions.items():
                table = g.table(key)
                key_columns = table.primary_key.columns if table.primary_key else None
                frame = wh.read(table.relation, key_columns, where=condition).astype(str)
                kept[table.name + suffix] = set(frame.itertuples(index=False, name=None))
        for fk in graph.foreign_keys:
            child = graph.table(fk.child)
            histograms[(child.name, fk.columns)] = wh.fk_histogram(child.relation, fk.columns)
    return kept, histograms


def check_sample_matches_duckdb(duckdb_project: Path, project: Path, target: str, capsys) -> None:
    """On ``target`` the in-warehouse sample keeps the rows DuckDB keeps for the same seeded
    data (md5 of the key as text with the seed: text keys of airports and raw_customers,
    the integer key of flights, their children and what those reference); fk_histogram
    counts the same; ``inspect --check-data --sample-rows`` reports them."""
    on_duckdb, duckdb_histograms = sample_of(duckdb_project, "duckdb", 10, 5)
    on_target, histograms = sample_of(project, target, 10, 5)
    assert {"airports", "raw_customers", "flights", "flights*", "raw_orders"} <= on_duckdb.keys()
    assert {name: len(keys) for name, keys in on_target.items()} == {
        name: len(keys) for name, keys in on_duckdb.items()
    }
    # roots keep 10 (airports also keep those their kept flights' dest references)
    assert len(on_target["raw_customers"]) == len(on_target["flights*"]) == 10
    assert on_target == on_duckdb
    assert histograms == duckdb_histograms
    assert sum(histograms[("crew_assignments", ("flight_id", "leg_no"))].values()) > 100

    args = ("inspect", "--select", *SAMPLED, "--check-data", "--sample-rows", "10", "--seed", "5")
    capsys.readouterr()
    assert synthohive(project, *args, "--json", target=target) == 0
    sample = {s["table"]: s for s in json.loads(capsys.readouterr().out)["sample"]}
    assert {name: s["rows"] for name, s in sample.items()} == {
        name: len(keys) for name, keys in on_duckdb.items() if not name.endswith("*")
    }
    customers = sample["raw_customers"]
    assert (customers["real_rows"], sample["raw_orders"]["real_rows"]) == (300, 1500)
    assert "smallest md5 of id and seed 5" in customers["how"]


def check_sampled_fit_and_report(
    project: Path, target: str, real: Mapping[str, int], count: Callable[[str], int],
    orphans: Callable[[str], int],
) -> None:  # fmt: skip
    """``fit --sample-rows`` reads a sample of the ops tables but plans their ``real`` row
    counts; generate then writes tables of those sizes without orphans (``orphans(schema)``;
    ``count(sql)``: a count on the warehouse); report on them (whole and --sample-rows 40)
    counts the real rows and finds no orphans."""
    from synthohive_dbt.quality.run import HTML_MARK

    artifacts, schema = project / "target" / "synthohive_sampled", "synth_sampled"
    on = ("--select", "source:ops", "--artifacts", str(artifacts))
    fit = ("fit", *on, "--model", "copula", "--seed", "1", "--sample-rows", "10")
    assert synthohive(project, *fit, target=target) == 0
    plan = json.loads((artifacts / "plan.json").read_text())
    assert {t["name"]: t["rows"] for t in plan["tables"]} == real
    generate = ("generate", *on, "--schema", schema, "--seed", "2", "--no-yaml")
    assert synthohive(project, *generate, target=target) == 0
    assert orphans(schema) == 0
    assert count(f"select count(*) from {schema}.airports") == real["airports"]

    reports = []
    for sample_rows in ("50000", "40"):
        report = ("report", *on, "--schema", schema, "--sample-rows", sample_rows)
        assert synthohive(project, *report, target=target) == 0
        assert (artifacts / "report.html").read_text().startswith(HTML_MARK)
        reports.append(json.loads((artifacts / "report.json").read_text()))
    assert {t["name"]: t["rows_real"] for t in reports[0]["tables"]} == real
    for doc in reports:
        assert doc["schema"] == schema and len(doc["tables"]) == len(real)
        for table in doc["tables"]:
            assert table["integrity"] == {"duplicate_keys": 0, "null_keys": 0, "orphans": 0}
            assert all(r["orphans"] == 0 for r in table["relationships"])
    sizes = [[(t["name"], t["rows_real"], t["rows_synthetic"]) for t in d["tables"]]
             for d in reports]  # fmt: skip
    assert sizes[0] == sizes[1]  # --sample-rows 40 still reports the real counts


def failing(result) -> list[str]:
    """Names of the nodes of a ``dbtRunnerResult`` that did not pass or succeed."""
    return [r.node.name for r in result.result if str(r.status) not in ("pass", "success")]


def seed_and_fit(project: Path, target: str) -> Path:
    """``dbt seed`` and ``synthohive fit --model copula --seed 1`` on ``target``."""
    seeded = dbt(project, "seed", target=target)
    assert seeded.success, f"dbt seed on {target}: {seeded.exception or failing(seeded)}"
    assert synthohive(project, "fit", "--model", "copula", "--seed", "1", target=target) == 0
    return project
