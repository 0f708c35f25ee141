"""Mutable facts gathered per table while reading a manifest, and the generic-test reader.

``manifest.build_graph`` collects facts here (constraints first, then tests) and turns them
into the frozen records of ``schema`` once everything is known, because a fact found late
(a ``not_null`` test) changes records made from earlier ones (an FK's ``nullable``).
"""

from __future__ import annotations

import re
from collections.abc import MutableSequence
from dataclasses import dataclass, field
from typing import Any

from synthohive_dbt.schema.records import Origin, PrimaryKey

# Generic tests synthohive reads, by ``test_metadata.name``. Built-ins have no namespace;
# the others are accepted from any package (dbt_utils or a look-alike).
KNOWN_TESTS = frozenset(
    {
        "unique",
        "not_null",
        "accepted_values",
        "accepted_range",
        "relationships",
        "relationships_where",
        "unique_combination_of_columns",
        *("expression_is_true", "expect_column_pair_values_A_to_be_greater_than_B"),
        "expect_column_pair_values_to_be_equal",
        "expect_column_values_to_be_between",
    }
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
_QUOTED = re.compile(r'"([^"]+)"|`([^`]+)`|\[([^\]]+)\]')
_WHERE_SUBQUERY = re.compile(r"get_where_subquery\(\s*(.*?)\s*\)\s*\}\}")


@dataclass
class ColumnFacts:
    name: str
    declared_type: str | None = None
    not_null: bool = False
    unique: bool = False
    accepted_values: tuple[Any, ...] | None = None
    accepted_range: tuple[float | None, float | None] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    policy_tags: list[str] = field(default_factory=list)  # BigQuery


@dataclass
class FkCandidate:
    """A foreign key as declared, before its ``to`` is resolved to a table."""

    child: str
    columns: tuple[str, ...]
    to: str
    parent_columns: tuple[str, ...]
    origin: Origin
    where: str | None
    label: str  # names the declaration in messages


@dataclass
class TableFacts:
    key: str
    node: Any
    display: str
    columns: dict[str, ColumnFacts] = field(default_factory=dict)  # by lower-case name
    pk: PrimaryKey | None = None  # from primary_key constraints
    unique: list[tuple[tuple[str, ...], Origin]] = field(default_factory=list)
    # row conditions from expression tests, over this table's columns
    expressions: list[tuple[str, Origin]] = field(default_factory=list)

    def add_expression(self, condition: str, origin: Origin) -> None:
        if all(" ".join(c.split()) != " ".join(condition.split()) for c, _ in self.expressions):
            self.expressions.append((condition, origin))

    def column(self, name: str) -> ColumnFacts:
        """The facts of column ``name`` (case-insensitive), created when first mentioned."""
        return self.columns.setdefault(name.lower(), ColumnFacts(name))

    def add_unique(self, columns: tuple[str, ...], origin: Origin) -> None:
        names = tuple(self.column(c).name for c in columns)
        if len(names) == 1:
            self.column(names[0]).unique = True
        if all(tuple(c.lower() for c in cols) != _lower(names) for cols, _ in self.unique):
            self.unique.append((names, origin))

    def primary_key(self) -> PrimaryKey | None:
        """Constraint first, then a unique + not_null column (first in column order), then
        a unique combination of columns (``unique_combination_of_columns``)."""
        if self.pk is not None:
            return self.pk
        position = {name: i for i, name in enumerate(self.columns)}
        singles = [
            (position[cols[0].lower()], cols, origin)
            for cols, origin in self.unique
            if len(cols) == 1 and self.column(cols[0]).not_null
        ]
        if singles:
            _, cols, origin = min(singles, key=lambda s: s[0])
            return PrimaryKey(cols, Origin(f"{origin.kind} + not_null", origin.node, origin.via))
        for cols, origin in self.unique:
            if len(cols) > 1:
                return PrimaryKey(cols, origin)
        return None


def _lower(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n.lower() for n in names)


def plain_column(text: Any) -> str | None:
    """A column name from a test argument, unquoted; None for an expression."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    quoted = _QUOTED.fullmatch(text)
    if quoted:
        return next(g for g in quoted.groups() if g)
    return text if _IDENTIFIER.fullmatch(text) else None


def read_tests(
    manifest: Any,
    facts: dict[str, TableFacts],
    candidates: MutableSequence[FkCandidate],
    warnings: MutableSequence[str],
) -> None:
    """Add the facts of every known generic test attached to a table in ``facts``."""
    tests = [
        n
        for n in manifest.nodes.values()
        if n.resource_type == "test" and getattr(n, "test_metadata", None) is not None
    ]
    for test in sorted(tests, key=lambda t: t.unique_id):
        name = test.test_metadata.name
        if name not in KNOWN_TESTS:
            continue
        child = _test_child(manifest, test)
        if child not in facts:
            continue
        _read_test(test, name, facts[child], candidates, warnings)


def _read_test(
    test: Any,
    name: str,
    table: TableFacts,
    candidates: MutableSequence[FkCandidate],
    warnings: MutableSequence[str],
) -> None:
    kwargs = test.test_metadata.kwargs or {}
    where = getattr(test.config, "where", None) or None
    origin = Origin(f"{name} test", test.unique_id)
    if name == "unique_combination_of_columns":
        columns = [plain_column(c) for c in kwargs.get("combination_of_columns") or ()]
        if columns and all(columns) and not where:
            table.add_unique(tuple(c for c in columns if c), origin)
        return
    condition = expression_condition(name, kwargs)
    if condition is not None:
        if not where:  # a condition on part of the table is not a rule for every row
            table.add_expression(condition, origin)
        return
    raw_column = kwargs.get("column_name") or getattr(test, "column_name", None)
    column = plain_column(raw_column)
    if column is None:
        warnings.append(
            f"{name} test {test.unique_id} on {table.display} tests {raw_column!r}, which is "
            "not a plain column name; it is ignored."
        )
        return
    if name in ("relationships", "relationships_where"):
        _read_relationship(test, name, table, column, kwargs, where, origin, candidates)
        if kwargs.get("to_condition"):
            warnings.append(
                f"{name} test on {column} of {table.display} has to_condition "
                f"{kwargs['to_condition']!r}: synthohive picks parents among all rows of "
                "the parent, so that condition may not hold on synthetic data."
            )
        return
    if where:
        # Holds on part of the table only: not a key, not a column-wide fact.
        return
    if name == "not_null":
        table.column(column).not_null = True
    elif name == "unique":
        table.add_unique((column,), origin)
    elif name == "accepted_values" and kwargs.get("values") is not None:
        table.column(column).accepted_values = tuple(kwargs["values"])
    elif name in ("accepted_range", "expect_column_values_to_be_between"):
        low, high = _number(kwargs.get("min_value")), _number(kwargs.get("max_value"))
        if low is not None or high is not None:
            table.column(column).accepted_range = (low, high)


def _read_relationship(
    test: Any,
    name: str,
    table: TableFacts,
    column: str,
    kwargs: dict[str, Any],
    where: str | None,
    origin: Origin,
    candidates: MutableSequence[FkCandidate],
) -> None:
    label = f"{name} test on {column} of {table.display}"
    field_name = plain_column(kwargs.get("field"))
    to = kwargs.get("to")
    if not isinstance(to, str) or field_name is None:
        return
    conditions = [str(c) for c in (where, kwargs.get("from_condition")) if c and c != "1=1"]
    candidates.append(
        FkCandidate(
            child=table.key,
            columns=(table.column(column).name,),
            to=to,
            parent_columns=(field_name,),
            origin=origin,
            where=_conjunction(conditions),
            label=label,
        )
    )


def expression_condition(name: str, kwargs: dict[str, Any]) -> str | None:
    """The row condition an expression test asserts, as SQL over the table's columns.

    ``expression_is_true`` (dbt_utils and look-alikes; at column level the expression
    follows the column) and dbt_expectations' column-pair comparisons.
    """
    column = plain_column(kwargs.get("column_name"))
    if name == "expression_is_true":
        expression = kwargs.get("expression")
        if not isinstance(expression, str) or not expression.strip():
            return None
        return f"{column} {expression.strip()}" if column else expression.strip()
    a, b = plain_column(kwargs.get("column_A")), plain_column(kwargs.get("column_B"))
    if name == "expect_column_pair_values_A_to_be_greater_than_B" and a and b:
        return f"{a} {'>=' if kwargs.get('or_equal') else '>'} {b}"
    if name == "expect_column_pair_values_to_be_equal" and a and b:
        return f"{a} = {b}"
    return None


def _conjunction(conditions: list[str]) -> str | None:
    if len(conditions) > 1:
        return " and ".join(f"({c})" for c in conditions)
    return conditions[0] if conditions else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None  # an SQL expression or a date: not a numeric range


def _test_child(manifest: Any, test: Any) -> str | None:
    """The table a generic test is attached to.

    ``attached_node`` is set for models and seeds; for tests on sources it is null, so the
    child is the one source of the test's source group (``file_key_name``) among its
    ``depends_on`` nodes that is not the ``to`` parent; last, the ``model`` argument.
    """
    if test.attached_node:
        return test.attached_node
    deps = list(dict.fromkeys(test.depends_on.nodes))
    file_key = getattr(test, "file_key_name", None) or ""
    if file_key.startswith("sources."):
        source_name = file_key.split(".", 1)[1]
        deps = [
            d
            for d in deps
            if d in manifest.sources and manifest.sources[d].source_name == source_name
        ]
    if len(deps) == 1:
        return deps[0]
    kwargs = test.test_metadata.kwargs or {}
    parent = _find(manifest, kwargs.get("to"))
    rest = [d for d in deps if d != parent]
    if len(rest) == 1:
        return rest[0]
    match = _WHERE_SUBQUERY.search(str(kwargs.get("model") or ""))
    return _find(manifest, match.group(1)) if match else None


def _find(manifest: Any, expression: Any) -> str | None:
    from dbt.exceptions import ParsingError

    if not isinstance(expression, str):
        return None
    try:
        node = manifest.find_node_from_ref_or_source(expression.strip())
    except ParsingError:
        return None
    return node.unique_id if node is not None else None
