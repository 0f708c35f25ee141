"""The file-writing forms of ``synthohive generate``: seeds and Python models.

Both check every setting and every target file before the first file is written, so a
clash or a bad threshold leaves the project untouched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import EmitError
from ..options import GENERATE_DEFAULTS, GenerateOptions
from ..progress import SILENT, Reporter
from ..project.meta import node_meta
from ..relational import RelationalModel
from . import python_models, seeds
from .data_tests import model_profiles
from .files import GeneratedFile, check_files, is_generated, write_files
from .naming import name_clashes, node_name
from .thresholds import FidelityConfig, resolve, synthohive_vars


def fidelity_config(project: Any, relational: RelationalModel) -> FidelityConfig:
    """Validated fidelity settings from the project's vars and each table's meta."""
    manifest = project.manifest
    tables = {
        plan.name: {
            **plan.options,
            **node_meta(manifest.sources.get(key) or manifest.nodes.get(key)),
        }
        for key, plan in relational.plans.items()
    }
    known = {n.name for n in [*manifest.sources.values(), *manifest.nodes.values()]}
    return resolve(synthohive_vars(project.config), tables, known=known)


def _owned(directory: Path, marker: str) -> list[Path]:
    return [directory] if is_generated(directory / marker) else []


def _check_names(project: Any, files: list[GeneratedFile], suffix: str) -> None:
    planned = {f.path.name.removesuffix(suffix): f.path for f in files if f.path.suffix == suffix}
    problems = name_clashes(project.manifest, planned, project.project_dir, project.project_name)
    if problems:
        raise EmitError(
            "generated nodes would take names already used in the project (nothing was "
            "written); rename or remove those nodes",
            problems,
        )


def export_seeds(
    project: Any,
    relational: RelationalModel,
    *,
    artifacts: Path,
    write_yaml: bool = True,
    options: GenerateOptions = GENERATE_DEFAULTS,
    reporter: Reporter = SILENT,
) -> tuple[list[Path], dict[str, int], list[str]]:
    """Write the synthetic tables as CSV seeds plus their seeds YAML.

    Returns (files written, rows per table name, warnings).
    """
    fidelity = fidelity_config(project, relational) if write_yaml else None
    directory = seeds.seeds_dir(project.project_dir, list(project.config.seed_paths))
    owned = _owned(directory, seeds.SEEDS_YAML)
    planned = [
        GeneratedFile(directory / f"{node_name(relational.plans[k])}.csv", "", marked=False)
        for k in relational.order
    ]
    planned.append(GeneratedFile(directory / seeds.SEEDS_YAML, ""))
    check_files(planned, owned)
    _check_names(project, planned, ".csv")
    frames = {
        plan.key: frame
        for plan, frame in relational.generate(
            scale=options.scale,
            seed=options.seed,
            keep_orphans=options.keep_orphans,
            reporter=reporter,
        )
    }
    files = seeds.seeds_files(
        relational.plans,
        relational.order,
        frames,
        directory,
        fidelity=fidelity,
        profiles=model_profiles(relational) if fidelity else {},
        scale=options.scale,
    )
    if not write_yaml:
        files = [f for f in files if f.path.name != seeds.SEEDS_YAML]
    written = write_files(files, owned)
    rows = {relational.plans[k].name: len(frames[k]) for k in relational.order}
    warning = seeds.slow_seed_warning(
        {k: len(frames[k]) for k in relational.order}, relational.plans
    )
    return written, rows, [warning] if warning else []


def export_python_models(
    project: Any,
    relational: RelationalModel,
    *,
    artifacts: Path,
    write_yaml: bool = True,
    options: GenerateOptions = GENERATE_DEFAULTS,
    reporter: Reporter = SILENT,
) -> tuple[list[Path], dict[str, int], list[str]]:
    """Write one dbt Python model per synthetic table plus the models YAML.

    Returns (files written, {} (no rows are made now), warnings).
    """
    if project.adapter_type not in python_models.PYTHON_ADAPTERS:
        raise EmitError(
            f"--as-python-models needs a DuckDB target: dbt runs Python models in-process "
            f"only on DuckDB, and target {project.target_name!r} is {project.adapter_type}. "
            "Write the tables into the warehouse instead (`synthohive generate`)"
        )
    if options.keep_orphans:
        raise EmitError("--keep-orphans is not supported with --as-python-models")
    if not options.scale > 0:
        raise EmitError(f"--scale must be positive, got {options.scale}")
    fidelity = fidelity_config(project, relational) if write_yaml else None
    model_paths = list(project.config.model_paths) or ["models"]
    directory = Path(project.project_dir) / model_paths[0] / "synthohive"
    files = python_models.python_model_files(
        relational.plans,
        relational.order,
        directory,
        artifacts=str(Path(artifacts).resolve()),
        seed=options.seed,
        scale=options.scale,
        fidelity=fidelity,
        profiles=model_profiles(relational) if fidelity else {},
        select=f"path:{model_paths[0]}/synthohive",
    )
    if not write_yaml:
        files = [f for f in files if f.path.name != python_models.MODELS_YAML]
    check_files(files)
    _check_names(project, files, ".py")
    return write_files(files), {}, []
