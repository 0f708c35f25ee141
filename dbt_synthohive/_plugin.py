"""The dbt plugin and the adapter method it registers.

dbt internals relied on (dbt-core 1.8 to 1.12; tests/test_bridge.py guards each one):
- ``dbt.plugins.manager.PluginManager`` imports top-level ``dbt_*`` modules and
  instantiates the ``dbtPlugin`` subclasses in their ``plugins`` list; ``dbtPlugin.__init__``
  calls ``initialize()``. This happens for every command that loads a project, before the
  adapter is registered.
- ``dbt.adapters.base.meta.AdapterMeta`` computes each adapter class's ``_available_``
  (names exposed to Jinja as ``adapter.<name>``) and ``_parse_replacements_`` once, at class
  creation, from the bases and the class body. A method added later must be added to both
  sets of every existing adapter class; classes created later inherit them from
  ``BaseAdapter``.
- ``dbt.context.providers.RuntimeDatabaseWrapper`` (the ``adapter`` object in Jinja) exposes
  exactly the names in ``adapter._available_``; ``ParseDatabaseWrapper`` calls the parse
  replacement instead, so parsing a hook that calls the method never runs it.
"""

from __future__ import annotations

from typing import Any

from dbt.plugins import dbtPlugin

from dbt_synthohive import METHOD_NAME

# Why registration failed, for `python -m dbt_synthohive`; None when it worked.
registration_error: str | None = None


def synthohive_synthesize(self: Any, **kwargs: Any) -> dict[str, Any]:
    """Fit (or load) synthohive models and write synthetic tables on dbt's connection.

    Called by the ``synthesize`` macro; the work happens in ``synthohive_dbt.bridge``,
    imported here so that loading the plugin never imports pandas or torch.
    """
    from dbt_common.exceptions import DbtRuntimeError

    try:
        from synthohive_dbt.bridge import run_operation
    except ImportError as exc:
        raise DbtRuntimeError(
            f"the synthohive bridge is installed but its library cannot be imported ({exc}); "
            "reinstall it in the environment that runs dbt: pip install synthohive-dbt"
        ) from exc
    return run_operation(self, **kwargs)


def _parse_stub(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """What the method returns while dbt parses (hooks are rendered at parse time)."""
    return {"tables": {}, "lines": [], "parsing": True}


def _with_subclasses(cls: type) -> list[type]:
    seen: list[type] = []
    todo = [cls]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.append(current)
            todo.extend(current.__subclasses__())
    return seen


def register() -> None:
    """Expose ``adapter.synthohive_synthesize`` on every dbt adapter (idempotent)."""
    from dbt.adapters.base.impl import BaseAdapter
    from dbt.adapters.base.meta import available

    method = available.parse(_parse_stub)(synthohive_synthesize)
    setattr(BaseAdapter, METHOD_NAME, method)
    for cls in _with_subclasses(BaseAdapter):
        # Each class holds its own copies (AdapterMeta.__new__): update them all.
        available_names = getattr(cls, "_available_", None)
        replacements = getattr(cls, "_parse_replacements_", None)
        if not isinstance(available_names, frozenset) or not isinstance(replacements, dict):
            raise TypeError(
                f"{cls.__module__}.{cls.__name__} has no _available_/_parse_replacements_ "
                "(dbt.adapters.base.meta.AdapterMeta changed)"
            )
        cls._available_ = available_names | {METHOD_NAME}
        cls._parse_replacements_ = {**replacements, METHOD_NAME: _parse_stub}


class SynthoHivePlugin(dbtPlugin):
    """Registers the adapter method; never fails the dbt command it is loaded by."""

    def initialize(self) -> None:
        global registration_error
        try:
            register()
        except Exception as exc:  # noqa: BLE001 - a broken bridge must not break every dbt command
            registration_error = f"{type(exc).__name__}: {exc}"
            from dbt.adapters.events.logging import AdapterLogger

            AdapterLogger("synthohive").warning(
                "synthohive: cannot add adapter.synthohive_synthesize for "
                f"`dbt run-operation synthesize` ({registration_error}); this dbt version's "
                "plugin internals differ from what synthohive-dbt supports. Other dbt commands "
                "are unaffected; use `synthohive generate` instead."
            )
        else:
            registration_error = None
