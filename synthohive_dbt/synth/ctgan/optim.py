"""Adam (with L2 weight decay, as ``torch.optim.Adam``) in a few multi-tensor operations.

``torch.optim`` imports torch's compiler stack on first use (seconds per process, which
every ``synthohive fit`` and every test subprocess would pay) and takes its per-tensor
path on CPU. This calls the fused kernel behind ``torch.optim.Adam(fused=True)`` (one
pass over each parameter; CPU and CUDA) and falls back to the ``foreach`` update rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch


class Adam:
    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float,
        betas: tuple[float, float],
        weight_decay: float = 0.0,
        eps: float = 1e-8,
    ):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.weight_decay, self.eps = lr, betas, weight_decay, eps
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.steps = 0
        self._step_counts = [torch.zeros((), device=p.device) for p in self.params]
        self._fused = hasattr(torch, "_fused_adam_")

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        beta1, beta2 = self.betas
        self.steps += 1
        grads = [p.grad for p in self.params]
        if self._fused:
            torch._foreach_add_(self._step_counts, 1.0)
            torch._fused_adam_(
                self.params, grads, self.exp_avg, self.exp_avg_sq, [], self._step_counts,
                lr=self.lr, beta1=beta1, beta2=beta2, weight_decay=self.weight_decay,
                eps=self.eps, amsgrad=False, maximize=False,
            )  # fmt: skip
            return
        if self.weight_decay:
            grads = torch._foreach_add(grads, self.params, alpha=self.weight_decay)
        torch._foreach_lerp_(self.exp_avg, grads, 1 - beta1)
        torch._foreach_mul_(self.exp_avg_sq, beta2)
        torch._foreach_addcmul_(self.exp_avg_sq, grads, grads, 1 - beta2)
        step_size = self.lr / (1 - beta1**self.steps)
        denom = torch._foreach_sqrt(self.exp_avg_sq)
        torch._foreach_div_(denom, math.sqrt(1 - beta2**self.steps))
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(self.params, self.exp_avg, denom, value=-step_size)
