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
- A ``unique`` column that is a hash or concatenation of columns (a surrogate key such as
  ``dbt_utils.generate_surrogate_key(['id', 'sku'])``) makes that combination of the
  traced columns unique.
- ``not_null``, ``accepted_values``, ``accepted_range`` and ``synthohive_*`` column meta
  move to the traced column.
- Expression tests (``expression_is_true`` and look-alikes) move when every column they
  name traces to one table; the condition is rewritten on that table's columns
  (``traced_conditions``).

Facts declared on the table itself win; a traced fact that repeats one is dropped. Traced
origins keep the declaring test or constraint and name the declaring model in ``via``.
A fact that cannot be carried is never dropped silently: each model gets one warning that
names its facts left behind and why (a computed column, a union, a window function...).
"""

from __future__ import annotations

import re
from collections.abc import MutableSequence, Sequence
from dataclasses import dataclass, field
from typing import Any

from synthohive_dbt.project.meta import MARKINGS
from synthohive_dbt.schema.facts import FkCandidate, TableFacts
from synthohive_dbt.schema.lineage import Lineage, Traced
from synthohive_dbt.schema.records import Origin, PrimaryKey
from synthohive_dbt.schema.traced_conditions import (
    UncarriedCondition,
    condition_columns,
    renamed_condition,
)

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
        carrier.expressions(model, declared[model])
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
    unreadable = set(lineage.unreadable())
    for model, left in sorted(carrier.left.items()):
        if model in unreadable:
            continue  # said above, once for the whole model
        shown = "; ".join(f"{fact} ({why})" for fact, why in list(left.items())[:8])
        more = f"; and {len(left) - 8} more" if len(left) > 8 else ""
        warnings.append(
            f"ref('{lineage.node(model).name}'): {len(left)} test(s)/constraint(s) declared "
            f"on it are not carried to the sources it reads: {shown}{more}. Declare them on "
            "the sources if they hold there."
        )


@dataclass
class _Carrier:
    lineage: Lineage
    targets: dict[str, TableFacts]
    candidates: MutableSequence[FkCandidate]
    warnings: MutableSequence[str]
    touched: set[str] = field(default_factory=set)
    traced_pks: dict[str, PrimaryKey] = field(default_factory=dict)
    left: dict[str, dict[str, str]] = field(default_factory=dict)  # model -> fact -> why

    def trace(self, model: str, columns: Sequence[str]) -> tuple[str, tuple[str, ...], bool]:
        """(target table, its columns, reshaped) for ``columns`` of ``model``; all of them
        must trace to one selected table. Raises _NoTrace (with the reason) otherwise."""
        found = [self.lineage.follow(model, c) for c in columns]
        for item in found:
            if isinstance(item, str):
                raise _NoTrace(item)
        traced = [f for f in found if isinstance(f, Traced)]
        if not traced:
            raise _NoTrace("it names no column")
        nodes = {f.node for f in traced}
        if len(nodes) > 1:
            raise _NoTrace("its columns come from different tables")
        (node,) = nodes
        if node not in self.targets:
            raise _NoTrace(f"it traces to {self._display(node)}, which is not selected")
        return node, tuple(f.column for f in traced), any(f.reshaped for f in traced)

    def leave(self, model: str, fact: str, why: str) -> None:
        self.left.setdefault(model, {}).setdefault(fact, why)

    def _display(self, node_id: str) -> str:
        from synthohive_dbt.schema.manifest import display_of

        node = self.lineage.node(node_id)
        return display_of(node) if node is not None else node_id

    def _reshaped(self, model: str, columns: Sequence[str]) -> str:
        how = {w for c in columns if (t := self.lineage.trace(model, c)) for w in t.reshaping}
        return f"a model on the way uses {', '.join(sorted(how)) or 'a reshaping'}"

    def columns(self, model: str, facts: TableFacts) -> None:
        for col in facts.columns.values():
            meta = {k: v for k, v in col.meta.items() if k.startswith(_META_PREFIX)}
            marked = _privacy_marks(col)
            if not (col.not_null or col.accepted_values or col.accepted_range or meta or marked):
                continue
            try:
                key, (name,), _ = self.trace(model, (col.name,))
            except _NoTrace as exc:
                kinds = [k for k, v in _column_kinds(col).items() if v]
                if not self._transformed(model, col):
                    self.leave(model, f"{'/'.join(kinds)} on {col.name}", str(exc))
                continue
            target = self.targets[key].column(name)
            target.not_null = target.not_null or col.not_null
            if target.accepted_values is None:
                target.accepted_values = col.accepted_values
            if target.accepted_range is None:
                target.accepted_range = col.accepted_range
            for meta_key, value in meta.items():
                target.meta.setdefault(meta_key, value)
            _carry_privacy(col, target)
            self.touched.add(key)

    def _transformed(self, model: str, col: Any) -> bool:
        """Carry what still holds through a function of one column: ``not_null`` through
        any NULL-preserving one, ``accepted_range`` through a constant factor. Whether
        every fact of ``col`` was carried."""
        found = self.lineage.follow_scaled(model, col.name)
        if isinstance(found, str) or found[0].node not in self.targets:
            return False
        traced, factor = found
        target = self.targets[traced.node].column(traced.column)
        target.not_null = target.not_null or col.not_null
        _carry_privacy(col, target)  # lower(email) is still an email
        carried = not (col.accepted_values or any(k.startswith(_META_PREFIX) for k in col.meta))
        if col.accepted_range is not None:
            if factor is None:
                carried = False
            elif target.accepted_range is None:
                target.accepted_range = _scaled_range(col.accepted_range, factor)
        self.touched.add(traced.node)
        return carried

    def keys(self, model: str, facts: TableFacts) -> None:
        for columns, origin in facts.unique:
            label = f"unique ({', '.join(columns)})" if len(columns) > 1 else f"unique {columns[0]}"
            try:
                key, traced, reshaped = self._key(model, columns)
            except _NoTrace as exc:
                self.leave(model, label, str(exc))
                continue
            if reshaped:
                self.leave(model, label, self._reshaped(model, columns))
                continue
            self.targets[key].add_unique(traced, _via(origin, model))
            self.touched.add(key)
        if facts.pk is not None:
            label = f"primary key ({', '.join(facts.pk.columns)})"
            try:
                key, traced, reshaped = self._key(model, facts.pk.columns)
            except _NoTrace as exc:
                self.leave(model, label, str(exc))
                return
            if reshaped:
                self.leave(model, label, self._reshaped(model, facts.pk.columns))
                return
            self.traced_pks.setdefault(key, PrimaryKey(traced, _via(facts.pk.origin, model)))
            self.touched.add(key)

    def _key(self, model: str, columns: Sequence[str]) -> tuple[str, tuple[str, ...], bool]:
        """Like ``trace``; a single surrogate-key column traces to the combination of the
        columns it hashes (unique hashes mean unique combinations)."""
        try:
            return self.trace(model, columns)
        except _NoTrace:
            if len(columns) != 1:
                raise
            parts = self.lineage.combination(model, columns[0])
            if not parts or len({p.node for p in parts}) != 1 or parts[0].node not in self.targets:
                raise
            return parts[0].node, tuple(p.column for p in parts), any(p.reshaped for p in parts)

    def expressions(self, model: str, facts: TableFacts) -> None:
        for condition, origin in facts.expressions:
            try:
                key, rewritten = self._rewrite(model, condition)
            except _NoTrace as exc:
                self.leave(model, f"expression {condition!r}", str(exc))
                continue
            self.targets[key].add_expression(rewritten, _via(origin, model))
            self.touched.add(key)

    def foreign_key(self, candidate: FkCandidate) -> None:
        model = candidate.child
        try:
            child, columns, _ = self.trace(model, candidate.columns)
            parent, parent_columns = self._parent(candidate)
        except _NoTrace as exc:
            self.leave(model, f"relationships on {', '.join(candidate.columns)}", str(exc))
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
        node = _find(self.lineage.manifest, candidate.to) or self.lineage.relation_node(
            candidate.to
        )
        if node is not None and node.resource_type == "model":
            key, columns, reshaped = self.trace(node.unique_id, candidate.parent_columns)
            if reshaped:  # the model makes the parent key unique, its source may not be
                raise _NoTrace(
                    f"its parent {candidate.to}: "
                    + self._reshaped(node.unique_id, candidate.parent_columns)
                )
            return key, columns
        if node is not None and node.unique_id in self.targets:
            return node.unique_id, candidate.parent_columns
        raise _NoTrace(f"its parent {candidate.to} is not a selected table or a model on one")

    def _condition(self, model: str, condition: str, target: str) -> str | None:
        """``condition`` on ``model``'s columns, rewritten on ``target``'s, if it traces."""
        try:
            key, rewritten = self._rewrite(model, condition)
        except _NoTrace:
            return None
        return rewritten if key == target else None

    def _rewrite(self, model: str, condition: str) -> tuple[str, str]:
        """(table, ``condition`` rewritten on its columns) when every column of
        ``condition`` traces to that one selected table; _NoTrace otherwise."""
        try:
            parsed, names = condition_columns(condition, self.lineage.dialect)
        except UncarriedCondition as exc:
            raise _NoTrace(str(exc)) from exc
        try:
            key, traced, _ = self.trace(model, names)
            factors = [1.0] * len(names)
        except _NoTrace:
            key, traced, factors = self._scaled(model, names)
        renames = list(zip(names, traced, factors, strict=True))
        return key, renamed_condition(parsed, renames, self.lineage.dialect)

    def _scaled(self, model: str, names: Sequence[str]) -> tuple[str, tuple[str, ...], list[float]]:
        """Like ``trace``, for columns that are source columns times a constant factor."""
        found = [self.lineage.follow_scaled(model, n) for n in names]
        for item in found:
            if isinstance(item, str):
                raise _NoTrace(item)
        pairs = [f for f in found if not isinstance(f, str)]
        if any(factor is None for _, factor in pairs):
            raise _NoTrace("a column of it is a function of its source, not a multiple")
        nodes = {t.node for t, _ in pairs}
        if len(nodes) > 1:
            raise _NoTrace("its columns come from different tables")
        (node,) = nodes
        if node not in self.targets:
            raise _NoTrace(f"it traces to {self._display(node)}, which is not selected")
        return node, tuple(t.column for t, _ in pairs), [float(f or 1.0) for _, f in pairs]


class _NoTrace(Exception):
    """A fact does not trace to a selected table; the message says why."""


#: meta keys and tags that mark personal data (privacy.detect reads them): a marking on a
#: staging or mart model column holds for the source column it comes from
_PRIVACY_META = MARKINGS
_PRIVACY_TAGS = ("pii", "sensitive")


def _privacy_marks(col: Any) -> bool:
    return (
        any(k in col.meta for k in _PRIVACY_META)
        or bool(col.policy_tags)
        or any(any(t in str(tag).lower() for t in _PRIVACY_TAGS) for tag in col.tags)
    )


def _carry_privacy(col: Any, target: Any) -> None:
    for key in _PRIVACY_META:
        if key in col.meta:
            target.meta.setdefault(key, col.meta[key])
    for key in ("synthohive_pii", "synthohive_pii_kind", "synthohive_privacy"):
        if key in col.meta:
            target.meta.setdefault(key, col.meta[key])
    target.tags = list(dict.fromkeys([*target.tags, *col.tags]))
    target.policy_tags = list(dict.fromkeys([*target.policy_tags, *col.policy_tags]))


def _scaled_range(bounds: tuple[Any, Any], factor: float) -> tuple[Any, Any]:
    """A model column's range on its source, when the model column is source x factor."""
    low, high = (None if b is None else b / factor for b in bounds)
    return (low, high) if factor > 0 else (high, low)


def _column_kinds(col: Any) -> dict[str, bool]:
    return {
        "not_null": col.not_null,
        "accepted_values": col.accepted_values is not None,
        "accepted_range": col.accepted_range is not None,
        "meta": any(k.startswith(_META_PREFIX) for k in col.meta),
    }


def _via(origin: Origin, model: str) -> Origin:
    return Origin(origin.kind, origin.node, via=model)


def _find(manifest: Any, to: str) -> Any:
    from dbt.exceptions import ParsingError

    match = re.fullmatch(r"\s*\{\{\s*(.*?)\s*\}\}\s*", to)
    try:
        return manifest.find_node_from_ref_or_source((match.group(1) if match else to).strip())
    except ParsingError:
        return None
