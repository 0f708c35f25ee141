"""Generated dbt files: the sources YAML with its tests, seeds, Python models.

Modules: ``files`` (YAML rendering, safe writes), ``thresholds`` (fidelity settings from
dbt vars), ``data_tests`` (the tests of one table), ``sources_yaml``, ``seeds`` and
``python_models`` (one output form each; ``exports`` is the flow the file forms share).
What the Python models call when dbt runs them is ``synthohive_dbt.python_runtime``.

Every generated file carries a header that marks it as generated; a file without it is
the user's and is never overwritten. Tests follow the current dbt style: arguments under
``arguments:``, meta, tags and severity under ``config:``; ``ref()``/``source()`` strings
are quoted.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..errors import EmitError
from .data_tests import ColumnProfile, column_profiles, model_profiles
from .files import (
    HEADER,
    GeneratedFile,
    check_files,
    check_writable,
    render,
    write_files,
    write_generated,
)
from .naming import NAMESPACE
from .sources_yaml import DEFAULT_YAML, SOURCE_NAME, sources_document, yaml_target
from .thresholds import FidelityConfig

__all__ = [
    "DEFAULT_YAML",
    "HEADER",
    "SOURCE_NAME",
    "ColumnProfile",
    "FidelityConfig",
    "GeneratedFile",
    "check_files",
    "check_package",
    "check_writable",
    "column_profiles",
    "model_profiles",
    "render",
    "sources_document",
    "write_files",
    "write_generated",
    "write_sources_yaml",
    "yaml_target",
]


def check_package(project) -> None:
    """EmitError unless the project installs the synthohive dbt package, whose generic
    tests the generated YAML calls: without it every one of them fails to compile."""
    if any(m.package_name == NAMESPACE for m in project.manifest.macros.values()):
        return
    raise EmitError(
        f"the dbt project in {project.project_dir} does not install the synthohive dbt "
        "package, whose tests (synthohive.ks_distance, synthohive.tvd, ...) the generated "
        "YAML calls: dbt could not compile it. Nothing was written",
        [
            "run `synthohive init` in the project (adds the package to packages.yml), "
            "then `dbt deps`, and generate again",
            "or pass --no-yaml to write only the synthetic tables",
        ],
    )


def write_sources_yaml(
    project,
    relational,
    schema: str,
    path: Path | None = None,
    *,
    fidelity: FidelityConfig | None = None,
    scale: float = 1.0,
    profiles: Mapping[str, Mapping[str, ColumnProfile]] | None = None,
) -> Path:
    """Write the sources YAML for the synthetic tables in ``schema``; with ``fidelity``,
    also the fidelity tests against the real relations."""
    target = yaml_target(project.project_dir, path)
    if profiles is None and fidelity is not None:
        profiles = model_profiles(relational)
    document = sources_document(
        relational.plans,
        relational.order,
        schema,
        fidelity=fidelity,
        profiles=profiles,
        scale=scale,
    )
    return write_generated(target, render(document))
