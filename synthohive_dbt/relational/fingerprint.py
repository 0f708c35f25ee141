"""Table fingerprints: when fit may keep a saved table model instead of training it again.

A table model is a function of what it is trained on, so its fingerprint hashes exactly
that, in two parts:

* ``definition``, known before any data is read: the table's record from the dbt project
  (columns, keys, unique keys, the FKs it declares, expressions, meta options), the model,
  its options (the device aside: a model trained on a GPU serves a CPU run), the seed and
  the synthohive-dbt version;
* ``training``: the learned columns with their warehouse types, a checksum of the training
  rows - the table's modelled columns (a ratio's target as the ratio the model learns) and
  the derived ones, so the child counts its children give it and the clusters of its
  parents count - and of the parent context rows,
  plus the context encoder. New rows in a child therefore retrain its parent (its counts
  changed), new rows in a parent retrain the children conditioned on it.

Row checksums ignore row order, and learned floats count to 12 significant digits:
warehouses do not promise a row order.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import __version__
from ..privacy.settings import PrivacySettings
from ..schema import Origin, SchemaGraph
from ..synth.base import ModelOptions
from .learn import Prepared


@dataclass(frozen=True)
class Fingerprint:
    definition: str
    training: str

    def to_json(self) -> dict[str, str]:
        return {"definition": self.definition, "training": self.training}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fingerprint:
        return cls(definition=str(data["definition"]), training=str(data["training"]))


def definition_fingerprints(
    graph: SchemaGraph,
    *,
    model: str,
    options: ModelOptions,
    seed: int,
    privacy: PrivacySettings | None = None,
) -> dict[str, str]:
    """The definition part of every table of ``graph`` (a graph as the manifest gives it,
    before the warehouse is read), by table key. The privacy settings belong to it: a
    larger k must drop rare values from the artifacts, another holdout retrain."""
    privacy = privacy or PrivacySettings()
    settings = {
        "version": __version__,
        "model": model,
        "epochs": options.epochs,
        "batch_size": options.batch_size,
        "extra": _canonical(options.extra),
        "seed": seed,
        "min_category_rows": privacy.min_category_rows,
        "holdout": [privacy.holdout_share, privacy.holdout_max_rows],
    }
    out = {}
    for key in graph.order:
        declared = [fk for fk in graph.foreign_keys if fk.child == key]
        deferred = [fk for fk in graph.deferred if fk.child == key]
        out[key] = _digest(
            {
                **settings,
                "table": _canonical(graph.table(key)),
                "foreign_keys": _canonical(declared),
                "deferred": _canonical(deferred),
            }
        )
    return out


def training_fingerprint(prepared: Prepared) -> str:
    """The training part: what ``TableModel.fit`` receives for this table."""
    plan = prepared.plan
    head = {
        "columns": _canonical(prepared.columns),
        "learned": list(prepared.frame.columns),
        "context": _canonical(plan.context.to_json()) if plan.context is not None else None,
        "context_width": 0 if prepared.context is None else int(prepared.context.shape[1]),
        "rows": len(prepared.frame),
    }
    digest = hashlib.sha256(_digest(head).encode())
    digest.update(_rows_checksum(prepared.frame, prepared.context))
    return digest.hexdigest()


def _rows_checksum(frame: pd.DataFrame, context: np.ndarray | None) -> bytes:
    """Order-free checksum of the rows (a row is its learned values and its context)."""
    rows = frame.reset_index(drop=True)
    if context is not None and context.shape[1]:
        names = [f"context {i}" for i in range(context.shape[1])]
        rows = pd.concat([rows, pd.DataFrame(context, columns=names)], axis=1)
    if rows.shape[1] == 0:
        return b""
    hashes = pd.util.hash_pandas_object(rows, index=False).to_numpy(dtype=np.uint64)
    return hashlib.sha256(np.sort(hashes).tobytes()).digest()


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(value: Any) -> Any:
    """JSON-able, order-stable form of schema records. Which dbt test or constraint a fact
    came from (an ``Origin``) counts only as being there: it does not change what a model
    learns."""
    if isinstance(value, Origin):
        return "origin"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, float):
        # means and deviations summed in another row order differ in the last bits
        return float(f"{value:.12g}")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return repr(value)
