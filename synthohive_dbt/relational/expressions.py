"""Row rules from text: the declared SQL conditions (``Table.expressions``, parsed with
sqlglot) and the rules' JSON in model artifacts.

A conjunction gives one rule per part; a part outside the enforced forms (boolean logic,
NULL tests, functions, qualified names) is reported, not raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import sqlglot
from sqlglot import exp

from .identities import (
    DECLARED,
    DISCOVERED,
    Arith,
    Col,
    Derive,
    Negate,
    Num,
    Offset,
    Order,
    Ratio,
    Rule,
    Term,
    Text,
    columns_of,
)


# -- JSON -------------------------------------------------------------------------------
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
