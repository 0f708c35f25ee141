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

from . import identities as R  # the row-rule records: R.Col, R.Derive, R.Order, ...


# -- JSON -------------------------------------------------------------------------------
def rule_to_json(rule: R.Rule) -> dict[str, Any]:
    if isinstance(rule, R.Ratio):
        return {"ratio": rule.target, "base": rule.base, "origin": rule.origin}
    if isinstance(rule, R.Offset):
        return {"offset": rule.target, "base": rule.base, "gap": rule.gap, "origin": rule.origin}
    return {"rule": rule.sql, "origin": rule.origin}


def rule_from_json(data: Mapping[str, Any]) -> R.Rule:
    if "offset" in data:
        origin = data.get("origin", R.DISCOVERED)
        return R.Offset(data["offset"], data["base"], data["gap"], origin)
    if "ratio" in data:
        return R.Ratio(data["ratio"], data["base"], data.get("origin", R.DISCOVERED))
    rules, _ = parse(data["rule"], origin=data.get("origin", R.DECLARED))
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


def parse(expression: str, origin: str = R.DECLARED) -> tuple[tuple[R.Rule, ...], tuple[str, ...]]:
    """The rules of a boolean SQL condition and a message per part not enforced.

    A conjunction (``and``) gives one rule per part; an unsupported part is reported
    and the others kept.
    """
    try:
        tree = sqlglot.parse_one(expression)
    except sqlglot.errors.SqlglotError:
        return (), (f"not enforced: {expression} (cannot be parsed as a SQL condition)",)
    rules: list[R.Rule] = []
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


def _rules(node: exp.Expression) -> list[R.Rule]:
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


def _equality(left: R.Term, right: R.Term) -> R.Derive:
    for target, formula in ((left, right), (right, left)):
        if isinstance(target, R.Col) and target.name not in R.columns_of(formula):
            if isinstance(formula, R.Text):
                break
            return R.Derive(target.name, formula)
    raise _Unsupported("an equality needs a single column on one side")


def _order(lo: R.Term, hi: R.Term, strict: bool = False) -> R.Order:
    if not (isinstance(lo, R.Col) or isinstance(hi, R.Col)):
        raise _Unsupported("a comparison needs a column")
    return R.Order(lo, hi, strict)  # type: ignore[arg-type]


def _operand(node: exp.Expression) -> R.Col | R.Num | R.Text:
    term = _term(node)
    if isinstance(term, (R.Col, R.Num, R.Text)):
        return term
    raise _Unsupported("comparisons are enforced between columns and literals only")


def _term(node: exp.Expression) -> R.Term:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Column):
        if node.table:
            raise _Unsupported("qualified column names are not enforced")
        return R.Col(node.name)
    if isinstance(node, exp.Literal):
        return R.Text(node.this) if node.is_string else R.Num(float(node.this))
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        if node.to.this in (exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP):
            return R.Text(node.this.this)
    if isinstance(node, exp.Neg):
        inner = _term(node.this)
        return R.Num(-inner.value) if isinstance(inner, R.Num) else R.Negate(inner)
    op = _ARITH.get(type(node))
    if op is not None:
        left, right = _term(node.this), _term(node.expression)
        if isinstance(left, R.Text) or isinstance(right, R.Text):
            raise _Unsupported("arithmetic on text or date literals is not enforced")
        return R.Arith(op, left, right)
    raise _Unsupported(f"{type(node).__name__.lower()} is not enforced")
