"""``python -m dbt_synthohive``: can dbt load the run-operation bridge here?

Checks what ``dbt run-operation synthesize`` needs, in the order dbt uses it, and says what
to fix. Exit code 0 when every check passes.
"""

from __future__ import annotations

import sys


def checks() -> list[tuple[bool, str]]:
    """(passed, message) per requirement of the bridge."""
    results: list[tuple[bool, str]] = []
    try:
        from dbt.plugins.manager import PluginManager
        from dbt.version import __version__ as dbt_version
    except ImportError as exc:
        return [(False, f"dbt-core is not importable here ({exc}): pip install dbt-core")]
    results.append((True, f"dbt-core {dbt_version}"))

    found = "dbt_synthohive" in PluginManager.get_prefixed_modules()
    results.append(
        (
            found,
            "dbt's plugin loader finds dbt_synthohive"
            if found
            else "dbt's plugin loader (pkgutil.iter_modules over sys.path) does not see "
            "dbt_synthohive: an editable install through an import hook hides it; reinstall "
            "with `pip install -e . --config-settings editable_mode=compat` or without -e",
        )
    )
    from dbt_synthohive import _plugin

    _plugin.SynthoHivePlugin(project_name="check")
    from dbt.adapters.base.impl import BaseAdapter

    from dbt_synthohive import METHOD_NAME

    ok = _plugin.registration_error is None and METHOD_NAME in BaseAdapter._available_
    results.append(
        (
            ok,
            f"adapter.{METHOD_NAME} is registered"
            if ok
            else f"adapter.{METHOD_NAME} cannot be registered: {_plugin.registration_error}",
        )
    )
    try:
        import synthohive_dbt.bridge  # noqa: F401
    except ImportError as exc:
        results.append((False, f"the synthohive library cannot be imported: {exc}"))
    else:
        results.append((True, "the synthohive library imports"))
    return results


def main() -> int:
    results = checks()
    for passed, message in results:
        print(("ok    " if passed else "FAIL  ") + message)
    return 0 if all(passed for passed, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
