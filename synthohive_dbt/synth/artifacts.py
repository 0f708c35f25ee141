"""Artifacts: a directory of tensors (``.npz``, no pickle) plus JSON.

Every model directory holds ``model.json`` with ``format_version``, ``model`` (registry
name), library versions and the model's own JSON, and ``tensors.npz`` with named arrays.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..errors import ArtifactError

FORMAT_VERSION = 1
MODEL_JSON = "model.json"
TENSORS = "tensors.npz"


def library_versions() -> dict[str, str]:
    versions = {
        "synthohive_dbt": __version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
    try:  # metadata only: importing torch costs seconds
        versions["torch"] = importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        pass
    return versions


def write_artifact(
    path: Path, model: str, meta: Mapping[str, Any], tensors: Mapping[str, np.ndarray]
) -> None:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    doc = {
        "format_version": FORMAT_VERSION,
        "model": model,
        "versions": library_versions(),
        "meta": dict(meta),
    }
    arrays = {k: np.ascontiguousarray(v) for k, v in tensors.items()}
    for name, arr in arrays.items():
        if arr.dtype == object:
            raise ArtifactError(f"tensor {name!r} has dtype object; artifacts hold numbers only")
    np.savez(path / TENSORS, **arrays)
    (path / MODEL_JSON).write_text(json.dumps(doc, indent=1, sort_keys=True, default=_default))


def read_artifact(path: Path) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    """Return (model name, meta, tensors); raise ArtifactError for missing/incompatible files."""
    path = Path(path)
    doc_path = path / MODEL_JSON
    if not doc_path.is_file():
        raise ArtifactError(
            f"no model artifact at {path} ({MODEL_JSON} missing); run `synthohive fit` first"
        )
    try:
        doc = json.loads(doc_path.read_text())
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"artifact {doc_path} is not valid JSON: {exc}") from exc
    version = doc.get("format_version")
    if version != FORMAT_VERSION:
        raise ArtifactError(
            f"artifact {path} has format_version {version!r}, this synthohive-dbt "
            f"({__version__}) reads version {FORMAT_VERSION}; refit with `synthohive fit`"
        )
    tensors: dict[str, np.ndarray] = {}
    tensor_path = path / TENSORS
    if tensor_path.is_file():
        try:
            with np.load(tensor_path, allow_pickle=False) as data:
                tensors = {k: data[k] for k in data.files}
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            raise ArtifactError(
                f"tensors in {tensor_path} cannot be read ({exc}); refit with `synthohive fit`"
            ) from exc
    return doc["model"], doc.get("meta", {}), tensors


def _default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
