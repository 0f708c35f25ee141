"""The relational schema: typed records (``records``), the graph built from a dbt manifest
(``manifest``: tests and constraints read by ``facts``, traced through model SQL by
``lineage``/``traced_facts``, ordered by ``ordering``), its validation against the data
(``validate``, ``inferred``) and its rendering for ``synthohive inspect`` (``inspect_view``).

``from synthohive_dbt.schema import Table`` and the other records keep working."""

from . import records
from .records import *  # noqa: F403 (the names in records.__all__)

__all__ = records.__all__
