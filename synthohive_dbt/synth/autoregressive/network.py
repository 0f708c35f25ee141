"""The network: each column's token distribution given the columns before it.

Every column's token has an embedding. One masked linear layer (MADE, Germain et al.
2015) maps the concatenated embeddings to a hidden block per column that sees only the
columns before it; the parent context, when there is one, enters every block through a
small MLP. Each block then passes one residual layer of its own and its column's output
head. Training is one pass for all columns (teacher forcing: the real tokens are the
inputs); sampling runs column by column (``sampler.Sampler``).

Parameters are created on the device with a ``torch.Generator`` (no global RNG).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from .tokens import NUMBER, TokenSpec


def embedding_dim(vocab: int, cap: int) -> int:
    """Wider embeddings for columns with more tokens (about 2 * vocab^0.5, 4..cap)."""
    return int(min(cap, max(4, round(2.0 * math.sqrt(vocab)))))


class Network(nn.Module):
    """Autoregressive network over the token columns, in their given order."""

    def __init__(
        self,
        vocabs: Sequence[int],
        context_dim: int,
        *,
        positions: Sequence[Sequence[float] | None],
        hidden: int,
        embedding_cap: int,
        context_hidden: int,
        generator: torch.Generator,
        device: torch.device,
    ):
        super().__init__()
        self.vocabs = [int(v) for v in vocabs]
        self.dims = [embedding_dim(v, embedding_cap) for v in self.vocabs]
        self.hidden = int(hidden)
        self.context_dim = int(context_dim)
        cols, h = len(self.vocabs), self.hidden
        self.starts = list(itertools.accumulate(self.dims, initial=0))
        width = self.starts[-1]

        def param(*shape: int, fan_in: int) -> nn.Parameter:
            bound = 1.0 / math.sqrt(max(fan_in, 1))
            t = torch.empty(*shape, device=device)
            return nn.Parameter(t.uniform_(-bound, bound, generator=generator))

        self.embeddings = nn.ParameterList(
            [nn.Parameter(torch.randn(v, d, generator=generator, device=device) * 0.5)
             for v, d in zip(self.vocabs, self.dims, strict=True)]
        )  # fmt: skip
        self.w_in = param(width, cols * h, fan_in=max(width, 1))
        self.b_in = nn.Parameter(torch.zeros(cols * h, device=device))
        self.register_buffer("mask", _prefix_mask(self.dims, h, device))
        if self.context_dim:
            ch = int(context_hidden)
            self.w_ctx1 = param(self.context_dim, ch, fan_in=self.context_dim)
            self.b_ctx1 = nn.Parameter(torch.zeros(ch, device=device))
            self.w_ctx2 = param(ch, cols * h, fan_in=ch)
        self.w_mid = param(cols, h, h, fan_in=h)
        self.b_mid = nn.Parameter(torch.zeros(cols, 1, h, device=device))
        self.heads = nn.ParameterList([param(h, v, fan_in=h) for v in self.vocabs])
        self.head_bias = nn.ParameterList(
            [nn.Parameter(torch.zeros(v, device=device)) for v in self.vocabs]
        )
        # ordered tokens (number bins): a position in [-0.5, 0.5] per token (0 for null);
        # the embedding gets a learned direction times the position and the head a
        # low-rank term in (position, position^2), so shifts and spreads of a number's
        # distribution are learned from few rows
        self.ordered = {str(j): p for j, p in enumerate(positions) if p is not None}
        self.phi = nn.ParameterDict()  # buffers in effect (requires_grad False)
        self.directions = nn.ParameterDict()
        self.ordinal_heads = nn.ParameterDict()
        for key, pos in self.ordered.items():
            j = int(key)
            t = torch.tensor(list(pos), dtype=torch.float32, device=device)
            quad = t * t
            phi = torch.stack([t, quad - quad.mean()], dim=1)
            self.phi[key] = nn.Parameter(phi, requires_grad=False)
            self.directions[key] = nn.Parameter(
                torch.randn(self.dims[j], generator=generator, device=device)
            )
            self.ordinal_heads[key] = param(h, 2, fan_in=h)

    # -- shared pieces ------------------------------------------------------------------
    def context_part(self, context: torch.Tensor | None, n: int) -> torch.Tensor:
        """What the context (or nothing) adds to every block's pre-activation: (n, cols*h)."""
        base = self.b_in.expand(n, -1)
        if not self.context_dim or context is None:
            return base
        ctx = F.relu(context @ self.w_ctx1 + self.b_ctx1)
        return base + ctx @ self.w_ctx2

    def parameter_groups(self, weight_decay: float) -> list[dict]:
        """Optimiser groups: the per-token weights of number columns (embeddings, output
        heads) decay, so that with few rows their position terms carry the structure
        (a smooth shift and spread) and bin-by-bin detail needs evidence."""
        per_token = [p for key in self.ordered
                     for p in (self.embeddings[int(key)], self.heads[int(key)])]  # fmt: skip
        ids = {id(p) for p in per_token}
        rest = [p for p in self.parameters() if p.requires_grad and id(p) not in ids]
        return [{"params": per_token, "weight_decay": weight_decay},
                {"params": rest, "weight_decay": 0.0}]  # fmt: skip

    def embedding_table(self, j: int) -> torch.Tensor:
        """Column ``j``'s token embeddings (vocab, dim)."""
        key = str(j)
        if key not in self.ordered:
            return self.embeddings[j]
        return self.embeddings[j] + self.phi[key][:, :1] * self.directions[key]

    def head_weight(self, j: int) -> torch.Tensor:
        """Column ``j``'s output weight (h, vocab)."""
        key = str(j)
        if key not in self.ordered:
            return self.heads[j]
        return self.heads[j] + self.ordinal_heads[key] @ self.phi[key].T

    # -- training -----------------------------------------------------------------------
    def loss(
        self,
        tokens: torch.Tensor,
        context: torch.Tensor | None,
        dropout: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Mean over rows of the summed cross-entropy of every column (teacher forcing).
        ``dropout``: share of hidden units zeroed (training only), drawn from
        ``generator``."""
        n, h = tokens.shape[0], self.hidden
        x = torch.cat([self.embedding_table(j)[tokens[:, j]] for j in range(len(self.vocabs))], 1)
        pre = self.context_part(context, n) + x @ (self.w_in * self.mask)
        a = F.relu(pre.view(n, -1, h))
        if dropout > 0:
            keep = torch.rand(a.shape, generator=generator, device=a.device) >= dropout
            a = a * keep / (1.0 - dropout)
        a = a.transpose(0, 1)  # (cols, n, h)
        a = a + F.relu(torch.bmm(a, self.w_mid) + self.b_mid)
        total = tokens.new_zeros((), dtype=torch.float32)
        for j in range(len(self.vocabs)):
            logits = (a[j] @ self.head_weight(j) + self.head_bias[j]).float()
            total = total + F.cross_entropy(logits, tokens[:, j], reduction="sum")
        return total / n


def token_positions(specs: Sequence[TokenSpec]) -> list[list[float] | None]:
    """Positions in [-0.5, 0.5] of number columns' bins (their null token: 0)."""
    out: list[list[float] | None] = []
    for spec in specs:
        if spec.kind != NUMBER or spec.values < 2:
            out.append(None)
            continue
        pos = ((torch.arange(spec.values) + 0.5) / spec.values - 0.5).tolist()
        out.append(pos + [0.0] * int(spec.has_null))
    return out


def null_logit_masks(specs: Sequence[TokenSpec], device: torch.device) -> list:
    """-inf on the null token of not_null columns, so that they never sample null."""
    masks: list[torch.Tensor | None] = []
    for spec in specs:
        if spec.has_null and not spec.allow_null and spec.values > 0:
            m = torch.zeros(spec.vocab, device=device)
            m[spec.null_token] = float("-inf")
            masks.append(m)
        else:
            masks.append(None)
    return masks


def _prefix_mask(dims: Sequence[int], hidden: int, device: torch.device) -> torch.Tensor:
    """(sum dims, cols*hidden): embedding rows of column i feed the blocks of columns > i."""
    cols = len(dims)
    owner = torch.repeat_interleave(torch.arange(cols), torch.tensor(list(dims), dtype=torch.long))
    block = torch.arange(cols).repeat_interleave(hidden)
    return (owner[:, None] < block[None, :]).to(torch.float32).to(device)
