"""Which row rules a table enforces, and in what order.

Declared rules are checked against the table's columns (names matched case-insensitively,
kinds that fit the operation, no key columns) and combined with the discovered ones,
declared first: a rule in conflict with those kept is dropped and reported (a ratio
quietly). An ordering of two dates or timestamps gains an ``Offset``; computed columns are
put in dependency order, orderings after them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import pandas as pd

from ..schema import ColumnType, SchemaGraph, Table
from . import identities as R  # the row-rule records: R.Col, R.Derive, R.Order, ...
from .expressions import parse


@dataclass(frozen=True)
class RuleSet:
    """Rules enforced on a table, in the order they are applied, and why others are not."""

    rules: tuple[R.Rule, ...] = ()
    skipped: tuple[str, ...] = ()


def rules_for(
    expressions: Sequence[str],
    types: Mapping[str, ColumnType | None],
    modelled: Collection[str],
    discovered: Sequence[R.Rule] = (),
) -> RuleSet:
    """Declared ``expressions`` and ``discovered`` rules checked against the table's
    columns (names matched case-insensitively) and combined, declared first."""
    declared: list[R.Rule] = []
    skipped: list[str] = []
    for expression in expressions:
        rules, problems = parse(expression)
        skipped += problems
        for rule in rules:
            resolved, why = _resolve(rule, types, modelled)
            if resolved is None:
                skipped.append(f"not enforced: {rule.sql} ({why})")
            else:
                declared.append(resolved)
    rules, dropped = _combine(declared, list(discovered))
    return RuleSet(tuple(_with_offsets(rules, types)), tuple(skipped + dropped))


def _with_offsets(rules: list[R.Rule], types: Mapping[str, ColumnType | None]) -> list[R.Rule]:
    """An ``Offset`` for each ordering of two dates or timestamps whose later column is
    not computed otherwise: swapping two independently sampled columns into order would
    shift both distributions (the earlier toward the minimum of two draws); a learned gap
    keeps them and the distance between them."""
    computed = {r.target: r for r in rules if isinstance(r, R.COMPUTED)}
    offsets: list[R.Rule] = []
    for rule in rules:
        if not isinstance(rule, R.Order) or rule.strict:
            continue
        if not (isinstance(rule.lo, R.Col) and isinstance(rule.hi, R.Col)):
            continue
        lo, hi = rule.lo.name, rule.hi.name
        kinds = {getattr(types.get(c), "logical", None) for c in (lo, hi)}
        if not kinds <= R.TEMPORAL or hi in computed or _reaches(computed, [lo], hi):
            continue
        offset = R.Offset(hi, lo, f"{R.GAP_PREFIX}{len(offsets)}", rule.origin)
        computed[hi] = offset
        offsets.append(offset)
    plain = [r for r in rules if isinstance(r, R.COMPUTED)]
    return _dependency_order([*plain, *offsets]) + [r for r in rules if isinstance(r, R.Order)]


def _resolve(
    rule: R.Rule, types: Mapping[str, ColumnType | None], modelled: Collection[str]
) -> tuple[R.Rule | None, str]:
    names = {n.lower(): n for n in types}
    missing = [c for c in rule.columns if c.lower() not in names]
    if missing:
        return None, f"the table has no column {', '.join(missing)}"
    rule = _renamed(rule, names)
    keys = [c for c in rule.columns if c not in modelled]
    if keys:
        return None, f"{', '.join(keys)} is filled as a key or not modelled"
    kinds = {c: _kind(types[c]) for c in rule.columns}
    if isinstance(rule, R.Derive):
        known = {kinds[c] for c in rule.columns} - {None}
        if isinstance(rule.formula, R.Col):  # a copy: numbers or dates alike
            if len(known) > 1 or "text" in known:
                return None, "the two columns are not both numbers or both dates"
        elif known - {"numeric"}:
            return None, "arithmetic is enforced on numeric columns only"
        return rule, ""
    sides = [
        kinds[t.name] if isinstance(t, R.Col) else _literal_kind(t) for t in (rule.lo, rule.hi)
    ]
    known = {s for s in sides if s is not None}
    if len(known) > 1 or "text" in known:
        return None, "the two sides are not both numbers or both dates"
    return rule, ""


def _kind(ctype: ColumnType | None) -> str | None:
    if ctype is None:
        return None  # types unknown (inspect without --check-data): not checked
    if ctype.logical in R.NUMERIC:
        return "numeric"
    return "temporal" if ctype.logical in R.TEMPORAL else "text"


def _literal_kind(term: R.Num | R.Text) -> str:
    if isinstance(term, R.Num):
        return "numeric"
    try:
        pd.Timestamp(term.value)
    except ValueError:
        return "text"
    return "temporal"


def _renamed(rule: R.Rule, names: Mapping[str, str]) -> R.Rule:
    def fix(term: R.Term) -> R.Term:
        if isinstance(term, R.Col):
            return R.Col(names[term.name.lower()])
        if isinstance(term, R.Arith):
            return R.Arith(term.op, fix(term.left), fix(term.right))
        if isinstance(term, R.Negate):
            return R.Negate(fix(term.term))
        return term

    if isinstance(rule, R.Derive):
        return replace(rule, target=names[rule.target.lower()], formula=fix(rule.formula))
    return replace(rule, lo=fix(rule.lo), hi=fix(rule.hi))


def _combine(declared: list[R.Rule], discovered: list[R.Rule]) -> tuple[list[R.Rule], list[str]]:
    """Declared then discovered rules without conflicts (ratios, candidates best first,
    dropped quietly); computed columns ordered so that a column is computed before the
    rules that read it."""
    kept: list[R.Rule] = []
    dropped: list[str] = []
    for rule in declared + discovered:
        if any(_same(rule, other) for other in kept):
            continue
        why = _conflict(rule, kept)
        if not why:
            kept.append(rule)
        elif not isinstance(rule, R.Ratio):
            dropped.append(f"not enforced: {rule.sql} ({rule.origin}; {why})")
    computed = [r for r in kept if isinstance(r, R.COMPUTED)]
    orders = [r for r in kept if isinstance(r, R.Order)]
    return _dependency_order(computed) + orders, dropped


def _conflict(rule: R.Rule, kept: Sequence[R.Rule]) -> str:
    computed = {r.target: r for r in kept if isinstance(r, R.COMPUTED)}
    if isinstance(rule, R.COMPUTED):
        if rule.target in computed:
            return f"{rule.target} is already derived by {computed[rule.target].sql}"
        if _reaches(computed, R.inputs(rule), rule.target):
            return "it would derive columns from each other in a cycle"
        return ""
    for other in kept:
        if isinstance(other, R.Order) and (other.lo, other.hi) == (rule.hi, rule.lo):
            if other.strict or rule.strict:
                return f"it contradicts {other.sql}"
    return ""


def _same(a: R.Rule, b: R.Rule) -> bool:
    return replace(a, origin=R.DECLARED) == replace(b, origin=R.DECLARED)


def _reaches(computed: Mapping[str, R.Computed], starts: Iterable[str], goal: str) -> bool:
    """Whether computing any of ``starts`` reads ``goal``, directly or through others."""
    todo, seen = list(starts), set()
    while todo:
        name = todo.pop()
        if name == goal:
            return True
        if name in computed and name not in seen:
            seen.add(name)
            todo.extend(R.inputs(computed[name]))
    return False


def _dependency_order(computed: list[R.Computed]) -> list[R.Rule]:
    by_target = {d.target: d for d in computed}
    ordered: list[R.Rule] = []
    placed: set[str] = set()

    def place(d: R.Computed) -> None:
        if d.target in placed:
            return
        placed.add(d.target)
        for name in R.inputs(d):
            if name in by_target:
                place(by_target[name])
        ordered.append(d)

    for d in computed:
        place(d)
    return ordered


# -- where rules apply in a graph ------------------------------------------------------------
def modelled_columns(graph: SchemaGraph, table: Table) -> tuple[str, ...]:
    """Columns a table's model samples: not keys, identifiers or FK columns, not ignored
    (as ``learn._base_plan`` decides for generation)."""
    keys = set(table.primary_key.columns if table.primary_key else ())
    keys |= {c.name for c in table.columns if c.unique or c.id_like is not None}
    for fk in graph.foreign_keys + graph.deferred:
        if fk.child == table.key:
            keys |= set(fk.columns)
    ignored = {
        c.name
        for c in table.columns
        if str(c.meta.get("synthohive_ignore")).lower() in ("true", "1", "yes")
    }
    return tuple(c.name for c in table.columns if c.name not in keys | ignored)


def declared_rules(graph: SchemaGraph, table: Table) -> RuleSet:
    """The table's declared rules as generation would enforce them (for ``inspect``)."""
    types = {c.name: c.type for c in table.columns}
    return rules_for(table.expressions, types, modelled_columns(graph, table))
