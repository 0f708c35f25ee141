"""The quality report's scores in the generated sources YAML (``meta.synthohive``), so
that ``dbt docs`` shows them next to each synthetic table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..errors import EmitError
from .files import Quoted, render, write_generated


def add_quality_meta(path: Path, scores: Mapping[str, Mapping[str, Any]], report: str) -> Path:
    """Set ``config.meta.synthohive`` of each table in the generated sources YAML at
    ``path``: ``{quality: {score, column_shapes, column_pair_trends}, report: path}``.
    Tables without scores keep their meta; everything else is written back as it was."""
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise EmitError(f"cannot read the generated sources YAML {path}: {exc}") from exc
    for source in document.get("sources") or []:
        for table in source.get("tables") or []:
            if table.get("name") not in scores:
                continue
            meta = table.setdefault("config", {}).setdefault("meta", {})
            meta["synthohive"] = {"quality": dict(scores[table["name"]]), "report": report}
    return write_generated(path, render(_requoted(document)))


def _requoted(value: Any) -> Any:
    """Strings YAML must quote for dbt (ref()/source(), parenthesised types) quoted again:
    reading the file back lost the marks the first rendering had."""
    if isinstance(value, dict):
        return {k: _requoted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_requoted(v) for v in value]
    if isinstance(value, str) and "(" in value:
        return Quoted(value)
    return value
