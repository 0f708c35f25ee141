"""A model's SQL as dbt compiled it, with its inputs resolved to the manifest's nodes.

Only dbt renders Jinja: ``project.compile_models`` (or, inside ``dbt run-operation``, the
running command's compiler) fills ``compiled_code`` on the manifest's nodes, with every
macro of the project and its packages expanded. The relation names in the compiled SQL are
matched to the manifest's nodes and swapped for placeholder table names that map back to
each node's unique id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PLACEHOLDER = "__synthohive_rel_{}__"


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
    node: Any, dialect: str | None, relations: RelationIndex, not_compiled: Mapping[str, str]
) -> tuple[Any, dict[str, str]]:
    """The parsed SQL of model ``node`` and its input tables (placeholder -> unique id).

    ``not_compiled`` holds dbt's message for the models it could not compile.
    """
    if getattr(node, "language", "sql") != "sql":
        raise Unreadable(f"it is a {node.language} model")
    if not getattr(node, "compiled_code", None):
        reason = not_compiled.get(node.unique_id)
        raise Unreadable(
            f"dbt could not compile it: {reason}" if reason else "dbt has not compiled it"
        )
    return _compiled(node, dialect, relations)


def _compiled(node: Any, dialect: str | None, relations: RelationIndex) -> tuple[Any, dict]:
    """Swap the relations named in compiled SQL for placeholders; keep their aliases."""
    from sqlglot import exp

    expression = parse_select(node.compiled_code, dialect)
    ctes = {cte.alias.lower() for cte in expression.find_all(exp.CTE)}
    tables: dict[str, str] = {}
    for table in list(expression.find_all(exp.Table)):
        if not table.db and table.name.lower() in ctes:
            continue  # a CTE (ephemeral models are inlined as CTEs too)
        unique_id = relations.find(table, prefer=node.depends_on.nodes)
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

    def find(self, table: Any, prefer: Sequence[str] = ()) -> str | None:
        """The unique id of the node that ``table`` (a sqlglot Table) names, if one does.

        A seed and a source may name one relation: then the one in ``prefer`` (the
        model's ``depends_on``) is meant."""
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
        if len(matches) > 1:
            matches &= set(prefer)
        return matches.pop() if len(matches) == 1 else None

    def find_name(self, text: str) -> str | None:
        """The unique id of the node a rendered relation name (``"db"."s"."t"``) names:
        dbt's compilation renders ``ref()`` in constraints' ``to`` into such names."""
        from sqlglot import exp
        from sqlglot.errors import SqlglotError

        try:
            return self.find(exp.to_table(text.strip(), dialect=self._dialect))
        except (SqlglotError, ValueError):
            return None

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
