"""The demo: integration_tests/ as a user's dbt project on DuckDB, end to end.

1. copy integration_tests/ to build/demo/ and load its seeds (the "real" sources),
2. `synthohive fit`, 3. `synthohive generate`, 4. `dbt test --select source:synthohive`,
then print a short summary. Run through `scripts/demo` (which installs what is needed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from dbt.cli.main import dbtRunner

from synthohive_dbt import cli

ROOT = Path(__file__).resolve().parent.parent


def dbt(project: Path, *args: str) -> object:
    result = dbtRunner().invoke(
        [*args, "--project-dir", str(project), "--profiles-dir", str(project), "--quiet"]
    )
    if not result.success:
        raise SystemExit(f"dbt {' '.join(args)} failed: {result.exception or 'see output'}")
    return result


def prepare(workdir: Path) -> Path:
    project = workdir / "project"
    if project.exists():
        shutil.rmtree(project)
    shutil.copytree(
        ROOT / "integration_tests",
        project,
        ignore=shutil.ignore_patterns("target", "dbt_packages", "logs", "*.duckdb"),
    )
    packages = project / "packages.yml"
    text = packages.read_text().replace("local: ../", f"local: {ROOT}/", 1)
    packages.write_text(text)
    os.environ["SYNTHOHIVE_IT_DUCKDB"] = str(project / "target" / "demo.duckdb")
    return project


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "demo")
    parser.add_argument("--model", default="autoregressive")
    parser.add_argument("--epochs", default=None)
    parser.add_argument("--scale", default="1.0")
    args = parser.parse_args(argv)

    project = prepare(args.workdir)
    print(f"demo project: {project}")
    dbt(project, "deps")
    dbt(project, "seed")
    common = ["--project", str(project), "--profiles-dir", str(project), "--quiet"]
    fit_args = ["fit", *common, "--model", args.model]
    if args.epochs:
        fit_args += ["--epochs", args.epochs]
    for step in (fit_args, ["generate", *common, "--scale", args.scale]):
        code = cli.main(step)
        if code != 0:
            return code
    result = dbtRunner().invoke(
        [
            "test",
            "--select",
            "source:synthohive",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--quiet",
        ]
    )
    statuses = [str(r.status) for r in (result.result or [])]
    passed = sum(s == "pass" for s in statuses)
    print(f"dbt test --select source:synthohive: {passed}/{len(statuses)} tests passed")
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
