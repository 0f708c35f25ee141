"""Generation order of tables: parents before children, cycles broken at nullable FKs.

A table can only be generated once the tables it references exist. Self-references are
left out of the order (a table fills its own parent column while it is generated). A
cycle across tables is broken by deferring one nullable FK of the cycle: it is generated
as null first and filled once both ends exist. A cycle in which every FK is not null
cannot be generated in any order and is reported as a problem.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from synthohive_dbt.schema.records import ForeignKey, Table


@dataclass(frozen=True)
class Ordering:
    order: tuple[str, ...]
    deferred: tuple[ForeignKey, ...]
    problems: tuple[str, ...]


def order_tables(tables: Mapping[str, Table], foreign_keys: Sequence[ForeignKey]) -> Ordering:
    """Topological order of ``tables`` under ``foreign_keys`` (ties broken by table name)."""
    edges = [
        fk
        for fk in foreign_keys
        if not fk.is_self_reference and fk.child in tables and fk.parent in tables
    ]
    deferred: list[ForeignKey] = []
    problems: list[str] = []
    while (cycle := _find_cycle(tables, edges)) is not None:
        nullable = [fk for fk in cycle if fk.nullable]
        if nullable:
            chosen = min(nullable, key=lambda fk: _fk_sort_key(tables, fk))
            deferred.append(chosen)
            edges.remove(chosen)
        else:
            problems.append(_cycle_problem(tables, cycle))
            # Keep looking for other cycles: ignore this one's edges from now on.
            edges = [fk for fk in edges if fk not in cycle]
    return Ordering(_topological(tables, edges), tuple(deferred), tuple(problems))


def _sort_key(tables: Mapping[str, Table], key: str) -> tuple[str, str]:
    return (tables[key].name, key)


def _fk_sort_key(tables: Mapping[str, Table], fk: ForeignKey) -> tuple[str, ...]:
    return (*_sort_key(tables, fk.child), *fk.columns, *_sort_key(tables, fk.parent))


def _topological(tables: Mapping[str, Table], edges: Sequence[ForeignKey]) -> tuple[str, ...]:
    """Kahn's algorithm; among ready tables the smallest (name, key) goes first."""
    parents: dict[str, set[str]] = {key: set() for key in tables}
    children: dict[str, set[str]] = {key: set() for key in tables}
    for fk in edges:
        parents[fk.child].add(fk.parent)
        children[fk.parent].add(fk.child)
    ready = [_sort_key(tables, key) for key, ps in parents.items() if not ps]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, key = heapq.heappop(ready)
        order.append(key)
        for child in children[key]:
            parents[child].discard(key)
            if not parents[child]:
                heapq.heappush(ready, _sort_key(tables, child))
    return tuple(order)


def _find_cycle(
    tables: Mapping[str, Table], edges: Sequence[ForeignKey]
) -> list[ForeignKey] | None:
    """The first cycle a deterministic depth-first search meets, as the FKs along it."""
    outgoing: dict[str, list[ForeignKey]] = {key: [] for key in tables}
    for fk in sorted(edges, key=lambda fk: _fk_sort_key(tables, fk)):
        # Walk parent -> child; the direction does not matter for finding a cycle.
        outgoing[fk.parent].append(fk)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[ForeignKey] = []

    def visit(key: str) -> list[ForeignKey] | None:
        state[key] = 1
        for fk in outgoing[key]:
            if state.get(fk.child) == 1:
                start = next(
                    (i for i, step in enumerate(path) if step.parent == fk.child), len(path)
                )
                return [*path[start:], fk]
            if fk.child not in state:
                path.append(fk)
                found = visit(fk.child)
                if found is not None:
                    return found
                path.pop()
        state[key] = 2
        return None

    for key in sorted(tables, key=lambda k: _sort_key(tables, k)):
        if key not in state and (found := visit(key)) is not None:
            return found
    return None


def _cycle_problem(tables: Mapping[str, Table], cycle: Sequence[ForeignKey]) -> str:
    names = []
    for fk in cycle:
        for key in (fk.parent, fk.child):
            if tables[key].display not in names:
                names.append(tables[key].display)
    steps = "; ".join(
        f"{tables[fk.child].name}.{', '.join(fk.columns)} -> {tables[fk.parent].name} "
        f"({fk.origin.kind})"
        for fk in cycle
    )
    return (
        f"Tables {', '.join(names)} reference each other in a cycle ({steps}) and every "
        "foreign key column in it is not null, so no table of the cycle can be generated "
        "first. Make one of these columns nullable (remove its not_null test or constraint) "
        "or remove one of these relationships tests/constraints."
    )
