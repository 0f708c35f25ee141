"""Row rules: identities, ratios and orderings between a table's own columns.

A rule is declared by the project (``Table.expressions``, from expression tests) or found
in the real data at fit (``discovery``). Three forms are enforced at generation
(``enforce``):

* ``Derive``: ``target = formula``, the formula arithmetic (+ - * /) over other columns and
  numbers: the target is computed from the sampled inputs, not sampled (NULL where an
  input is NULL, as in SQL, unless the target is declared not null);
* ``Ratio``: ``target = base x ratio``, found in the data only: the model learns the ratio
  ``target / base`` in the target's place, and the target is computed from the sampled
  base and ratio (a share such as a tax that follows its subtotal);
* ``Order``: ``lo <= hi`` or ``lo < hi`` between two columns or a column and a literal
  (``between`` gives two): rows that break it get the smallest change, two sampled
  columns swapped, or one clamped to the other side.

Anything else is reported, not enforced. Rules hold column names, operators and the
project's own literals, never data values. Declared rules win: a discovered rule is dropped
when it computes an already computed column, closes a cycle of computations or
contradicts a declared ordering. A ratio is a way to model a column, not a promise of
the data: one in conflict is left out without a report, and the next candidate for its
target is tried.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import sqlglot
from sqlglot import exp

from ..schema import ColumnType, LogicalType, SchemaGraph, Table

DECLARED = "declared"
DISCOVERED = "discovered"
NUMERIC = frozenset({LogicalType.INTEGER, LogicalType.NUMERIC, LogicalType.FLOAT})
TEMPORAL = frozenset({LogicalType.DATE, LogicalType.TIMESTAMP, LogicalType.TIMESTAMPTZ})


# -- terms --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Col:
    name: str


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Text:
    """A date or timestamp literal (``'2020-01-01'``)."""

    value: str


@dataclass(frozen=True)
class Arith:
    op: str  # + - * /
    left: Term
    right: Term


@dataclass(frozen=True)
class Negate:
    term: Term


Term = Col | Num | Text | Arith | Negate
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


def columns_of(term: Term) -> tuple[str, ...]:
    if isinstance(term, Col):
        return (term.name,)
    if isinstance(term, Arith):
        return columns_of(term.left) + columns_of(term.right)
    if isinstance(term, Negate):
        return columns_of(term.term)
    return ()


def term_sql(term: Term, parent: int = 0, right: bool = False) -> str:
    if isinstance(term, Col):
        plain = re.fullmatch(r"[a-z_][a-z0-9_]*", term.name)
        return term.name if plain else '"' + term.name.replace('"', '""') + '"'
    if isinstance(term, Num):
        return repr(int(term.value)) if float(term.value).is_integer() else repr(term.value)
    if isinstance(term, Text):
        return "'" + term.value.replace("'", "''") + "'"
    if isinstance(term, Negate):
        return "-" + term_sql(term.term, 3)
    level = _PRECEDENCE[term.op]
    text = f"{term_sql(term.left, level)} {term.op} {term_sql(term.right, level, True)}"
    # a right operand of - or / at the same level keeps its parentheses
    return f"({text})" if level < parent or (right and level == parent) else text


# -- rules --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Derive:
    """``target = formula``: the target is computed, not sampled."""

    target: str
    formula: Term
    origin: str = DECLARED

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.target, *columns_of(self.formula))

    @property
    def sql(self) -> str:
        return f"{term_sql(Col(self.target))} = {term_sql(self.formula)}"


@dataclass(frozen=True)
class Order:
    """``lo <= hi`` (``lo < hi`` when strict); each side a column or a literal."""

    lo: Col | Num | Text
    hi: Col | Num | Text
    strict: bool = False
    origin: str = DECLARED

    @property
    def columns(self) -> tuple[str, ...]:
        return columns_of(self.lo) + columns_of(self.hi)

    @property
    def sql(self) -> str:
        if not isinstance(self.lo, Col):  # "price >= 0" reads better than "0 <= price"
            return f"{term_sql(self.hi)} {'>' if self.strict else '>='} {term_sql(self.lo)}"
        return f"{term_sql(self.lo)} {'<' if self.strict else '<='} {term_sql(self.hi)}"


@dataclass(frozen=True)
class Ratio:
    """``target = base x ratio``: the model learns ``target / base`` in the target's
    place; the target is computed from the sampled base and ratio."""

    target: str
    base: str
    origin: str = DISCOVERED

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.target, self.base)

    @property
    def sql(self) -> str:
        """How the rule reads (not SQL: the ratio is no column, it is learned per row)."""
        return f"{term_sql(Col(self.target))} = {term_sql(Col(self.base))} x ratio"


GAP_PREFIX = "__synthohive_gap_"


@dataclass(frozen=True)
class Offset:
    """``target = base + gap``, the gap never negative: how an ordering ``base <= target``
    of two dates or timestamps is kept. The model learns the gap (in seconds) as the
    derived column ``gap``; the target is computed from the sampled base and gap, so it
    keeps both its ordering and its distance from the base (an order created seconds
    after it was placed, a flight that lands hours after it took off)."""

    target: str
    base: str
    gap: str
    origin: str = DISCOVERED

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.target, self.base)

    @property
    def sql(self) -> str:
        """How the rule reads (the gap is learned per row)."""
        return f"{term_sql(Col(self.target))} = {term_sql(Col(self.base))} + gap (gap >= 0)"


Rule = Derive | Ratio | Offset | Order
Computed = Derive | Ratio | Offset  # rules whose target is computed, not sampled
COMPUTED = (Derive, Ratio, Offset)


def inputs(rule: Computed) -> tuple[str, ...]:
    """The columns a computed target is computed from."""
    return columns_of(rule.formula) if isinstance(rule, Derive) else (rule.base,)


def rule_to_json(rule: Rule) -> dict[str, Any]:
    if isinstance(rule, Ratio):
        return {"ratio": rule.target, "base": rule.base, "origin": rule.origin}
    if isinstance(rule, Offset):
        return {"offset": rule.target, "base": rule.base, "gap": rule.gap, "origin": rule.origin}
    return {"rule": rule.sql, "origin": rule.origin}


def rule_from_json(data: Mapping[str, Any]) -> Rule:
    if "offset" in data:
        origin = data.get("origin", DISCOVERED)
        return Offset(data["offset"], data["base"], data["gap"], origin)
    if "ratio" in data:
        return Ratio(data["ratio"], data["base"], data.get("origin", DISCOVERED))
    rules, _ = parse(data["rule"], origin=data.get("origin", DECLARED))
    return rules[0]


# -- parsing ------------------------------------------------------------------------------
class _Unsupported(Exception):
    """A part of an expression outside the enforced forms (reported, not raised)."""


# comparison -> (flipped: the right side is the low one, strict)
_COMPARE = {
    exp.LT: (False, True),
    exp.LTE: (False, False),
    exp.GT: (True, True),
    exp.GTE: (True, False),
}
_ARITH = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/"}


def parse(expression: str, origin: str = DECLARED) -> tuple[tuple[Rule, ...], tuple[str, ...]]:
    """The rules of a boolean SQL condition and a message per part not enforced.

    A conjunction (``and``) gives one rule per part; an unsupported part is reported
    and the others kept.
    """
    try:
        tree = sqlglot.parse_one(expression)
    except sqlglot.errors.SqlglotError:
        return (), (f"not enforced: {expression} (cannot be parsed as a SQL condition)",)
    rules: list[Rule] = []
    problems: list[str] = []
    for part in _conjuncts(tree):
        try:
            rules.extend(replace(r, origin=origin) for r in _rules(part))
        except _Unsupported as exc:
            problems.append(f"not enforced: {part.sql()} ({exc})")
    return tuple(rules), tuple(problems)


def _conjuncts(node: exp.Expression) -> Iterable[exp.Expression]:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        yield from _conjuncts(node.this)
        yield from _conjuncts(node.expression)
    else:
        yield node


def _rules(node: exp.Expression) -> list[Rule]:
    if isinstance(node, exp.EQ):
        return [_equality(_term(node.this), _term(node.expression))]
    if isinstance(node, exp.Between):
        this = _operand(node.this)
        return [_order(_operand(node.args["low"]), this), _order(this, _operand(node.args["high"]))]
    if type(node) in _COMPARE:
        flipped, strict = _COMPARE[type(node)]
        left, right = _operand(node.this), _operand(node.expression)
        lo, hi = (right, left) if flipped else (left, right)
        return [_order(lo, hi, strict)]
    raise _Unsupported(
        "only equalities with arithmetic and comparisons are enforced, "
        "not boolean logic, NULL tests or functions"
    )


def _equality(left: Term, right: Term) -> Derive:
    for target, formula in ((left, right), (right, left)):
        if isinstance(target, Col) and target.name not in columns_of(formula):
            if isinstance(formula, Text):
                break
            return Derive(target.name, formula)
    raise _Unsupported("an equality needs a single column on one side")


def _order(lo: Term, hi: Term, strict: bool = False) -> Order:
    if not (isinstance(lo, Col) or isinstance(hi, Col)):
        raise _Unsupported("a comparison needs a column")
    return Order(lo, hi, strict)  # type: ignore[arg-type]


def _operand(node: exp.Expression) -> Col | Num | Text:
    term = _term(node)
    if isinstance(term, (Col, Num, Text)):
        return term
    raise _Unsupported("comparisons are enforced between columns and literals only")


def _term(node: exp.Expression) -> Term:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Column):
        if node.table:
            raise _Unsupported("qualified column names are not enforced")
        return Col(node.name)
    if isinstance(node, exp.Literal):
        return Text(node.this) if node.is_string else Num(float(node.this))
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        if node.to.this in (exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP):
            return Text(node.this.this)
    if isinstance(node, exp.Neg):
        inner = _term(node.this)
        return Num(-inner.value) if isinstance(inner, Num) else Negate(inner)
    op = _ARITH.get(type(node))
    if op is not None:
        left, right = _term(node.this), _term(node.expression)
        if isinstance(left, Text) or isinstance(right, Text):
            raise _Unsupported("arithmetic on text or date literals is not enforced")
        return Arith(op, left, right)
    raise _Unsupported(f"{type(node).__name__.lower()} is not enforced")


# -- resolution ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleSet:
    """Rules enforced on a table, in the order they are applied, and why others are not."""

    rules: tuple[Rule, ...] = ()
    skipped: tuple[str, ...] = ()


def rules_for(
    expressions: Sequence[str],
    types: Mapping[str, ColumnType | None],
    modelled: Collection[str],
    discovered: Sequence[Rule] = (),
) -> RuleSet:
    """Declared ``expressions`` and ``discovered`` rules checked against the table's
    columns (names matched case-insensitively) and combined, declared first."""
    declared: list[Rule] = []
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


def _with_offsets(rules: list[Rule], types: Mapping[str, ColumnType | None]) -> list[Rule]:
    """An ``Offset`` for each ordering of two dates or timestamps whose later column is
    not computed otherwise: swapping two independently sampled columns into order would
    shift both distributions (the earlier toward the minimum of two draws); a learned gap
    keeps them and the distance between them."""
    computed = {r.target: r for r in rules if isinstance(r, COMPUTED)}
    offsets: list[Rule] = []
    for rule in rules:
        if not isinstance(rule, Order) or rule.strict:
            continue
        if not (isinstance(rule.lo, Col) and isinstance(rule.hi, Col)):
            continue
        lo, hi = rule.lo.name, rule.hi.name
        kinds = {getattr(types.get(c), "logical", None) for c in (lo, hi)}
        if not kinds <= TEMPORAL or hi in computed or _reaches(computed, [lo], hi):
            continue
        offset = Offset(hi, lo, f"{GAP_PREFIX}{len(offsets)}", rule.origin)
        computed[hi] = offset
        offsets.append(offset)
    plain = [r for r in rules if isinstance(r, COMPUTED)]
    return _dependency_order([*plain, *offsets]) + [r for r in rules if isinstance(r, Order)]


def _resolve(
    rule: Rule, types: Mapping[str, ColumnType | None], modelled: Collection[str]
) -> tuple[Rule | None, str]:
    names = {n.lower(): n for n in types}
    missing = [c for c in rule.columns if c.lower() not in names]
    if missing:
        return None, f"the table has no column {', '.join(missing)}"
    rule = _renamed(rule, names)
    keys = [c for c in rule.columns if c not in modelled]
    if keys:
        return None, f"{', '.join(keys)} is filled as a key or not modelled"
    kinds = {c: _kind(types[c]) for c in rule.columns}
    if isinstance(rule, Derive):
        known = {kinds[c] for c in rule.columns} - {None}
        if isinstance(rule.formula, Col):  # a copy: numbers or dates alike
            if len(known) > 1 or "text" in known:
                return None, "the two columns are not both numbers or both dates"
        elif known - {"numeric"}:
            return None, "arithmetic is enforced on numeric columns only"
        return rule, ""
    sides = [kinds[t.name] if isinstance(t, Col) else _literal_kind(t) for t in (rule.lo, rule.hi)]
    known = {s for s in sides if s is not None}
    if len(known) > 1 or "text" in known:
        return None, "the two sides are not both numbers or both dates"
    return rule, ""


def _kind(ctype: ColumnType | None) -> str | None:
    if ctype is None:
        return None  # types unknown (inspect without --check-data): not checked
    if ctype.logical in NUMERIC:
        return "numeric"
    return "temporal" if ctype.logical in TEMPORAL else "text"


def _literal_kind(term: Num | Text) -> str:
    if isinstance(term, Num):
        return "numeric"
    try:
        pd.Timestamp(term.value)
    except ValueError:
        return "text"
    return "temporal"


def _renamed(rule: Rule, names: Mapping[str, str]) -> Rule:
    def fix(term: Term) -> Term:
        if isinstance(term, Col):
            return Col(names[term.name.lower()])
        if isinstance(term, Arith):
            return Arith(term.op, fix(term.left), fix(term.right))
        if isinstance(term, Negate):
            return Negate(fix(term.term))
        return term

    if isinstance(rule, Derive):
        return replace(rule, target=names[rule.target.lower()], formula=fix(rule.formula))
    return replace(rule, lo=fix(rule.lo), hi=fix(rule.hi))


def _combine(declared: list[Rule], discovered: list[Rule]) -> tuple[list[Rule], list[str]]:
    """Declared then discovered rules without conflicts (ratios, candidates best first,
    dropped quietly); computed columns ordered so that a column is computed before the
    rules that read it."""
    kept: list[Rule] = []
    dropped: list[str] = []
    for rule in declared + discovered:
        if any(_same(rule, other) for other in kept):
            continue
        why = _conflict(rule, kept)
        if not why:
            kept.append(rule)
        elif not isinstance(rule, Ratio):
            dropped.append(f"not enforced: {rule.sql} ({rule.origin}; {why})")
    computed = [r for r in kept if isinstance(r, COMPUTED)]
    orders = [r for r in kept if isinstance(r, Order)]
    return _dependency_order(computed) + orders, dropped


def _conflict(rule: Rule, kept: Sequence[Rule]) -> str:
    computed = {r.target: r for r in kept if isinstance(r, COMPUTED)}
    if isinstance(rule, COMPUTED):
        if rule.target in computed:
            return f"{rule.target} is already derived by {computed[rule.target].sql}"
        if _reaches(computed, inputs(rule), rule.target):
            return "it would derive columns from each other in a cycle"
        return ""
    for other in kept:
        if isinstance(other, Order) and (other.lo, other.hi) == (rule.hi, rule.lo):
            if other.strict or rule.strict:
                return f"it contradicts {other.sql}"
    return ""


def _same(a: Rule, b: Rule) -> bool:
    return replace(a, origin=DECLARED) == replace(b, origin=DECLARED)


def _reaches(computed: Mapping[str, Computed], starts: Iterable[str], goal: str) -> bool:
    """Whether computing any of ``starts`` reads ``goal``, directly or through others."""
    todo, seen = list(starts), set()
    while todo:
        name = todo.pop()
        if name == goal:
            return True
        if name in computed and name not in seen:
            seen.add(name)
            todo.extend(inputs(computed[name]))
    return False


def _dependency_order(computed: list[Computed]) -> list[Rule]:
    by_target = {d.target: d for d in computed}
    ordered: list[Rule] = []
    placed: set[str] = set()

    def place(d: Computed) -> None:
        if d.target in placed:
            return
        placed.add(d.target)
        for name in inputs(d):
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
