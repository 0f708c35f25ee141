"""`synthohive` command line: argument parsing, progress display, exit codes. Nothing else."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .cli_parser import build_parser
from .errors import SynthoHiveError
from .options import GenerateOptions
from .progress import JsonLines, Reporter, TextLines
from .synth.base import ModelOptions

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_INTERNAL = 2


def _project_options(args: argparse.Namespace):
    from .options import ProjectOptions

    vars_ = None
    if args.vars:
        import yaml

        vars_ = yaml.safe_load(args.vars)
    return ProjectOptions(
        project_dir=args.project,
        profiles_dir=args.profiles_dir,
        target=args.target,
        select=tuple(args.select),
        exclude=tuple(args.exclude),
        vars=vars_,
        state=getattr(args, "state", None),
    )


def progress_reporter(args: argparse.Namespace) -> Reporter:
    """Progress on stderr, as text or JSON lines; ``--quiet`` silences both."""
    if args.quiet:
        return Reporter()
    return Reporter(JsonLines() if args.log_format == "json" else TextLines())


def cmd_inspect(args: argparse.Namespace) -> int:
    from .api import inspect
    from .schema.inspect_view import graph_to_json, graph_to_text

    if args.sample_rows is not None and not args.check_data:
        raise SynthoHiveError(
            "invalid inspect options (nothing was read)",
            ["--sample-rows shows what fit would read from the warehouse: add --check-data"],
        )
    result = inspect(
        _project_options(args),
        with_warehouse=args.check_data,
        sample_rows=args.sample_rows,
        seed=args.seed,
    )
    if args.json:
        out = graph_to_json(result.graph, result.rules, result.personal)
        if args.check_data:
            out["sample"] = sample_json(result)
        print(json.dumps(out, indent=2))
    else:
        print(graph_to_text(result.graph, result.rules, result.personal))
        print("\n".join(sample_lines(result)), end="")
    return EXIT_OK


def sample_json(result: Any) -> list[dict[str, Any]]:
    """``inspect --check-data --json``: per sampled table, what fit would read."""
    return [
        {"table": result.graph.table(key).name, "rows": read.rows,
         "real_rows": read.real_rows, "how": read.how}
        for key, read in result.sample.items()
    ]  # fmt: skip


def sample_lines(result: Any) -> list[str]:
    """``inspect --check-data``: the sample section (nothing when fit reads whole tables)."""
    if not result.sample:
        return []
    lines = ["", "sample (what `synthohive fit` reads; other tables are read whole):"]
    for key, read in result.sample.items():
        lines.append(
            f"  {result.graph.table(key).name}: {read.rows:,} of {read.real_rows:,} rows  "
            f"({read.how})"
        )
    return [*lines, ""]


def cmd_fit(args: argparse.Namespace) -> int:
    from .api import fit

    extra = {} if args.precision is None else {"precision": args.precision}
    options = ModelOptions(args.epochs, args.batch_size, args.device, extra)
    result = fit(
        _project_options(args),
        model=args.model,
        options=options,
        seed=args.seed,
        artifacts=args.artifacts,
        reporter=progress_reporter(args),
        full_refresh=args.full_refresh,
        sample_rows=args.sample_rows,
    )
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for label, names in (
        ("trained", result.trained),
        ("reused (unchanged)", result.reused),
        ("kept (not selected)", result.kept),
    ):
        if names:
            print(f"  {label}: {', '.join(names)}")
    total = sum(result.tables.values())
    print(
        f"fitted {len(result.tables)} tables ({total} rows) with {args.model} "
        f"in {result.seconds:.1f}s: {len(result.trained)} trained, {len(result.reused)} "
        f"reused, {len(result.kept)} kept; artifacts in {result.artifacts}"
    )
    return EXIT_OK


def generate_mode_problems(
    schema: str | None, environment: bool, export: str | None, yaml_path: Path | None
) -> list[str]:
    """What is wrong with a combination of generate's mode options."""
    from .api import EXPORTS

    problems = []
    if export is not None and export not in EXPORTS:
        problems.append(f"export must be one of {', '.join(EXPORTS)}, got {export!r}")
    if environment and export is not None:
        problems.append("--environment writes tables; it cannot be combined with an export")
    if schema is not None and (environment or export is not None):
        problems.append(
            "--schema names the synthetic schema of the default mode; with --environment "
            "the tables go where the sources resolve, with an export into files"
        )
    if environment and yaml_path is not None:
        problems.append(
            "--environment writes no YAML: the project's own tests check the environment"
        )
    return problems


def cmd_generate(args: argparse.Namespace) -> int:
    from . import api
    from .errors import EmitError
    from .options import DEFAULT_SCHEMA

    export = "seeds" if args.as_seeds else "python_models" if args.as_python_models else None
    problems = generate_mode_problems(args.schema, args.environment, export, args.yaml_path)
    if problems:
        raise EmitError("conflicting generate options (nothing was written)", problems)
    options = GenerateOptions(
        scale=args.scale,
        seed=args.seed,
        keep_orphans=args.keep_orphans,
        chunk_rows=args.chunk_rows,
        artifacts=args.artifacts,
    )
    project, reporter = _project_options(args), progress_reporter(args)
    if args.environment:
        result = api.generate_environment(project, options, reporter=reporter)
    elif export is not None:
        result = api.generate_files(
            project, options, export=export, write_yaml=not args.no_yaml, reporter=reporter
        )
    else:
        result = api.generate(
            project,
            options,
            schema=args.schema or DEFAULT_SCHEMA,
            write_yaml=not args.no_yaml,
            yaml_path=args.yaml_path,
            reporter=reporter,
        )
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if result.mode in ("seeds", "python_models"):
        _print_export(result, args.project)
        return EXIT_OK
    for name, rows in result.tables.items():
        where = result.locations.get(name, f"{result.schema}.{name}")
        print(f"  {where}: {rows} rows")
    _print_privacy(result)
    if args.privacy_gate and result.privacy_failures:
        names = ", ".join(p.table for p in result.privacy_failures)
        print(
            f"error: privacy gate: {names} failed the holdout check (see above and "
            f"{result.privacy_path}); the synthetic tables are written: drop them or refit "
            "(fewer epochs, a larger min_category_rows) and generate again",
            file=sys.stderr,
        )
        return EXIT_ERROR
    if result.mode == "environment":
        print(
            f"generated {len(result.tables)} tables into the synthetic environment of target "
            f"{result.target!r} in {result.seconds:.1f}s; run `dbt build --target "
            f"{result.target}` (exclude seeds that hold real data: --exclude resource_type:seed)"
        )
        return EXIT_OK
    print(
        f"generated {len(result.tables)} tables into schema {result.schema!r} "
        f"in {result.seconds:.1f}s"
    )
    if result.yaml_path:
        print(f"sources YAML: {result.yaml_path} (run `dbt test --select source:synthohive`)")
    return EXIT_OK


def _print_privacy(result) -> None:
    """One line per table: the holdout metrics and the verdict, then where they are."""
    if not result.privacy:
        return
    print("privacy (synthetic rows vs training rows and the holdout no model saw):")
    for p in result.privacy:
        verdict = "ok" if p.passed else "FAILED: " + "; ".join(p.reasons)
        note = f" ({p.note})" if getattr(p, "note", None) and p.passed else ""
        print(
            f"  {p.table}: DCR share {p.dcr_share:.3f} (ideal 0.5), exact matches "
            f"training {p.exact_match_training:.1%} / holdout {p.exact_match_holdout:.1%}, "
            f"NNDR median {p.nndr_median:.2f}: {verdict}{note}"
        )
    if result.privacy_path:
        print(f"privacy metrics: {result.privacy_path}")


def _print_export(result, project: Path) -> None:
    for path in result.files:
        print(f"  wrote {path}")
    folder = result.files[0].parent if result.files else Path("synthohive")
    with contextlib.suppress(ValueError):
        folder = folder.relative_to(project.resolve())
    if result.mode == "seeds":
        total = sum(result.tables.values())
        print(
            f"exported {len(result.tables)} tables ({total} rows) as seeds in "
            f"{result.seconds:.1f}s; load and test them with `dbt build --select path:{folder}`"
        )
    else:
        print(
            f"wrote {len(result.files)} files in {result.seconds:.1f}s; build and test the "
            f"tables with `dbt build --select path:{folder}`"
        )


def cmd_init(args: argparse.Namespace) -> int:
    from .scaffold import init_project

    result = init_project(
        args.project,
        package_source=args.package_source,
        git_url=args.git_url,
        revision=args.revision,
    )
    for line in result.changes:
        print(f"  changed: {line}")
    for line in result.unchanged:
        print(f"  unchanged: {line}")
    for note in result.notes:
        print(f"next: {note}")
    print(
        f"initialised {result.project_dir}: {len(result.changes)} changes"
        if result.changes
        else f"{result.project_dir} already initialised: nothing changed"
    )
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from .api import report
    from .options import DEFAULT_SCHEMA
    from .quality.run import summary_lines

    result = report(
        _project_options(args),
        schema=args.schema or DEFAULT_SCHEMA,
        artifacts=args.artifacts,
        output=args.output,
        json_path=args.json,
        fail_under=args.fail_under,
        sample_rows=args.sample_rows,
        seed=args.seed,
        reporter=progress_reporter(args),
    )
    for line in summary_lines(result):
        print(line)
    if not result.passed:
        print("error: the quality gate failed:", file=sys.stderr)
        for failure in result.gate["failures"]:
            print(f"  {failure}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


COMMANDS = {"inspect": cmd_inspect, "fit": cmd_fit, "generate": cmd_generate}
COMMANDS["report"] = cmd_report
COMMANDS["init"] = cmd_init


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except SynthoHiveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - last resort: report a bug, never a silent crash
        print("internal error (please report):", file=sys.stderr)
        traceback.print_exc()
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
