"""Choose the tables to synthesize with dbt's own selection syntax (``dbt ls``).

dbt evaluates ``--select``/``--exclude`` (graph operators, methods, wildcards, yaml
selectors' syntax), so synthohive selects exactly what ``dbt ls`` would. A selection that
chooses nothing is an error with close matches of the names it tried.

With ``--state`` (a directory holding an earlier run's manifest.json, as for dbt) the
``state:`` methods compare against that manifest, and the tests the selection picks stand
for the tables they test: dbt does not count a source as modified when only the tests on
its columns change (``state:modified`` picks the new and edited tests instead), and those
tests are the facts synthohive learns from.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from synthohive_dbt.errors import ProjectError, SelectionError
from synthohive_dbt.project.meta import node_meta

TABLE_RESOURCE_TYPES = ("source", "model", "seed")

# `2+method:value+3`, `@value`: graph operators around a selector term.
_GRAPH_OPERATORS = re.compile(r"^(\d*\+|@)|(\+\d*)$")


def select_nodes(
    manifest: Any,
    root_project: str,
    dbt_args: Sequence[str],
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    state: Path | None = None,
) -> tuple[str, ...]:
    """Unique ids of the sources, models and seeds chosen by ``select``/``exclude``.

    With no ``select``: every source of the root project (``package:<root>``), because
    sources are the raw tables that synthetic data replaces; models are derived from them.
    ``dbt_args`` are the project/profile arguments shared with the parse invocation.
    ``state``: the directory of the manifest.json that ``state:`` methods compare with.
    """
    args = list(dbt_args)
    if state is not None:
        if not (state / "manifest.json").is_file():
            raise SelectionError(
                f"--state {state} holds no manifest.json; copy the manifest.json of the run "
                "to compare with (e.g. production's target/manifest.json) into it, as for "
                "dbt's --state."
            )
        args += ["--state", str(state)]

    def lister(resource_types, terms, excluded):
        return _dbt_ls(manifest, args, resource_types, terms, excluded)

    return _select(manifest, root_project, select, exclude, lister, state=state is not None)


def select_nodes_in_process(
    manifest: Any,
    root_project: str,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    selectors: Mapping[str, Any] | None = None,
) -> tuple[str, ...]:
    """``select_nodes`` for code running inside a dbt command (``dbt run-operation``).

    A nested ``dbtRunner`` invocation would reset dbt's global flags, event logger and
    adapters (closing the connection the operation runs on), so this evaluates the selection
    with dbt's selector classes (``dbt.graph``) on the already parsed manifest instead.
    ``selectors`` are the project's YAML selectors (``RuntimeConfig.selectors``).
    """

    def lister(resource_types, terms, excluded):
        return _select_with_graph(manifest, resource_types, terms, excluded, selectors)

    return _select(manifest, root_project, select, exclude, lister)


def _select(
    manifest: Any,
    root_project: str,
    select: Sequence[str],
    exclude: Sequence[str],
    lister: Callable[[Iterable[str], list[str], list[str]], tuple[str, ...]],
    state: bool = False,
) -> tuple[str, ...]:
    select = [s for s in select if s.strip()]
    exclude = [s for s in exclude if s.strip()]
    if select:
        resource_types, terms = TABLE_RESOURCE_TYPES, list(select)
        if state:
            resource_types += ("test",)
    else:
        resource_types, terms = ("source",), [f"package:{root_project}"]

    listed = lister(resource_types, terms, exclude)
    if state:
        listed = _tested_tables(manifest, listed)
    ids = tuple(i for i in listed if not _generated(manifest, i))
    if ids or (state and any("state:" in term for term in select)):
        return ids  # state:modified choosing nothing means nothing changed: no error
    if select:
        raise SelectionError(
            "--select " + " ".join(select) + _excluding(exclude) + " chose no source, "
            "model or seed.",
            [_suggest(term, manifest) for term in select],
        )
    if exclude:
        raise SelectionError(
            f"--exclude {' '.join(exclude)} removed every source of project '{root_project}'; "
            "narrow --exclude or pass --select."
        )
    raise SelectionError(
        f"Project '{root_project}' declares no sources, so there is nothing to select by "
        "default; pass --select (e.g. --select 'source:*' or a model name)."
    )


def _tested_tables(manifest: Any, ids: Iterable[str]) -> tuple[str, ...]:
    """``ids`` with each test replaced by the sources, models and seeds it tests (both ends
    of a relationships test). Tests that read a generated node check synthetic data, not
    the facts of a real table: they stand for nothing."""
    out: set[str] = set()
    for unique_id in ids:
        node = manifest.nodes.get(unique_id)
        if node is None or node.resource_type != "test":
            out.add(unique_id)
            continue
        tested = [
            dep
            for dep in node.depends_on.nodes
            if dep in manifest.sources
            or (dep in manifest.nodes and manifest.nodes[dep].resource_type in TABLE_RESOURCE_TYPES)
        ]
        if not any(_generated(manifest, dep) for dep in tested):
            out.update(tested)
    return tuple(sorted(out))


def _generated(manifest: Any, unique_id: str) -> bool:
    """Nodes synthohive generated (the `synthohive` source, exported seeds and models) are
    synthetic data themselves: never selected as real tables."""
    node = manifest.sources.get(unique_id) or manifest.nodes.get(unique_id)
    if node is None:
        return False
    return node_meta(node).get("synthohive_generated") is True


def _select_with_graph(
    manifest: Any,
    resource_types: Iterable[str],
    select: Sequence[str],
    exclude: Sequence[str],
    selectors: Mapping[str, Any] | None,
) -> tuple[str, ...]:
    """What ``dbt ls --resource-type ... --select ... --exclude ...`` computes."""
    from dbt.compilation import Linker
    from dbt.graph import Graph, ResourceTypeSelector, parse_difference
    from dbt.node_types import NodeType
    from dbt_common.exceptions import DbtBaseException

    try:
        linker = Linker()
        linker.link_graph(manifest)
        selector = ResourceTypeSelector(
            graph=Graph(linker.graph),
            manifest=manifest,
            previous_state=None,
            resource_types=[NodeType(t) for t in resource_types],
            include_empty_nodes=True,
            selectors=dict(selectors or {}),
        )
        spec = parse_difference(list(select), list(exclude) or None)
        ids = selector.get_selected(spec, warn_on_no_nodes=False)
    except DbtBaseException as exc:
        raise SelectionError(
            f"dbt cannot evaluate --select {' '.join(select)}{_excluding(exclude)}: "
            f"{str(exc).strip()}"
        ) from exc
    return tuple(sorted(ids))


def _excluding(exclude: Sequence[str]) -> str:
    return f" --exclude {' '.join(exclude)}" if exclude else ""


def _dbt_ls(
    manifest: Any,
    dbt_args: Sequence[str],
    resource_types: Iterable[str],
    select: Sequence[str],
    exclude: Sequence[str],
) -> tuple[str, ...]:
    """Run ``dbt ls`` in-process on the already parsed manifest."""
    from dbt.cli.main import dbtRunner

    args = ["ls", *dbt_args, "--output", "json", "--output-keys", "unique_id"]
    for resource_type in resource_types:
        args += ["--resource-type", resource_type]
    args += ["--select", *select]
    if exclude:
        args += ["--exclude", *exclude]
    result = dbtRunner(manifest=manifest).invoke(args)
    if result.exception is not None:
        raise SelectionError(
            f"dbt cannot evaluate --select {' '.join(select)}{_excluding(exclude)}: "
            f"{str(result.exception).strip()}"
        )
    if not isinstance(result.result, list):
        raise ProjectError("dbt ls returned no result; run `dbt ls` to see why.")
    return tuple(sorted(json.loads(line)["unique_id"] for line in result.result))


def selectable_names(manifest: Any) -> list[str]:
    """Names a user may type: models and seeds by name, sources as ``source.table``."""
    names: set[str] = set()
    for node in manifest.nodes.values():
        if node.resource_type in ("model", "seed"):
            names.add(node.name)
    for source in manifest.sources.values():
        names.add(source.source_name)
        names.add(f"{source.source_name}.{source.name}")
    return sorted(names)


def _term_names(term: str) -> list[str]:
    """The name parts of a selector term: ``+source:shop.orders+,tag:x`` -> [shop.orders, x]."""
    names = []
    for part in term.split(","):
        part = _GRAPH_OPERATORS.sub("", part.strip())
        if ":" in part:
            part = part.split(":", 1)[1]
        if part:
            names.append(part)
    return names


def _suggest(term: str, manifest: Any) -> str:
    candidates = selectable_names(manifest)
    matches: list[str] = []
    for name in _term_names(term):
        for match in difflib.get_close_matches(name, candidates, n=3, cutoff=0.6):
            if match not in matches:
                matches.append(match)
    if matches:
        quoted = ", ".join(f"'{m}'" for m in matches)
        return f"'{term}' matches nothing; did you mean {quoted}?"
    return (
        f"'{term}' matches nothing; run `dbt ls --resource-type source model seed` to see "
        "what can be selected."
    )
