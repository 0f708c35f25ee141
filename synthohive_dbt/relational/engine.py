"""RelationalModel: per-table plans and models for a whole schema graph.

``fit_relational`` learns a plan for every table (keys, FK null rates, children-per-parent
histograms) and fits one TableModel per table on its non-key columns. ``generate`` walks
the generation order, parents first, and yields each finished table so the caller can
write it before the next one is made. ``save``/``load`` use a directory: ``plan.json``
plus one model artifact per table under ``models/``. plan.json also holds each table's fingerprint
(``fingerprint``): a later fit at the same path reuses a saved model whose fingerprint is
unchanged instead of training it again.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import ArtifactError, ModelError
from ..privacy.settings import PrivacySettings
from ..progress import (
    SILENT,
    FitDone,
    FitReused,
    FitStarted,
    Reporter,
    TableGenerated,
)
from ..project.meta import model_overrides
from ..schema import SchemaGraph
from ..synth.base import ModelOptions, TableModel, get_model_class, load_model
from ..synth.copy import CopyModel
from .fingerprint import Fingerprint, definition_fingerprints, training_fingerprint
from .generate import DEFAULT_CHUNK_ROWS, Made, TableGenerator, fill_deferred
from .learn import Prepared, prepare
from .plan import TablePlan, table_seed

PLAN_FORMAT_VERSION = 1
PLAN_JSON = "plan.json"


@dataclass
class RelationalModel:
    plans: dict[str, TablePlan]  # by table key
    order: tuple[str, ...]
    models: dict[str, TableModel]  # tables without modelled columns have none
    model_name: str
    fingerprints: dict[str, Fingerprint] = field(default_factory=dict)  # by table key
    # models taken unchanged from saved artifacts, with the directory each was read from:
    # save leaves a directory that already holds its model as it is
    loaded_from: dict[str, Path] = field(default_factory=dict)

    # -- generation -----------------------------------------------------------------
    def stream(
        self,
        *,
        scale: float = 1.0,
        seed: int = 0,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        keep_orphans: bool = False,
        reporter: Reporter = SILENT,
        avoid: Mapping[str, Mapping[str, pd.Series]] | None = None,
    ) -> Iterator[tuple[TablePlan, Iterator[pd.DataFrame]]]:
        """Yield (plan, chunks) per table, parents first; chunks hold the real columns.
        ``avoid``: per table key, real values of its personal columns that made-up values
        must not equal (read by the caller from the warehouse, kept in memory only).

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
                avoid=(avoid or {}).get(key),
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
        reporter.emit(TableGenerated(plan.name, rows, time.perf_counter() - start))

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
            for personal in plan.personal:  # repeats its parent's value
                if personal.parent_fk is not None and personal.parent_column:
                    parent = plan.fks[personal.parent_fk].parent
                    needs.setdefault(parent, set()).add(personal.parent_column)
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
            "fingerprints": {k: fp.to_json() for k, fp in self.fingerprints.items()},
        }
        written = [k for k in self.models if not self._saved_at(k, models_dir / _dir_name(k))]
        # a fit interrupted while it writes models must not leave an old fingerprint
        # beside a new model: the next fit could reuse the wrong one
        _forget_fingerprints(path / PLAN_JSON, written)
        for key in written:
            self.models[key].save(models_dir / _dir_name(key))
        _write_json(path / PLAN_JSON, doc)

    def _saved_at(self, key: str, directory: Path) -> bool:
        source = self.loaded_from.get(key)
        return source is not None and source.resolve() == directory.resolve()

    @classmethod
    def load(cls, path: Path) -> RelationalModel:
        return SavedArtifacts.read(path).load()


@dataclass(frozen=True)
class SavedArtifacts:
    """What a fit saved at ``path``: plans and fingerprints, models loaded on request."""

    path: Path
    model_name: str
    order: tuple[str, ...]
    plans: dict[str, TablePlan]
    model_dirs: dict[str, str]
    fingerprints: dict[str, Fingerprint]

    @classmethod
    def read(cls, path: Path) -> SavedArtifacts:
        path = Path(path)
        doc_path = path / PLAN_JSON
        if not doc_path.is_file():
            raise ArtifactError(
                f"no synthohive artifacts at {path}; run `synthohive fit` first "
                "or pass --artifacts DIR"
            )
        try:
            doc = json.loads(doc_path.read_text())
        except json.JSONDecodeError as exc:
            raise ArtifactError(
                f"{doc_path} is damaged ({exc}); refit with `synthohive fit`."
            ) from exc
        if not isinstance(doc, dict) or doc.get("format_version") != PLAN_FORMAT_VERSION:
            version = doc.get("format_version") if isinstance(doc, dict) else None
            raise ArtifactError(
                f"artifacts at {path} have format_version {version!r}; "
                f"this version reads {PLAN_FORMAT_VERSION}. Refit with `synthohive fit`."
            )
        return cls(
            path=path,
            model_name=doc["model"],
            order=tuple(doc["order"]),
            plans={t["key"]: TablePlan.from_json(t) for t in doc["tables"]},
            model_dirs=dict(doc["model_dirs"]),
            fingerprints={
                k: Fingerprint.from_json(v) for k, v in doc.get("fingerprints", {}).items()
            },
        )

    def model_dir(self, key: str) -> Path:
        return self.path / "models" / self.model_dirs[key]

    def load_model(self, key: str) -> TableModel:
        return load_model(self.model_dir(key))

    def load(self, keys: Iterable[str] | None = None) -> RelationalModel:
        """The saved model, or the part of it holding ``keys`` (in the saved order)."""
        wanted = set(self.order if keys is None else keys)
        order = tuple(k for k in self.order if k in wanted)
        with_model = [k for k in order if k in self.model_dirs]
        return RelationalModel(
            plans={k: self.plans[k] for k in order},
            order=order,
            models={k: self.load_model(k) for k in with_model},
            model_name=self.model_name,
            fingerprints={k: self.fingerprints[k] for k in order if k in self.fingerprints},
            loaded_from={k: self.model_dir(k) for k in with_model},
        )


def fit_relational(
    graph: SchemaGraph,
    frames: Mapping[str, pd.DataFrame],
    *,
    model: str | type[TableModel] = "copula",
    options: ModelOptions | None = None,
    seed: int = 0,
    reporter: Reporter = SILENT,
    previous: SavedArtifacts | None = None,
    definitions: Mapping[str, str] | None = None,
    privacy: PrivacySettings | None = None,
    real_rows: Mapping[str, int] | None = None,
    samples: Mapping[str, str] | None = None,
    histograms: Mapping[str, Mapping[tuple[str, ...], tuple[int, ...]]] | None = None,
) -> RelationalModel:
    """Plan every table of ``graph`` and fit its model on the real ``frames``.

    ``model`` is a registry name or a TableModel subclass (the pluggable interface).
    Each child's model is conditioned on its primary parent's features (the context).
    A table whose fingerprint equals its fingerprint in ``previous`` gets the saved model
    (``loaded_from``) instead of a trained one. ``definitions``: the definition part of the
    fingerprints, computed from the graph as the manifest gave it (default: from ``graph``).
    ``histograms``: per table key and FK columns, the real children-per-parent histogram
    where the frame is a thinned sample (``SamplePlan.thinned``).
    """
    privacy = privacy or PrivacySettings()
    options = replace(options or ModelOptions(), min_category_rows=privacy.min_category_rows)
    model_cls = get_model_class(model) if isinstance(model, str) else model
    if definitions is None:
        definitions = definition_fingerprints(
            graph, model=model_cls.name, options=options, seed=seed, privacy=privacy
        )
    prepared = prepare(graph, frames, seed, privacy)
    models: dict[str, TableModel] = {}
    fingerprints: dict[str, Fingerprint] = {}
    loaded_from: dict[str, Path] = {}
    for key in graph.order:
        prep = prepared[key]
        fingerprints[key] = Fingerprint(definitions[key], training_fingerprint(prep))
        if not prep.columns:
            continue
        if previous is not None and _reusable(previous, key, fingerprints[key]):
            models[key] = previous.load_model(key)
            loaded_from[key] = previous.model_dir(key)
            reporter.emit(FitReused(prep.plan.name, prep.plan.rows))
            continue
        table_cls = CopyModel if prep.plan.copied else model_cls
        models[key] = _fit_table(table_cls, prep, options, seed, reporter)
    plans = {key: prepared[key].plan for key in graph.order}
    for key, condition in (samples or {}).items():  # fitted on a sample: real sizes
        rows = (real_rows or {}).get(key, plans[key].rows)
        plans[key] = replace(plans[key], rows=int(rows), sample=condition)
    for key, real in (histograms or {}).items():  # a thinned sample: the real counts
        fks = plans[key].fks
        fks = tuple(replace(fk, histogram=real.get(fk.columns, fk.histogram)) for fk in fks)
        plans[key] = replace(plans[key], fks=fks)
    return RelationalModel(
        plans=plans,
        order=graph.order,
        models=models,
        model_name=model_cls.name,
        fingerprints=fingerprints,
        loaded_from=loaded_from,
    )


def _reusable(previous: SavedArtifacts, key: str, fingerprint: Fingerprint) -> bool:
    return (
        previous.fingerprints.get(key) == fingerprint
        and key in previous.model_dirs
        and previous.model_dir(key).is_dir()
    )


def _fit_table(
    model_cls: type[TableModel],
    prep: Prepared,
    options: ModelOptions,
    seed: int,
    reporter: Reporter,
) -> TableModel:
    plan = prep.plan
    table_model = model_cls(options.with_overrides(model_overrides(plan.options)))
    reporter.emit(FitStarted(plan.name, plan.rows, model_cls.name))
    start = time.perf_counter()
    table_model.fit(  # no model trains on the holdout rows (TableModel.fit)
        prep.frame,
        prep.columns,
        prep.context,
        rng=np.random.default_rng(table_seed(seed, plan.key)),
        reporter=reporter,
        table=plan.name,
        holdout=prep.holdout,
    )
    reporter.emit(FitDone(plan.name, model_cls.name, time.perf_counter() - start))
    return table_model


def _dir_name(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", key)


def _write_json(path: Path, doc: Mapping[str, object]) -> None:
    """Write ``doc`` so that a reader sees the old file or the new one, never a part."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(doc, indent=1))
    os.replace(partial, path)


def _forget_fingerprints(plan_json: Path, keys: Iterable[str]) -> None:
    keys = set(keys)
    if not keys or not plan_json.is_file():
        return
    try:
        doc = json.loads(plan_json.read_text())
    except json.JSONDecodeError:  # unreadable: a fit reuses nothing from it anyway
        return
    fingerprints = doc.get("fingerprints") or {}
    if keys & set(fingerprints):
        doc["fingerprints"] = {k: v for k, v in fingerprints.items() if k not in keys}
        _write_json(plan_json, doc)
