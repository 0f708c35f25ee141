"""dbt plugin shim: makes ``adapter.synthohive_synthesize(...)`` available to dbt macros.

dbt-core's plugin loader (``dbt.plugins.manager.PluginManager``) imports every top-level
module whose name starts with ``dbt_`` whenever a command loads a project, and instantiates
the ``dbtPlugin`` subclasses listed in the module's ``plugins`` attribute. Our plugin's
``initialize()`` adds one ``@available`` method to dbt's ``BaseAdapter``, which the
``synthesize`` macro of the synthohive dbt package calls under ``dbt run-operation``.

Importing this module is free: dbt is imported only when dbt itself asks for ``plugins``
(dbt is loaded by then) and the synthohive library (pandas, torch) only when a macro calls
the method. ``python -m dbt_synthohive`` reports whether dbt can load the bridge.
"""

from __future__ import annotations

from typing import Any

METHOD_NAME = "synthohive_synthesize"

INSTALL_HINT = (
    "Install the Python package in the environment that runs dbt "
    "(pip install synthohive-dbt), or run `synthohive fit` and `synthohive generate` "
    "instead of the run-operation."
)


def __getattr__(name: str) -> Any:
    # dbt reads ``plugins`` with hasattr/getattr; resolving it lazily keeps the import free.
    if name == "plugins":
        from dbt_synthohive._plugin import SynthoHivePlugin

        return [SynthoHivePlugin]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
