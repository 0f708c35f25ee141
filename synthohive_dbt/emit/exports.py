"""The file-writing forms of ``synthohive generate`` (``FileExport``): seeds (``seeds``)
and Python models (``python_models``).

Each checks every setting and every target file before the first file is written, so a
clash or a bad threshold leaves the project untouched.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..errors import EmitError
from ..options import GENERATE_DEFAULTS, GenerateOptions
from ..progress import SILENT, Reporter
from ..project.meta import node_meta
from ..relational import RelationalModel
from ..relational.plan import TablePlan
from .data_tests import ColumnProfile, model_profiles, table_entries
from .files import GeneratedFile, check_files, is_generated, render, write_files
from .naming import name_clashes, node_name, ref_naming
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


def _check_names(project: Any, files: list[GeneratedFile], suffix: str) -> None:
    planned = {f.path.name.removesuffix(suffix): f.path for f in files if f.path.suffix == suffix}
    problems = name_clashes(project.manifest, planned, project.project_dir, project.project_name)
    if problems:
        raise EmitError(
            "generated nodes would take names already used in the project (nothing was "
            "written); rename or remove those nodes",
            problems,
        )


@dataclass(frozen=True)
class ExportRun:
    """What one export works from: the project, the fitted tables, the folder the files
    go to, the saved artifacts and the generate options."""

    project: Any
    relational: RelationalModel
    directory: Path
    artifacts: Path
    options: GenerateOptions
    reporter: Reporter


class FileExport(ABC):
    """One file form of the synthetic tables: a file per table (a dbt node named
    ``synth_<identifier>``) and a YAML (``yaml_name``) with the nodes and their tests.

    ``export`` checks the settings and every target file before the first file is written;
    a form declares its folder, its files and each node's config."""

    resource: ClassVar[str]  # the YAML key of the nodes: seeds, models
    yaml_name: ClassVar[str]
    suffix: ClassVar[str]  # of the per-table files
    # Files that cannot carry the generated header (CSV) are ours when they sit beside a
    # generated YAML: that YAML is then checked even when it is not written.
    headerless: ClassVar[bool] = False

    def export(
        self,
        project: Any,
        relational: RelationalModel,
        *,
        artifacts: Path,
        write_yaml: bool = True,
        options: GenerateOptions = GENERATE_DEFAULTS,
        reporter: Reporter = SILENT,
    ) -> tuple[list[Path], dict[str, int], list[str]]:
        """Write the files; returns (files written, rows per table name, warnings)."""
        self.check(project, options)
        fidelity = fidelity_config(project, relational) if write_yaml else None
        directory = self.directory(project)
        yaml_path = directory / self.yaml_name
        owned = [directory] if self.headerless and is_generated(yaml_path) else []
        planned = [
            GeneratedFile(self.table_path(directory, relational.plans[k]), "", not self.headerless)
            for k in relational.order
        ]
        if write_yaml or self.headerless:
            planned.append(GeneratedFile(yaml_path, ""))
        check_files(planned, owned)
        _check_names(project, planned, self.suffix)
        run = ExportRun(project, relational, directory, Path(artifacts), options, reporter)
        files, rows, warnings = self.table_files(run)
        if write_yaml:
            profiles = model_profiles(relational) if fidelity else {}
            document = self.document(
                relational.plans,
                relational.order,
                fidelity=fidelity,
                profiles=profiles,
                scale=options.scale,
            )
            files.append(GeneratedFile(yaml_path, render(document)))
        return write_files(files, owned), rows, warnings

    def document(
        self,
        plans: Mapping[str, TablePlan],
        order: tuple[str, ...],
        *,
        fidelity: FidelityConfig | None,
        profiles: Mapping[str, Mapping[str, ColumnProfile]],
        scale: float = 1.0,
    ) -> dict[str, Any]:
        """The YAML document (as data): the nodes, tested against each other with ref()."""

        def head(plan: TablePlan) -> dict[str, Any]:
            return {
                "name": node_name(plan),
                "description": f"Synthetic copy of {plan.real_ref or plan.name}.",
                "config": self.node_config(plan),
            }

        nodes = table_entries(
            plans, order, ref_naming, head, fidelity=fidelity, profiles=profiles, scale=scale
        )
        return {"version": 2, self.resource: nodes}

    def table_path(self, directory: Path, plan: TablePlan) -> Path:
        return directory / f"{node_name(plan)}{self.suffix}"

    def check(self, project: Any, options: GenerateOptions) -> None:
        """EmitError when the project or the options do not allow this form."""
        return None  # every project and option suits a form that does not say otherwise

    @abstractmethod
    def directory(self, project: Any) -> Path:
        """The folder the files go to."""

    @abstractmethod
    def table_files(self, run: ExportRun) -> tuple[list[GeneratedFile], dict[str, int], list[str]]:
        """(one file per table in generation order, rows per table name, warnings)."""

    @abstractmethod
    def node_config(self, plan: TablePlan) -> dict[str, Any]:
        """The ``config:`` block of a table's node."""
