"""Sampling inside the warehouse: with ``fit --sample-rows N`` fit reads an FK-closed
sample of the selected tables, selected in SQL, instead of whole tables.

* A root table (no FK to another selected table) with more than N rows keeps N of them:
  those whose primary key (every column when it has none), as text with the seed, has the
  smallest md5: the same rows for the same data on every warehouse.
* A child keeps the rows whose primary FK (its first FK to a restricted parent) points to a
  kept parent row, so its children-per-parent distribution is the real one; rows whose
  primary FK is null keep at most N of their own, by the same hash.
* A restricted parent also keeps the rows that kept rows of other tables reference through
  their other FKs, so the sample has no orphans.
* A table with FKs that no sampled parent restricts (its parents are all read whole: a
  fact table under small dimensions) keeps N rows of its own by the same hash; its
  children-per-parent histograms are then counted in the warehouse (``fk_histogram``),
  not taken from the sample, and its own children follow it.
* Tables with a self-referencing FK are read whole: a sample would cut their hierarchies.

Each table's condition is SQL on its own columns that nests its parents' conditions; a
table without one is read whole. Real row counts are counted separately so that generate
makes tables of the real sizes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..schema import ForeignKey, SchemaGraph, Table
from .dialect import Dialect


@dataclass(frozen=True)
class SamplePlan:
    """Per table key, the SQL condition of its sampled rows (absent: read whole) and how
    they are chosen, in words (``inspect --check-data`` shows it); the warnings to show
    (tables sampled by every column, hierarchies read whole)."""

    conditions: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    how: Mapping[str, str] = field(default_factory=dict)
    # tables with FKs sampled on their own (no sampled parent restricts them): their rows
    # per parent are a thinned sample, so fit counts the real ones in SQL
    thinned: tuple[str, ...] = ()


def plan_sample(
    graph: SchemaGraph,
    dialect: Dialect,
    limits: Mapping[str, int],
    real_rows: Mapping[str, int],
    seed: int = 0,
) -> SamplePlan:
    """The sample of ``graph``: ``limits`` holds N per table key (roots use theirs),
    ``real_rows`` each table's real row count (a root within its N is read whole)."""
    sql = _Sql(dialect, seed)
    base: dict[str, str] = {}
    primary: dict[str, ForeignKey] = {}
    warnings: list[str] = []
    how: dict[str, str] = {}
    thinned: list[str] = []
    for key in graph.order:
        table = graph.table(key)
        fks = [fk for fk in graph.foreign_keys if fk.child == key and fk.parent in graph.tables]
        if any(fk.is_self_reference for fk in fks):
            if key in limits and real_rows.get(key, 0) > limits[key]:
                warnings.append(
                    f"{table.display} references itself: read whole ({real_rows[key]:,} rows), "
                    "a sample would cut its hierarchies"
                )
            continue
        restricted = [fk for fk in fks if fk.parent in base]
        if restricted:
            fk = primary[key] = restricted[0]
            parent = graph.table(fk.parent)
            kept = sql.within(fk.columns, parent, fk.parent_columns, base[fk.parent])
            nulls = sql.ranked(table, limits.get(key), sql.any_null(fk.columns))
            base[key] = f"({kept} or {nulls})" if nulls else kept
            how[key] = f"children of the sampled {parent.display} rows ({', '.join(fk.columns)})"
            if nulls:
                how[key] += f"; rows with a null {', '.join(fk.columns)}: {limits[key]:,} at most"
        elif key in limits and real_rows.get(key, 0) > limits[key]:
            # a root, or a table whose parents are all read whole: its own N rows
            if not table.primary_key:
                warnings.append(
                    f"{table.display} has no primary key: sampled by a hash of all its columns"
                )
            base[key] = sql.ranked(table, limits[key])
            hashed = table.primary_key.columns if table.primary_key else ("every column",)
            how[key] = (
                f"{limits[key]:,} of {real_rows[key]:,} rows: smallest md5 of "
                f"{', '.join(hashed)} and seed {int(seed)}"
            )
            if fks:  # its children per parent are counted in the warehouse instead
                thinned.append(key)
                how[key] += "; children per parent counted in the warehouse"
    conditions: dict[str, str] = {}
    for key in reversed(graph.order):  # children first: a parent adds what they reference
        if key not in base:
            continue
        extra = [
            sql.within(fk.parent_columns, graph.table(fk.child), fk.columns, conditions[fk.child])
            for fk in graph.foreign_keys
            if fk.parent == key and fk.child in conditions and primary.get(fk.child) != fk
        ]
        conditions[key] = " or ".join([f"({base[key]})", *extra]) if extra else base[key]
        if extra:
            how[key] += "; with the rows that sampled rows of other tables reference"
    return SamplePlan(conditions, tuple(warnings), how, tuple(thinned))


@dataclass(frozen=True)
class _Sql:
    dialect: Dialect
    seed: int

    def columns(self, names: Sequence[str]) -> str:
        quoted = [self.dialect.quote(n) for n in names]
        return quoted[0] if len(quoted) == 1 else f"({', '.join(quoted)})"

    def picked(self, names: Sequence[str]) -> str:
        """The select list of a subquery that ``columns`` is compared with by ``in``."""
        quoted = ", ".join(self.dialect.quote(n) for n in names)
        return quoted if len(names) == 1 else self.dialect.tuple_in_select.format(quoted)

    def within(
        self, columns: Sequence[str], other: Table, other_columns: Sequence[str], condition: str
    ) -> str:
        """``columns`` take a value of ``other_columns`` among ``other``'s rows that meet
        ``condition``."""
        picked = self.picked(other_columns)
        source = other.relation.render(self.dialect)
        return f"{self.columns(columns)} in (select {picked} from {source} where {condition})"

    def any_null(self, columns: Sequence[str]) -> str:
        return " or ".join(f"{self.dialect.quote(c)} is null" for c in columns)

    def ranked(self, table: Table, limit: int | None, condition: str | None = None) -> str | None:
        """The ``limit`` rows of ``table`` (among those meeting ``condition``) with the
        smallest hash of their key and the seed; None without a limit."""
        if limit is None:
            return None
        key = list(table.primary_key.columns) if table.primary_key else [
            c.name for c in table.columns
        ]  # fmt: skip
        parts = [f"coalesce({self.dialect.as_text.format(self.dialect.quote(c))}, '')" for c in key]
        text = " || '|' || ".join([*parts, f"'{int(self.seed)}'"])
        order = self.dialect.hash_text.format(text)
        where = f" where {condition}" if condition else ""
        source = table.relation.render(self.dialect)
        inner = f"select {self.picked(key)} from {source}{where}"
        return f"{self.columns(key)} in ({inner} order by {order} limit {int(limit)})"
