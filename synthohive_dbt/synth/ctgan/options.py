"""CTGAN settings: defaults like the reference CTGAN, read from ``ModelOptions``.

``ModelOptions.epochs``/``batch_size``/``device`` are honoured; everything else comes from
``ModelOptions.extra`` (e.g. per-table ``config.meta`` overrides). Unknown keys are an error
so that a typo in a YAML file does not silently train with defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from ...errors import ModelError
from ..base import ModelOptions
from ..precision import PRECISIONS


@dataclass(frozen=True)
class CTGANConfig:
    epochs: int = 300
    batch_size: int | None = None  # None: auto_batch_size(training rows), at most 500
    device: str = "cpu"
    embedding_dim: int = 128
    generator_dim: tuple[int, ...] = (256, 256)
    discriminator_dim: tuple[int, ...] = (256, 256)
    pac: int = 10
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.9)
    weight_decay: float = 1e-6
    discriminator_steps: int = 1
    gp_lambda: float = 10.0
    dropout: float = 0.5  # critic dropout, drawn from the explicit generator
    tau: float = 0.2  # gumbel-softmax temperature during training
    log_frequency: bool = True  # training-by-sampling picks categories by log frequency
    max_vgm_components: int = 10
    vgm_subsample: int = 20_000
    vgm_weight_threshold: float = 0.005
    validate_every: int = 1  # epochs between validations (validation is < 1% of an epoch)
    validation_rows: int = 5_000  # held-out sample size cap (10% of the table at most)
    patience: int | None = None  # validations without improvement before stopping early
    cond_dropout: float = 0.5  # share of unconditioned rows when a context is given
    sample_batch: int = 2_048  # rows per generator call: cache-sized matrices
    precision: str = "auto"  # matrix products: auto (bfloat16 where native), float32, bfloat16

    @classmethod
    def from_options(cls, options: ModelOptions) -> CTGANConfig:
        """Merge ``options`` over the defaults and validate every value at once."""
        known = {f.name for f in fields(cls)} - {"epochs", "batch_size", "device"}
        unknown = sorted(set(options.extra) - known)
        if unknown:
            raise ModelError(
                f"unknown ctgan option(s) {', '.join(map(repr, unknown))}; "
                f"valid options are: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = dict(options.extra)
        if options.epochs is not None:
            values["epochs"] = options.epochs
        if options.batch_size is not None:
            values["batch_size"] = options.batch_size
        values["device"] = options.device or "cpu"
        return cls.from_json(values)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CTGANConfig:
        values = dict(data)
        for key in ("generator_dim", "discriminator_dim", "betas"):
            if key in values:
                values[key] = tuple(values[key])
        try:
            config = cls(**values)
        except TypeError as exc:
            raise ModelError(f"invalid ctgan options: {exc}") from exc
        config.validate()
        return config

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("generator_dim", "discriminator_dim", "betas"):
            data[key] = list(data[key])
        return data

    def validate(self) -> None:
        problems = []
        positive = (
            "epochs",
            "batch_size",
            "embedding_dim",
            "pac",
            "discriminator_steps",
            "max_vgm_components",
            "vgm_subsample",
            "validate_every",
            "validation_rows",
            "sample_batch",
        )
        for name in positive:
            value = getattr(self, name)
            if name == "batch_size" and value is None:
                continue  # chosen from the table size at fit time
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(f"{name} must be a positive integer, got {value!r}")
        for name in ("generator_dim", "discriminator_dim"):
            dims = getattr(self, name)
            if not dims or not all(isinstance(d, int) and d > 0 for d in dims):
                problems.append(f"{name} must be a list of positive integers, got {dims!r}")
        if isinstance(self.batch_size, int) and isinstance(self.pac, int) and self.pac > 0:
            if self.batch_size % self.pac:
                problems.append(
                    f"batch_size {self.batch_size} is not a multiple of pac {self.pac}; "
                    f"use e.g. {max(self.pac, self.batch_size // self.pac * self.pac)}"
                )
        if self.patience is not None and (not isinstance(self.patience, int) or self.patience < 1):
            problems.append(f"patience must be a positive integer or null, got {self.patience!r}")
        for name in ("dropout", "cond_dropout"):
            if not 0.0 <= float(getattr(self, name)) < 1.0:
                problems.append(f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        if self.precision not in PRECISIONS:
            problems.append(
                f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )
        if not float(self.lr) > 0 or not float(self.tau) > 0:
            problems.append("lr and tau must be positive")
        if problems:
            raise ModelError("invalid ctgan options", problems)


#: the batch size of the reference CTGAN, the most ``auto_batch_size`` takes
MAX_AUTO_BATCH = 500


def auto_batch_size(rows: int, pac: int) -> int:
    """The batch size when none is given: a tenth of the training rows (about ten steps an
    epoch on small tables, where batches of 500 would give one or two), a multiple of
    ``pac``, between ``pac`` and 500."""
    batch = min(rows // 10, MAX_AUTO_BATCH) // pac * pac
    return max(batch, pac)
