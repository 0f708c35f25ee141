"""`dbt run-operation synthesize`: the library side of the dbt plugin bridge.

The ``dbt_synthohive`` plugin adds ``adapter.synthohive_synthesize`` to dbt's adapters; the
``synthesize`` macro calls it with its arguments and this module does the work inside the
running dbt command, on dbt's own objects:

- the manifest dbt parsed for the command (``adapter.get_macro_resolver()``),
- the selection, evaluated by dbt's selector classes on that manifest (never a nested
  ``dbtRunner``: it would reset dbt's global state and close the adapter's connections),
- dbt's open connection (``adapter.connections.get_thread_connection().handle``), unwrapped
  to the native driver connection and wrapped with ``wrap_connection``; a DuckDB file admits
  one writer, so a second connection is never opened.

It fits (``refit``, or no artifacts yet) or loads the models, writes the synthetic tables and
returns a summary that the macro logs. Every SynthoHive error becomes a dbt error with the
same message.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ProjectError, SelectionError, SynthoHiveError, WarehouseError
from .options import ARTIFACTS, DEFAULT_MODEL, DEFAULT_SCHEMA, PRIVACY_JSON, GenerateOptions
from .progress import Event, Reporter, format_event


class OperationArgumentError(SynthoHiveError):
    """An argument of `dbt run-operation synthesize --args` is invalid."""


@dataclass(frozen=True)
class OperationArgs:
    """The arguments of the ``synthesize`` macro, checked and normalised."""

    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    schema: str = DEFAULT_SCHEMA
    scale: float = 1.0
    seed: int = 0
    refit: bool = False
    model: str = DEFAULT_MODEL
    epochs: int | None = None
    batch_size: int | None = None
    device: str = "cpu"
    precision: str | None = None
    artifacts: str | None = None
    report: bool = False  # also write the quality report (``synthohive report``)


def parse_args(raw: Mapping[str, Any]) -> OperationArgs:
    """Check the macro's arguments; every problem is reported at once."""
    from .synth.base import PRECISIONS, available_models

    problems: list[str] = []
    known = set(OperationArgs.__dataclass_fields__)
    problems += [f"unknown argument {k!r}" for k in sorted(set(raw) - known)]
    values = {k: v for k, v in raw.items() if k in known and v is not None}

    def number(name: str, kind: type, minimum: float, strict: bool) -> None:
        if name not in values:
            return
        value = values[name]
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok and math.isfinite(value)
        if ok and kind is int:
            ok = float(value).is_integer()
        if ok and (value <= minimum if strict else value < minimum):
            ok = False
        if not ok:
            bound = f"> {minimum}" if strict else f">= {minimum}"
            problems.append(
                f"{name} must be {'an integer' if kind is int else 'a number'} "
                f"{bound}, got {value!r}"
            )
        else:
            values[name] = kind(value)

    number("scale", float, 0, strict=True)
    number("seed", int, 0, strict=False)
    number("epochs", int, 0, strict=True)
    number("batch_size", int, 0, strict=True)
    for name in ("select", "exclude"):
        if name in values:
            terms = _terms(values[name])
            if terms is None:
                problems.append(f"{name} must be a string or a list of strings")
            else:
                values[name] = terms
    for name in ("schema", "model", "device", "artifacts"):
        if name in values and not (isinstance(values[name], str) and values[name].strip()):
            problems.append(f"{name} must be a non-empty string, got {values[name]!r}")
    for name in ("refit", "report"):
        if name in values and not isinstance(values[name], bool):
            problems.append(f"{name} must be true or false, got {values[name]!r}")
    models = available_models()
    if isinstance(values.get("model"), str) and values["model"] not in models:
        problems.append(f"model {values['model']!r} is unknown; choose one of {', '.join(models)}")
    if isinstance(values.get("device"), str) and values["device"] not in ("cpu", "cuda"):
        problems.append(f"device must be cpu or cuda, got {values['device']!r}")
    if "precision" in values and values["precision"] not in PRECISIONS:
        problems.append(
            f"precision must be one of {', '.join(PRECISIONS)}, got {values['precision']!r}"
        )
    if problems:
        raise OperationArgumentError(
            "dbt run-operation synthesize: invalid --args "
            "(see the synthohive README, section 'dbt run-operation')",
            problems,
        )
    return OperationArgs(**values)


def _terms(value: Any) -> tuple[str, ...] | None:
    """dbt selection terms: ``"a b"`` or ``["a", "b"]`` (like ``--select a b``)."""
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return tuple(t for v in value for t in v.split())
    return None


def run_operation(adapter: Any, **kwargs: Any) -> dict[str, Any]:
    """Entry point of ``adapter.synthohive_synthesize``: errors become dbt errors."""
    from dbt_common.exceptions import CompilationError, DbtRuntimeError

    try:
        return synthesize(adapter, parse_args(kwargs))
    except OperationArgumentError as exc:
        raise CompilationError(str(exc)) from exc
    except SynthoHiveError as exc:
        raise DbtRuntimeError(f"synthohive: {exc}") from exc


def synthesize(adapter: Any, args: OperationArgs) -> dict[str, Any]:
    """Fit or load the models and write the synthetic tables through dbt's connection.

    Returns a summary: ``tables`` (name -> synthetic rows), ``fitted``, ``artifacts``,
    ``schema``, ``seconds`` and ``lines`` (what the macro logs).
    """
    from .emit.thresholds import synthohive_vars
    from .generation import measure_privacy, schema_destinations, write_tables
    from .pipeline import fit_graph
    from .privacy.metrics import write_report
    from .relational import RelationalModel
    from .relational.engine import PLAN_JSON
    from .schema.manifest import build_graph
    from .synth.base import ModelOptions
    from .warehouse import wrap_connection

    start = time.perf_counter()
    config = adapter.config
    manifest = dbt_manifest(adapter)
    artifacts = _artifacts_dir(config, args.artifacts)
    reporter = Reporter(_log_event)
    fitted = args.refit or not (artifacts / PLAN_JSON).is_file()
    selected: tuple[str, ...] = ()
    if fitted or args.select:
        selected = _selection(manifest, config, args)

    wh = wrap_connection(adapter.type(), native_connection(adapter))
    lines: list[str] = []
    if fitted:
        graph = build_graph(manifest, selected, compile_lineage(adapter, manifest, selected))
        extra = {} if args.precision is None else {"precision": args.precision}
        options = ModelOptions(args.epochs, args.batch_size, args.device, extra)
        relational, graph, rows = fit_graph(
            graph,
            wh,
            model=args.model,
            options=options,
            seed=args.seed,
            reporter=reporter,
            synthohive_vars=synthohive_vars(config),
        )
        relational.save(artifacts)
        lines += [f"synthohive: warning: {w}" for w in graph.warnings]
        lines.append(
            f"synthohive: fitted {len(rows)} tables ({sum(rows.values())} real rows) with "
            f"{args.model} in {time.perf_counter() - start:.1f}s; artifacts in {artifacts}"
        )
    else:
        relational = RelationalModel.load(artifacts)
        _check_artifacts_match(relational, selected, artifacts)
        lines.append(f"synthohive: using the models in {artifacts} (pass refit: true to refit)")

    where = schema_destinations(relational, args.schema)
    options = GenerateOptions(scale=args.scale, seed=args.seed)
    written = write_tables(relational, wh, where, options, reporter)
    privacy = measure_privacy(relational, wh, where, seed=args.seed, reporter=reporter)
    write_report(Path(artifacts) / PRIVACY_JSON, privacy)
    report_path = None
    if args.report:
        from .quality.run import summary_lines, write_quality_report

        result = write_quality_report(
            relational, wh, Path(artifacts), project_dir=Path(config.project_root),
            synthohive_vars=synthohive_vars(config), schema=args.schema, seed=args.seed,
            reporter=reporter,
        )  # fmt: skip
        report_path = str(result.html)
        lines += [f"synthohive: {line}" for line in summary_lines(result)]
    seconds = time.perf_counter() - start
    lines += [f"  {args.schema}.{name}: {rows} rows" for name, rows in written.items()]
    lines += [
        f"synthohive: privacy {p.table}: DCR share {p.dcr_share:.3f} (ideal 0.5): "
        + ("ok" if p.passed else "FAILED: " + "; ".join(p.reasons))
        for p in privacy
    ]
    lines.append(
        f"synthohive: wrote {len(written)} synthetic tables into schema {args.schema!r} "
        f"(scale {args.scale:g}, seed {args.seed}) in {seconds:.1f}s"
    )
    return {
        "schema": args.schema,
        "tables": dict(written),
        "fitted": fitted,
        "artifacts": str(artifacts),
        "seconds": round(seconds, 3),
        "report": report_path,
        "lines": lines,
    }


def compile_lineage(adapter: Any, manifest: Any, selected: Sequence[str]) -> dict[str, str]:
    """Compile the models built on the selected tables with the running command's compiler
    (their keys and tests are traced through the compiled SQL); dbt's message for each
    model it could not compile."""
    from dbt.compilation import Compiler
    from dbt_common.exceptions import DbtBaseException

    from .project.load import dbt_message
    from .schema.lineage import models_downstream_of

    tables = {k for k in selected if not k.startswith("model.")}
    compiler = Compiler(adapter.config)
    failed: dict[str, str] = {}
    for unique_id in models_downstream_of(manifest, tables) if tables else ():
        node = manifest.nodes[unique_id]
        if node.compiled_code:
            continue
        try:
            compiler.compile_node(node, manifest, {}, write=False)
        except DbtBaseException as exc:
            failed[unique_id] = dbt_message(str(exc))
    return failed


def dbt_manifest(adapter: Any) -> Any:
    """The Manifest of the running dbt command.

    dbt hands its parsed manifest to the adapter as the macro resolver
    (``ManifestLoader.save_macros_to_adapter``, ``requires.setup_manifest``) before any
    macro runs, so this is the manifest ``run-operation`` itself uses.
    """
    from dbt.contracts.graph.manifest import Manifest

    getter = getattr(adapter, "get_macro_resolver", None)
    resolver = getter() if callable(getter) else None
    if not isinstance(resolver, Manifest):
        raise ProjectError(
            "dbt did not hand its manifest to the adapter (adapter.get_macro_resolver() "
            f"returned {type(resolver).__name__}); this dbt version is not supported by the "
            "run-operation bridge. Run `synthohive fit` and `synthohive generate` instead."
        )
    return resolver


def native_connection(adapter: Any) -> Any:
    """The driver connection under dbt's open connection for this thread.

    Postgres: dbt's handle is the psycopg2 connection; Snowflake: the connector's
    ``SnowflakeConnection``. DuckDB: dbt-duckdb wraps a DuckDB cursor
    (``DuckDBConnectionWrapper.cursor()`` -> ``DuckDBCursorWrapper._cursor``); the cursor is
    a ``duckdb.DuckDBPyConnection`` on the database dbt has open. Under dbt's record mode
    (``DBT_RECORDER_MODE``) each handle sits in a ``RecordReplayHandle`` proxy.
    """
    connection = adapter.connections.get_thread_connection()
    handle = _unproxied(connection.handle)  # .handle opens dbt's lazy handle if needed
    if adapter.type() == "duckdb":
        return _duckdb_cursor(handle)
    return handle


def _unproxied(handle: Any) -> Any:
    """The driver connection inside dbt's record/replay proxy (dbt-adapters 1.1 and later);
    in replay mode there is none."""
    try:
        from dbt.adapters.record import RecordReplayHandle
    except ImportError:  # older dbt-adapters: no proxy
        return handle
    if not isinstance(handle, RecordReplayHandle):
        return handle
    if handle.native_handle is None:
        raise WarehouseError(
            "dbt runs in replay mode (DBT_RECORDER_MODE=replay) and has no warehouse "
            "connection to write the synthetic tables through; unset DBT_RECORDER_MODE"
        )
    return handle.native_handle


def _duckdb_cursor(handle: Any) -> Any:
    import duckdb

    if isinstance(handle, duckdb.DuckDBPyConnection):
        return handle
    cursor = handle.cursor() if callable(getattr(handle, "cursor", None)) else None
    raw = getattr(cursor, "_cursor", cursor)
    if not isinstance(raw, duckdb.DuckDBPyConnection):
        raise WarehouseError(
            f"dbt-duckdb's connection handle ({type(handle).__name__}) does not wrap a local "
            "DuckDB connection (remote environments such as Buena Vista are not supported); "
            "run `synthohive generate` instead"
        )
    return raw


def _selection(manifest: Any, config: Any, args: OperationArgs) -> tuple[str, ...]:
    from .project.selection import select_nodes_in_process

    return select_nodes_in_process(
        manifest,
        config.project_name,
        args.select,
        args.exclude,
        selectors=getattr(config, "selectors", None),
    )


def _artifacts_dir(config: Any, artifacts: str | None) -> Path:
    """Artifacts path, relative to the project: the default is shared with the CLI."""
    path = Path(artifacts) if artifacts else ARTIFACTS
    return path if path.is_absolute() else Path(config.project_root) / path


def _check_artifacts_match(relational: Any, selected: Sequence[str], artifacts: Path) -> None:
    """An explicit selection must name the tables the saved models were fitted on."""
    if not selected or set(selected) == set(relational.plans):
        return
    missing = sorted(set(selected) - set(relational.plans))
    extra = sorted(set(relational.plans) - set(selected))
    details = []
    if missing:
        details.append(f"not fitted: {', '.join(missing)}")
    if extra:
        details.append(f"fitted but not selected: {', '.join(extra)}")
    raise SelectionError(
        f"the models in {artifacts} were fitted on other tables than the selection "
        f"({'; '.join(details)}); pass refit: true to fit the selection"
    )


def _log_event(event: Event) -> None:
    """Progress as dbt log lines (``format_event``): per-epoch detail at debug level."""
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.functions import fire_event
    from dbt_common.events.types import Note

    text = format_event(event)
    if text is not None:
        level = EventLevel.DEBUG if event.level == "debug" else EventLevel.INFO
        fire_event(Note(msg=f"synthohive: {text}"), level=level)
