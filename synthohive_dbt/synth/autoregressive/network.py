"""The network: each column's token distribution given the columns before it.

Every column's token has an embedding. One masked linear layer (MADE, Germain et al.
2015) maps the concatenated embeddings to a hidden block per column that sees only the
columns before it; the parent context, when there is one, enters every block through a
small MLP. Each block then passes one residual layer of its own and its column's output
head. Training is one pass for all columns (teacher forcing: the real tokens are the
inputs); sampling runs column by column and adds each sampled column's contribution to
the later blocks only (``Sampler``), so a column costs one product with its slice of
the masked weight.

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

# a draw's total below this (every logit under about -69) is redone with the maximum subtracted
_SMALLEST_TOTAL = 1e-30
_LOG2_E = 1.0 / math.log(2.0)


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


class Sampler:
    """Column-by-column sampling, vectorised over rows.

    The first (masked) layer becomes lookup tables: token ``t`` of column ``i`` adds
    ``embedding_i[t] @ w_in[rows of i, block j]`` to the pre-activation of every later
    block ``j``, so a block's pre-activation is one ``embedding_bag`` sum over the tokens
    sampled before it (its bias folded into the rows of the first column). The hidden
    units sit in a work buffer whose last column is constant 1, so the later layers'
    biases are the last rows of their weights (no bias copies); those layers run in
    ``dtype``, the products' type. Output heads are in base 2 and padded to a multiple of
    16 outputs (``_head``); the draws run in float32 (``_draw``)."""

    def __init__(
        self,
        net: Network,
        null_masks: Sequence[torch.Tensor | None],
        dtype: torch.dtype = torch.float32,
    ):
        self.net, self.dtype = net, dtype
        h, cols = net.hidden, len(net.vocabs)

        def cast(t: torch.Tensor) -> torch.Tensor:
            return t.detach().to(dtype).contiguous()

        weight = (net.w_in * net.mask).detach()
        embeddings = [net.embedding_table(j).detach() for j in range(cols)]
        self.offsets = list(itertools.accumulate(net.vocabs, initial=0))
        self.bias0 = net.b_in[:h].detach().contiguous()
        self.tables: list[torch.Tensor | None] = [None]
        for j in range(1, cols):
            block = weight[:, j * h : (j + 1) * h]
            parts = [embeddings[i] @ block[net.starts[i] : net.starts[i + 1]] for i in range(j)]
            parts[0] = parts[0] + net.b_in[j * h : (j + 1) * h].detach()
            self.tables.append(torch.cat(parts).contiguous())
        self.mid = [cast(torch.cat([net.w_mid[j], net.b_mid[j]])) for j in range(cols)]
        self.heads = [cast(_head(net, j, mask)) for j, mask in enumerate(null_masks)]
        if net.context_dim:
            self.ctx1 = (cast(net.w_ctx1), cast(net.b_ctx1))
            self.ctx2 = [cast(net.w_ctx2[:, j * h : (j + 1) * h]) for j in range(cols)]

    def sample(
        self, n: int, context: torch.Tensor | None, generator: torch.Generator
    ) -> torch.Tensor:
        net = self.net
        device, h, cols = net.b_in.device, net.hidden, len(net.vocabs)
        ctx = None
        if net.context_dim and context is not None:
            ctx = F.relu(torch.addmm(self.ctx1[1], context.to(self.dtype), self.ctx1[0]))
        uniforms = torch.rand((cols, n, 1), generator=generator, device=device)
        # sampled tokens, each shifted by its column's offset into the lookup tables
        index = torch.empty((n, cols), dtype=torch.long, device=device)
        # work space reused by every column (fresh large tensors cost page faults)
        units = torch.empty((n, h + 1), dtype=self.dtype, device=device)
        units[:, h] = 1.0
        a = units[:, :h]
        hidden = torch.empty((n, h), dtype=self.dtype, device=device)
        logits = torch.empty(n * max(w.shape[1] for w in self.heads), dtype=self.dtype,
                             device=device)  # fmt: skip
        cdf = torch.empty(n * max(net.vocabs), dtype=torch.float32, device=device)
        for j in range(cols):
            if j:
                pre = F.embedding_bag(index[:, :j].contiguous(), self.tables[j], mode="sum")
            else:
                pre = self.bias0.expand(n, -1)
            pre = pre.to(self.dtype)
            if ctx is not None:
                pre = pre.addmm(ctx, self.ctx2[j])
            torch.clamp_min(pre, 0.0, out=a)
            a.add_(torch.mm(units, self.mid[j], out=hidden).relu_())
            v, width = net.vocabs[j], self.heads[j].shape[1]
            out = torch.mm(units, self.heads[j], out=logits[: n * width].view(n, width))
            token = _draw(out[:, :v].float(), cdf[: n * v].view(n, v), uniforms[j])
            index[:, j : j + 1] = token.clamp_(max=v - 1).add_(self.offsets[j])
        return index.sub_(torch.tensor(self.offsets[:-1], device=device))


def _head(net: Network, j: int, null_mask: torch.Tensor | None) -> torch.Tensor:
    """Column ``j``'s output weight with its bias as the last row: (hidden + 1, width), in
    base 2 (exp2 costs about half of exp), -inf on a null token that may not be sampled,
    zero-padded to a width that is a multiple of 16 (CPU matrix products of such widths
    run up to 3x faster)."""
    bias = net.head_bias[j].detach()
    if null_mask is not None:
        bias = bias + null_mask
    weight = torch.cat([net.head_weight(j).detach(), bias[None]]) * _LOG2_E
    return F.pad(weight, (0, -net.vocabs[j] % 16))


def _draw(logits: torch.Tensor, cdf: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """One token per row of base-2 ``logits`` (rows, vocab) for the uniform draws
    ``uniform`` (rows, 1): (rows, 1); ``cdf`` is work space of the logits' shape (float32).
    Inverse CDF of the unnormalised probabilities ``2**logits``, the draw scaled by their
    total. The logits' maximum is not subtracted (a pass saved) unless some row's total
    overflowed or underflowed; those rows are redone with it."""
    torch.exp2(logits, out=cdf).cumsum_(dim=1)
    total = cdf[:, -1:]
    low, high = torch.aminmax(total)  # NaN propagates: the check fails
    if not (float(low) > _SMALLEST_TOTAL and float(high) < math.inf):
        bad = ~(torch.isfinite(total) & (total > _SMALLEST_TOTAL))
        rows = bad.squeeze(1).nonzero().squeeze(1)
        redo = logits[rows]
        cdf[rows] = redo.sub_(redo.amax(dim=1, keepdim=True)).exp2_().cumsum_(dim=1)
    return torch.searchsorted(cdf, uniform * cdf[:, -1:])


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
