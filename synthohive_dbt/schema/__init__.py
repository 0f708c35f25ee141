"""The relational schema: typed records (``records``), the graph built from a dbt manifest
(``manifest``: tests and constraints read by ``facts``, traced through model SQL by
``lineage``/``traced_facts``, ordered by ``ordering``), its validation against the data
(``validate``, ``inferred``) and its rendering for ``synthohive inspect`` (``inspect_view``).

``from synthohive_dbt.schema import Table`` and the other records keep working."""

from .records import (
    INFERRED,
    Column,
    ColumnType,
    ForeignKey,
    LogicalType,
    Origin,
    PrimaryKey,
    ProbableForeignKey,
    Relation,
    SchemaGraph,
    Table,
)

__all__ = [
    "INFERRED",
    "Column",
    "ColumnType",
    "ForeignKey",
    "LogicalType",
    "Origin",
    "PrimaryKey",
    "ProbableForeignKey",
    "Relation",
    "SchemaGraph",
    "Table",
]
