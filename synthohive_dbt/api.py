"""The library's front door: inspect, fit and generate a dbt project.

Each function runs the one-way pipeline: manifest -> schema graph -> warehouse read ->
validation -> train / sample -> warehouse write -> generated dbt YAML. The CLI is a thin
layer over these functions.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from .emit import check_package, check_writable, write_sources_yaml, yaml_target
from .emit.exports import fidelity_config
from .emit.python_models import PYTHON_MODELS
from .emit.seeds import SEEDS
from .emit.thresholds import synthohive_vars
from .errors import EmitError, SelectionError
from .generation import measure_privacy, schema_destinations, write_tables
from .options import (
    DEFAULT_MODEL,
    DEFAULT_SCHEMA,
    GENERATE_DEFAULTS,
    PRIVACY_JSON,
    GenerateOptions,
    ProjectOptions,
    artifacts_dir,
)
from .pipeline import fit_graph, plan_warehouse_sample, read_and_validate
from .privacy.detect import Finding
from .privacy.metrics import TablePrivacy, write_report
from .privacy.personal import findings_of
from .privacy.settings import PrivacySettings, is_copy
from .progress import SILENT, Reporter, TableKept
from .project import Project, compile_models, load_project
from .project.placements import placements
from .quality.run import DEFAULT_SAMPLE_ROWS, ReportResult, write_quality_report
from .relational import RelationalModel
from .relational.discovery import graph_rules
from .relational.engine import SavedArtifacts
from .relational.refit import Refit, merge, plan_refit, saved_artifacts
from .relational.rulesets import RuleSet
from .schema import ColumnType, SchemaGraph
from .schema.lineage import models_downstream_of
from .schema.manifest import build_graph
from .synth.base import ModelOptions
from .warehouse import open_warehouse


@dataclass
class Inspection:
    project: Project
    graph: SchemaGraph
    column_types: dict[str, dict[str, ColumnType]] = field(default_factory=dict)
    rules: dict[str, RuleSet] | None = None  # with the warehouse: declared and found in data
    # personal data per table key: from markings and names, and from values with the data
    personal: dict[str, tuple[Finding, ...]] = field(default_factory=dict)
    # with the warehouse and a sample size: per sampled table key, what fit would read
    sample: dict[str, SampleRead] = field(default_factory=dict)


@dataclass(frozen=True)
class SampleRead:
    """What ``fit --sample-rows`` reads of one table: rows read of the real rows, and how
    the rows are chosen."""

    rows: int
    real_rows: int
    how: str


@dataclass
class FitResult:
    artifacts: Path
    tables: dict[str, int]  # table name -> real rows, every table of the artifacts
    seconds: float
    warnings: tuple[str, ...] = ()
    trained: tuple[str, ...] = ()  # table names whose model was trained
    reused: tuple[str, ...] = ()  # read, fingerprint unchanged: saved model kept
    kept: tuple[str, ...] = ()  # not selected (--state): neither read nor trained


@dataclass
class GenerateResult:
    schema: str
    tables: dict[str, int]  # table name -> synthetic rows
    seconds: float
    yaml_path: Path | None = None
    mode: str = "schema"  # schema | environment | seeds | python_models
    files: tuple[Path, ...] = ()  # files written into the project (exports)
    locations: dict[str, str] = field(default_factory=dict)  # table name -> relation written
    warnings: tuple[str, ...] = ()
    target: str | None = None
    privacy: tuple[TablePrivacy, ...] = ()  # holdout metrics per generated table
    privacy_path: Path | None = None  # where they were written (privacy.json)

    @property
    def privacy_failures(self) -> tuple[TablePrivacy, ...]:
        return tuple(p for p in self.privacy if not p.passed)


_EXPORTERS = {"seeds": SEEDS, "python_models": PYTHON_MODELS}
EXPORTS = tuple(_EXPORTERS)


def open_project(opts: ProjectOptions) -> Project:
    return load_project(
        opts.project_dir,
        profiles_dir=opts.profiles_dir,
        target=opts.target,
        vars=opts.vars,
        select=tuple(opts.select),
        exclude=tuple(opts.exclude),
        state=opts.state,
    )


def schema_graph(project: Project) -> SchemaGraph:
    """The schema graph of the project's selected tables, with the keys and tests of the
    models built on them traced through the models' SQL as dbt compiles it."""
    tables = [k for k in project.selected if not k.startswith("model.")]
    models = models_downstream_of(project.manifest, set(tables)) if tables else []
    not_compiled = compile_models(project, models)
    return build_graph(project.manifest, project.selected, not_compiled)


def inspect(
    opts: ProjectOptions,
    *,
    with_warehouse: bool = False,
    sample_rows: int | None = None,
    seed: int = 0,
) -> Inspection:
    """The schema graph of the selected tables; with_warehouse also reads real types and
    runs the data-level validation, on the rows ``fit --sample-rows sample_rows --seed
    seed`` would read (and the tables' ``synthohive_sample_rows``), which ``sample`` lists."""
    project = open_project(opts)
    graph = schema_graph(project)
    if not with_warehouse:
        return Inspection(project, graph, personal=personal_data(graph))
    with open_warehouse(project.adapter_type, project.credentials) as wh:
        plan, real_rows = plan_warehouse_sample(graph, wh, sample_rows, seed)
        graph = replace(graph, warnings=(*graph.warnings, *plan.warnings))
        graph, types, frames = read_and_validate(graph, wh, conditions=plan.conditions)
    sample = {
        key: SampleRead(len(frames[key]), real_rows[key], plan.how.get(key, "read whole"))
        for key in plan.conditions
    }
    return Inspection(
        project, graph, types, graph_rules(graph, frames), personal_data(graph, frames), sample
    )


def personal_data(
    graph: SchemaGraph, frames: Mapping[str, pd.DataFrame] | None = None
) -> dict[str, tuple[Finding, ...]]:
    """Per table key, its personal columns (keys left out: they are minted anyway),
    found from dbt markings and names, and from a sample of the values with ``frames``."""
    out: dict[str, tuple[Finding, ...]] = {}
    for key in graph.order:
        table = graph.table(key)
        if is_copy(table.meta):
            continue
        keys = set(table.primary_key.columns if table.primary_key else ())
        keys |= {c for fk in graph.fks_of(key) for c in fk.columns}
        frame = (frames or {}).get(key)
        found = tuple(findings_of(table, frame, keys, seed=0))
        if found:
            out[key] = found
    return out


def fit(
    opts: ProjectOptions,
    *,
    model: str = DEFAULT_MODEL,
    options: ModelOptions | None = None,
    seed: int = 0,
    artifacts: Path | None = None,
    reporter: Reporter = SILENT,
    full_refresh: bool = False,
    sample_rows: int | None = None,
) -> FitResult:
    """Fit the selected tables and save the artifacts (default PROJECT/target/synthohive).

    ``sample_rows``: read at most this many rows of each root table (and the children of
    those rows), sampled inside the warehouse (``warehouse.sampling``).

    A table whose fingerprint is unchanged since the artifacts at that path were saved keeps
    its saved model; ``full_refresh`` trains every model it reads again. With
    ``opts.state`` the selection refits part of the saved artifacts and keeps the rest
    (see ``refit``).
    """
    start = time.perf_counter()
    project = open_project(opts)
    options = options or ModelOptions()
    out = artifacts_dir(project.project_dir, artifacts)
    saved = saved_artifacts(out, state=opts.state is not None)
    warnings: tuple[str, ...] = ()
    if opts.state is not None and saved is not None:
        refit = plan_refit(
            project.manifest,
            project.selected,
            saved,
            lambda keys: schema_graph(replace(project, selected=tuple(keys))),
            model=model,
            options=options,
            seed=seed,
            privacy=PrivacySettings.parse(synthohive_vars(project.config))[0],
        )
    elif opts.state is not None:
        if not project.selected:
            raise SelectionError(
                f"--select {' '.join(opts.select)} chose nothing and {out} holds no artifacts "
                "to keep; run `synthohive fit` without --state first (or pass --artifacts)."
            )
        refit = Refit.everything(schema_graph(project))
        warnings = (f"no artifacts at {out} to update: fitted the selected tables only",)
    else:
        refit = Refit.everything(schema_graph(project))
    for key in refit.kept:
        reporter.emit(TableKept(refit.graph.table(key).name))
    fitted = None
    warnings += refit.graph.warnings
    if refit.families.tables:
        with open_warehouse(project.adapter_type, project.credentials) as wh:
            fitted, checked, _ = fit_graph(
                refit.families,
                wh,
                model=model,
                options=options,
                seed=seed,
                reporter=reporter,
                previous=None if full_refresh else saved,
                synthohive_vars=synthohive_vars(project.config),
                sample_rows=sample_rows,
            )
        warnings += checked.warnings
    relational = merge(refit, fitted, saved)
    relational.save(out)
    return _fit_result(relational, fitted, refit, out, start, warnings)


def _fit_result(
    relational: RelationalModel,
    fitted: RelationalModel | None,
    refit: Refit,
    out: Path,
    start: float,
    warnings: tuple[str, ...],
) -> FitResult:
    plans = relational.plans
    fresh = fitted.models if fitted is not None else {}
    reused = fitted.loaded_from if fitted is not None else {}
    return FitResult(
        artifacts=out,
        tables={plans[k].name: plans[k].rows for k in relational.order},
        seconds=time.perf_counter() - start,
        warnings=tuple(dict.fromkeys(warnings)),
        trained=tuple(plans[k].name for k in relational.order if k in fresh and k not in reused),
        reused=tuple(plans[k].name for k in relational.order if k in reused),
        kept=tuple(plans[k].name for k in refit.kept),
    )


def _generation(
    opts: ProjectOptions, options: GenerateOptions, *, needs_package: bool = False
) -> tuple[Project, Path, RelationalModel]:
    """The project (loaded once), the artifacts directory and the saved model; with
    ``needs_package`` the synthohive dbt package is checked before the model is read."""
    project = open_project(opts)
    if needs_package:  # the YAML's tests need the package: refuse first
        check_package(project)
    artifacts = artifacts_dir(project.project_dir, options.artifacts)
    return project, artifacts, RelationalModel.load(artifacts)


def generate(
    opts: ProjectOptions,
    options: GenerateOptions = GENERATE_DEFAULTS,
    *,
    schema: str = DEFAULT_SCHEMA,
    write_yaml: bool = True,
    yaml_path: Path | None = None,
    reporter: Reporter = SILENT,
) -> GenerateResult:
    """Write the synthetic tables into ``schema`` of the target and the sources YAML with
    structural, fidelity and privacy tests; measure privacy on the holdout. Every setting
    and file clash is checked before anything is written."""
    start = time.perf_counter()
    project, artifacts, relational = _generation(opts, options, needs_package=write_yaml)
    fidelity = fidelity_config(project, relational) if write_yaml else None
    if write_yaml:  # refuse before anything is written
        check_writable(yaml_target(project.project_dir, yaml_path))
    where = schema_destinations(relational, schema)
    with open_warehouse(project.adapter_type, project.credentials) as wh:
        written = write_tables(relational, wh, where, options, reporter)
        privacy = measure_privacy(relational, wh, where, seed=options.seed, reporter=reporter)
    write_report(artifacts / PRIVACY_JSON, privacy)
    written_yaml = None
    if write_yaml:
        written_yaml = write_sources_yaml(
            project, relational, schema, yaml_path, fidelity=fidelity, scale=options.scale
        )
    return GenerateResult(
        schema,
        written,
        time.perf_counter() - start,
        written_yaml,
        target=project.target_name,
        privacy=tuple(privacy),
        privacy_path=artifacts / PRIVACY_JSON,
    )


def generate_environment(
    opts: ProjectOptions, options: GenerateOptions = GENERATE_DEFAULTS, *, reporter=SILENT
) -> GenerateResult:
    """Write each table where its source resolves under the target (a synthetic
    environment): the unchanged project then builds on synthetic data."""
    start = time.perf_counter()
    project, artifacts, relational = _generation(opts, options)
    places = placements(project.manifest, relational.plans, project.target_name)
    where = {p.key: p.target for p in places}
    with open_warehouse(project.adapter_type, project.credentials) as wh:
        written = write_tables(relational, wh, where, options, reporter)
        # the real tables, where this target reaches them (another database may hold them)
        privacy = measure_privacy(relational, wh, where, seed=options.seed, reporter=reporter)
    write_report(artifacts / PRIVACY_JSON, privacy)
    return GenerateResult(
        "",
        written,
        time.perf_counter() - start,
        mode="environment",
        locations={p.name: str(p.target) for p in places},
        target=project.target_name,
        privacy=tuple(privacy),
        privacy_path=artifacts / PRIVACY_JSON,
    )


def generate_files(
    opts: ProjectOptions,
    options: GenerateOptions = GENERATE_DEFAULTS,
    *,
    export: str,
    write_yaml: bool = True,
    reporter: Reporter = SILENT,
) -> GenerateResult:
    """Write the synthetic tables into the project as files: ``export`` "seeds" (CSV
    seeds and their YAML) or "python_models" (dbt Python models that sample in dbt)."""
    if export not in EXPORTS:
        raise EmitError(f"export must be one of {', '.join(EXPORTS)}, got {export!r}")
    start = time.perf_counter()
    project, artifacts, relational = _generation(opts, options)
    files, rows, warnings = _EXPORTERS[export].export(
        project,
        relational,
        artifacts=artifacts,
        write_yaml=write_yaml,
        options=options,
        reporter=reporter,
    )
    return GenerateResult(
        "",
        rows,
        time.perf_counter() - start,
        mode=export,
        files=tuple(files),
        warnings=tuple(warnings),
        target=project.target_name,
    )


def report(
    opts: ProjectOptions,
    *,
    schema: str = DEFAULT_SCHEMA,
    artifacts: Path | None = None,
    output: Path | None = None,
    json_path: Path | None = None,
    fail_under: float | None = None,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    seed: int = 0,
    reporter: Reporter = SILENT,
) -> ReportResult:
    """Score the synthetic tables in ``schema`` against the real ones and write the
    report (``quality.run``); the gate's outcome is in the result."""
    project = open_project(opts)
    where = artifacts_dir(project.project_dir, artifacts)
    saved = SavedArtifacts.read(where)
    keys = None
    if opts.select or opts.exclude:  # the selected tables among the saved ones
        keys = [k for k in saved.order if k in set(project.selected)]
        if not keys:
            raise SelectionError(
                f"the selection chose none of the tables saved in {where}; "
                f"they are: {', '.join(saved.order)}"
            )
    relational = saved.load(keys)
    with open_warehouse(project.adapter_type, project.credentials) as wh:
        return write_quality_report(
            relational, wh, where, project_dir=project.project_dir,
            synthohive_vars=synthohive_vars(project.config), schema=schema, output=output,
            json_path=json_path, fail_under=fail_under, sample_rows=sample_rows, seed=seed,
            reporter=reporter,
        )  # fmt: skip
