"""Names in generated YAML: this package's namespace, synthetic tables as dbt nodes.

Generated tests call this package's generic tests as ``synthohive.<test>`` (NAMESPACE);
``Naming`` is how a synthetic table is referred to (``ref_naming`` here, ``source_naming`` in
``sources_yaml``). Exported tables become nodes of the user's project, whose names are
unique across the project: ``synth_<identifier>`` keeps them apart from the real seeds and
models they copy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..relational.plan import TablePlan

#: the dbt package name that qualifies this package's generic tests
NAMESPACE = "synthohive"
PREFIX = "synth_"

# How generated YAML names a synthetic table: plan -> "source('synthohive', 'x')" etc.
Naming = Callable[[TablePlan], str]


def node_name(plan: TablePlan) -> str:
    return PREFIX + plan.identifier.lower()


def ref_naming(plan: TablePlan) -> str:
    return f"ref('{node_name(plan)}')"


def name_clashes(
    manifest: Any,
    planned: Mapping[str, Path],
    project_dir: Path,
    project_name: str,
    kinds: Iterable[str] = ("model", "seed", "snapshot"),
) -> list[str]:
    """Nodes of the project that already use a planned name from another file.

    ``planned`` maps node name -> the file that will define it; a node defined by that
    same file is our own earlier output and may be replaced.
    """
    if manifest is None:
        return []
    kinds = set(kinds)
    problems = []
    for node in getattr(manifest, "nodes", {}).values():
        if node.resource_type not in kinds or node.name not in planned:
            continue
        ours = Path(planned[node.name]).resolve()
        theirs = (Path(project_dir) / node.original_file_path).resolve()
        if node.package_name != project_name or theirs != ours:
            problems.append(
                f"{node.resource_type} {node.name!r} ({node.original_file_path}) already "
                f"exists; synthohive would define {node.name} in {planned[node.name]}"
            )
    return problems
