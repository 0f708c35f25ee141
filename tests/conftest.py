"""Fixtures the tests share: one torch thread, the Postgres server, copies of the dbt
projects with their packages installed, golden files. Plain builders: ``helpers.py``."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import PG, ROOT, dbt, raw_loader


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The Snowflake and BigQuery tests run last (in their own order): once dbt-snowflake
    and dbt-bigquery are loaded in this process, every later dbt invocation on DuckDB or
    Postgres runs several times slower (measured: test_integration 2 min alone, 8 min after
    test_e2e_bigquery)."""
    late = {"snowflake", "bigquery"}
    items.sort(key=lambda item: bool(late & {m.name for m in item.iter_markers()}))


TESTS = Path(__file__).resolve().parent
GOLDEN = TESTS / "golden"
FIXTURE_PROJECTS = TESTS / "fixtures" / "projects"
#: never copied: build output, installed packages, logs, warehouse files
BUILD_OUTPUT = ("target*", "dbt_packages", "logs", "package-lock.yml", "*.duckdb*", "__pycache__")


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """One torch thread for a module: tiny networks on a shared 2-core machine, where a
    second thread only adds synchronisation (and waiting)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def postgres_server() -> dict[str, Any]:
    """psycopg2.connect arguments of the server the ``postgres`` tests need. Fails, never
    skips, when the server does not answer: a test selected to run on Postgres that does
    not run must not pass unnoticed."""
    import psycopg2

    try:
        psycopg2.connect(**PG, connect_timeout=5).close()
    except psycopg2.OperationalError as exc:
        error = " ".join(str(exc).split())
    else:
        return dict(PG)
    pytest.fail(
        f"the Postgres tests need the server at {PG['host']}:{PG['port']} (user "
        f"{PG['user']}, database {PG['dbname']}): start it (scripts/test does) or deselect "
        f"them with -m 'not postgres'. psycopg2 says: {error}",
        pytrace=False,
    )


@pytest.fixture
def postgres_project(
    tmp_path, monkeypatch, postgres_server, dbt_project
) -> Iterator[tuple[Path, str]]:
    """(a copy of integration_tests, the schema to write synthetic tables into) on fresh
    Postgres schemas (``base`` in ``SYNTHOHIVE_IT_PG_SCHEMA``, its ``_raw``/``_ops`` and
    the ``_synth`` one), all dropped afterwards."""
    import uuid

    import psycopg2

    base = f"it_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("SYNTHOHIVE_IT_PG_SCHEMA", base)
    try:
        yield dbt_project(tmp_path), f"{base}_synth"
    finally:
        with psycopg2.connect(**postgres_server) as conn:
            conn.autocommit = True
            cur = conn.cursor()
            for schema in (base, f"{base}_raw", f"{base}_ops", f"{base}_synth"):
                cur.execute(f"drop schema if exists {schema} cascade")


@pytest.fixture(scope="session")
def dbt_project() -> Callable[..., Path]:
    """``dbt_project(dest, name="integration_tests", deps=True)``: a fresh copy of
    ``integration_tests`` (at ``dest / 'project'``) or of its ``jaffle_real`` or ``people``
    project (at ``dest / name``), without build output or warehouse files, whose ``local:``
    packages point at this checkout; ``dbt deps`` has run on it unless ``deps`` is False."""

    def make(dest: Path, name: str = "integration_tests", *, deps: bool = True) -> Path:
        if name == "integration_tests":
            project = dest / "project"
            shutil.copytree(
                ROOT / "integration_tests", project, ignore=shutil.ignore_patterns(*BUILD_OUTPUT)
            )
            packages = project / "packages.yml"
            packages.write_text(packages.read_text().replace("local: ../", f"local: {ROOT}/", 1))
        else:
            project = raw_loader(name).copy_project(dest)
        if deps:
            install(project)
        return project

    return make


@pytest.fixture(scope="session")
def fixture_projects() -> Callable[[Path], Path]:
    """``fixture_projects(dest)``: a copy of ``tests/fixtures/projects`` in ``dest`` (never
    parse them in place: dbt writes target/ and logs/), the shop project's packages
    installed; returns ``dest``."""

    def make(dest: Path) -> Path:
        ignore = shutil.ignore_patterns(*BUILD_OUTPUT)
        shutil.copytree(FIXTURE_PROJECTS, dest, dirs_exist_ok=True, ignore=ignore)
        install(dest / "shop")
        return dest

    return make


def install(project: Path) -> None:
    """``dbt deps`` on ``project`` (no warehouse is opened)."""
    result = dbt(project, "deps", target=None)
    assert result.success, f"dbt deps in {project}: {result.exception}"


@pytest.fixture
def golden() -> Callable[[str, str], None]:
    """``golden(name, text)``: ``text`` equals ``tests/golden/<name>``;
    SYNTHOHIVE_UPDATE_GOLDEN=1 rewrites the file instead."""

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if os.environ.get("SYNTHOHIVE_UPDATE_GOLDEN"):
            path.write_text(text)
        assert path.is_file(), f"missing golden file {path}; rerun with SYNTHOHIVE_UPDATE_GOLDEN=1"
        assert text == path.read_text(), f"{name} differs from its golden file"

    return check
