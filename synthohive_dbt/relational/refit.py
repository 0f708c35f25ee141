"""Which tables ``fit --state`` fits again, and what it keeps of the saved artifacts.

With ``--state`` the selection (dbt's own, e.g. ``state:modified+``) says what changed, and
the artifacts saved at the same path hold every table fitted before. The rule:

1. A selected table of the artifacts is refit. A selected source the artifacts do not hold
   is added (a new source); seeds and models they do not hold are not added.
2. A selected model the artifacts do not hold refits the tables of the artifacts it reads,
   directly or through other models: the keys and tests declared on a model are traced to
   those tables, so editing the model can change what they learn.
3. A table of the artifacts whose definition changed since it was fitted (its columns,
   keys, tests, meta, the model or its options: ``relational.fingerprint``) is refit too;
   dbt's comparison does not see column or meta edits on a source. A table the project no
   longer has is dropped, and the tables it was linked to are refit.
4. Tables linked by FKs share their plans (child counts, parent contexts), so every table
   linked to a refit one, directly or through others (its family), is read again;
   fingerprints then train only the tables whose training input changed.

The other families are neither read nor trained: their saved plans and models are kept.
Without ``--state``, or with nothing saved yet, the selection is the whole table set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import ArtifactError, SelectionError
from ..privacy.settings import PrivacySettings
from ..schema import SchemaGraph
from ..synth.base import ModelOptions
from . import RelationalModel
from .engine import PLAN_JSON, SavedArtifacts
from .fingerprint import definition_fingerprints


@dataclass(frozen=True)
class Refit:
    graph: SchemaGraph  # every table the saved artifacts will hold
    families: SchemaGraph  # the part that is read and fitted again
    kept: tuple[str, ...] = ()  # saved plans and models kept as they are
    dropped: tuple[str, ...] = ()  # saved tables the project no longer has

    @classmethod
    def everything(cls, graph: SchemaGraph) -> Refit:
        return cls(graph=graph, families=graph)


def saved_artifacts(path: Path, *, state: bool) -> SavedArtifacts | None:
    """The artifacts saved at ``path``, if any. Unreadable ones are refit from scratch,
    except under ``--state``, which keeps part of them: then the ArtifactError stands."""
    if not (Path(path) / PLAN_JSON).is_file():
        return None
    if state:
        return SavedArtifacts.read(path)
    try:
        return SavedArtifacts.read(path)
    except ArtifactError:
        return None


def plan_refit(
    manifest: Any,
    selected: Sequence[str],
    saved: SavedArtifacts,
    graph_of: Callable[[Sequence[str]], SchemaGraph],
    *,
    model: str,
    options: ModelOptions,
    seed: int,
    privacy: PrivacySettings | None = None,
) -> Refit:
    """Apply the rule above; ``graph_of`` builds the schema graph of given table keys."""
    present = [k for k in saved.order if _exists(manifest, k)]
    added = [k for k in selected if k not in saved.plans and k in manifest.sources]
    graph = graph_of(tuple(dict.fromkeys(present + added)))
    tables = set(graph.tables)
    if not tables:
        raise SelectionError(
            f"the project has none of the tables saved in {saved.path} any more and the "
            "selection adds no source; run `synthohive fit` without --state."
        )
    dropped = tuple(k for k in saved.order if k not in tables)

    definitions = definition_fingerprints(
        graph, model=model, options=options, seed=seed, privacy=privacy
    )
    stale = {
        k
        for k in tables
        if k not in saved.fingerprints or saved.fingerprints[k].definition != definitions[k]
    }
    seeds = stale | (set(selected) & tables) | _linked_to(saved, dropped, tables)
    for key in selected:
        if key not in tables and _is_model(manifest, key):
            seeds |= upstream_tables(manifest, key, tables)

    touched: set[str] = set()
    for family in families(graph):
        if family & seeds:
            touched |= family
    return Refit(
        graph=graph,
        families=subgraph(graph, touched),
        kept=tuple(k for k in graph.order if k not in touched),
        dropped=dropped,
    )


def merge(
    refit: Refit, fitted: RelationalModel | None, saved: SavedArtifacts | None
) -> RelationalModel:
    """The relational model to save: the refit families' fresh plans and models plus the
    kept tables' saved ones, in the generation order of the whole graph."""
    kept = saved.load(refit.kept) if saved is not None and refit.kept else None
    parts = [part for part in (kept, fitted) if part is not None]
    if len(parts) == 1:
        return parts[0]
    plans = {k: p for part in parts for k, p in part.plans.items()}
    return RelationalModel(
        plans=plans,
        order=tuple(k for k in refit.graph.order if k in plans),
        models={k: m for part in parts for k, m in part.models.items()},
        model_name=parts[-1].model_name,
        fingerprints={k: f for part in parts for k, f in part.fingerprints.items()},
        loaded_from={k: d for part in parts for k, d in part.loaded_from.items()},
    )


def families(graph: SchemaGraph) -> list[set[str]]:
    """Tables linked by FKs (either way, deferred ones too), each set a family."""
    parent = {key: key for key in graph.tables}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for fk in (*graph.foreign_keys, *graph.deferred):
        if fk.child in parent and fk.parent in parent:
            parent[root(fk.child)] = root(fk.parent)
    grouped: dict[str, set[str]] = {}
    for key in graph.order:
        grouped.setdefault(root(key), set()).add(key)
    return list(grouped.values())


def subgraph(graph: SchemaGraph, keys: Iterable[str]) -> SchemaGraph:
    """The tables ``keys`` of ``graph`` (whole families: no FK leaves them)."""
    keys = set(keys)
    return replace(
        graph,
        tables={k: t for k, t in graph.tables.items() if k in keys},
        foreign_keys=tuple(fk for fk in graph.foreign_keys if fk.child in keys),
        order=tuple(k for k in graph.order if k in keys),
        deferred=tuple(fk for fk in graph.deferred if fk.child in keys),
    )


def upstream_tables(manifest: Any, model_id: str, tables: set[str]) -> set[str]:
    """The ``tables`` that model ``model_id`` reads, directly or through other models."""
    found: set[str] = set()
    seen = {model_id}
    stack = [model_id]
    while stack:
        node = manifest.nodes.get(stack.pop())
        for dep in node.depends_on.nodes if node is not None else ():
            if dep in tables:
                found.add(dep)
            if dep not in seen and _is_model(manifest, dep):
                seen.add(dep)
                stack.append(dep)
    return found


def _linked_to(saved: SavedArtifacts, dropped: Sequence[str], tables: set[str]) -> set[str]:
    """Saved tables that were parents or children of a dropped one."""
    gone = set(dropped)
    linked = {fk.parent for key in gone for fk in saved.plans[key].fks}
    linked |= {k for k, plan in saved.plans.items() if any(fk.parent in gone for fk in plan.fks)}
    return linked & tables


def _exists(manifest: Any, key: str) -> bool:
    return key in manifest.sources or key in manifest.nodes


def _is_model(manifest: Any, key: str) -> bool:
    node = manifest.nodes.get(key)
    return node is not None and node.resource_type == "model"
