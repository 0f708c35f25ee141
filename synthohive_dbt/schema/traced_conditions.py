"""Conditions (expression tests, ``where`` arguments) moved from a model's columns onto the
source columns they trace to, for ``traced_facts``.

A condition is parsed with sqlglot in the project's dialect; each column is renamed to the
column it traces to, times the constant factor when the model column is a multiple of its
source (``amount_cents = amount * 100``). One factor common to every column cancels out of
a comparison without other numbers, so ``a_cents <= b_cents`` stays ``a <= b``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class UncarriedCondition(ValueError):
    """A condition cannot be moved to other columns; the message says why."""


def condition_columns(condition: str, dialect: str | None) -> tuple[Any, list[str]]:
    """(the parsed condition, the names of the columns it uses, sorted)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        parsed = sqlglot.parse_one(condition, read=dialect)
    except SqlglotError as exc:
        raise UncarriedCondition(f"sqlglot cannot parse it: {str(exc).splitlines()[0]}") from exc
    names = sorted(
        {c.name for c in parsed.find_all(exp.Column) if not isinstance(c.this, exp.Star)}
    )
    if any(c.table for c in parsed.find_all(exp.Column)):
        raise UncarriedCondition("it names qualified columns")
    if not names:
        raise UncarriedCondition("it names no column")
    return parsed, names


def renamed_condition(
    parsed: Any, traced: Sequence[tuple[str, str, float]], dialect: str | None
) -> str:
    """The SQL of ``parsed`` with its columns renamed: ``traced`` holds (name, traced
    column, factor) per column name, names matched case-insensitively."""
    from sqlglot import exp

    renames = {name.lower(): (column, factor) for name, column, factor in traced}
    common = len({factor for _, _, factor in traced}) == 1 and not any(
        isinstance(lit, exp.Literal) and not lit.is_string and float(lit.this) != 0
        for lit in parsed.find_all(exp.Literal)
    )

    def rename(node: Any) -> Any:
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            column, factor = renames[node.name.lower()]
            if common or factor == 1.0:
                return exp.column(column)
            factor_sql = exp.Literal.number(repr(factor))
            return exp.paren(exp.Mul(this=exp.column(column), expression=factor_sql))
        return node

    return parsed.transform(rename).sql(dialect=dialect)
