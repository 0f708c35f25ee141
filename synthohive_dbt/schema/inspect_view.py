"""Render a SchemaGraph for `synthohive inspect` (text for people, JSON for programs).

With ``--check-data`` the graph also holds what the rows show and no test declares:
identifier columns (keys among them, origin "inferred from data") and probable FKs with
the YAML that declares them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..privacy.detect import Finding
from ..privacy.settings import is_copy
from ..relational.identities import DECLARED, Derive, Offset, Ratio, Rule
from ..relational.rulesets import RuleSet, declared_rules
from .records import INFERRED, Column, ForeignKey, Origin, ProbableForeignKey, SchemaGraph, Table

#: per table key, the rules generation enforces (``synthohive_dbt.relational.discovery``
#: finds them in the data for ``inspect --check-data``); without it, the declared ones
Rules = Mapping[str, RuleSet] | None
Personal = Mapping[str, Sequence[Finding]] | None


def _origin_text(origin: Origin) -> str:
    """Where a key came from; a key traced from a model names the model's SQL."""
    if origin.kind == INFERRED:  # node says why
        return f"{origin.kind} ({origin.node})"
    if origin.via and origin.via == origin.node:  # a model's own constraint
        return f"{origin.kind} {origin.node} (traced through the model's SQL)"
    return str(origin)


def _origin_json(origin: Origin) -> dict[str, Any]:
    return {"kind": origin.kind, "node": origin.node, "via": origin.via}


def _fk_json(fk: ForeignKey, graph: SchemaGraph) -> dict[str, Any]:
    parent = graph.tables.get(fk.parent)
    return {
        "child": fk.child,
        "columns": list(fk.columns),
        "parent": fk.parent,
        "parent_name": parent.name if parent else None,
        "parent_columns": list(fk.parent_columns),
        "nullable": fk.nullable,
        "where": fk.where,
        "self_reference": fk.is_self_reference,
        "deferred": fk in graph.deferred,
        "origin": _origin_json(fk.origin),
    }


def _rule_set(graph: SchemaGraph, table: Table, rules: Rules) -> RuleSet:
    if rules is not None and table.key in rules:
        return rules[table.key]
    return declared_rules(graph, table)


def _rules_json(rule_set: RuleSet) -> dict[str, Any]:
    return {
        "enforced": [
            {
                "rule": r.sql,
                "origin": r.origin,
                "how": _how(r),
            }
            for r in rule_set.rules
        ],
        "not_enforced": list(rule_set.skipped),
    }


def _rules_text(rule_set: RuleSet) -> list[str]:
    lines = []
    for rule in rule_set.rules:
        where = "expression test" if rule.origin == DECLARED else "found in the data"
        lines.append(f"  rule {rule.sql}  ({where}; enforced: {_how(rule)})")
    return lines + [f"  rule {text}" for text in rule_set.skipped]


def _how(rule: Rule) -> str:
    if isinstance(rule, Ratio):
        return "computed from a learned ratio"
    if isinstance(rule, Offset):
        return "computed from a learned gap"
    return "computed" if isinstance(rule, Derive) else "repaired"


def _table_json(table: Table, graph: SchemaGraph, rules: Rules = None) -> dict[str, Any]:
    pk = table.primary_key
    return {
        "key": table.key,
        "name": table.name,
        "resource_type": table.resource_type,
        "relation": ".".join(p for p in (table.database, table.schema, table.identifier) if p),
        "primary_key": list(pk.columns) if pk else None,
        "primary_key_origin": _origin_text(pk.origin) if pk else None,
        "primary_key_origin_detail": _origin_json(pk.origin) if pk else None,
        "columns": [
            {
                "name": c.name,
                "type": c.type.native if c.type else c.declared_type,
                "logical": c.type.logical.value if c.type else None,
                "not_null": c.not_null,
                "unique": c.unique,
                "accepted_values": list(c.accepted_values) if c.accepted_values else None,
                "accepted_range": list(c.accepted_range) if c.accepted_range else None,
                "id_like": _origin_json(c.id_like) if c.id_like else None,
            }
            for c in table.columns
        ],
        "foreign_keys": [_fk_json(fk, graph) for fk in graph.fks_of(table.key)],
        "rules": _rules_json(_rule_set(graph, table, rules)),
    }


def graph_to_json(
    graph: SchemaGraph, rules: Rules = None, personal: Personal = None
) -> dict[str, Any]:
    return {
        "personal_data": [
            {
                "table": graph.table(k).name,
                "column": f.column,
                "kind": f.kind,
                "evidence": list(f.evidence),
                "treatment": f.treatment,
            }
            for k in graph.order
            for f in (personal or {}).get(k, ())
        ],  # fmt: skip
        "tables": [_table_json(graph.table(k), graph, rules) for k in graph.order],
        "order": [graph.table(k).name for k in graph.order],
        "deferred": [_fk_json(fk, graph) for fk in graph.deferred],
        "probable_foreign_keys": [_probable_json(p, graph) for p in graph.probable_fks],
        "warnings": list(graph.warnings),
    }


def _probable_json(probable: ProbableForeignKey, graph: SchemaGraph) -> dict[str, Any]:
    return {
        **_fk_json(probable.fk, graph),
        "found": probable.found,
        "total": probable.total,
        "yaml": probable.yaml,
    }


def _identifier_line(table: Table, column: Column) -> str | None:
    """How a column the data shows to hold identifiers is minted (the primary key has
    its own line)."""
    pk = table.primary_key.columns if table.primary_key else ()
    if column.id_like is None or column.name in pk:
        return None
    what = "unique key" if column.unique else "identifier (fresh values, real repetition)"
    return f"  {what} ({column.name})  from {_origin_text(column.id_like)}"


def _probable_lines(graph: SchemaGraph) -> list[str]:
    if not graph.probable_fks:
        return []
    lines = ["", "probable foreign keys (no test declares them; add the YAML to keep them):"]
    for probable in graph.probable_fks:
        fk = probable.fk
        child, parent = graph.table(fk.child), graph.table(fk.parent)
        lines.append(
            f"  {child.display}({', '.join(fk.columns)}) -> "
            f"{parent.display}({', '.join(fk.parent_columns)})  "
            f"{probable.found:,} of {probable.total:,} non-null values found"
        )
        lines += [f"    {line}" for line in probable.yaml.splitlines()]
    return lines


def _personal_lines(graph: SchemaGraph, personal: Personal) -> list[str]:
    """The "personal data" section: what was found, why, and what generate does."""
    lines = ["", "personal data (treatment: set config.meta synthohive_pii per column):"]
    found = False
    for key in graph.order:
        table = graph.table(key)
        if is_copy(table.meta):
            lines.append(f"  {table.name}: copied as it is (synthohive_mode: copy)")
            continue
        for f in (personal or {}).get(key, ()):
            found = True
            lines.append(
                f"  {table.name}.{f.column}  {f.kind}  {f.treatment}  ({'; '.join(f.evidence)})"
            )
    if not found:
        lines.append("  none found")
    return lines


def graph_to_text(graph: SchemaGraph, rules: Rules = None, personal: Personal = None) -> str:
    lines: list[str] = []
    for key in graph.order:
        table = graph.table(key)
        relation = ".".join(p for p in (table.database, table.schema, table.identifier) if p)
        lines.append(f"{table.display}  [{relation}]")
        if table.primary_key:
            cols = ", ".join(table.primary_key.columns)
            lines.append(f"  primary key ({cols})  from {_origin_text(table.primary_key.origin)}")
        else:
            lines.append("  primary key: none")
        for fk in graph.fks_of(key):
            parent = graph.tables.get(fk.parent)
            pname = parent.display if parent else fk.parent
            flags = []
            if fk.is_self_reference:
                flags.append("self-reference")
            if fk.nullable:
                flags.append("nullable")
            if fk.where:
                flags.append(f"where {fk.where}")
            if fk in graph.deferred:
                flags.append("deferred (breaks a cycle)")
            extra = f"  [{'; '.join(flags)}]" if flags else ""
            lines.append(
                f"  fk ({', '.join(fk.columns)}) -> {pname}({', '.join(fk.parent_columns)})"
                f"{extra}  from {_origin_text(fk.origin)}"
            )
        lines += [line for c in table.columns if (line := _identifier_line(table, c))]
        lines += _rules_text(_rule_set(graph, table, rules))
    lines.append("")
    lines.append("generation order: " + " -> ".join(graph.table(k).name for k in graph.order))
    lines += _probable_lines(graph)
    if personal is not None:
        lines += _personal_lines(graph, personal)
    for warning in graph.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)
