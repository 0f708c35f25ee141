"""A synthetic environment: synthetic tables where the project's sources resolve under
another dbt target, so the unchanged project builds on synthetic data.

Models are fitted on the real target; ``synthohive generate --target <synthetic target>
--environment`` loads the project with that target, looks up each fitted table's node by
its unique id and writes the synthetic table to the node's database, schema and
identifier there. A location that is the real relation a model was fitted on (same
database, schema and identifier, case-insensitively) is refused: real data is never
overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ProjectError, UnsafeWriteError
from .pipeline import real_personal_values
from .progress import SILENT, Reporter
from .relational import RelationalModel
from .relational.generate import DEFAULT_CHUNK_ROWS
from .relational.plan import TablePlan
from .warehouse import Relation, Warehouse


@dataclass(frozen=True)
class Placement:
    """Where one synthetic table goes in the environment, and the real one it copies."""

    key: str
    name: str
    real: Relation
    target: Relation


def _same(a: str | None, b: str | None) -> bool:
    # an unknown database (None: the connection's own) may be any: treat it as the same
    return a is None or b is None or a.casefold() == b.casefold()


def same_relation(a: Relation, b: Relation) -> bool:
    return (
        _same(a.database, b.database)
        and a.schema.casefold() == b.schema.casefold()
        and a.identifier.casefold() == b.identifier.casefold()
    )


def node_relation(node: Any) -> Relation:
    identifier = getattr(node, "identifier", None) or getattr(node, "alias", None) or node.name
    return Relation(node.database, node.schema, identifier)


def real_relation(plan: TablePlan) -> Relation:
    return Relation(plan.database, plan.schema, plan.identifier)


def placements(manifest: Any, plans: Mapping[str, TablePlan], target_name: str) -> list[Placement]:
    """Each plan's location under the loaded target; one error listing every problem.

    ProjectError when a fitted table is not in the project; UnsafeWriteError when a
    location is a real relation of the fitted model.
    """
    missing, unsafe, out = [], [], []
    reals = {key: real_relation(plan) for key, plan in plans.items()}
    for key, plan in plans.items():
        node = manifest.sources.get(key) or manifest.nodes.get(key)
        if node is None:
            missing.append(f"{plan.real_ref or plan.name} ({key})")
            continue
        target = node_relation(node)
        clash = [k for k, real in reals.items() if same_relation(target, real)]
        if clash:
            fitted = plans[clash[0]]
            whose = "its own" if clash[0] == key else f"that of {fitted.real_ref or fitted.name}"
            unsafe.append(
                f"{plan.real_ref or plan.name} resolves to {target} under target "
                f"{target_name!r}, which is a real table the model was fitted on ({whose})"
            )
            continue
        out.append(Placement(key, plan.name, reals[key], target))
    if missing:
        raise ProjectError(
            f"the fitted tables are not in the project under target {target_name!r}; "
            "refit, or check --select",
            missing,
        )
    if unsafe:
        raise UnsafeWriteError(
            f"refusing to write the synthetic environment for target {target_name!r}: it "
            "would overwrite real tables. Point the target at another database or schema "
            "(a separate DuckDB file, another Postgres schema)",
            unsafe,
        )
    return out


def write_environment(
    relational: RelationalModel,
    wh: Warehouse,
    places: list[Placement],
    *,
    scale: float = 1.0,
    seed: int = 0,
    keep_orphans: bool = False,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    reporter: Reporter = SILENT,
) -> dict[str, int]:
    """Generate every table and stream it to its placement; rows per table name.

    Each table is swapped in atomically, parents first. Schemas holding a real table of
    the model in the same database stay protected, as in the synthetic-schema mode.
    """
    where = {p.key: p.target for p in places}
    written: dict[str, int] = {}
    # the real values of personal columns, where this connection reaches them
    avoid = real_personal_values(relational, wh)
    for plan, chunks in relational.stream(
        scale=scale,
        seed=seed,
        chunk_rows=chunk_rows,
        keep_orphans=keep_orphans,
        reporter=reporter,
        avoid=avoid,
    ):
        target = where[plan.key]
        protected = {
            p.schema for p in relational.plans.values() if _same(p.database, target.database)
        }
        written[plan.name] = wh.write_table_chunks(
            target.schema,
            target.identifier,
            chunks,
            plan.column_types,
            database=target.database,
            protected_schemas=protected,
        )
    return written
