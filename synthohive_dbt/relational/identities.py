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

This module holds the records (terms and rules); ``expressions`` reads them from SQL and
JSON, ``rulesets`` decides which of them a table enforces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from ..schema import LogicalType

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


class _FromBase:
    """A rule whose target is computed from its ``base`` column and a quantity the model
    learns per row in the target's place (no column of the table)."""

    target: str
    base: str
    learned: ClassVar[str]  # how the rule reads after the base

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.target, self.base)

    @property
    def sql(self) -> str:
        """How the rule reads (not SQL: the learned quantity is no column)."""
        return f"{term_sql(Col(self.target))} = {term_sql(Col(self.base))} {self.learned}"


@dataclass(frozen=True)
class Ratio(_FromBase):
    """``target = base x ratio``: the model learns ``target / base`` in the target's
    place; the target is computed from the sampled base and ratio."""

    learned: ClassVar[str] = "x ratio"

    target: str
    base: str
    origin: str = DISCOVERED


GAP_PREFIX = "__synthohive_gap_"


@dataclass(frozen=True)
class Offset(_FromBase):
    """``target = base + gap``, the gap never negative: how an ordering ``base <= target``
    of two dates or timestamps is kept. The model learns the gap (in seconds) as the
    derived column ``gap``; the target is computed from the sampled base and gap, so it
    keeps both its ordering and its distance from the base (an order created seconds
    after it was placed, a flight that lands hours after it took off)."""

    learned: ClassVar[str] = "+ gap (gap >= 0)"

    target: str
    base: str
    gap: str
    origin: str = DISCOVERED


Rule = Derive | Ratio | Offset | Order
Computed = Derive | Ratio | Offset  # rules whose target is computed, not sampled
COMPUTED = (Derive, Ratio, Offset)


def inputs(rule: Computed) -> tuple[str, ...]:
    """The columns a computed target is computed from."""
    return columns_of(rule.formula) if isinstance(rule, Derive) else (rule.base,)
