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
from .generate import DEFAULT_CHUNK_ROWS, Made, TableGenerator, fill_deferred
from .learn import prepare
from .plan import TablePlan, table_seed

PLAN_FORMAT_VERSION = 1
PLAN_JSON = "plan.json"


@dataclass
class RelationalModel:
    plans: dict[str, TablePlan]  # by table key
    order: tuple[str, ...]
    models: dict[str, TableModel]  # tables without modelled columns have none
    model_name: str

    # -- generation -----------------------------------------------------------------
    def stream(
        self,
        *,
        scale: float = 1.0,
        seed: int = 0,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        keep_orphans: bool = False,
        reporter: Reporter = SILENT,
    ) -> Iterator[tuple[TablePlan, Iterator[pd.DataFrame]]]:
        """Yield (plan, chunks) per table, parents first; chunks hold the real columns.

        Consume each table's chunks before asking for the next table: children are made
        from what the parents' chunks left behind (keys, features, child counts). Tables
        with a deferred FK (one closing a cycle) are held whole until its parent exists.
        """
        if scale <= 0:
            raise ModelError(f"--scale must be positive, got {scale}")
        needs = self._retained_columns()
        made: dict[str, Made] = {}
        pending: dict[str, pd.DataFrame] = {}
        for key in self.order:
            plan = self.plans[key]
            gen = TableGenerator(
                plan,
                self.models.get(key),
                made,
                self.plans,
                scale=scale,
                rng=np.random.default_rng(table_seed(seed, key)),
                chunk_rows=chunk_rows,
                keep_orphans=keep_orphans,
            )
            chunks = self._tracked(plan, gen.chunks(), needs[key], made, reporter)
            if any(fk.deferred for fk in plan.fks):
                pending[key] = pd.concat(list(chunks), ignore_index=True)
            else:
                yield plan, chunks
            for ready in [k for k in pending if self._deferred_ready(k, made)]:
                frame = self._complete(ready, pending.pop(ready), made, seed)
                yield self.plans[ready], iter([frame])

    def generate(
        self,
        *,
        scale: float = 1.0,
        seed: int = 0,
        keep_orphans: bool = False,
        reporter: Reporter = SILENT,
    ) -> Iterator[tuple[TablePlan, pd.DataFrame]]:
        """Yield (plan, whole synthetic frame) per table in generation order."""
        for plan, chunks in self.stream(
            scale=scale, seed=seed, keep_orphans=keep_orphans, reporter=reporter
        ):
            frames = list(chunks)
            columns = [name for name, _ in plan.columns]
            yield (
                plan,
                (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)),
            )

    def _tracked(self, plan, chunks, keep, made, reporter) -> Iterator[pd.DataFrame]:
        """Pass chunks through (real columns only) and retain what children need."""
        start = time.perf_counter()
        kept: list[pd.DataFrame] = []
        rows = 0
        columns = [name for name, _ in plan.columns]
        for chunk in chunks:
            kept.append(chunk[[c for c in chunk.columns if c in keep]])
            rows += len(chunk)
            yield chunk[columns]
        frame = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=list(keep))
        made[plan.key] = Made(frame)
        reporter.event(
            "table_generated", table=plan.name, rows=rows, seconds=time.perf_counter() - start
        )

    def _retained_columns(self) -> dict[str, set[str]]:
        """Per table, the columns its children and deferred FKs read."""
        needs: dict[str, set[str]] = {key: set() for key in self.order}
        for plan in self.plans.values():
            if plan.context is not None and plan.primary_fk is not None:
                needs[plan.fks[plan.primary_fk].parent].update(plan.context.columns)
            for fk in plan.fks:
                target = needs.setdefault(fk.parent, set())
                target.update(fk.parent_columns)
                if fk.count_column:
                    target.add(fk.count_column)
                if fk.encoder is not None:
                    target.update(fk.encoder.columns)
            if any(fk.deferred for fk in plan.fks):
                needs[plan.key].update(name for name, _ in plan.columns)
        return needs

    def _deferred_ready(self, key: str, made: Mapping[str, Made]) -> bool:
        return all(fk.parent in made for fk in self.plans[key].fks if fk.deferred)

    def _complete(
        self, key: str, frame: pd.DataFrame, made: dict[str, Made], seed: int
    ) -> pd.DataFrame:
        for i, fk in enumerate(self.plans[key].fks):
            if fk.deferred:
                rng = np.random.default_rng(table_seed(seed, key, salt=i + 1))
                frame = fill_deferred(frame, fk, made[fk.parent].frame, rng)
        made[key] = Made(frame)
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
    Each child's model is conditioned on its primary parent's features (the context).
    """
    options = options or ModelOptions()
    model_cls = get_model_class(model) if isinstance(model, str) else model
    prepared = prepare(graph, frames, seed)
    models: dict[str, TableModel] = {}
    for key in graph.order:
        prep = prepared[key]
        plan = prep.plan
        if not prep.columns:
            continue
        table_model = model_cls(options.with_overrides(_meta_overrides(plan.options)))
        reporter.event("fit_start", table=plan.name, rows=plan.rows, model=model_cls.name)
        start = time.perf_counter()
        table_model.fit(
            prep.frame,
            prep.columns,
            prep.context,
            rng=np.random.default_rng(table_seed(seed, key)),
            reporter=reporter,
            table=plan.name,
        )
        reporter.event("fit_end", table=plan.name, seconds=time.perf_counter() - start)
        models[key] = table_model
    plans = {key: prepared[key].plan for key in graph.order}
    return RelationalModel(plans=plans, order=graph.order, models=models, model_name=model_cls.name)


def _meta_overrides(options: Mapping[str, object]) -> dict[str, object]:
    """``synthohive_epochs: 50`` in a table's config.meta overrides --epochs, etc."""
    out: dict[str, object] = {}
    for key, value in options.items():
        name = str(key).removeprefix("synthohive_")
        if name in ("epochs", "batch_size"):
            out[name] = int(value)  # type: ignore[arg-type]
        elif name not in ("pii", "ignore", "kind", "model", "thresholds", "fidelity_severity"):
            out[name] = value
    return out


def _dir_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key)
