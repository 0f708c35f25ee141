"""Where each fitted table's synthetic copy goes in a synthetic environment: the location
its dbt node resolves to under the target ``generate --environment`` loads.

Models are fitted on the real target; the environment's target resolves every source to
another database or schema. A location that is the real relation a model was fitted on
(same database, schema and identifier, case-insensitively) is refused: real data is never
overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ProjectError, UnsafeWriteError
from ..relational.plan import TablePlan
from ..warehouse import Relation


@dataclass(frozen=True)
class Placement:
    """Where one synthetic table goes in the environment, and the real one it copies."""

    key: str
    name: str
    real: Relation
    target: Relation


def same_database(a: str | None, b: str | None) -> bool:
    """Whether two database names may be one (None: the connection's own, any)."""
    # an unknown database (None: the connection's own) may be any: treat it as the same
    return a is None or b is None or a.casefold() == b.casefold()


def same_relation(a: Relation, b: Relation) -> bool:
    return (
        same_database(a.database, b.database)
        and a.schema.casefold() == b.schema.casefold()
        and a.identifier.casefold() == b.identifier.casefold()
    )


def node_relation(node: Any) -> Relation:
    identifier = getattr(node, "identifier", None) or getattr(node, "alias", None) or node.name
    return Relation(node.database, node.schema, identifier)


def placements(manifest: Any, plans: Mapping[str, TablePlan], target_name: str) -> list[Placement]:
    """Each plan's location under the loaded target; one error listing every problem.

    ProjectError when a fitted table is not in the project; UnsafeWriteError when a
    location is a real relation of the fitted model.
    """
    missing, unsafe, out = [], [], []
    reals = {key: plan.relation for key, plan in plans.items()}
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
