"""Training-by-sampling: condition vectors and the real rows that match them.

A condition picks one discrete column uniformly, then one of its categories (by log
frequency while training, by plain frequency when generating): one draw from a flat CDF
over all categories, whose mass is split evenly between the columns. The real batch is
drawn among the rows holding that category. Everything is index arithmetic on tensors:
per column the training rows sorted by category, and per category a start and a count
into that order, so a batch costs a few gathers whatever the number of categories.
"""

from __future__ import annotations

import numpy as np
import torch

from .transformer import DataTransformer


class ConditionSampler:
    def __init__(
        self,
        transformer: DataTransformer,
        slots: np.ndarray | None,
        device: torch.device,
        *,
        log_frequency: bool = True,
    ):
        """``slots``: the training rows' slot indices (None when only generating)."""
        spans = transformer.discrete_spans
        self.device = device
        self.cond_dim = transformer.cond_dim
        self.n_columns = len(spans)
        self.n_rows = 0 if slots is None else len(slots)
        if not spans:
            return
        masked = set(transformer.masked_slots().tolist())
        generate = [
            [0.0 if c.offset + i in masked else float(n) for i, n in enumerate(c.counts)]
            for c in spans
        ]
        self._generate_cdf = _cdf(generate, device)
        if slots is not None:
            self._fit_rows(slots, spans, log_frequency)

    def _fit_rows(self, slots: np.ndarray, spans, log_frequency: bool) -> None:
        n = len(slots)
        orders, counts = [], []
        for c in spans:
            codes = slots[:, c.span]
            orders.append(np.argsort(codes, kind="stable").astype(np.int32))
            counts.append(np.bincount(codes, minlength=c.width)[: c.width])
        starts = []
        for j, cnt in enumerate(counts):
            starts.append(j * n + np.concatenate([[0], np.cumsum(cnt)[:-1]]))
        self._rows = torch.from_numpy(np.concatenate(orders)).to(self.device)
        self._start = _tensor(np.concatenate(starts), self.device)
        self._count = _tensor(np.concatenate(counts), self.device)
        weights = [np.where(c > 0, np.log(c + 1.0) if log_frequency else c, 0.0) for c in counts]
        self._train_cdf = _cdf(weights, self.device)

    # -- conditions -----------------------------------------------------------------
    def _draw(self, cdf: torch.Tensor, n: int, g: torch.Generator) -> torch.Tensor:
        """Global category ids: one uniform, one binary search in the flat CDF."""
        u = torch.rand(n, generator=g, device=self.device, dtype=torch.float64)
        return torch.searchsorted(cdf, u, right=True)

    def one_hot(self, gid: torch.Tensor) -> torch.Tensor:
        cond = torch.zeros(len(gid), self.cond_dim, device=self.device)
        cond[torch.arange(len(gid), device=self.device), gid] = 1.0
        return cond

    def sample_train(self, n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(global category ids, matching training row ids), or None without discrete columns."""
        if not self.n_columns:
            return None
        gid = self._draw(self._train_cdf, n, g)
        u = torch.rand(n, generator=g, device=self.device)
        count = self._count[gid]
        pos = self._start[gid] + torch.minimum((u * count).long(), count - 1)
        return gid, self._rows[pos].long()

    def sample_generate(self, n: int, g: torch.Generator) -> torch.Tensor | None:
        """Global category ids drawn with the training frequencies (for generation)."""
        if not self.n_columns:
            return None
        return self._draw(self._generate_cdf, n, g)

    def uniform_rows(self, n: int, g: torch.Generator) -> torch.Tensor:
        return torch.randint(self.n_rows, (n,), generator=g, device=self.device)


def _tensor(values: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=np.int64), device=device)


def _cdf(weights: list, device: torch.device) -> torch.Tensor:
    """One CDF over every category of every column, in condition-vector order: a column
    uniformly, then a category in proportion to its weight (uniformly in a column without
    weight). The CDF is exactly 1 from the last category with weight on, so a uniform
    below 1 never lands on a weightless category."""
    probs = []
    for w in weights:
        w = np.asarray(w, dtype=np.float64)
        w = w if w.sum() > 0 else np.ones_like(w)
        probs.append(w / w.sum() / len(weights))
    p = np.concatenate(probs)
    cdf = np.cumsum(p)
    cdf[np.flatnonzero(p > 0)[-1] :] = 1.0
    return torch.as_tensor(cdf, dtype=torch.float64, device=device)
