"""`synthohive init`: appends only, idempotent, and the project still parses with dbt."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, dbt

from synthohive_dbt import cli
from synthohive_dbt.bridge import parse_args
from synthohive_dbt.emit.thresholds import resolve
from synthohive_dbt.scaffold import (
    END,
    MARK,
    PROFILE_EXAMPLE,
    InitError,
    dbt_package_dir,
    init_project,
    template_dir,
)

PROJECT_YML = """\
# my project: comments and order must survive
name: demo
version: "1.0.0"
config-version: 2
profile: demo_profile
model-paths: ["models"]
"""

PROFILES_YML = """\
demo_profile:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{path}"
      schema: main
      threads: 1
"""


def make_project(tmp_path: Path, project_yml: str = PROJECT_YML) -> Path:
    project = tmp_path / "demo"
    (project / "models").mkdir(parents=True)
    (project / "models" / "one.sql").write_text("select 1 as id\n")
    (project / "dbt_project.yml").write_text(project_yml)
    (project / "profiles.yml").write_text(PROFILES_YML.format(path=tmp_path / "demo.duckdb"))
    return project


def snapshot(project: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(project)): p.read_bytes()
        for p in sorted(project.rglob("*"))
        if p.is_file()
        and "dbt_packages" not in p.parts
        and "target" not in p.parts
        and "logs" not in p.parts
    }


def dbt_ok(project: Path, *args: str) -> None:
    result = dbt(project, *args, target=None)
    assert result.success, result.exception


def test_template_values_are_accepted_by_their_readers():
    block = yaml.safe_load((template_dir() / "vars.yml").read_text())["vars"]
    resolve(block["synthohive"], {})  # the fidelity thresholds of `synthohive generate`
    parse_args(block["synthohive_synthesize"])  # the defaults of the synthesize macro
    assert dbt_package_dir() == ROOT


@pytest.mark.integration
def test_fresh_project(tmp_path):
    project = make_project(tmp_path)
    result = init_project(project)
    assert len(result.changes) == 3 and not result.unchanged

    text = (project / "dbt_project.yml").read_text()
    assert text.startswith(PROJECT_YML)  # appended, nothing rewritten
    assert MARK in text and text.rstrip().endswith(END)
    doc = yaml.safe_load(text)
    assert doc["vars"]["synthohive_synthesize"]["schema"] == "synthohive"
    assert doc["vars"]["synthohive"]["fidelity_severity"] == "error"

    packages = yaml.safe_load((project / "packages.yml").read_text())
    assert packages == {"packages": [{"local": str(ROOT)}]}
    example = project / PROFILE_EXAMPLE
    assert "demo_profile" in yaml.safe_load(example.read_text())
    assert (project / "profiles.yml").read_text() == PROFILES_YML.format(
        path=tmp_path / "demo.duckdb"
    )

    dbt_ok(project, "deps")
    dbt_ok(project, "parse")


def test_second_run_changes_nothing(tmp_path, capsys):
    project = make_project(tmp_path)
    assert cli.main(["init", "--project", str(project)]) == 0
    before = snapshot(project)
    capsys.readouterr()
    assert cli.main(["init", "--project", str(project)]) == 0
    assert snapshot(project) == before
    assert "nothing changed" in capsys.readouterr().out


@pytest.mark.integration
def test_existing_vars_get_a_commented_block(tmp_path):
    original = (
        PROJECT_YML
        + "vars:\n  start_date: '2020-01-01'\n  synthohive:\n    fidelity_severity: warn\n"
    )
    project = make_project(tmp_path, original)
    result = init_project(project)
    assert any("paste" in note for note in result.notes)

    text = (project / "dbt_project.yml").read_text()
    assert text.startswith(original)
    assert sum(line.startswith("vars:") for line in text.splitlines()) == 1
    added = text[len(original) :]
    assert all(line.startswith("#") for line in added.splitlines() if line)
    assert yaml.safe_load(text) == yaml.safe_load(original)

    before = snapshot(project)
    init_project(project)
    assert snapshot(project) == before
    dbt_ok(project, "deps")
    dbt_ok(project, "parse")


def test_vars_already_configuring_synthohive_are_left_alone(tmp_path):
    original = PROJECT_YML + textwrap.dedent(
        """\
        vars:
          synthohive: {fidelity_severity: warn}
          synthohive_synthesize: {schema: synth}
        """
    )
    project = make_project(tmp_path, original)
    result = init_project(project)
    assert (project / "dbt_project.yml").read_text() == original
    assert any("already configure" in line for line in result.unchanged)


@pytest.mark.integration
def test_existing_packages_yml_is_appended(tmp_path):
    other = tmp_path / "other_pkg"
    (other / "macros").mkdir(parents=True)
    (other / "dbt_project.yml").write_text(
        'name: other_pkg\nversion: "1.0.0"\nconfig-version: 2\nmacro-paths: ["macros"]\n'
    )
    project = make_project(tmp_path)
    original = f"packages:\n- local: {other}  # my package\n"
    (project / "packages.yml").write_text(original)
    init_project(project)

    text = (project / "packages.yml").read_text()
    assert text.startswith(original)
    assert yaml.safe_load(text)["packages"] == [{"local": str(other)}, {"local": str(ROOT)}]
    before = snapshot(project)
    init_project(project)
    assert snapshot(project) == before
    dbt_ok(project, "deps")
    dbt_ok(project, "parse")


def test_packages_yml_listing_synthohive_is_left_alone(tmp_path):
    project = make_project(tmp_path)
    original = (
        "packages:\n  - git: https://example.com/acme/synthohive-dbt.git\n    revision: main\n"
    )
    (project / "packages.yml").write_text(original)
    init_project(project)
    assert (project / "packages.yml").read_text() == original


def test_flow_style_packages_yml_is_not_rewritten(tmp_path):
    project = make_project(tmp_path)
    (project / "packages.yml").write_text("packages: []\n")
    with pytest.raises(InitError, match="add this entry"):
        init_project(project)
    assert (project / "packages.yml").read_text() == "packages: []\n"


def test_git_source(tmp_path):
    project = make_project(tmp_path)
    before = snapshot(project)
    with pytest.raises(InitError, match="--git-url"):
        init_project(project, package_source="git")
    assert snapshot(project) == before  # refused before anything was written
    init_project(project, package_source="git", git_url="https://example.com/x/synthohive-dbt.git")
    entry = yaml.safe_load((project / "packages.yml").read_text())["packages"][0]
    assert entry["git"] == "https://example.com/x/synthohive-dbt.git"
    assert entry["revision"].startswith("v")


def test_not_a_project(tmp_path, capsys):
    assert cli.main(["init", "--project", str(tmp_path)]) == 1
    assert "No dbt_project.yml" in capsys.readouterr().err


@pytest.mark.integration
def test_a_wheel_install_carries_the_dbt_package_and_the_template(tmp_path, monkeypatch):
    """The wheel ships dbt_project.yml, macros/ and the init template as data files; with
    them installed under a prefix (and no checkout), init finds them and dbt deps + parse
    accept the local package."""
    import shutil
    import subprocess
    import sys
    import zipfile

    from synthohive_dbt import scaffold as init_mod

    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "dbt_project.yml"):
        shutil.copy(ROOT / name, src / name)
    for name in ("synthohive_dbt", "dbt_synthohive", "macros", "dbt_project_template"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(src)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    wheel = next(dist.glob("synthohive_dbt-*.whl"))
    prefix = tmp_path / "prefix"
    shipped = set()
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if ".data/data/" in name:
                rel = name.split(".data/data/", 1)[1]
                shipped.add(rel)
                (prefix / rel).parent.mkdir(parents=True, exist_ok=True)
                (prefix / rel).write_bytes(archive.read(name))
    share = Path("share") / "synthohive-dbt"
    expected = {str(share / p.relative_to(ROOT)) for p in ROOT.glob("macros/**/*.sql")}
    expected |= {str(share / "dbt_project.yml")}
    expected |= {str(share / "dbt_project_template" / p.name) for p in template_dir().iterdir()}
    assert expected <= shipped, sorted(expected - shipped)

    monkeypatch.setattr(init_mod, "_CHECKOUT", tmp_path / "not-a-checkout")
    monkeypatch.setattr(init_mod.sysconfig, "get_path", lambda name: str(prefix))
    assert dbt_package_dir() == prefix / share
    assert template_dir() == prefix / share / "dbt_project_template"
    project = make_project(tmp_path)
    init_project(project)
    packages = yaml.safe_load((project / "packages.yml").read_text())
    assert packages == {"packages": [{"local": str(prefix / share)}]}
    dbt_ok(project, "deps")
    dbt_ok(project, "parse")
    assert (project / "dbt_packages" / "synthohive" / "macros" / "synthesize.sql").exists()
