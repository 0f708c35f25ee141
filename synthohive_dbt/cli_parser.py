"""The ``synthohive`` command line's arguments: one parser per command, the dbt project
options every command shares, and the defaults from ``options``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import __version__
from .options import DEFAULT_MODEL, GenerateOptions
from .synth.base import available_models


def _project_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("dbt project (same meaning as in dbt)")
    _project_dir_arg(group)
    group.add_argument("--profiles-dir", type=Path, default=None, help="where profiles.yml is")
    group.add_argument("--target", "-t", default=None, help="profile target (default: profile's)")
    group.add_argument(
        "--select",
        "-s",
        nargs="+",
        action="extend",
        default=[],
        help="dbt selection of sources/models/seeds (default: every source of the project)",
    )
    group.add_argument("--exclude", nargs="+", action="extend", default=[], help="dbt exclusion")
    group.add_argument("--vars", default=None, help="dbt vars as YAML, like dbt --vars")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    _log_format_arg(parser)


def _project_dir_arg(parser: Any) -> None:
    """``--project``, on a parser or an argument group (``init`` has no other dbt options)."""
    parser.add_argument(
        "--project",
        "--project-dir",
        dest="project",
        type=Path,
        default=Path("."),
        help="dbt project directory (default: current directory)",
    )


def _warehouse_sample_arg(parser: argparse.ArgumentParser, extra: str = "") -> None:
    parser.add_argument(
        "--sample-rows",
        type=int,
        default=None,
        help="read at most N rows of each root table, sampled inside the warehouse by a "
        "hash of the primary key and --seed; child tables keep the children of the sampled "
        "rows (FK-closed); generate still makes tables of the real sizes" + extra,
    )


def _log_format_arg(parser: argparse.ArgumentParser) -> None:
    # stderr, unlike dbt's stdout: our stdout carries results (`inspect --json`, summaries)
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="progress on stderr as text lines or one JSON object per event (like dbt's)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synthohive",
        description="Turn a dbt project into a synthetic-data factory.",
    )
    parser.add_argument("--version", action="version", version=f"synthohive-dbt {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("inspect", help="print the schema graph read from the dbt project")
    _project_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--check-data",
        action="store_true",
        help="also read the real tables and run the data-level validation",
    )
    _warehouse_sample_arg(p, " (with --check-data: show what fit would read)")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample (as fit --seed)")

    p = sub.add_parser("fit", help="train models on the real tables and save artifacts")
    _project_args(p)
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        choices=available_models(),
        help="autoregressive (default): learns the joint structure of the columns; "
        "ctgan: our CTGAN; copula: a fast Gaussian copula",
    )
    p.add_argument("--epochs", type=int, default=None)
    _warehouse_sample_arg(p)
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="rows per training step (default: from each table's training rows)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument(
        "--precision",
        default=None,
        choices=("auto", "float32", "bfloat16"),
        help="matrix products of ctgan (training and sampling) and autoregressive "
        "(sampling): auto (default: bfloat16 where the CPU or GPU has bfloat16 matrix "
        "units, float32 elsewhere), float32, bfloat16",
    )
    p.add_argument(
        "--artifacts", type=Path, default=None, help="default: PROJECT/target/synthohive/"
    )
    p.add_argument(
        "--state",
        type=Path,
        default=None,
        help="directory with an earlier run's manifest.json, for dbt's state: selection "
        "(--select state:modified+); the selection then refits part of the saved artifacts "
        "and keeps the rest",
    )
    p.add_argument(
        "--full-refresh",
        action="store_true",
        help="train every model it reads again, even of tables whose fingerprint (schema, "
        "options, data) is unchanged since the saved artifacts",
    )

    p = sub.add_parser("generate", help="write synthetic tables into the warehouse")
    _project_args(p)
    p.add_argument(
        "--schema", default=None, help="synthetic schema (default synthohive); default mode only"
    )
    p.add_argument(
        "--scale", type=float, default=GenerateOptions.scale, help="root table size factor"
    )
    p.add_argument("--seed", type=int, default=GenerateOptions.seed)
    p.add_argument("--artifacts", type=Path, default=None)
    p.add_argument(
        "--yaml-path",
        type=Path,
        default=None,
        help="where to write the generated sources YAML, relative to the project",
    )
    p.add_argument("--no-yaml", action="store_true", help="do not write the sources YAML")
    p.add_argument(
        "--keep-orphans",
        action="store_true",
        help="reproduce the real share of FK values without a parent (default: none)",
    )
    p.add_argument(
        "--privacy-gate",
        action="store_true",
        help="exit 1 when a table fails the holdout privacy check (tables stay written)",
    )
    p.add_argument(
        "--chunk-rows",
        type=int,
        default=GenerateOptions.chunk_rows,
        help="rows generated and written per chunk",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--environment",
        action="store_true",
        help="synthetic environment: write each table where its source resolves under "
        "--target (refuses the real relations); then `dbt build --target NAME` runs on it",
    )
    mode.add_argument(
        "--as-seeds",
        action="store_true",
        help="write CSV seeds and their YAML into SEED_PATH/synthohive/ instead of tables",
    )
    mode.add_argument(
        "--as-python-models",
        action="store_true",
        help="write dbt Python models (DuckDB) into models/synthohive/ that sample from the "
        "artifacts when dbt runs them",
    )
    _report_parser(sub)
    _init_parser(sub)
    return parser


def _report_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="score the synthetic tables against the real ones: an HTML and a JSON report, "
        "scores in the generated sources YAML, and a gate (--fail-under)",
    )
    _project_args(p)
    p.add_argument(
        "--artifacts", type=Path, default=None, help="default: PROJECT/target/synthohive/"
    )
    p.add_argument(
        "--schema", default=None, help="where the synthetic tables are (default synthohive)"
    )
    p.add_argument(
        "--output", type=Path, default=None, help="HTML file (default: ARTIFACTS/report.html)"
    )
    p.add_argument(
        "--json", type=Path, default=None, help="JSON file (default: ARTIFACTS/report.json)"
    )
    p.add_argument(
        "--fail-under",
        type=float,
        default=None,
        help="exit 1 when the overall score is below this (0 to 1); per-table thresholds: "
        "vars synthohive.report.tables.NAME.fail_under",
    )
    p.add_argument(
        "--sample-rows",
        type=int,
        default=50_000,
        help="rows read from each real and synthetic table at most (a seeded sample)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the samples")


def _init_parser(sub) -> None:
    p = sub.add_parser(
        "init", help="add synthohive's vars, package entry and profile example to a project"
    )
    _project_dir_arg(p)
    p.add_argument(
        "--package-source",
        choices=("local", "git"),
        default="local",
        help="packages.yml entry: local path of this installation (default) or a git URL",
    )
    p.add_argument("--git-url", default=None, help="repository URL for --package-source git")
    p.add_argument(
        "--revision",
        default=None,
        help="git revision for --package-source git (default v<version>)",
    )
    _log_format_arg(p)
