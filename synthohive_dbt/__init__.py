"""synthohive-dbt: a dbt project in, synthetic tables out.

The library's front door, imported lazily (importing the package stays cheap: dbt's
plugin loader imports it)::

    from synthohive_dbt import ProjectOptions, GenerateOptions, fit, generate, inspect
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_FRONT_DOOR = {
    "inspect": "api",
    "fit": "api",
    "generate": "api",
    "generate_environment": "api",
    "generate_files": "api",
    "ProjectOptions": "options",
    "GenerateOptions": "options",
    "ModelOptions": "synth.base",
    "SynthoHiveError": "errors",
}

__all__ = ["__version__", *_FRONT_DOOR]


def __getattr__(name: str) -> Any:
    if name in _FRONT_DOOR:
        import importlib

        return getattr(importlib.import_module(f".{_FRONT_DOOR[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
