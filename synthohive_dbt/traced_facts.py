"""Facts declared on models, carried to the selected sources whose columns they select.

``manifest`` reads the keys and tests of every model built on the selected sources and
seeds the way it reads a selected table's (into TableFacts and FkCandidates) and hands
them here. Each fact moves to the source column its model column traces to (``lineage``):

- ``relationships`` tests and ``foreign_key`` constraints become foreign keys between the
  traced tables when both ends trace to selected tables (the parent may also be a selected
  source or seed named directly). A ``where`` condition moves along when all its columns
  trace to the child's table; otherwise the key is left out with a warning.
- ``unique`` tests and constraints, unique column combinations and ``primary_key``
  constraints become keys of the traced table, unless a model on the way reshapes its rows.
  A traced ``primary_key`` constraint is the primary key of a table that has none of its
  own.
- ``not_null``, ``accepted_values``, ``accepted_range`` and ``synthohive_*`` column meta
  move to the traced column.

Facts declared on the table itself win; a traced fact that repeats one is dropped. Traced
origins keep the declaring test or constraint and name the declaring model in ``via``.
"""

from __future__ import annotations

import re
from collections.abc import MutableSequence, Sequence
from dataclasses import dataclass, field
from typing import Any

from synthohive_dbt.facts import FkCandidate, TableFacts
from synthohive_dbt.lineage import Lineage
from synthohive_dbt.schema import Origin, PrimaryKey

_META_PREFIX = "synthohive_"


def carry_facts(
    lineage: Lineage,
    declared: dict[str, TableFacts],
    declared_candidates: Sequence[FkCandidate],
    targets: dict[str, TableFacts],
    candidates: MutableSequence[FkCandidate],
    warnings: MutableSequence[str],
) -> None:
    """Add the facts of models (``declared``) to the tables of ``targets`` they trace to.

    New foreign keys are appended to ``candidates`` (after the targets' own, which are
    therefore kept when both declare the same key).
    """
    carrier = _Carrier(lineage, targets, candidates, warnings)
    own_pks = {key: facts.primary_key() for key, facts in targets.items()}
    for model in sorted(declared):
        carrier.columns(model, declared[model])
        carrier.keys(model, declared[model])
    for candidate in declared_candidates:
        carrier.foreign_key(candidate)
    for key in sorted(carrier.touched):
        own = own_pks.get(key)
        if own is not None:
            targets[key].pk = own  # traced uniqueness must not displace the table's own key
        elif key in carrier.traced_pks:
            targets[key].pk = carrier.traced_pks[key]
    for model, reason in sorted(lineage.unreadable().items()):
        warnings.append(
            f"ref('{lineage.node(model).name}'): its SQL cannot be read ({reason}), so keys "
            "and tests declared on it, or on models that select from it, are not traced to "
            "the sources it reads. Declare them on the sources instead."
        )


@dataclass
class _Carrier:
    lineage: Lineage
    targets: dict[str, TableFacts]
    candidates: MutableSequence[FkCandidate]
    warnings: MutableSequence[str]
    touched: set[str] = field(default_factory=set)
    traced_pks: dict[str, PrimaryKey] = field(default_factory=dict)

    def trace(self, model: str, columns: Sequence[str]) -> tuple[str, tuple[str, ...], bool]:
        """(target table, its columns, reshaped) for ``columns`` of ``model``; all of them
        must trace to one selected table. Raises _NoTrace otherwise."""
        found = [self.lineage.trace(model, c) for c in columns]
        first = found[0] if found else None
        if first is None or first.node not in self.targets:
            raise _NoTrace
        if any(f is None or f.node != first.node for f in found):
            raise _NoTrace
        return first.node, tuple(f.column for f in found if f), any(f.reshaped for f in found if f)

    def columns(self, model: str, facts: TableFacts) -> None:
        for col in facts.columns.values():
            meta = {k: v for k, v in col.meta.items() if k.startswith(_META_PREFIX)}
            if not (col.not_null or col.accepted_values or col.accepted_range or meta):
                continue
            try:
                key, (name,), _ = self.trace(model, (col.name,))
            except _NoTrace:
                continue
            target = self.targets[key].column(name)
            target.not_null = target.not_null or col.not_null
            if target.accepted_values is None:
                target.accepted_values = col.accepted_values
            if target.accepted_range is None:
                target.accepted_range = col.accepted_range
            for meta_key, value in meta.items():
                target.meta.setdefault(meta_key, value)
            self.touched.add(key)

    def keys(self, model: str, facts: TableFacts) -> None:
        for columns, origin in facts.unique:
            try:
                key, traced, reshaped = self.trace(model, columns)
            except _NoTrace:
                continue
            if not reshaped:
                self.targets[key].add_unique(traced, _via(origin, model))
                self.touched.add(key)
        if facts.pk is not None:
            try:
                key, traced, reshaped = self.trace(model, facts.pk.columns)
            except _NoTrace:
                return
            if not reshaped:
                self.traced_pks.setdefault(key, PrimaryKey(traced, _via(facts.pk.origin, model)))
                self.touched.add(key)

    def foreign_key(self, candidate: FkCandidate) -> None:
        model = candidate.child
        try:
            child, columns, _ = self.trace(model, candidate.columns)
            parent, parent_columns = self._parent(candidate)
        except _NoTrace:
            return
        where = candidate.where
        if where is not None:
            where = self._condition(model, where, child)
            if where is None:
                self.warnings.append(
                    f"{candidate.label} holds where {candidate.where!r}, whose columns do not "
                    f"all trace to {self.targets[child].display}: the key is not traced "
                    "to the sources. Declare it on the source instead."
                )
                return
        self.candidates.append(
            FkCandidate(
                child=child,
                columns=columns,
                to=self.targets[parent].display,
                parent_columns=parent_columns,
                origin=_via(candidate.origin, model),
                where=where,
                label=f"{candidate.label} (traced via {model})",
            )
        )

    def _parent(self, candidate: FkCandidate) -> tuple[str, tuple[str, ...]]:
        node = _find(self.lineage.manifest, candidate.to)
        if node is not None and node.resource_type == "model":
            key, columns, reshaped = self.trace(node.unique_id, candidate.parent_columns)
            if reshaped:  # the model makes the parent key unique, its source may not be
                raise _NoTrace
            return key, columns
        if node is not None and node.unique_id in self.targets:
            return node.unique_id, candidate.parent_columns
        raise _NoTrace

    def _condition(self, model: str, condition: str, target: str) -> str | None:
        """``condition`` on ``model``'s columns, rewritten on ``target``'s, if it traces."""
        import sqlglot
        from sqlglot import exp
        from sqlglot.errors import SqlglotError

        dialect = self.lineage.dialect
        try:
            parsed = sqlglot.parse_one(condition, read=dialect)
        except SqlglotError:
            return None
        failed: list[str] = []

        def rename(node: Any) -> Any:
            if not isinstance(node, exp.Column) or isinstance(node.this, exp.Star):
                return node
            traced = None if node.table else self.lineage.trace(model, node.name)
            if traced is None or traced.node != target:
                failed.append(node.sql())
                return node
            return exp.column(traced.column)

        rewritten = parsed.transform(rename)
        return None if failed else rewritten.sql(dialect=dialect)


class _NoTrace(Exception):
    """A fact does not trace to a selected table (an expression, an unselected source)."""


def _via(origin: Origin, model: str) -> Origin:
    return Origin(origin.kind, origin.node, via=model)


def _find(manifest: Any, to: str) -> Any:
    from dbt.exceptions import ParsingError

    match = re.fullmatch(r"\s*\{\{\s*(.*?)\s*\}\}\s*", to)
    try:
        return manifest.find_node_from_ref_or_source((match.group(1) if match else to).strip())
    except ParsingError:
        return None
