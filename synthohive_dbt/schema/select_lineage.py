"""Where the output columns of one parsed SELECT come from (sqlglot scopes).

``lineage`` follows columns through chains of models with this; see its docstring for what
traces. Everything here works on one statement and knows nothing of dbt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from synthohive_dbt.schema.model_sql import Unreadable, parse_select

# sqlglot dialect per dbt adapter type where the names differ; others are tried as named.
_DIALECTS = {"sqlserver": "tsql", "synapse": "tsql", "fabric": "tsql"}
# Functions whose value identifies the combination of their inputs (surrogate keys such as
# dbt_utils.generate_surrogate_key: md5 of the columns joined with separators).
_COMBINING = (
    "MD5", "MD5Digest", "SHA", "SHA2", "SHA1Digest", "SHA2Digest", "StandardHash",
    "Concat", "ConcatWs", "DPipe",
)  # fmt: skip


@dataclass(frozen=True)
class _Computed:
    """An output column computed by ``expression`` in ``scope`` (not a plain reference)."""

    scope: Any
    expression: Any
    depth: int


# (input table, column) for a plain reference, _Computed, or why it cannot be followed
_Found = tuple[str, str] | _Computed | str


class SelectLineage:
    """Where the output columns of one parsed SELECT come from.

    ``table_columns(name)`` gives the columns of an input table (by its name in the SQL),
    or None when unknown.
    """

    def __init__(
        self,
        expression: Any,
        dialect: str | None = None,
        table_columns: Callable[[str], Sequence[str] | None] = lambda name: None,
    ):
        from sqlglot import exp
        from sqlglot.errors import SqlglotError
        from sqlglot.optimizer.qualify import qualify
        from sqlglot.optimizer.scope import build_scope

        options = dict(expand_stars=False, validate_qualify_columns=False, quote_identifiers=False)
        try:
            try:
                qualified = qualify(expression.copy(), dialect=dialect, **options)
            except SqlglotError:
                # Lateral alias references need schemas to expand: leave them as written.
                qualified = qualify(expression, dialect=dialect, expand_alias_refs=False, **options)
            root = build_scope(qualified)
        except (SqlglotError, ValueError, KeyError) as exc:
            raise Unreadable(f"sqlglot cannot resolve its columns: {exc}") from exc
        if root is None or not isinstance(qualified, exp.Query):
            raise Unreadable("it is not a SELECT")
        self._root = root
        self._table_columns = table_columns

    @property
    def reshapes(self) -> bool:
        """Whether any part of the query reshapes its rows."""
        return any(self._scope_reshaping(scope) for scope in self._root.traverse())

    def reshaping_of(self, column: str) -> tuple[str, ...]:
        """How the parts of the query that ``column`` passes through reshape their rows
        (in a user's words: "group by", "distinct"...): only those parts decide whether a
        unique upstream column is still unique here. A window function in a projection
        keeps the rows; a filter on one (``qualify``, ``where rn = 1``) does not."""
        path: list[Any] = []
        self._in_scope(self._root, column.lower(), 0, path)
        words = [word for scope in path for word in self._scope_reshaping(scope)]
        return tuple(dict.fromkeys(words))

    def _scope_reshaping(self, scope: Any) -> list[str]:
        from sqlglot import exp

        select = scope.expression
        if not isinstance(select, exp.Select):
            return ["a set operation"] if isinstance(select, exp.SetOperation) else []
        words = [
            word
            for key, word in (
                ("group", "group by"), ("distinct", "distinct"), ("qualify", "qualify"),
                ("having", "having"), ("limit", "limit"), ("fetch", "fetch"),
                ("laterals", "a lateral join"),
            )
            if select.args.get(key)
        ]  # fmt: skip
        for projection in select.expressions:
            aggregates = projection.find_all(exp.AggFunc)
            if any(agg.find_ancestor(exp.Window) is None for agg in aggregates):
                words.append("an aggregate")  # without group by: one row
                break
        if select.find(exp.Unnest, exp.Explode) is not None:
            words.append("unnest")
        where = select.args.get("where")
        for col in where.find_all(exp.Column) if where is not None else ():
            found = self._resolve(scope, col.table, col.name, 0)
            if isinstance(found, _Computed) and found.expression.find(exp.Window):
                words.append("a filter on a window function")
                break
        return words

    @classmethod
    def parse(cls, sql: str, dialect: str | None = None, **kwargs: Any) -> SelectLineage:
        return cls(parse_select(sql, dialect), dialect, **kwargs)

    @property
    def columns(self) -> tuple[str, ...] | None:
        """The output column names, or None when a ``*`` of unknown columns is selected."""
        return self._outputs(self._root, 0)

    def source_of(self, column: str) -> tuple[str, str] | None:
        """(input table, its column) that output ``column`` is, when a plain reference."""
        found = self._in_scope(self._root, column.lower(), 0)
        return found if isinstance(found, tuple) else None

    def explain(self, column: str) -> str:
        """Why ``source_of(column)`` is None, in a user's words."""
        from sqlglot import exp

        found = self._in_scope(self._root, column.lower(), 0)
        if isinstance(found, _Computed):
            if found.expression.find(exp.Window) is not None:
                return f"{column} is computed by a window function"
            return f"{column} is computed ({_short(found.expression.sql())})"
        return found if isinstance(found, str) else f"{column} is a plain column"

    def transform_of(self, column: str) -> tuple[tuple[str, str], float | None] | None:
        """(input table, column) that output ``column`` is a function of, with the factor
        when it is that column scaled by a constant (``subtotal / 100.0``,
        ``cents_to_dollars``), None for another NULL-preserving function of it alone
        (``date_trunc``, ``upper``); None when neither."""
        from sqlglot import exp

        found = self._in_scope(self._root, column.lower(), 0)
        if not isinstance(found, _Computed):
            return None
        inner, factor = _scaling(found.expression)
        columns = list(inner.find_all(exp.Column))
        if len(columns) != 1 or isinstance(columns[0].this, exp.Star):
            return None
        if not (inner is columns[0] or _null_preserving(inner)):
            return None
        resolved = self._resolve(found.scope, columns[0].table, columns[0].name, found.depth)
        if not isinstance(resolved, tuple):
            return None
        return resolved, (factor if inner is columns[0] else None)

    def inputs_of(self, column: str) -> list[tuple[str, str]] | None:
        """(input table, column) of each column combined into ``column`` when it is a
        hash or concatenation of columns (a surrogate key); else None."""
        from sqlglot import exp

        found = self._in_scope(self._root, column.lower(), 0)
        kinds = tuple(getattr(exp, n) for n in _COMBINING if hasattr(exp, n))
        if not isinstance(found, _Computed) or not isinstance(found.expression, kinds):
            return None
        inputs = []
        for col in found.expression.find_all(exp.Column, bfs=False):  # in written order
            resolved = self._resolve(found.scope, col.table, col.name, found.depth)
            if not isinstance(resolved, tuple):
                return None
            inputs.append(resolved)
        return list(dict.fromkeys(inputs)) or None

    def _in_scope(self, scope: Any, name: str, depth: int, path: list | None = None) -> _Found:
        from sqlglot import exp

        if path is not None:
            path.append(scope)
        select = scope.expression
        if depth > 50:
            return "its SQL nests too deeply"
        if not isinstance(select, exp.Select):
            kind = type(select).__name__.lower()
            return f"{name} comes from a set operation ({kind}), whose columns are not followed"
        for projection in select.expressions:
            if not _is_star(projection) and projection.alias_or_name.lower() == name:
                inner = _unwrap(projection)
                if isinstance(inner, exp.Column) and not _is_star(inner):
                    return self._resolve(scope, inner.table, inner.name, depth, path=path)
                return _Computed(scope, inner, depth)
        reasons = []
        for star in filter(_is_star, select.expressions):
            qualifier = star.table if isinstance(star, exp.Column) else ""
            found = self._resolve(scope, qualifier, name, depth, star=True, path=path)
            if not isinstance(found, str):
                return found
            reasons.append(found)
        return reasons[0] if reasons else f"{name} is not one of its columns"

    def _resolve(
        self,
        scope: Any,
        table: str,
        name: str,
        depth: int,
        star: bool = False,
        path: list | None = None,
    ) -> _Found:
        from sqlglot import exp
        from sqlglot.optimizer.scope import Scope

        sources = _sources(scope)
        source = sources.get(table.lower()) if table else self._owner(sources, name, star)
        if isinstance(source, Scope):
            return self._in_scope(source, name.lower(), depth + 1, path)
        if isinstance(source, exp.Table) and source.name:
            return source.name, name
        return f"{name} comes through a * over inputs whose columns are not all known"

    def _owner(self, sources: dict[str, Any], name: str, star: bool) -> Any:
        """The one input that has column ``name``: a known match, else the only unknown.

        A bare column must be unambiguous in SQL, so a known match settles it; a ``*``
        over a join may repeat a name, so there every input must be known but one.
        """
        if len(sources) == 1:
            return next(iter(sources.values()))
        columns = {alias: self._columns_of(src) for alias, src in sources.items()}
        known = [a for a, cols in columns.items() if cols and name.lower() in _lower(cols)]
        unknown = [a for a, cols in columns.items() if cols is None]
        if star and len(known) + len(unknown) > 1:
            return None
        if known:
            return sources[known[0]] if len(known) == 1 else None
        return sources[unknown[0]] if len(unknown) == 1 else None

    def _columns_of(self, source: Any, depth: int = 0) -> tuple[str, ...] | None:
        from sqlglot.optimizer.scope import Scope

        if isinstance(source, Scope):
            return self._outputs(source, depth + 1)
        columns = self._table_columns(source.name) if source.name else None
        return tuple(columns) if columns else None

    def _outputs(self, scope: Any, depth: int) -> tuple[str, ...] | None:
        from sqlglot import exp

        select = scope.expression
        if depth > 50 or not isinstance(select, exp.Select):
            return None
        names: list[str] = []
        sources = _sources(scope)
        for projection in select.expressions:
            if not _is_star(projection):
                names.append(projection.alias_or_name)
                continue
            qualifier = projection.table.lower() if isinstance(projection, exp.Column) else ""
            for source in [sources.get(qualifier)] if qualifier else sources.values():
                columns = self._columns_of(source, depth) if source is not None else None
                if columns is None:
                    return None
                names.extend(columns)
        return tuple(names)


def _sources(scope: Any) -> dict[str, Any]:
    """The tables and subqueries a scope selects from, by lower-case alias."""
    return {alias.lower(): src for alias, (_, src) in scope.selected_sources.items()}


def _is_star(node: Any) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.Star) or (
        isinstance(node, exp.Column) and isinstance(node.this, exp.Star)
    )


def _unwrap(node: Any) -> Any:
    """The column under an alias, casts and parentheses (``cast(id as int) as key``)."""
    from sqlglot import exp

    while isinstance(node, (exp.Alias, exp.Cast, exp.Paren)):
        node = node.this
    return node


# Functions of one column that are NULL exactly when their input is (not_null carries).
_NULL_PRESERVING = (
    "Cast", "TryCast", "Paren", "DateTrunc", "TimestampTrunc", "TimeToStr", "Upper", "Lower",
    "Trim", "Round", "Floor", "Ceil", "Abs", "Neg", "Div", "Mul", "Add", "Sub", "Literal",
    "DataType", "Var", "Column", "Identifier",
)  # fmt: skip


def _scaling(node: Any) -> tuple[Any, float]:
    """``node`` without casts, parentheses and multiplications or divisions by a number,
    and the factor they make (``cast(x / 100.0 as numeric(16, 2))`` -> (x, 0.01))."""
    from sqlglot import exp

    factor = 1.0
    while True:
        if isinstance(node, (exp.Cast, exp.TryCast, exp.Paren)):
            node = node.this
        elif isinstance(node, exp.Div) and (k := _number(node.expression)):
            node, factor = node.this, factor / k
        elif isinstance(node, exp.Mul) and (k := _number(node.expression)):
            node, factor = node.this, factor * k
        elif isinstance(node, exp.Mul) and (k := _number(node.this)):
            node, factor = node.expression, factor * k
        else:
            return node, factor


def _number(node: Any) -> float | None:
    """The non-zero number a literal holds (``100``, ``100.0``, ``(100)``), else None."""
    from sqlglot import exp

    while isinstance(node, (exp.Paren, exp.Cast)):
        node = node.this
    if isinstance(node, exp.Literal) and not node.is_string:
        value = float(node.this)
        return value if value != 0 else None
    return None


def _null_preserving(node: Any) -> bool:
    """Every part of ``node`` is a NULL-preserving function, an operator or a literal."""
    from sqlglot import exp

    allowed = tuple(getattr(exp, n) for n in _NULL_PRESERVING if hasattr(exp, n))
    return all(isinstance(part, allowed) for part in node.walk())


def _short(sql: str, width: int = 60) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= width else sql[: width - 3] + "..."


def _lower(names: Sequence[str]) -> set[str]:
    return {n.lower() for n in names}


def dialect_of(adapter_type: str | None) -> str | None:
    """The sqlglot dialect for a dbt adapter type (None: sqlglot's generic SQL)."""
    from sqlglot.dialects.dialect import Dialect

    if not adapter_type:
        return None
    name = _DIALECTS.get(adapter_type, adapter_type)
    try:
        Dialect.get_or_raise(name)
    except ValueError:
        return None
    return name
