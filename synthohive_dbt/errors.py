"""One exception tree. Every user-facing failure is a SynthoHiveError subclass.

Messages name the object, what is wrong and how to fix it. Errors that collect several
problems carry them in ``problems`` and render them as a numbered list.
"""

from __future__ import annotations

from collections.abc import Sequence


class SynthoHiveError(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, problems: Sequence[str] = ()):
        self.problems = tuple(problems)
        if self.problems:
            lines = [message] + [f"  {i}. {p}" for i, p in enumerate(self.problems, 1)]
            message = "\n".join(lines)
        super().__init__(message)


class ProjectError(SynthoHiveError):
    """The dbt project cannot be parsed or its manifest cannot be read."""


class ProfileError(SynthoHiveError):
    """The dbt profile or target is missing or invalid."""


class SelectionError(SynthoHiveError):
    """--select / --exclude chose nothing or something unknown."""


class SchemaValidationError(SynthoHiveError):
    """The relational schema has problems; ``problems`` lists every one of them."""

    @classmethod
    def collected(cls, what: str, problems: Sequence[str]) -> SchemaValidationError:
        """The error for every problem found: ``what`` with ``{count}`` replaced by
        "N problem(s)", then how to go on."""
        n = len(problems)
        count = f"{n} problem{'s' * (n != 1)}"
        fix = f"fix {'them' if n > 1 else 'it'} and run again:"
        return cls(f"{what.format(count=count)}; {fix}", problems)


class WarehouseError(SynthoHiveError):
    """The warehouse is unreachable or a read/write failed."""


class UnsafeWriteError(WarehouseError):
    """A write would touch a schema that holds real data."""


class ModelError(SynthoHiveError):
    """A model cannot be fitted, sampled, saved or loaded."""


class ArtifactError(ModelError):
    """A saved artifact is missing, corrupt or from an incompatible version."""


class DataError(SynthoHiveError):
    """The data of a table cannot be modelled (all-null column, mixed types, ...)."""


class EmitError(SynthoHiveError):
    """Generated files would clash with user files or arguments are out of range."""


class PrivacyError(SynthoHiveError):
    """Personal-data settings are invalid (treatments, keys, copy mode, privacy vars)."""
