"""``CTGANModel``: the default per-table model (registry name ``ctgan``).

fit: column codecs -> data transformer -> hold out a validation sample -> WGAN-GP
training -> keep the generator of the best validation epoch. sample: generator in eval
mode -> slots and alphas -> codec values -> codecs restore dtypes, ranges and integers.

Documented behaviour for awkward tables:

* a table with no rows is a ``DataError``; a column missing from the frame too;
* all-null columns and uuid columns are not modelled: they decode as all-null and as
  fresh random uuids (with the observed null rate);
* constant columns (one value, no nulls) are not modelled and decode as that value; a
  table whose columns are all constant (a single-row table, for one) trains nothing and
  samples copies of its one row;
* mixed numbers and text in a numeric column, or infinities, are a ``DataError`` naming
  the column (from the codecs); NaN is null;
* a ``not_null`` column never samples null, even when the training data had some;
* the context must be finite, two-dimensional and as wide as at fit time: anything else
  is a ``ModelError`` (an unseen parent category is the relational layer's to encode).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import torch

from ...errors import ArtifactError, ModelError
from ...progress import TrainingDone, TrainingStarted
from ...schema.records import Column
from ..base import ModelOptions, TableModel
from ..codec_fit import fit_codecs
from ..columns import ColumnCodec
from ..device import resolve_device, torch_generator
from ..inputs import FitData, check_context
from .networks import materialise
from .options import CTGANConfig, auto_batch_size
from .sampler import ConditionSampler
from .train import Holdout, Trainer, build_generator, generate, train
from .transformer import DataTransformer
from .validation import MIN_VALIDATION_ROWS, holdout_size

STATE_VERSION = 1


class CTGANModel(TableModel):
    """Conditional tabular GAN (Xu et al. 2019) with mode-specific normalisation."""

    name = "ctgan"
    accepts_holdout = True

    def __init__(self, options: ModelOptions | None = None):
        super().__init__(options)
        self.config = CTGANConfig.from_options(self.options)
        self.device: torch.device | None = None
        self._codecs: list[ColumnCodec] | None = None
        self._transformer: DataTransformer | None = None
        self._generator: torch.nn.Module | None = None
        self._sampler: ConditionSampler | None = None
        self._context_dim = 0
        self._use_condition = True
        self.training: dict[str, Any] = {}

    # -- fit --------------------------------------------------------------------------
    def learn(self, data: FitData) -> None:
        """The holdout rows (never trained on) are the checkpoints' validation rows;
        without them, a seeded share of the rows is held out here."""
        frame, columns, ctx, rng = data.frame, list(data.columns), data.context, data.rng
        holdout, reporter, table = data.holdout, data.reporter, data.table
        device = resolve_device(self.config.device)
        values = self._fit_transformer(frame, columns, rng)
        transformer, c = self._transformer, self.config
        held = holdout is not None
        if c.batch_size is None:  # auto: from the number of training rows
            n_hold = int(np.sum(holdout)) if held else holdout_size(len(frame), c.validation_rows)
            n_train = len(frame) - n_hold
            c = replace(c, batch_size=auto_batch_size(n_train, c.pac))
        self.device, self._context_dim = device, 0 if ctx is None else ctx.shape[1]
        reporter.emit(TrainingStarted(
            table, rows=len(frame), columns=len(columns), modelled=len(transformer.spans),
            width=transformer.width, epochs=c.epochs, batch_size=c.batch_size, device=str(device),
        ))  # fmt: skip
        self._generator = self._sampler = None
        self.training = {"epochs_run": 0, "best_epoch": 0, "best_score": None,
                         "stopped_early": False, "history": []}  # fmt: skip
        if not transformer.trainable:  # every column constant or passed through
            reporter.emit(TrainingDone(table, 0, 0, None, stopped_early=False, seconds=0.0))
            return
        if held:
            train_idx, hold_idx = np.flatnonzero(~holdout), np.flatnonzero(holdout)
            # a few held-out rows would judge epochs by noise: validate on training rows,
            # as small tables do (the holdout rows still train nothing)
            if len(hold_idx) < MIN_VALIDATION_ROWS:
                hold_idx = train_idx[: min(len(train_idx), c.validation_rows)]
        else:
            train_idx, hold_idx = _split(len(frame), c.validation_rows, rng)
        rows = transformer.transform([v[train_idx] for v in values], rng)
        g = torch_generator(rng, device)
        trainer = Trainer(c, transformer, rows, None if ctx is None else ctx[train_idx], device, g)
        holdout = Holdout([v[hold_idx] for v in values], None if ctx is None else ctx[hold_idx])
        result = train(trainer, holdout, reporter, table)
        self._generator = result.generator
        self._use_condition = not trainer.cond_dropout
        self._sampler = ConditionSampler(transformer, None, device)
        self.training = {
            "batch_size": c.batch_size,
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            "best_score": result.best_score,
            "stopped_early": result.stopped_early,
            "history": result.history,
        }

    def _fit_transformer(
        self, frame: pd.DataFrame, columns: list[Column], rng: np.random.Generator
    ) -> list[np.ndarray]:
        """Fit codecs and the data transformer; return the codec values of every column."""
        codecs = fit_codecs(frame, columns, self.options.min_category_rows)
        values = [codec.encode(frame[col.name]) for codec, col in zip(codecs, columns, strict=True)]
        c = self.config
        self._codecs = codecs
        self._transformer = DataTransformer.fit(
            values, codecs, [col.not_null for col in columns], rng,
            max_components=c.max_vgm_components, subsample=c.vgm_subsample,
            weight_threshold=c.vgm_weight_threshold,
        )  # fmt: skip
        return values

    # -- sample -----------------------------------------------------------------------
    def sample(
        self, n: int, context: np.ndarray | None = None, *, rng: np.random.Generator
    ) -> pd.DataFrame:
        if self._transformer is None or self._codecs is None:
            raise ModelError("the ctgan model is not fitted; call fit() or load an artifact")
        if not isinstance(n, (int, np.integer)) or n < 0:
            raise ModelError(f"cannot sample {n!r} rows; n must be a non-negative integer")
        n = int(n)
        ctx = check_context(context, n, self._context_dim, "")
        transformer = self._transformer
        if self._generator is not None and n:
            g = torch_generator(rng, self.device)
            ctx_t = None if ctx is None else torch.as_tensor(ctx, device=self.device)
            alpha, slots = generate(
                self._generator,
                transformer,
                self._sampler,
                self.config,
                n,
                ctx_t,
                g,
                use_condition=self._use_condition,
            )
        else:
            alpha = np.zeros((n, transformer.n_alpha), np.float32)
            slots = np.zeros((n, len(transformer.spans)), np.int64)
        values = transformer.decode(alpha, slots, n)
        return pd.DataFrame(
            {c.name: c.decode(v, rng) for c, v in zip(self._codecs, values, strict=True)}
        )

    # -- persistence ------------------------------------------------------------------
    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        if self._transformer is None or self._codecs is None:
            raise ModelError("the ctgan model is not fitted; nothing to save")
        meta = {
            "state_version": STATE_VERSION,
            "config": self.config.to_json(),
            "codecs": [c.to_json() for c in self._codecs],
            "transformer": self._transformer.to_json(),
            "context_dim": self._context_dim,
            "use_condition": self._use_condition,
            "trainable": self._generator is not None,
            "training": self.training,
        }
        tensors: dict[str, np.ndarray] = {}
        if self._generator is not None:
            for key, value in self._generator.state_dict().items():
                tensors[f"generator.{key}"] = value.detach().cpu().numpy()
        return meta, tensors

    @classmethod
    def from_state(cls, meta: Mapping[str, Any], tensors: Mapping[str, np.ndarray]) -> CTGANModel:
        version = meta.get("state_version")
        if version != STATE_VERSION:
            raise ArtifactError(
                f"ctgan artifact has state_version {version!r}, this synthohive-dbt reads "
                f"version {STATE_VERSION}; refit the model with `synthohive fit`"
            )
        try:
            config = CTGANConfig.from_json(meta["config"])
            codecs = [ColumnCodec.from_json(c) for c in meta["codecs"]]
            transformer = DataTransformer.from_json(meta["transformer"])
        except (KeyError, TypeError, ModelError) as exc:
            raise ArtifactError(f"ctgan artifact metadata is incomplete or invalid: {exc}") from exc
        extra = {
            k: v for k, v in config.to_json().items() if k not in ("epochs", "batch_size", "device")
        }
        device = (
            "cpu"
            if config.device.startswith("cuda") and not torch.cuda.is_available()
            else config.device
        )
        model = cls(ModelOptions(config.epochs, config.batch_size, device, extra))
        model.device = resolve_device(device)
        model._codecs, model._transformer = codecs, transformer
        model._context_dim = int(meta.get("context_dim", 0))
        model._use_condition = bool(meta.get("use_condition", True))
        model.training = dict(meta.get("training", {}))
        if meta.get("trainable", True):
            model._generator = _load_generator(
                config, transformer, model._context_dim, tensors, model.device
            )
            model._sampler = ConditionSampler(transformer, None, model.device)
        return model


def _load_generator(config, transformer, context_dim, tensors, device) -> torch.nn.Module:
    generator = materialise(build_generator(config, transformer, context_dim), device, None)
    prefix = "generator."
    state = {
        k[len(prefix) :]: torch.from_numpy(np.asarray(v))
        for k, v in tensors.items()
        if k.startswith(prefix)
    }
    try:
        generator.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ArtifactError(f"ctgan artifact tensors do not match its layout: {exc}") from exc
    return generator.eval()


def _split(n: int, cap: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, validation rows); small tables validate on their training rows."""
    order = rng.permutation(n)
    k = holdout_size(n, cap)
    if k == 0:
        return np.arange(n), np.sort(order[: min(n, cap)])
    return np.sort(order[k:]), np.sort(order[:k])
