"""Read a parsed dbt manifest as a relational schema graph.

Facts come from what dbt users already write: column and model constraints
(``primary_key``, ``foreign_key``, ``not_null``, ``unique``) and generic tests
(``unique``, ``not_null``, ``relationships``, ``accepted_values`` and the dbt-utils style
``relationships_where``, ``unique_combination_of_columns``, ``accepted_range`` from any
package namespace). Tests restricted by ``config.where`` only hold on part of a table: they
make a foreign key conditional (``ForeignKey.where``) and are not used for keys.

Whether the columns exist is not checked here (YAML column lists are often incomplete):
``validate`` checks that against the warehouse. Every problem is collected and raised at
once as SchemaValidationError.

Keys and tests declared on models are also traced back to the selected sources and seeds
the models select from (``lineage``, ``traced_facts``): a project that tests its staging
models, not its sources, still gets keys and foreign keys on its sources.

A foreign key whose parent exists in the project but is not selected is dropped with a
warning: the child's column cannot point at generated parent rows, so it is modelled as a
plain column. Select the parent too (e.g. ``--select +orders``) to keep the key.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from synthohive_dbt.errors import SchemaValidationError
from synthohive_dbt.project.meta import node_meta
from synthohive_dbt.schema.facts import ColumnFacts, FkCandidate, TableFacts, read_tests
from synthohive_dbt.schema.lineage import Lineage, models_downstream_of
from synthohive_dbt.schema.ordering import order_tables
from synthohive_dbt.schema.records import Column, ForeignKey, Origin, PrimaryKey, SchemaGraph, Table
from synthohive_dbt.schema.traced_facts import carry_facts

TABLE_TYPES = ("source", "model", "seed")


def build_graph(
    manifest: Any, selected_ids: Iterable[str], not_compiled: Mapping[str, str] | None = None
) -> SchemaGraph:
    """The schema graph of the selected sources, models and seeds of ``manifest``.

    Models' SQL is read as dbt compiled it (``project.compile_models``); ``not_compiled``
    holds dbt's message for the models it could not compile.
    """
    return _GraphBuilder(manifest, selected_ids, dict(not_compiled or {})).build()


def display_of(node: Any) -> str:
    """How a dbt user refers to a node: ``source('shop', 'orders')`` or ``ref('orders')``."""
    if node.resource_type == "source":
        return f"source('{node.source_name}', '{node.name}')"
    return f"ref('{node.name}')"


@dataclass
class _GraphBuilder:
    manifest: Any
    selected_ids: Iterable[str]
    not_compiled: dict[str, str] = field(default_factory=dict)
    lineage: Lineage | None = None
    facts: dict[str, TableFacts] = field(default_factory=dict)
    candidates: list[FkCandidate] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def build(self) -> SchemaGraph:
        for key in sorted(set(self.selected_ids)):
            self._add_table(key)
        for facts in self.facts.values():
            self._read_constraints(facts)
        read_tests(self.manifest, self.facts, self.candidates, self.warnings)
        self._trace_models()
        tables = {key: self._table(facts) for key, facts in self.facts.items()}
        foreign_keys = self._foreign_keys(tables)
        ordering = order_tables(tables, foreign_keys)
        self.problems.extend(ordering.problems)
        if self.problems:
            raise SchemaValidationError.collected(
                "The dbt project's schema has {count}", self.problems
            )
        deferred = set(ordering.deferred)
        return SchemaGraph(
            tables=tables,
            foreign_keys=tuple(fk for fk in foreign_keys if fk not in deferred),
            order=ordering.order,
            deferred=ordering.deferred,
            warnings=tuple(self.warnings),
        )

    # -- tables and constraints ---------------------------------------------------------

    def _add_table(self, key: str) -> None:
        node = self.manifest.sources.get(key) or self.manifest.nodes.get(key)
        if node is None or node.resource_type not in TABLE_TYPES:
            self.problems.append(
                f"'{key}' is not a source, model or seed of this project; "
                "select sources, models or seeds only."
            )
            return
        if node.resource_type == "model" and node.config.materialized == "ephemeral":
            self.warnings.append(
                f"{display_of(node)} is ephemeral (no table in the warehouse); skipped. "
                "Select the tables it reads from instead."
            )
            return
        self.facts[key] = _new_facts(node)

    def _trace_models(self) -> None:
        """Carry the keys and tests of models to the selected sources and seeds they read.

        The models' facts are read by a scratch builder: their problems and warnings are
        about tables that are not generated, so they are not reported.
        """
        targets = {k for k, f in self.facts.items() if f.node.resource_type != "model"}
        models = models_downstream_of(self.manifest, targets) if targets else []
        if not models:
            return
        declared = _GraphBuilder(self.manifest, ())
        for key in models:
            declared.facts[key] = _new_facts(self.manifest.nodes[key])
            declared._read_constraints(declared.facts[key])
        read_tests(self.manifest, declared.facts, declared.candidates, [])
        carry_facts(
            self._relations(),
            declared.facts,
            declared.candidates,
            self.facts,
            self.candidates,
            self.warnings,
        )

    def _read_constraints(self, facts: TableFacts) -> None:
        node = facts.node
        origin_node = node.unique_id
        pk_columns: list[str] = []
        for col in node.columns.values():
            for constraint in getattr(col, "constraints", None) or ():
                kind = _constraint_type(constraint)
                if kind == "not_null":
                    facts.column(col.name).not_null = True
                elif kind == "unique":
                    facts.add_unique((col.name,), Origin("unique constraint", origin_node))
                elif kind == "primary_key":
                    pk_columns.append(col.name)
                elif kind == "foreign_key":
                    self._fk_constraint(facts, (col.name,), constraint, "column")
        for constraint in getattr(node, "constraints", None) or ():
            kind = _constraint_type(constraint)
            columns = tuple(constraint.columns or ())
            if kind == "not_null":
                for name in columns:
                    facts.column(name).not_null = True
            elif kind == "unique" and columns:
                facts.add_unique(columns, Origin("unique constraint", origin_node))
            elif kind == "primary_key" and columns:
                pk_columns.extend(c for c in columns if c not in pk_columns)
            elif kind == "foreign_key":
                self._fk_constraint(facts, columns, constraint, "model")
        if pk_columns:
            facts.pk = PrimaryKey(tuple(pk_columns), Origin("primary_key constraint", origin_node))
            for name in pk_columns:
                facts.column(name).not_null = True

    def _fk_constraint(
        self, facts: TableFacts, columns: tuple[str, ...], constraint: Any, level: str
    ) -> None:
        where = f"foreign_key constraint on {facts.display}({', '.join(columns)})"
        if not constraint.to:
            self.warnings.append(
                f"{where} has no 'to': only 'to' + 'to_columns' name a parent that synthohive "
                "can follow (an 'expression' is not read); the constraint is ignored."
            )
            return
        to_columns = tuple(constraint.to_columns or ())
        if not columns or len(to_columns) != len(columns):
            self.problems.append(
                f"{where} lists {len(columns)} column(s) but to_columns {list(to_columns)}; "
                "give one entry in to_columns per constrained column"
                + (" (a model-level constraint needs 'columns')." if not columns else ".")
            )
            return
        columns = tuple(facts.column(name).name for name in columns)
        self.candidates.append(
            FkCandidate(
                child=facts.key,
                columns=columns,
                to=constraint.to,
                parent_columns=to_columns,
                origin=Origin(f"foreign_key constraint ({level} level)", facts.key),
                where=None,
                label=where,
            )
        )

    def _table(self, facts: TableFacts) -> Table:
        node = facts.node
        pk = facts.primary_key()
        unique_keys = tuple(cols for cols, _ in facts.unique if pk is None or cols != pk.columns)
        if node.resource_type == "source":
            identifier = node.identifier or node.name
            source_name = node.source_name
        else:
            identifier = node.alias or node.name
            source_name = None
        return Table(
            key=facts.key,
            name=node.name,
            resource_type=node.resource_type,
            database=node.database,
            schema=node.schema,
            identifier=identifier,
            columns=tuple(_column(c) for c in facts.columns.values()),
            primary_key=pk,
            unique_keys=unique_keys,
            meta=MappingProxyType(node_meta(node)),
            tags=tuple(str(t) for t in (getattr(node, "tags", None) or ())),
            source_name=source_name,
            expressions=tuple(condition for condition, _ in facts.expressions),
        )

    # -- foreign keys -------------------------------------------------------------------

    def _foreign_keys(self, tables: dict[str, Table]) -> tuple[ForeignKey, ...]:
        found: dict[tuple[Any, ...], ForeignKey] = {}
        for cand in self.candidates:
            parent = self._resolve(cand)
            if parent is None:
                continue
            child_table = tables[cand.child]
            nullable = not all(
                (col := child_table.column(name)) is not None and col.not_null
                for name in cand.columns
            )
            fk = ForeignKey(
                child=cand.child,
                columns=cand.columns,
                parent=parent,
                parent_columns=cand.parent_columns,
                origin=cand.origin,
                where=cand.where,
                nullable=nullable,
            )
            same = (fk.child, _lower(fk.columns), fk.parent, _lower(fk.parent_columns))
            first = found.get(same)
            if first is None:
                found[same] = fk
            elif first.where and not fk.where:
                # An unconditional declaration of the same key is the stronger fact.
                found[same] = replace(first, where=None)
        return tuple(found.values())

    def _resolve(self, cand: FkCandidate) -> str | None:
        """The parent table key of ``cand``, or None after recording why it has none."""
        from dbt.exceptions import ParsingError

        expression = _strip_jinja(cand.to)
        try:
            node = self.manifest.find_node_from_ref_or_source(expression)
        except ParsingError:
            node = self._relations().relation_node(expression)  # compiled: a relation name
        if node is None and not re.match(r"\s*(ref|source)\s*\(", expression):
            self.problems.append(
                f"{cand.label} points to {cand.to!r}, which is not a ref() or source() "
                "call; write it as ref('model') or source('source', 'table')."
            )
            return None
        if node is None:
            self.problems.append(f"{cand.label} points to {expression}{self._unknown(expression)}")
            return None
        if node.resource_type not in TABLE_TYPES:
            self.warnings.append(
                f"{cand.label} points to {node.resource_type} {node.name}: synthohive only "
                "generates sources, models and seeds, so the key is dropped and "
                f"{', '.join(cand.columns)} is generated as a plain column."
            )
            return None
        if node.unique_id not in self.facts:
            self.warnings.append(
                f"{cand.label} points to {display_of(node)}, which is not selected: the key "
                f"is dropped and {', '.join(cand.columns)} is generated as a plain column. "
                f"Add {display_of(node)} to --select to keep it."
            )
            return None
        return node.unique_id

    def _relations(self) -> Lineage:
        if self.lineage is None:
            self.lineage = Lineage(self.manifest, self.not_compiled)
        return self.lineage

    def _unknown(self, expression: str) -> str:
        """Why ``expression`` resolves to nothing, with the names it was probably meant as."""
        from dbt.clients.jinja_static import statically_parse_ref_or_source

        parsed = statically_parse_ref_or_source(expression)
        wanted = ".".join(parsed) if isinstance(parsed, list) else parsed.name
        for disabled in self.manifest.disabled.values():
            for node in disabled:
                name = node.name
                if node.resource_type == "source":
                    name = f"{node.source_name}.{node.name}"
                if name == wanted:
                    return (
                        ", which is disabled (enabled: false); enable it or remove the "
                        "test/constraint."
                    )
        if isinstance(parsed, list):  # source('name', 'table')
            names = sorted({f"{s.source_name}.{s.name}" for s in self.manifest.sources.values()})
            matches = difflib.get_close_matches(".".join(parsed), names, n=3, cutoff=0.6)
            shown = ["source('{}', '{}')".format(*m.split(".", 1)) for m in matches]
        else:  # ref(): RefArgs
            names = sorted(
                {n.name for n in self.manifest.nodes.values() if n.resource_type != "test"}
            )
            matches = difflib.get_close_matches(parsed.name, names, n=3, cutoff=0.6)
            shown = [f"'{m}'" for m in matches]
        if not shown:
            return ", which is not in the project; check the name."
        return f", which is not in the project; did you mean {' or '.join(shown)}?"


def _new_facts(node: Any) -> TableFacts:
    facts = TableFacts(key=node.unique_id, node=node, display=display_of(node))
    for col in node.columns.values():
        column = facts.column(col.name)
        column.declared_type = col.data_type
        column.meta.update(node_meta(col))
        tags = list(getattr(col, "tags", None) or [])
        tags += list(getattr(getattr(col, "config", None), "tags", None) or [])
        column.tags = list(dict.fromkeys(str(t) for t in tags))
        column.policy_tags = [str(t) for t in getattr(col, "policy_tags", None) or []]
    return facts


def _constraint_type(constraint: Any) -> str:
    return str(getattr(constraint.type, "value", constraint.type))


def _strip_jinja(text: str) -> str:
    """``{{ ref('x') }}`` -> ``ref('x')``: some projects wrap test arguments in jinja."""
    match = re.fullmatch(r"\s*\{\{\s*(.*?)\s*\}\}\s*", text)
    return (match.group(1) if match else text).strip()


def _lower(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n.lower() for n in names)


def _column(facts: ColumnFacts) -> Column:
    return Column(
        name=facts.name,
        declared_type=facts.declared_type,
        not_null=facts.not_null,
        unique=facts.unique,
        accepted_values=facts.accepted_values,
        accepted_range=facts.accepted_range,
        meta=MappingProxyType(dict(facts.meta)),
        tags=tuple(facts.tags),
        policy_tags=tuple(facts.policy_tags),
    )
