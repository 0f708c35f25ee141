"""Warehouse access: one interface (``Warehouse``, in ``base``), one module per warehouse,
chosen by the dbt adapter type, each declaring its ``Dialect`` (``dialect``) and type map
(``types``). Drivers are optional extras, imported only by their backend."""

from __future__ import annotations

import importlib
from typing import Any

from synthohive_dbt.errors import WarehouseError
from synthohive_dbt.warehouse.base import STAGE_PREFIX, Relation, Warehouse
from synthohive_dbt.warehouse.dialect import Dialect

__all__ = [
    "STAGE_PREFIX",
    "SUPPORTED_ADAPTERS",
    "Dialect",
    "Relation",
    "Warehouse",
    "backend_for",
    "check_credentials",
    "open_warehouse",
    "wrap_connection",
]

# dbt adapter type -> (module, class); imported lazily so a missing driver only matters
# for the warehouse actually used.
_BACKENDS = {
    "duckdb": ("synthohive_dbt.warehouse.duckdb", "DuckDBWarehouse"),
    "postgres": ("synthohive_dbt.warehouse.postgres", "PostgresWarehouse"),
    "snowflake": ("synthohive_dbt.warehouse.snowflake", "SnowflakeWarehouse"),
    "bigquery": ("synthohive_dbt.warehouse.bigquery", "BigQueryWarehouse"),
}
SUPPORTED_ADAPTERS = tuple(sorted(_BACKENDS))


def backend_for(adapter_type: str) -> type[Warehouse]:
    """The Warehouse class for a dbt adapter type such as ``postgres``."""
    key = (adapter_type or "").strip().lower()
    if key not in _BACKENDS:
        raise WarehouseError(
            f"dbt adapter type {adapter_type!r} is not supported; supported adapter types "
            f"are {', '.join(SUPPORTED_ADAPTERS)}"
        )
    module, name = _BACKENDS[key]
    return getattr(importlib.import_module(module), name)


def open_warehouse(adapter_type: str, credentials: Any, *, target: str | None = None) -> Warehouse:
    """Open a native connection from the dbt Credentials of the user's profile target.

    ``target`` (the profile target's name) only makes error messages more precise.
    """
    backend = backend_for(adapter_type)
    declared = getattr(credentials, "type", None)
    if isinstance(declared, str) and declared.lower() != adapter_type.strip().lower():
        raise WarehouseError(
            f"the credentials are for a {declared} target but adapter type "
            f"{adapter_type} was asked for"
        )
    return backend.from_credentials(credentials, target=target)


def check_credentials(
    adapter_type: str, credentials: Any, *, target: str | None = None, profiles: str | None = None
) -> None:
    """Refuse profile settings the backend can judge without connecting (ProfileError);
    adapter types without a backend are left to the commands that need one."""
    if (adapter_type or "").strip().lower() in _BACKENDS:
        backend_for(adapter_type).check_credentials(credentials, target=target, profiles=profiles)


def wrap_connection(adapter_type: str, connection: Any) -> Warehouse:
    """Wrap a ready native connection (e.g. dbt's own, inside ``dbt run-operation``)."""
    return backend_for(adapter_type).from_connection(connection)
