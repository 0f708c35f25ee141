"""Trace columns of models back to the source columns they select.

Many projects test their staging models, not their sources
(``select id as customer_id from {{ source('shop', 'customers') }}`` with a ``unique`` test
on ``customer_id``). synthohive generates the sources, so ``manifest`` carries such facts
back to the source columns (``traced_facts``), following each model's SQL, parsed with
sqlglot, through renames, casts, CTEs, subqueries, joins, ``select *`` and chains of
models (stg -> int). ``model_sql`` says where the SQL comes from.

What traces: an output column that is a plain column reference, possibly renamed, cast
(``cast(x as t)``, ``x::t``, ``try_cast``) or parenthesised. Expressions (functions,
arithmetic, ``coalesce``, aggregates, literals) and columns of a ``union`` do not. A
``select *`` is expanded from the upstream columns when they are known (a model's own
lineage, declared source columns); otherwise names pass through it unchanged. A bare column
of a join belongs to the input known to have it, else to the only input of unknown columns.

A part of a model that groups, aggregates, deduplicates (``distinct``, ``qualify``, a
filter on a window function), limits or unnests its rows ``reshapes`` them: there the
model, not its source, makes a column unique, so uniqueness is not carried through it. Only
the parts a column passes through count (a grouped subquery joined beside it does not); a
window function that only adds a column keeps the rows. Filters (``where``, joins) are
accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from synthohive_dbt.model_sql import RelationIndex, Unreadable, model_select, parse_select

# sqlglot dialect per dbt adapter type where the names differ; others are tried as named.
_DIALECTS = {"sqlserver": "tsql", "synapse": "tsql", "fabric": "tsql"}
# Functions whose value identifies the combination of their inputs (surrogate keys such as
# dbt_utils.generate_surrogate_key: md5 of the columns joined with separators).
_COMBINING = (
    "MD5", "MD5Digest", "SHA", "SHA2", "SHA1Digest", "SHA2Digest", "StandardHash",
    "Concat", "ConcatWs", "DPipe",
)  # fmt: skip


@dataclass(frozen=True)
class Traced:
    """A model column traced to ``column`` of ``node`` (a source, seed or snapshot)."""

    node: str
    column: str
    via: tuple[str, ...]  # the models passed through, the one traced from first
    reshaped: bool  # a model on the way reshapes its rows: uniqueness does not carry
    reshaping: tuple[str, ...] = ()  # how, in a user's words ("group by", "a union")


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


class Lineage:
    """Column lineage of a manifest's compiled models, read lazily and cached per model.

    ``not_compiled`` holds dbt's message for each model it could not compile.
    """

    def __init__(self, manifest: Any, not_compiled: Mapping[str, str] | None = None):
        self.manifest = manifest
        metadata = getattr(manifest, "metadata", None)
        self.dialect = dialect_of(getattr(metadata, "adapter_type", None))
        self._not_compiled = dict(not_compiled or {})
        self._relations = RelationIndex(manifest, self.dialect)
        self._reads: dict[str, tuple[SelectLineage, dict[str, str]] | Unreadable] = {}

    def node(self, unique_id: str) -> Any:
        return self.manifest.nodes.get(unique_id) or self.manifest.sources.get(unique_id)

    def relation_node(self, text: str) -> Any:
        """The node a rendered relation name (``"db"."schema"."table"``) names, if any."""
        unique_id = self._relations.find_name(text)
        return self.node(unique_id) if unique_id else None

    def trace(self, model: str, column: str) -> Traced | None:
        """The non-model column that ``column`` of ``model`` is, through models; or None."""
        found = self.follow(model, column)
        return found if isinstance(found, Traced) else None

    def follow(self, model: str, column: str) -> Traced | str:
        """Like ``trace``, but says why a column cannot be followed."""
        via: list[str] = []
        reshaping: list[str] = []
        node_id = model
        while (node := self.node(node_id)) is not None and node_id not in via:
            if node.resource_type != "model":
                how = tuple(dict.fromkeys(reshaping))
                return Traced(node_id, _declared(node, column), tuple(via), bool(how), how)
            via.append(node_id)
            read = self._read(node)
            if isinstance(read, Unreadable):
                return f"the SQL of ref('{node.name}') cannot be read ({read})"
            select, tables = read
            found = select.source_of(column)
            if found is None:
                return f"in ref('{node.name}'), {select.explain(column)}"
            if found[0].lower() not in tables:
                return (
                    f"in ref('{node.name}'), {column} comes from {found[0]}, "
                    "not a ref() or source()"
                )
            reshaping += select.reshaping_of(column)
            node_id, column = tables[found[0].lower()], found[1]
        return f"{node_id} is not a node of the project"

    def follow_scaled(self, model: str, column: str) -> tuple[Traced, float | None] | str:
        """Like ``follow``, also through columns computed from one column by a constant
        factor (the product of the factors on the way) or by another NULL-preserving
        function (factor None: only ``not_null`` carries through those)."""
        node_id, via, factor = model, [], 1.0
        reshaping: list[str] = []
        while (node := self.node(node_id)) is not None and node_id not in via:
            if node.resource_type != "model":
                how = tuple(dict.fromkeys(reshaping))
                traced = Traced(node_id, _declared(node, column), tuple(via), bool(how), how)
                return traced, factor
            via.append(node_id)
            read = self._read(node)
            if isinstance(read, Unreadable):
                return f"the SQL of ref('{node.name}') cannot be read ({read})"
            select, tables = read
            found, step = select.source_of(column), 1.0
            if found is None:
                transformed = select.transform_of(column)
                if transformed is None:
                    return f"in ref('{node.name}'), {select.explain(column)}"
                found, step = transformed
            if found[0].lower() not in tables:
                return f"in ref('{node.name}'), {column} comes from {found[0]}"
            reshaping += select.reshaping_of(column)
            factor = None if factor is None or step is None else factor * step
            node_id, column = tables[found[0].lower()], found[1]
        return f"{node_id} is not a node of the project"

    def combination(self, model: str, column: str) -> tuple[Traced, ...] | None:
        """The non-model columns hashed or concatenated into ``column`` (a surrogate key
        such as ``dbt_utils.generate_surrogate_key``), each followed to its table."""
        traced = self.follow(model, column)
        if isinstance(traced, Traced):
            return (traced,)
        # follow plain references down to the model that computes the column
        node_id, via, reshaped = model, [], False
        while (node := self.node(node_id)) is not None and node.resource_type == "model":
            read = self._read(node)
            if isinstance(read, Unreadable) or node_id in via:
                return None
            via.append(node_id)
            select, tables = read
            reshaped = reshaped or bool(select.reshaping_of(column))
            found = select.source_of(column)
            if found is not None and found[0].lower() in tables:
                node_id, column = tables[found[0].lower()], found[1]
                continue
            inputs = select.inputs_of(column)
            if inputs is None or any(t.lower() not in tables for t, _ in inputs):
                return None
            parts = [self._upstream(tables[t.lower()], c) for t, c in inputs]
            if any(p is None for p in parts):
                return None
            return tuple(
                Traced(p.node, p.column, (*via, *p.via), reshaped or p.reshaped)
                for p in parts
                if p is not None
            )
        return None

    def _upstream(self, node_id: str, column: str) -> Traced | None:
        node = self.node(node_id)
        if node is None:
            return None
        if node.resource_type != "model":
            return Traced(node_id, _declared(node, column), (), False)
        return self.trace(node_id, column)

    def unreadable(self) -> dict[str, str]:
        """The models read so far whose SQL could not be read, with the reason."""
        return {uid: str(r) for uid, r in self._reads.items() if isinstance(r, Unreadable)}

    def columns_of(self, unique_id: str) -> tuple[str, ...] | None:
        """Known columns of a node: a model's lineage, else the declared YAML columns."""
        node = self.node(unique_id)
        if node is None:
            return None
        if node.resource_type != "model":
            return tuple(c.name for c in node.columns.values()) or None
        read = self._read(node)
        # A model's YAML columns are often a subset of its real ones: not used.
        return None if isinstance(read, Unreadable) else read[0].columns

    def _read(self, node: Any) -> tuple[SelectLineage, dict[str, str]] | Unreadable:
        cached = self._reads.get(node.unique_id)
        if cached is not None:
            return cached
        self._reads[node.unique_id] = Unreadable("it selects from itself")  # cycle guard
        result: tuple[SelectLineage, dict[str, str]] | Unreadable
        try:
            expression, tables = model_select(
                node, self.dialect, self._relations, self._not_compiled
            )
            tables = {name.lower(): uid for name, uid in tables.items()}

            def table_columns(name: str) -> tuple[str, ...] | None:
                upstream = tables.get(name.lower())
                if upstream is None or upstream == node.unique_id:
                    return None
                return self.columns_of(upstream)

            result = (SelectLineage(expression, self.dialect, table_columns), tables)
        except Unreadable as exc:
            result = exc
        self._reads[node.unique_id] = result
        return result


def _declared(node: Any, column: str) -> str:
    """``column`` spelled as the node's YAML declares it (case-insensitive), else as is."""
    for declared in node.columns.values():
        if declared.name.lower() == column.lower():
            return declared.name
    return column


def models_downstream_of(manifest: Any, targets: set[str]) -> list[str]:
    """Enabled models that select from ``targets``, directly or through other models."""
    reaches: dict[str, bool] = {}

    def visit(unique_id: str) -> bool:
        if unique_id in reaches:
            return reaches[unique_id]
        reaches[unique_id] = False  # cycle guard
        node = manifest.nodes.get(unique_id)
        found = any(
            dep in targets or (_is_model(manifest, dep) and visit(dep))
            for dep in (node.depends_on.nodes if node is not None else ())
        )
        reaches[unique_id] = found
        return found

    return sorted(uid for uid in manifest.nodes if _is_model(manifest, uid) and visit(uid))


def _is_model(manifest: Any, unique_id: str) -> bool:
    node = manifest.nodes.get(unique_id)
    return node is not None and node.resource_type == "model"
