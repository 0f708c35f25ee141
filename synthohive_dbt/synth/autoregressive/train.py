"""Training: cross-entropy on the training rows, early stopping on the validation rows.

Each epoch shuffles the training rows with the passed generator and takes Adam steps of
``batch_size`` rows; the validation rows' loss (no gradients) decides: an epoch that
improves it by more than ``MIN_IMPROVEMENT`` is kept (its weights copied), ``patience``
epochs without one halve the learning rate once and then stop training. The kept
weights are those of the best epoch, so a model never ends overfitted past it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from ...progress import EpochTrained, Reporter, TrainingDone
from .network import Network

#: relative improvement of the validation loss that counts as one
MIN_IMPROVEMENT = 1e-3


@dataclass(frozen=True)
class Schedule:
    epochs: int
    batch_size: int
    learning_rate: float
    patience: int
    weight_decay: float
    max_seconds: float | None
    dropout: float = 0.0


@dataclass
class TrainResult:
    epochs_run: int = 0
    best_epoch: int = 0
    best_loss: float | None = None
    stopped_early: bool = False
    history: list[dict[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Rows:
    """Token rows and their (standardised) context on the training device."""

    tokens: torch.Tensor
    context: torch.Tensor | None

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    def take(self, index: torch.Tensor) -> Rows:
        ctx = None if self.context is None else self.context[index]
        return Rows(self.tokens[index], ctx)


def train(
    net: Network,
    rows: Rows,
    validation: Rows,
    schedule: Schedule,
    generator: torch.Generator,
    reporter: Reporter,
    table: str,
) -> TrainResult:
    optimiser = torch.optim.AdamW(
        net.parameter_groups(schedule.weight_decay), lr=schedule.learning_rate
    )
    result = TrainResult()
    best_state = _snapshot(net)
    waited, reduced = 0, False
    started = time.perf_counter()
    for epoch in range(1, schedule.epochs + 1):
        tick = time.perf_counter()
        loss, steps = _epoch(net, optimiser, rows, schedule, generator)
        val_loss = validation_loss(net, validation, schedule.batch_size * 4)
        seconds = time.perf_counter() - tick
        result.epochs_run = epoch
        result.history.append({"epoch": epoch, "loss": loss, "validation_loss": val_loss})
        reporter.emit(EpochTrained(
            table, epoch, schedule.epochs, loss, val_loss,
            rows_per_s=len(rows) / max(seconds, 1e-9), seconds=seconds, steps=steps,
        ))  # fmt: skip
        best = result.best_loss
        if best is None or val_loss < best - MIN_IMPROVEMENT * abs(best):
            result.best_loss, result.best_epoch, waited = val_loss, epoch, 0
            best_state = _snapshot(net)
        else:
            waited += 1
        if waited >= schedule.patience:
            if reduced:
                result.stopped_early = True
                break
            reduced, waited = True, 0
            net.load_state_dict(best_state)  # resume from the best weights, slower
            for group in optimiser.param_groups:
                group["lr"] *= 0.5
        budget = schedule.max_seconds
        if budget is not None and time.perf_counter() - started > budget:
            result.stopped_early = epoch < schedule.epochs
            break
    net.load_state_dict(best_state)
    reporter.emit(TrainingDone(
        table, result.epochs_run, result.best_epoch, result.best_loss,
        stopped_early=result.stopped_early, seconds=time.perf_counter() - started,
    ))  # fmt: skip
    return result


def _epoch(
    net: Network,
    optimiser: torch.optim.Optimizer,
    rows: Rows,
    schedule: Schedule,
    generator: torch.Generator,
) -> tuple[float, int]:
    batch_size, dropout = schedule.batch_size, schedule.dropout
    net.train()
    order = torch.randperm(len(rows), generator=generator, device=rows.tokens.device)
    total, steps = 0.0, 0
    # the last partial batch joins the one before it (no tiny, noisy final step)
    n_batches = max(1, len(rows) // batch_size)
    for batch in torch.tensor_split(order, n_batches):
        part = rows.take(batch)
        loss = net.loss(part.tokens, part.context, dropout, generator)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        total += float(loss.detach()) * len(batch)
        steps += 1
    return total / max(len(rows), 1), steps


def validation_loss(net: Network, rows: Rows, batch_size: int) -> float:
    """Mean negative log-likelihood per row of ``rows`` (no gradients)."""
    net.eval()
    total = 0.0
    device = rows.tokens.device
    with torch.inference_mode():
        for start in range(0, len(rows), batch_size):
            index = torch.arange(start, min(start + batch_size, len(rows)), device=device)
            part = rows.take(index)
            total += float(net.loss(part.tokens, part.context)) * len(index)
    return total / max(len(rows), 1)


def _snapshot(net: Network) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in net.state_dict().items()}
