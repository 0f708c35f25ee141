"""The options every entry point (CLI, Python API, ``dbt run-operation synthesize``) builds
once and passes down, and the defaults, declared here only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .relational.generate import DEFAULT_CHUNK_ROWS

DEFAULT_MODEL = "autoregressive"  # fit's model when none is named
DEFAULT_SCHEMA = "synthohive"  # the schema of the synthetic tables (default generate mode)
ARTIFACTS = Path("target") / "synthohive"  # artifacts, relative to the project directory
PRIVACY_JSON = "privacy.json"  # beside the artifacts: holdout metrics of the last generate


@dataclass(frozen=True)
class ProjectOptions:
    """How to find and connect to the dbt project, like dbt's own flags."""

    project_dir: Path = Path(".")
    profiles_dir: Path | None = None
    target: str | None = None
    select: Sequence[str] = ()
    exclude: Sequence[str] = ()
    vars: dict | None = None
    state: Path | None = None  # an earlier run's manifest.json for state: selection


@dataclass(frozen=True)
class GenerateOptions:
    """How much to generate and from which artifacts, whatever the destination."""

    scale: float = 1.0  # size factor of the root tables (children follow their parents)
    seed: int = 0
    keep_orphans: bool = False  # reproduce the real share of FK values without a parent
    chunk_rows: int = DEFAULT_CHUNK_ROWS  # rows per written chunk (bounds memory)
    artifacts: Path | None = None  # default: PROJECT/target/synthohive


def artifacts_dir(project_dir: str | Path, artifacts: str | Path | None = None) -> Path:
    """``artifacts`` (relative to the project when relative and given by a dbt macro) or
    the default ``PROJECT/target/synthohive``."""
    return Path(artifacts) if artifacts else Path(project_dir) / ARTIFACTS


GENERATE_DEFAULTS = GenerateOptions()
