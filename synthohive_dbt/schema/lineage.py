"""Trace columns of models back to the source columns they select.

Many projects test their staging models, not their sources
(``select id as customer_id from {{ source('shop', 'customers') }}`` with a ``unique`` test
on ``customer_id``). synthohive generates the sources, so ``manifest`` carries such facts
back to the source columns (``traced_facts``), following each model's SQL, parsed with
sqlglot, through renames, casts, CTEs, subqueries, joins, ``select *`` and chains of
models (stg -> int). ``model_sql`` says where the SQL comes from.

What traces: an output column that is a plain column reference, possibly renamed, cast
(``cast(x as t)``, ``x::t``, ``try_cast``) or parenthesised (``trace``). Partly: a column
computed from one column by a constant factor (``x / 100.0``) or another NULL-preserving
function (``date_trunc``, ``upper``) (``follow_scaled``), and a hash or concatenation of
columns (``combination``: surrogate keys). Other expressions (``coalesce``, ``case``,
aggregates, arithmetic of several columns, literals) and columns of a ``union`` do not. A
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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from synthohive_dbt.schema.model_sql import RelationIndex, Unreadable, model_select
from synthohive_dbt.schema.select_lineage import SelectLineage, dialect_of

__all__ = ["Lineage", "SelectLineage", "Traced", "dialect_of", "models_downstream_of"]


@dataclass(frozen=True)
class Traced:
    """A model column traced to ``column`` of ``node`` (a source, seed or snapshot)."""

    node: str
    column: str
    via: tuple[str, ...]  # the models passed through, the one traced from first
    reshaped: bool  # a model on the way reshapes its rows: uniqueness does not carry
    reshaping: tuple[str, ...] = ()  # how, in a user's words ("group by", "a union")


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
