"""Shared by the tests that run dbt on a copy of ``integration_tests``."""

from __future__ import annotations

import shutil
from pathlib import Path

from dbt.cli.main import dbtRunner, dbtRunnerResult

ROOT = Path(__file__).resolve().parent.parent


def copy_project(dest: Path) -> Path:
    """A fresh copy of ``integration_tests`` (no build output, no DuckDB files) whose
    ``local: ../`` package entry points at this checkout."""
    project = dest / "project"
    shutil.copytree(
        ROOT / "integration_tests",
        project,
        ignore=shutil.ignore_patterns("target*", "dbt_packages", "logs", "*.duckdb"),
    )
    packages = project / "packages.yml"
    packages.write_text(packages.read_text().replace("local: ../", f"local: {ROOT}/", 1))
    return project


def dbt(project: Path, *args: str, target: str = "duckdb") -> dbtRunnerResult:
    """``dbt ARGS`` on ``project`` (its own profiles.yml), quietly."""
    return dbtRunner().invoke(
        [*args, "--project-dir", str(project), "--profiles-dir", str(project),
         "--target", target, "--quiet"]
    )  # fmt: skip


def synthohive(project: Path, *args: str, target: str = "duckdb") -> int:
    """``synthohive ARGS`` in-process on ``project`` (its own profiles.yml), quietly."""
    from synthohive_dbt import cli

    command, *rest = args
    return cli.main(
        [command, "--project", str(project), "--profiles-dir", str(project),
         "--target", target, "--quiet", *rest]
    )  # fmt: skip


def _load_raw_module(project: str):
    """``integration_tests/<project>/load_raw.py`` as a module; loaded by path since the
    project folder is no package."""
    import importlib.util

    path = ROOT / "integration_tests" / project / "load_raw.py"
    spec = importlib.util.spec_from_file_location(f"{project}_load_raw", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def jaffle_real():
    """``integration_tests/jaffle_real/load_raw.py`` as a module (its raw-data maker, writers
    and ``copy_project``)."""
    return _load_raw_module("jaffle_real")


def people_raw():
    """``integration_tests/people/load_raw.py`` as a module (``make_raw``, ``write_duckdb``,
    ``write_postgres``, ``copy_project``)."""
    return _load_raw_module("people")


def people(dest: Path) -> Path:
    """A fresh copy of ``integration_tests/people`` at ``dest / 'people'`` (no target/,
    dbt_packages/, logs/ or DuckDB files) whose ``local:`` packages point at this checkout."""
    return people_raw().copy_project(dest)
