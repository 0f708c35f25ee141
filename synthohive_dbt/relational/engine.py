"""RelationalModel: per-table plans and models for a whole schema graph.

``fit_relational`` learns a plan for every table (keys, FK null rates, children-per-parent
histograms) and fits one TableModel per table on its non-key columns. ``generate`` walks
the generation order, parents first, and yields each finished table so the caller can
write it before the next one is made. ``save``/``load`` use a directory: ``plan.json``
plus one model artifact per table under ``models/``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import ArtifactError, ModelError
from ..progress import SILENT, Reporter
from ..schema import SchemaGraph
from ..synth.base import ModelOptions, TableModel, get_model_class, load_model
from .generate import fill_deferred, generate_table
from .plan import TablePlan, plan_table, table_seed

PLAN_FORMAT_VERSION = 1
PLAN_JSON = "plan.json"


@dataclass
class RelationalModel:
    plans: dict[str, TablePlan]  # by table key
    order: tuple[str, ...]
    models: dict[str, TableModel]  # tables without modelled columns have none
    model_name: str

    # -- generation -----------------------------------------------------------------
    def generate(
        self, *, scale: float = 1.0, seed: int = 0, reporter: Reporter = SILENT
    ) -> Iterator[tuple[TablePlan, pd.DataFrame]]:
        """Yield (plan, synthetic frame) per table in generation order.

        Tables with a deferred FK (one that closes a cycle) are held back until the
        parent of that FK exists, so every yielded table is complete.
        """
        if scale <= 0:
            raise ModelError(f"--scale must be positive, got {scale}")
        made: dict[str, pd.DataFrame] = {}
        pending: list[str] = []
        for key in self.order:
            plan = self.plans[key]
            start = time.perf_counter()
            rng = np.random.default_rng(table_seed(seed, key))
            made[key] = generate_table(plan, self.models.get(key), made, scale, rng)
            reporter.event(
                "table_generated",
                table=plan.name,
                rows=len(made[key]),
                seconds=time.perf_counter() - start,
            )
            pending.append(key)
            for ready in [k for k in pending if self._deferred_ready(k, made)]:
                pending.remove(ready)
                yield self.plans[ready], self._complete(ready, made, seed)

    def _deferred_ready(self, key: str, made: Mapping[str, pd.DataFrame]) -> bool:
        return all(fk.parent in made for fk in self.plans[key].fks if fk.deferred)

    def _complete(self, key: str, made: dict[str, pd.DataFrame], seed: int) -> pd.DataFrame:
        frame = made[key]
        for i, fk in enumerate(self.plans[key].fks):
            if fk.deferred:
                rng = np.random.default_rng(table_seed(seed, key, salt=i + 1))
                frame = fill_deferred(frame, fk, made[fk.parent], rng)
        made[key] = frame
        return frame

    # -- persistence ----------------------------------------------------------------
    def save(self, path: Path) -> None:
        path = Path(path)
        models_dir = path / "models"
        models_dir.mkdir(parents=True, exist_ok=True)
        doc = {
            "format_version": PLAN_FORMAT_VERSION,
            "synthohive_dbt": __version__,
            "model": self.model_name,
            "order": list(self.order),
            "tables": [self.plans[k].to_json() for k in self.order],
            "model_dirs": {k: _dir_name(k) for k in self.models},
        }
        for key, model in self.models.items():
            model.save(models_dir / _dir_name(key))
        (path / PLAN_JSON).write_text(json.dumps(doc, indent=1))

    @classmethod
    def load(cls, path: Path) -> RelationalModel:
        path = Path(path)
        doc_path = path / PLAN_JSON
        if not doc_path.is_file():
            raise ArtifactError(
                f"no synthohive artifacts at {path}; run `synthohive fit` first "
                "or pass --artifacts DIR"
            )
        doc = json.loads(doc_path.read_text())
        if doc.get("format_version") != PLAN_FORMAT_VERSION:
            raise ArtifactError(
                f"artifacts at {path} have format_version {doc.get('format_version')!r}; "
                f"this version reads {PLAN_FORMAT_VERSION}. Refit with `synthohive fit`."
            )
        plans = {t["key"]: TablePlan.from_json(t) for t in doc["tables"]}
        models = {k: load_model(path / "models" / d) for k, d in doc["model_dirs"].items()}
        return cls(plans=plans, order=tuple(doc["order"]), models=models, model_name=doc["model"])


def fit_relational(
    graph: SchemaGraph,
    frames: Mapping[str, pd.DataFrame],
    *,
    model: str | type[TableModel] = "copula",
    options: ModelOptions | None = None,
    seed: int = 0,
    reporter: Reporter = SILENT,
) -> RelationalModel:
    """Plan every table of ``graph`` and fit its model on the real ``frames``.

    ``model`` is a registry name or a TableModel subclass (the pluggable interface).
    """
    options = options or ModelOptions()
    model_cls = get_model_class(model) if isinstance(model, str) else model
    model = model_cls.name
    real_rows = {k: len(f) for k, f in frames.items()}
    plans: dict[str, TablePlan] = {}
    models: dict[str, TableModel] = {}
    for key in graph.order:
        table = graph.table(key)
        plan = plan_table(graph, table, frames[key], real_rows)
        plans[key] = plan
        if not plan.model_columns:
            continue
        overrides = _meta_overrides(plan.options)
        table_model = model_cls(options.with_overrides(overrides))
        columns = [table.column(c) for c in plan.model_columns]
        reporter.event("fit_start", table=table.name, rows=plan.rows, model=model)
        start = time.perf_counter()
        table_model.fit(
            frames[key][list(plan.model_columns)].reset_index(drop=True),
            columns,
            rng=np.random.default_rng(table_seed(seed, key)),
            reporter=reporter,
            table=table.name,
        )
        reporter.event("fit_end", table=table.name, seconds=time.perf_counter() - start)
        models[key] = table_model
    return RelationalModel(plans=plans, order=graph.order, models=models, model_name=model)


def _meta_overrides(options: Mapping[str, object]) -> dict[str, object]:
    """``synthohive_epochs: 50`` in a table's config.meta overrides --epochs, etc."""
    out: dict[str, object] = {}
    for key, value in options.items():
        name = str(key).removeprefix("synthohive_")
        if name in ("epochs", "batch_size"):
            out[name] = int(value)  # type: ignore[arg-type]
        elif name not in ("pii", "ignore", "kind", "model"):
            out[name] = value
    return out


def _dir_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key)
