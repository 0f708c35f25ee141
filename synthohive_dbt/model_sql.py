"""A model's SQL with its inputs resolved, read without a warehouse connection.

``compiled_code`` is used when the manifest has it (after ``dbt compile`` or ``dbt run``):
its relation names are matched to the manifest's nodes. Otherwise the model's ``raw_code``
is rendered here with a small Jinja context, since ``dbt compile`` may connect to the
warehouse and ``synthohive inspect`` must not need one. Every ``ref``/``source`` becomes a
placeholder table name that maps back to the node's unique id.

The renderer knows ``ref`` (with package and version), ``source``, ``config`` (ignored),
``var`` (its default only: project vars are not known here), ``env_var``,
``is_incremental()`` (false), ``this``, ``execute`` (false), ``target.type`` and plain
Jinja (``set``, ``if``, ``for``, ``do``). Macros, the project's or a package's
(``dbt_utils.star``, ``dbt.type_string``), are not known: such a model is Unreadable.
"""

from __future__ import annotations

import os
from typing import Any

PLACEHOLDER = "__synthohive_rel_{}__"
_MISSING = object()


class Unreadable(Exception):
    """A model's SQL cannot be rendered or parsed; the message says why.

    Never reaches a user as an error: ``traced_facts`` turns it into a warning.
    """


def parse_select(sql: str, dialect: str | None) -> Any:
    """The one statement of ``sql`` as a sqlglot expression."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        statements = [s for s in sqlglot.parse(sql, dialect=dialect) if s is not None]
    except SqlglotError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Unreadable(f"sqlglot cannot parse it: {first}") from exc
    if len(statements) != 1:
        raise Unreadable(f"it holds {len(statements)} SQL statements, not one")
    return statements[0]


def model_select(
    manifest: Any, node: Any, dialect: str | None, relations: RelationIndex
) -> tuple[Any, dict[str, str]]:
    """The parsed SQL of model ``node`` and its input tables (placeholder -> unique id)."""
    if getattr(node, "language", "sql") != "sql":
        raise Unreadable(f"it is a {node.language} model")
    if getattr(node, "compiled_code", None):
        return _compiled(node, dialect, relations)
    sql, tables = render(manifest, node, dialect)
    return parse_select(sql, dialect), tables


def _compiled(node: Any, dialect: str | None, relations: RelationIndex) -> tuple[Any, dict]:
    """Swap the relations named in compiled SQL for placeholders; keep their aliases."""
    from sqlglot import exp

    expression = parse_select(node.compiled_code, dialect)
    ctes = {cte.alias.lower() for cte in expression.find_all(exp.CTE)}
    tables: dict[str, str] = {}
    for table in list(expression.find_all(exp.Table)):
        if not table.db and table.name.lower() in ctes:
            continue  # a CTE (ephemeral models are inlined as CTEs too)
        unique_id = relations.find(table)
        if unique_id is None:
            continue
        name = PLACEHOLDER.format(len(tables))
        tables[name] = unique_id
        alias = table.alias or table.name
        table.replace(
            exp.Table(
                this=exp.to_identifier(name), alias=exp.TableAlias(this=exp.to_identifier(alias))
            )
        )
    return expression, tables


class RelationIndex:
    """Nodes of a manifest by their relation name, to read compiled SQL."""

    def __init__(self, manifest: Any, dialect: str | None):
        self._by_name: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        self._manifest = manifest
        self._dialect = dialect
        self._built = False

    def find(self, table: Any) -> str | None:
        """The unique id of the node that ``table`` (a sqlglot Table) names, if one does."""
        if not self._built:
            self._build()
        written = _parts(table)
        if not written:
            return None
        matches = {
            uid
            for parts, uid in self._by_name.get(written[-1], [])
            if parts[len(parts) - len(written) :] == written
        }
        return matches.pop() if len(matches) == 1 else None

    def _build(self) -> None:
        from sqlglot import exp
        from sqlglot.errors import SqlglotError

        self._built = True
        for node in (*self._manifest.nodes.values(), *self._manifest.sources.values()):
            relation = getattr(node, "relation_name", None)
            if not relation or node.resource_type not in ("model", "seed", "snapshot", "source"):
                continue
            try:
                parts = _parts(exp.to_table(relation, dialect=self._dialect))
            except SqlglotError:
                continue
            if parts:
                self._by_name.setdefault(parts[-1], []).append((parts, node.unique_id))


def _parts(table: Any) -> tuple[str, ...]:
    return tuple(p.name.lower() for p in table.parts)


# -- rendering raw_code ------------------------------------------------------------------


def render(manifest: Any, node: Any, dialect: str | None) -> tuple[str, dict[str, str]]:
    """``node.raw_code`` rendered with placeholders for its inputs."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    context = _Context(manifest, node)
    env = SandboxedEnvironment(
        undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"]
    )
    try:
        sql = env.from_string(node.raw_code or "").render(context.names())
    except jinja2.TemplateError as exc:
        reason = exc.message or type(exc).__name__
        raise Unreadable(
            f"its Jinja needs dbt to render: {reason}; macros are not rendered here"
        ) from exc
    return sql, context.tables


class _Context:
    def __init__(self, manifest: Any, node: Any):
        self.manifest = manifest
        self.node = node
        self.tables: dict[str, str] = {}
        metadata = getattr(manifest, "metadata", None)
        self.project = getattr(metadata, "project_name", None) or node.package_name
        self.adapter_type = getattr(metadata, "adapter_type", None)

    def names(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "source": self.source,
            "config": lambda *args, **kwargs: "",
            "var": _var,
            "env_var": _env_var,
            "is_incremental": lambda: False,
            "execute": False,
            "this": self.relation(self.node.unique_id),
            "target": {"type": self.adapter_type},
        }

    def relation(self, unique_id: str) -> str:
        for name, known in self.tables.items():
            if known == unique_id:
                return name
        name = PLACEHOLDER.format(len(self.tables))
        self.tables[name] = unique_id
        return name

    def ref(self, *args: str, **kwargs: Any) -> str:
        version = kwargs.get("version", kwargs.get("v"))
        if len(args) not in (1, 2):
            raise Unreadable(f"ref{args} takes a model name and an optional package")
        package, name = (None, args[0]) if len(args) == 1 else args
        target = self.manifest.resolve_ref(
            self.node, name, package, version, self.project, self.node.package_name
        )
        if getattr(target, "unique_id", None) is None:
            raise Unreadable(f"ref('{name}') names no enabled node")
        return self.relation(target.unique_id)

    def source(self, source_name: str, table_name: str) -> str:
        target = self.manifest.resolve_source(
            source_name, table_name, self.project, self.node.package_name
        )
        if getattr(target, "unique_id", None) is None:
            raise Unreadable(f"source('{source_name}', '{table_name}') names no enabled source")
        return self.relation(target.unique_id)


def _var(name: str, default: Any = _MISSING) -> Any:
    if default is _MISSING:
        raise Unreadable(f"var('{name}') has no default (project vars are not read here)")
    return default


def _env_var(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise Unreadable(f"env_var('{name}') is not set and has no default")
    return value
