"""The model interface every per-table generator implements, and the model registry.

A model learns one table's non-key columns, optionally conditioned on a *context*: a float
matrix with one row per table row, built by the relational layer from the parent rows
each child row belongs to (already encoded and scaled). Key columns (primary and foreign
keys) never reach a model; the relational layer generates them.
"""

from __future__ import annotations

import abc
import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import ModelError
from ..privacy.settings import MIN_CATEGORY_ROWS
from ..progress import SILENT, Reporter
from ..schema import Column
from .artifacts import read_artifact, write_artifact
from .inputs import FitData, check_context, check_frame

#: values of the ``precision`` option of models with neural networks (``ctgan``)
PRECISIONS = ("auto", "float32", "bfloat16")


@dataclass(frozen=True)
class ModelOptions:
    """Training options; ``extra`` carries model-specific settings (e.g. from config.meta)."""

    epochs: int | None = None  # None: the model's default
    batch_size: int | None = None
    device: str = "cpu"
    extra: Mapping[str, Any] = field(default_factory=dict)
    # privacy: values seen in fewer real rows are never stored (``codec_fit.fit_codecs``)
    min_category_rows: int = MIN_CATEGORY_ROWS

    def with_overrides(self, overrides: Mapping[str, Any]) -> ModelOptions:
        """Apply per-table overrides (``epochs``, ``batch_size`` and model extras)."""
        known = {k: overrides[k] for k in ("epochs", "batch_size") if k in overrides}
        extra = {**self.extra, **{k: v for k, v in overrides.items() if k not in known}}
        return replace(self, extra=extra, **known)


class TableModel(abc.ABC):
    """fit on a table (with optional parent context), sample n rows, save, load.

    Subclasses implement ``learn`` (checked input), ``sample``, ``state`` and
    ``from_state``."""

    name: ClassVar[str]
    #: True when ``learn`` is given the holdout rows to validate on (never to train on);
    #: other models are given the training rows only
    accepts_holdout: ClassVar[bool] = False

    def __init__(self, options: ModelOptions | None = None):
        self.options = options or ModelOptions()

    #: dtype of the checked context handed to ``learn``
    context_dtype: ClassVar[type] = np.float32

    def fit(
        self,
        frame: pd.DataFrame,
        columns: Sequence[Column],
        context: np.ndarray | None = None,
        *,
        rng: np.random.Generator,
        reporter: Reporter = SILENT,
        table: str = "",
        holdout: np.ndarray | None = None,
    ) -> None:
        """Learn the joint distribution of ``columns`` of ``frame`` (given ``context``).

        ``holdout``: a boolean mask of rows no model may train on; a model that accepts
        one validates on them, the others never see them. The input is checked here, once
        for every model, then handed to ``learn``."""
        columns = tuple(columns)
        held = None if holdout is None else np.asarray(holdout, dtype=bool)
        if held is not None and len(held) != len(frame):
            raise ModelError(f"holdout has {len(held)} rows, the frame {len(frame)}")
        ctx = check_context(context, len(frame), None, table, dtype=self.context_dtype)
        if ctx is not None and ctx.shape[1] == 0:
            ctx = None  # a zero-width context carries nothing
        if held is not None and not held.any():
            held = None
        if held is not None and not self.accepts_holdout:
            frame = frame[~held].reset_index(drop=True)
            ctx = None if ctx is None else ctx[~held]
            held = None
        check_frame(frame, columns, table)
        self.learn(FitData(frame, columns, ctx, held, rng, reporter, table))

    @abc.abstractmethod
    def learn(self, data: FitData) -> None:
        """Fit on checked input (see ``fit``)."""

    @abc.abstractmethod
    def sample(
        self, n: int, context: np.ndarray | None = None, *, rng: np.random.Generator
    ) -> pd.DataFrame:
        """Return ``n`` rows with the fitted columns, in the fitted order and dtypes.

        With a context, ``n == len(context)`` and row i is conditioned on context row i.
        """

    @abc.abstractmethod
    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON-able meta, named numeric arrays) that fully describe the fitted model."""

    @classmethod
    @abc.abstractmethod
    def from_state(cls, meta: Mapping[str, Any], tensors: Mapping[str, np.ndarray]) -> TableModel:
        """Rebuild a fitted model from ``state()`` output, without the training data."""

    def save(self, path: Path) -> None:
        meta, tensors = self.state()
        write_artifact(Path(path), self.name, meta, tensors)

    @classmethod
    def load(cls, path: Path) -> TableModel:
        return load_model(path)


_REGISTRY: dict[str, str] = {
    "copula": "synthohive_dbt.synth.copula:GaussianCopulaModel",
    "ctgan": "synthohive_dbt.synth.ctgan:CTGANModel",
    "autoregressive": "synthohive_dbt.synth.autoregressive:AutoregressiveModel",
}


#: models the relational layer picks itself, never offered as ``--model``
_INTERNAL: dict[str, str] = {"copy": "synthohive_dbt.synth.copy:CopyModel"}


def available_models() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def get_model_class(name: str) -> type[TableModel]:
    target = _REGISTRY.get(name) or _INTERNAL.get(name)
    if target is None:
        raise ModelError(f"unknown model {name!r}; choose one of: {', '.join(sorted(_REGISTRY))}")
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelError(f"model {name!r} cannot be imported: {exc}") from exc
    return getattr(module, attr)


def load_model(path: Path) -> TableModel:
    name, meta, tensors = read_artifact(Path(path))
    return get_model_class(name).from_state(meta, tensors)
