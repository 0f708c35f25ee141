"""WGAN-GP training with training-by-sampling, validation and best-epoch checkpoints.

Differences from the reference loop that matter for speed, none for the objective: the
fake batch of the critic step is generated without autograd (the reference back-propagates
into the generator and throws the gradients away), the critic scores real and fake rows in
one call, the penalty and the Wasserstein loss share one backward pass, the critic's
weights take no gradients during the generator step, the condition enters the generator as
a weight lookup instead of a one-hot product, batches are gathered from compact index
tensors on the device, and Adam runs as one fused kernel.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch

from ...progress import EpochEnded, Reporter, TrainingDone, Validated
from ..precision import autocast, compute_dtype
from .networks import Critic, Generator, activate, condition_loss, draw_slots, materialise
from .optim import Adam
from .options import CTGANConfig
from .sampler import ConditionSampler
from .transformer import DataTransformer, EncodedRows
from .validation import conditional_similarity, context_groups, similarity


@dataclass
class Holdout:
    """Codec values of the validation rows (one array per column) and their context."""

    values: list[np.ndarray]
    context: np.ndarray | None

    @cached_property
    def groups(self) -> list[np.ndarray] | None:
        """Rows of similar contexts, scored apart (None: score all rows together)."""
        return context_groups(self.context)


@dataclass
class TrainResult:
    generator: Generator
    epochs_run: int
    best_epoch: int
    best_score: float | None
    stopped_early: bool
    history: list[dict[str, float]] = field(default_factory=list)


def build_generator(config: CTGANConfig, transformer: DataTransformer, context_dim: int):
    """The generator, still on the meta device (``materialise`` allocates it)."""
    dense_dim = config.embedding_dim + context_dim
    return Generator(dense_dim, transformer.cond_dim, config.generator_dim, transformer.width)


def generation_mask(transformer: DataTransformer, device: torch.device) -> torch.Tensor:
    """0 or -inf per generator output: -inf for one-hot slots never to be generated."""
    mask = torch.zeros(transformer.width, device=device)
    mask[torch.as_tensor(transformer.masked_slots(), device=device)] = float("-inf")
    return mask


def generate(
    generator: Generator,
    transformer: DataTransformer,
    sampler: ConditionSampler,
    config: CTGANConfig,
    n: int,
    context: torch.Tensor | None,
    g: torch.Generator,
    *,
    use_condition: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` rows as (alpha float32, slots int64) in eval mode, without autograd."""
    device = sampler.device
    was_training = generator.training
    generator.eval()
    mask = generation_mask(transformer, device)
    dtype = compute_dtype(config.precision, device)
    alphas, slots = [], []
    try:
        with torch.inference_mode():
            folded = generator.folded(dtype, mask)
            for start in range(0, n, config.sample_batch):
                m = min(config.sample_batch, n - start)
                dense = torch.randn(m, config.embedding_dim, generator=g, device=device)
                if context is not None:
                    dense = torch.cat([dense, context[start : start + m]], dim=1)
                gid = sampler.sample_generate(m, g) if use_condition else None
                raw = generator.infer(folded, dense, gid)
                a, s = draw_slots(raw, transformer, g, dtype)
                alphas.append(a.cpu().numpy())
                slots.append(s.cpu().numpy())
    finally:
        generator.train(was_training)
    if not alphas:
        return (
            np.zeros((0, transformer.n_alpha), np.float32),
            np.zeros((0, len(transformer.spans)), np.int64),
        )
    return np.concatenate(alphas), np.concatenate(slots)


class Trainer:
    """One table's GAN: data tensors, condition sampler, networks and optimisers."""

    def __init__(
        self,
        config: CTGANConfig,
        transformer: DataTransformer,
        rows: EncodedRows,
        context: np.ndarray | None,
        device: torch.device,
        g: torch.Generator,
    ):
        self.config, self.transformer, self.device, self.g = config, transformer, device, g
        self.dtype = compute_dtype(config.precision, device)
        self.alpha = torch.from_numpy(rows.alpha).to(device)
        self.slots = torch.from_numpy(rows.slots).to(device)
        self.offsets = torch.as_tensor([c.offset for c in transformer.spans], device=device)
        self.context = None if context is None else _float_tensor(context, device)
        self.sampler = ConditionSampler(
            transformer, rows.slots, device, log_frequency=config.log_frequency
        )
        context_dim = 0 if context is None else context.shape[1]
        self.generator = materialise(build_generator(config, transformer, context_dim), device, g)
        critic = Critic(
            transformer.width + transformer.cond_dim + context_dim,
            config.discriminator_dim,
            config.pac,
            config.dropout,
        )
        self.critic = materialise(critic, device, g)
        self.opt_g = self._adam(self.generator)
        self.opt_d = self._adam(self.critic)
        # with a context, some rows train unconditioned: generation then needs no condition
        self.cond_dropout = (
            config.cond_dropout if context is not None and self.sampler.n_columns else 0.0
        )

    def _adam(self, module: torch.nn.Module) -> Adam:
        c = self.config
        return Adam(module.parameters(), lr=c.lr, betas=tuple(c.betas), weight_decay=c.weight_decay)

    # -- batches ----------------------------------------------------------------------
    def real_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """Expand compact training rows into data vectors (alphas + one-hot slots)."""
        x = torch.zeros(len(rows), self.transformer.width, device=self.device)
        x[:, : self.transformer.n_alpha] = self.alpha[rows]
        x.scatter_(1, self.slots[rows].long() + self.offsets, 1.0)
        return x

    def conditions(self, n: int):
        """(condition one-hot or None, category ids, row ids, conditioned-row weight)."""
        drawn = self.sampler.sample_train(n, self.g)
        if drawn is None:
            return None, None, self.sampler.uniform_rows(n, self.g), None
        gid, rows = drawn
        if not self.cond_dropout:
            return self.sampler.one_hot(gid), gid, rows, torch.ones(n, device=self.device)
        drop = torch.rand(n, generator=self.g, device=self.device) < self.cond_dropout
        rows = torch.where(drop, self.sampler.uniform_rows(n, self.g), rows)
        weight = (~drop).float()
        return self.sampler.one_hot(gid) * weight.unsqueeze(1), gid, rows, weight

    def _fake(self, gid, weight, rows) -> torch.Tensor:
        """Raw generator output for a batch conditioned on ``gid`` and the rows' context."""
        n = len(rows)
        dense = torch.randn(n, self.config.embedding_dim, generator=self.g, device=self.device)
        if self.context is not None:
            dense = torch.cat([dense, self.context[rows]], dim=1)
        with autocast(self.device, self.dtype):
            raw = self.generator(dense, gid, None if not self.cond_dropout else weight)
        return raw.float()

    def _critic(self, x: torch.Tensor) -> torch.Tensor:
        with autocast(self.device, self.dtype):
            return self.critic(x, self.g).float()

    def _extras(self, cond, rows) -> list[torch.Tensor]:
        extras = [] if cond is None else [cond]
        if self.context is not None:
            extras.append(self.context[rows])
        return extras

    # -- steps ------------------------------------------------------------------------
    def _discriminator_step(self) -> torch.Tensor:
        c, n = self.config, self.config.batch_size
        cond, gid, rows, weight = self.conditions(n)
        with torch.no_grad():
            fake = activate(self._fake(gid, weight, rows), self.transformer, c.tau, self.g)
        perm = torch.randperm(n, generator=self.g, device=self.device)
        real_cond = None if cond is None else cond[perm]
        real = torch.cat([self.real_rows(rows[perm]), *self._extras(real_cond, rows[perm])], 1)
        fake = torch.cat([fake, *self._extras(cond, rows)], dim=1)
        groups = n // c.pac
        eps = torch.rand(groups, 1, 1, generator=self.g, device=self.device)
        eps = eps.expand(groups, c.pac, real.shape[1]).reshape(n, -1)
        mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
        y_real, y_fake = self._critic(torch.cat([real, fake])).split(groups)
        y_mixed = self._critic(mixed)
        grad = torch.autograd.grad(y_mixed.sum(), mixed, create_graph=True)[0]
        penalty = ((grad.reshape(groups, -1).norm(2, dim=1) - 1) ** 2).mean() * c.gp_lambda
        loss = y_fake.mean() - y_real.mean()
        self.opt_d.zero_grad()
        (loss + penalty).backward()
        self.opt_d.step()
        return loss.detach()

    def _generator_step(self) -> torch.Tensor:
        cond, gid, rows, weight = self.conditions(self.config.batch_size)
        raw = self._fake(gid, weight, rows)
        fake = activate(raw, self.transformer, self.config.tau, self.g)
        self.critic.requires_grad_(False)
        try:
            y_fake = self._critic(torch.cat([fake, *self._extras(cond, rows)], dim=1))
        finally:
            self.critic.requires_grad_(True)
        loss = -y_fake.mean()
        if gid is not None:
            loss = loss + condition_loss(raw, self.transformer, gid, weight)
        self.opt_g.zero_grad()
        loss.backward()
        self.opt_g.step()
        return loss.detach()

    def epoch(self) -> tuple[float, float]:
        steps = self.steps_per_epoch()
        loss_d = loss_g = torch.zeros(())
        for _ in range(steps):
            for _ in range(self.config.discriminator_steps):
                loss_d = self._discriminator_step()
            loss_g = self._generator_step()
        return float(loss_g), float(loss_d)

    def steps_per_epoch(self) -> int:
        return max(len(self.slots) // self.config.batch_size, 1)

    def rows_per_epoch(self) -> int:
        return self.steps_per_epoch() * self.config.batch_size

    def validate(self, holdout: Holdout) -> float:
        n = len(holdout.values[0])
        context = None if holdout.context is None else _float_tensor(holdout.context, self.device)
        alpha, slots = generate(
            self.generator,
            self.transformer,
            self.sampler,
            self.config,
            n,
            context,
            self.g,
            use_condition=not self.cond_dropout,
        )
        fake = self.transformer.decode(alpha, slots, n)
        if holdout.groups is None:
            return similarity(holdout.values, fake, self.transformer.layouts)
        return conditional_similarity(
            holdout.values, fake, self.transformer.layouts, holdout.groups
        )


def train(trainer: Trainer, holdout: Holdout, reporter: Reporter, table: str) -> TrainResult:
    """Run the epochs; keep the generator weights of the best validation score."""
    c = trainer.config
    best_state, best_score, best_epoch, stale = None, -np.inf, 0, 0
    history: list[dict[str, float]] = []
    started = time.perf_counter()
    epoch = 0
    stopped = False
    for epoch in range(1, c.epochs + 1):
        t0 = time.perf_counter()
        loss_g, loss_d = trainer.epoch()
        seconds = time.perf_counter() - t0
        elapsed = time.perf_counter() - started
        record = {"epoch": epoch, "loss_g": loss_g, "loss_d": loss_d, "seconds": seconds}
        reporter.emit(
            EpochEnded(
                table,
                epoch,
                c.epochs,
                loss_g=loss_g,
                loss_d=loss_d,
                rows_per_s=trainer.rows_per_epoch() / max(seconds, 1e-9),
                eta_s=elapsed / epoch * (c.epochs - epoch),
                seconds=seconds,
                steps=trainer.steps_per_epoch(),
            )
        )
        if epoch % c.validate_every == 0 or epoch == c.epochs:
            score = trainer.validate(holdout)
            improved = score > best_score
            if improved:
                best_score, best_epoch, stale = score, epoch, 0
                best_state = _snapshot(trainer.generator)
            else:
                stale += 1
            record["score"] = score
            reporter.emit(
                Validated(
                    table,
                    epoch,
                    float(score),
                    improved=improved,
                    best_score=float(best_score),
                    best_epoch=best_epoch,
                )
            )
            if c.patience is not None and stale >= c.patience and epoch < c.epochs:
                stopped = True
                history.append(record)
                break
        history.append(record)
    if best_state is not None:
        trainer.generator.load_state_dict(best_state)
    result = TrainResult(
        trainer.generator,
        epoch,
        best_epoch,
        None if best_state is None else float(best_score),
        stopped,
        history,
    )
    reporter.emit(
        TrainingDone(
            table,
            epochs_run=epoch,
            best_epoch=best_epoch,
            best_score=result.best_score,
            stopped_early=stopped,
            seconds=time.perf_counter() - started,
        )
    )
    return result


def _snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _float_tensor(values: np.ndarray | Sequence, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.float32), device=device)
