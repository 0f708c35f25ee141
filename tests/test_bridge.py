"""`dbt run-operation synthesize`: the dbt_synthohive plugin, the macro and the bridge.

Guard tests assert the dbt internals the bridge relies on, so a dbt upgrade that removes
one fails here with what broke. The end-to-end tests run dbt for real (dbtRunner) on a copy
of integration_tests/ with the airline seeds (source `ops`) on DuckDB and Postgres.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import duckdb
import pytest
from helpers import PG, ROOT, dbt

import dbt_synthohive
from dbt_synthohive import METHOD_NAME, _plugin
from synthohive_dbt.bridge import OperationArgs, OperationArgumentError, parse_args

# child table, FK column, parent table, parent key: the ops schema's single-column FKs
OPS_FKS = [
    ("flights", "origin", "airports", "code"),
    ("flights", "dest", "airports", "code"),
    ("employees", "manager_id", "employees", "employee_id"),
    ("flight_legs", "flight_id", "flights", "flight_id"),
    ("crew_assignments", "employee_id", "employees", "employee_id"),
]
OPS_TABLES = {"airports", "employees", "flights", "flight_legs", "crew_assignments"}


# ---- guards: the dbt internals the bridge relies on ------------------------------------


def test_dbt_plugin_loader_imports_dbt_modules():
    from dbt.cli import requires
    from dbt.plugins import dbtPlugin, set_up_plugin_manager
    from dbt.plugins.manager import PluginManager

    broke = "dbt's plugin loader changed: `dbt run-operation synthesize` cannot load its bridge"
    assert PluginManager.PLUGIN_MODULE_PREFIX == "dbt_", broke
    assert PluginManager.PLUGIN_ATTR_NAME == "plugins", broke
    assert callable(getattr(dbtPlugin, "initialize", None)), broke
    assert "set_up_plugin_manager" in inspect.getsource(requires.project), (
        f"{broke}: dbt.cli.requires.project no longer sets up plugins for every command"
    )
    assert "dbt_synthohive" in PluginManager.get_prefixed_modules(), (
        "dbt's plugin loader (pkgutil.iter_modules over sys.path) does not find "
        "dbt_synthohive: an editable install through setuptools' import hook hides it; "
        "reinstall with --config-settings editable_mode=compat (scripts/bootstrap.sh does)"
    )
    set_up_plugin_manager("guard")  # instantiates the plugin: initialize() registers
    assert _plugin.registration_error is None, _plugin.registration_error


def test_adapter_available_mechanism():
    from dbt.adapters.base.impl import BaseAdapter
    from dbt.adapters.base.meta import AdapterMeta, available
    from dbt.adapters.duckdb import DuckDBAdapter
    from dbt.context.providers import ParseDatabaseWrapper, RuntimeDatabaseWrapper

    assert isinstance(BaseAdapter, AdapterMeta)
    assert isinstance(BaseAdapter._available_, frozenset)
    assert isinstance(BaseAdapter._parse_replacements_, dict)
    assert callable(available.parse)
    _plugin.register()
    _plugin.register()  # idempotent

    class LaterAdapter(DuckDBAdapter):  # classes created after registration inherit it
        pass

    for cls in (BaseAdapter, DuckDBAdapter, LaterAdapter):
        assert METHOD_NAME in cls._available_, f"{cls.__name__}._available_ lost the method"
        assert METHOD_NAME in cls._parse_replacements_
    adapter = object.__new__(DuckDBAdapter)
    runtime = object.__new__(RuntimeDatabaseWrapper)
    runtime._adapter = adapter
    assert getattr(runtime, METHOD_NAME).__func__ is _plugin.synthohive_synthesize, (
        "dbt's Jinja `adapter` object no longer exposes the names in _available_"
    )
    parse = object.__new__(ParseDatabaseWrapper)
    parse._adapter = adapter
    assert getattr(parse, METHOD_NAME)(schema="x")["parsing"] is True


def test_a_failed_registration_does_not_break_dbt(monkeypatch):
    def broken() -> None:
        raise TypeError("AdapterMeta changed")

    monkeypatch.setattr(_plugin, "register", broken)
    _plugin.SynthoHivePlugin(project_name="x")  # dbt would fail every command on a raise
    assert "AdapterMeta changed" in _plugin.registration_error
    monkeypatch.undo()
    _plugin.SynthoHivePlugin(project_name="x")
    assert _plugin.registration_error is None


def test_dbt_hands_its_manifest_and_selector_to_the_bridge():
    from dbt.adapters.base.impl import BaseAdapter
    from dbt.compilation import Linker
    from dbt.graph import Graph, ResourceTypeSelector, parse_difference
    from dbt.parser.manifest import ManifestLoader

    assert callable(getattr(BaseAdapter, "get_macro_resolver", None))
    assert "set_macro_resolver" in inspect.getsource(ManifestLoader.save_macros_to_adapter)
    assert callable(getattr(Linker, "link_graph", None)) and Graph and parse_difference
    assert "selectors" in inspect.signature(ResourceTypeSelector).parameters


def test_shim_import_is_cheap():
    code = (
        "import sys, dbt_synthohive; "
        "heavy = [m for m in ('dbt', 'pandas', 'torch', 'synthohive_dbt') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/"
    )
    assert out.stdout.strip() == "[]"
    assert dbt_synthohive.INSTALL_HINT.count("pip install synthohive-dbt") == 1


def test_bridge_self_check_in_a_fresh_interpreter():
    out = subprocess.run(
        [sys.executable, "-m", "dbt_synthohive"], capture_output=True, text=True, cwd="/"
    )
    assert out.returncode == 0, out.stdout + out.stderr


# ---- argument checks -------------------------------------------------------------------


def test_parse_args_normalises():
    args = parse_args({"select": "source:ops model_a", "scale": 2, "seed": 7.0, "refit": True})
    assert args == OperationArgs(select=("source:ops", "model_a"), scale=2.0, seed=7, refit=True)
    assert parse_args({"exclude": ["a b", "c"]}).exclude == ("a", "b", "c")
    assert parse_args({"precision": "float32"}).precision == "float32"


def test_parse_args_reports_every_problem():
    with pytest.raises(OperationArgumentError) as info:
        parse_args(
            {"scale": 0, "seed": -1, "model": "gan", "refit": "yes", "colour": 1, "precision": 8}
        )
    text = str(info.value)
    for part in ("scale must be", "seed must be", "'gan' is unknown", "refit must be", "colour"):
        assert part in text
    assert "precision must be one of auto, float32, bfloat16, got 8" in text


# ---- dbt run-operation, for real ---------------------------------------------------------


def synthesize(project: Path, args: str, target: str = "duckdb", *extra: str):
    return dbt(project, "run-operation", "synthesize", "--args", args, *extra, target=target)


def error_of(result) -> str:
    assert not result.success
    if result.exception is not None:
        return str(result.exception)
    return "\n".join(str(r.message) for r in result.result.results)


def seed_ops(project: Path, target: str) -> None:
    assert dbt(project, "seed", "--select", "path:seeds/ops", target=target).success


@pytest.fixture(scope="module")
def ops_duckdb(tmp_path_factory, dbt_project):
    tmp = tmp_path_factory.mktemp("bridge")
    project = dbt_project(tmp)
    path = tmp / "it.duckdb"
    old = os.environ.get("SYNTHOHIVE_IT_DUCKDB")
    os.environ["SYNTHOHIVE_IT_DUCKDB"] = str(path)
    try:
        seed_ops(project, "duckdb")
        yield project, path
    finally:
        if old is None:
            os.environ.pop("SYNTHOHIVE_IT_DUCKDB", None)
        else:
            os.environ["SYNTHOHIVE_IT_DUCKDB"] = old


def duck_rows(path: Path, sql: str):
    con = duckdb.connect(str(path))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def orphan_sql(schema: str) -> str:
    checks = [
        f"select count(*) from {schema}.{child} c left join {schema}.{parent} p "
        f"on c.{fk} = p.{pk} where c.{fk} is not null and p.{pk} is null"
        for child, fk, parent, pk in OPS_FKS
    ]
    return "select " + " + ".join(f"({c})" for c in checks)


def content_hash(path: Path, schema: str) -> dict[str, str]:
    return {
        table: duck_rows(
            path,
            f"select md5(string_agg(cast(t as varchar), '|' order by cast(t as varchar))) "
            f"from {schema}.{table} t",
        )[0][0]
        for table in sorted(OPS_TABLES)
    }


@pytest.mark.integration
@pytest.mark.slow
def test_run_operation_duckdb(ops_duckdb):
    project, path = ops_duckdb
    result = synthesize(
        project, '{select: "source:ops", scale: 2, seed: 7, refit: true, model: copula}'
    )
    assert result.success, error_of(result)
    assert (project / "target" / "synthohive" / "plan.json").is_file()
    # the composite FK declared only on a contract model reached its source: the running
    # command's compiler compiled the model for lineage
    plan = json.loads((project / "target" / "synthohive" / "plan.json").read_text())
    (crew,) = [t for t in plan["tables"] if t["name"] == "crew_assignments"]
    assert [("flight_id", "leg_no"), ("flight_id", "leg_no")] in [
        [tuple(fk["columns"]), tuple(fk["parent_columns"])]
        for fk in crew["fks"]
        if fk["parent"].endswith("flight_legs")
    ]
    tables = {
        r[0]
        for r in duck_rows(
            path,
            "select table_name from information_schema.tables where table_schema = 'synthohive'",
        )
    }
    assert tables == OPS_TABLES
    real, synth = duck_rows(
        path,
        "select (select count(*) from main_ops.airports), "
        "(select count(*) from synthohive.airports)",
    )[0]
    assert synth == 2 * real  # scale applies to root tables
    assert duck_rows(path, orphan_sql("synthohive"))[0][0] == 0
    first = content_hash(path, "synthohive")

    # saved models, same seed: the same tables; schema from var('synthohive_synthesize')
    result = synthesize(
        project,
        "{scale: 2, seed: 7}",
        "duckdb",
        "--vars",
        "{synthohive_synthesize: {schema: synth_again}}",
    )
    assert result.success, error_of(result)
    assert content_hash(path, "synth_again") == first

    result = synthesize(project, "{scale: 2, seed: 8, schema: synth_other}")
    assert result.success, error_of(result)
    assert content_hash(path, "synth_other") != first

    # the saved models were fitted on source:ops, not on the seed `airports`
    message = error_of(synthesize(project, '{select: "airports", schema: synth_bad}'))
    assert "refit: true" in message
    message = error_of(synthesize(project, "{schema: main_ops}"))  # the real tables' schema
    assert "holds real tables" in message


@pytest.mark.integration
@pytest.mark.slow
def test_run_operation_errors_are_dbt_errors(ops_duckdb):
    project, path = ops_duckdb
    message = error_of(synthesize(project, '{select: "source:opz", refit: true, schema: bad}'))
    assert "source:opz" in message and "chose no source, model or seed" in message
    message = error_of(synthesize(project, "{scale: -1, model: gan}"))
    assert "scale must be" in message and "'gan' is unknown" in message
    schemas = {r[0] for r in duck_rows(path, "select schema_name from information_schema.schemata")}
    assert "bad" not in schemas


def tiny_project(root: Path) -> Path:
    """A one-model project that installs the synthohive dbt package (a fast parse)."""
    project = root / "tiny"
    (project / "models").mkdir(parents=True)
    (project / "models" / "one.sql").write_text("select 1 as id\n")
    (project / "dbt_project.yml").write_text(
        'name: tiny\nversion: "1.0.0"\nconfig-version: 2\nprofile: tiny\n'
    )
    (project / "packages.yml").write_text(f"packages:\n  - local: {ROOT}\n")
    (project / "profiles.yml").write_text(
        "tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {root / 'tiny.duckdb'}\n      schema: main\n      threads: 1\n"
    )
    assert dbt(project, "deps", target="dev").success
    return project


@pytest.mark.integration
@pytest.mark.slow
def test_run_operation_without_the_bridge_says_what_to_install(tmp_path):
    project = tiny_project(tmp_path)
    # dbt finds plugins with pkgutil.iter_modules: hide dbt_synthohive from it, as when the
    # Python package is not installed where dbt runs.
    code = textwrap.dedent(
        f"""
        import pkgutil, sys
        _iter = pkgutil.iter_modules
        pkgutil.iter_modules = lambda *a, **k: (
            m for m in _iter(*a, **k) if m.name != "dbt_synthohive")
        from dbt.cli.main import dbtRunner
        result = dbtRunner().invoke([
            "run-operation", "synthesize", "--project-dir", {str(project)!r},
            "--profiles-dir", {str(project)!r}])
        assert "dbt_synthohive" not in sys.modules
        sys.exit(0 if result.success else 3)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=project, timeout=300
    )
    assert out.returncode == 3, out.stdout + out.stderr
    assert "pip install synthohive-dbt" in out.stdout
    assert "synthohive generate" in out.stdout


def test_in_process_selection_equals_dbt_ls(tmp_path, monkeypatch, fixture_projects):
    """The bridge cannot run `dbt ls` (a nested dbtRunner resets dbt's state): its own
    evaluation with dbt's selector classes must choose what `dbt ls` chooses."""
    from synthohive_dbt.project.load import _dbt_args, load_project
    from synthohive_dbt.project.selection import select_nodes, select_nodes_in_process

    shop = fixture_projects(tmp_path) / "shop"
    monkeypatch.setenv("SYNTHOHIVE_TEST_DUCKDB", str(tmp_path / "never_opened.duckdb"))
    loaded = load_project(shop)
    args = _dbt_args(shop, loaded.profiles_dir, None, None)
    cases = [
        ((), ()),
        (("source:jaffle_shop", "countries"), ("source:jaffle_shop.raw_payments",)),
        (("+orders",), ()),
        (("package:shop",), ("resource_type:seed",)),
        (("orders+", "source:*"), ("customers",)),
    ]
    for select, exclude in cases:
        expected = select_nodes(loaded.manifest, "shop", args, select, exclude)
        got = select_nodes_in_process(
            loaded.manifest, "shop", select, exclude, selectors=loaded.config.selectors
        )
        assert got == expected, (select, exclude)


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.slow
def test_run_operation_postgres(tmp_path, monkeypatch, postgres_server, dbt_project):
    import psycopg2

    base = f"br_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("SYNTHOHIVE_IT_PG_SCHEMA", base)
    project = dbt_project(tmp_path)
    synth = f"{base}_synth"
    try:
        seed_ops(project, "postgres")
        args = f'{{select: "source:ops", scale: 2, seed: 7, schema: {synth}, model: copula}}'
        result = synthesize(project, args, "postgres")
        assert result.success, error_of(result)
        with psycopg2.connect(**PG) as conn, conn.cursor() as cur:
            cur.execute(
                f"select (select count(*) from {base}_ops.airports), "
                f"(select count(*) from {synth}.airports)"
            )
            real, synthetic = cur.fetchone()
            assert synthetic == 2 * real
            cur.execute(orphan_sql(synth))
            assert cur.fetchone()[0] == 0
            cur.execute(
                "select table_name from information_schema.tables where table_schema = %s",
                (synth,),
            )
            assert {r[0] for r in cur.fetchall()} == OPS_TABLES
    finally:
        with psycopg2.connect(**PG) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                for schema in (base, f"{base}_ops", synth):
                    cur.execute(f"drop schema if exists {schema} cascade")


def test_run_operation_and_the_cli_share_one_default_model():
    from synthohive_dbt.bridge import parse_args
    from synthohive_dbt.cli import build_parser
    from synthohive_dbt.options import DEFAULT_MODEL

    fit_args = build_parser().parse_args(["fit"])
    assert parse_args({}).model == fit_args.model == DEFAULT_MODEL
