"""Sampling from the trained network, column by column, vectorised over rows.

The network is rewritten once per ``sample()`` call into a form that draws exactly the
same distribution with less work:

- the masked first layer becomes lookup tables: token ``t`` of column ``i`` adds
  ``embedding_i[t] @ w_in[rows of i, block j]`` to the pre-activation of every later
  block ``j``, so a block's pre-activation is one ``embedding_bag`` sum over the tokens
  drawn before it (its bias folded into the rows of the first column);
- the hidden units sit in a work buffer whose last column is constant 1, so the later
  layers' biases are the last rows of their weights (no bias copies);
- output heads are in base 2 (``exp2`` costs about half of ``exp``) and padded to a
  multiple of 16 outputs (CPU matrix products of such widths run up to 3x faster);
- without parent context, a leading column whose prefixes (the token combinations of
  the columns before it) are at most half the rows to draw gets its CDF computed once
  per prefix; its rows then gather their CDF instead of running the network
  (``prefix tables``);
- draws use the unnormalised CDF of ``2**logits`` with the uniform scaled by the total;
  the logits' maximum is subtracted only for rows whose total overflowed or underflowed.

Work buffers are reused across chunks (fresh large tensors cost page faults).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch.nn import functional as F

from .network import Network

# a draw's total below this (every logit under about -69) is redone with the maximum subtracted
_SMALLEST_TOTAL = 1e-30
_LOG2_E = 1.0 / math.log(2.0)
# a prefix table holds at most this many CDF values (float32: 64 MiB)
_PREFIX_TABLE_CELLS = 1 << 24


class Sampler:
    """Draws token rows from ``net`` (``sample``); ``rows``: how many rows the caller
    will draw in all (prefix tables are built only where they save work)."""

    def __init__(
        self,
        net: Network,
        null_masks: Sequence[torch.Tensor | None],
        dtype: torch.dtype = torch.float32,
        *,
        rows: int = 0,
    ):
        self.net, self.dtype = net, dtype
        self.device = net.b_in.device
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
        self._work: dict[str, torch.Tensor] = {}
        self.prefix_cdfs = [] if net.context_dim else self._prefix_tables(rows)

    # -- drawing ------------------------------------------------------------------------
    def sample(
        self, n: int, context: torch.Tensor | None, generator: torch.Generator
    ) -> torch.Tensor:
        """(n, columns) tokens; ``context`` (n, context_dim) when the network has one."""
        net, cols = self.net, len(self.net.vocabs)
        ctx = None
        if net.context_dim and context is not None:
            ctx = F.relu(torch.addmm(self.ctx1[1], context.to(self.dtype), self.ctx1[0]))
        uniforms = torch.rand((cols, n, 1), generator=generator, device=self.device)
        # drawn tokens, each shifted by its column's offset into the lookup tables
        index = torch.empty((n, cols), dtype=torch.long, device=self.device)
        prefix = torch.zeros(n, dtype=torch.long, device=self.device)
        for j in range(cols):
            v = net.vocabs[j]
            if j < len(self.prefix_cdfs):
                cdf = torch.index_select(self.prefix_cdfs[j], 0, prefix, out=self._cdf(n, v))
            else:
                cdf = self._column_cdf(j, index[:, :j], ctx)
            token = torch.searchsorted(cdf, uniforms[j] * cdf[:, -1:]).clamp_(max=v - 1)
            if j + 1 < len(self.prefix_cdfs):
                prefix.mul_(v).add_(token.squeeze(1))
            index[:, j : j + 1] = token.add_(self.offsets[j])
        return index.sub_(torch.tensor(self.offsets[:-1], device=self.device))

    def _column_cdf(self, j: int, index: torch.Tensor, ctx: torch.Tensor | None) -> torch.Tensor:
        """Unnormalised CDF (n, vocab) of column ``j`` given the offset tokens before it."""
        n, h, v = index.shape[0], self.net.hidden, self.net.vocabs[j]
        fresh = "units" not in self._work or self._work["units"].numel() < n * (h + 1)
        units = self._buffer("units", n, h + 1, self.dtype)  # hidden units, a constant 1
        if fresh:
            units[:, h] = 1.0
        a = units[:, :h]
        if j:
            pre = F.embedding_bag(index.contiguous(), self.tables[j], mode="sum")
        else:
            pre = self.bias0.expand(n, -1)
        pre = pre.to(self.dtype)
        if ctx is not None:
            pre = pre.addmm(ctx, self.ctx2[j])
        torch.clamp_min(pre, 0.0, out=a)
        hidden = self._buffer("hidden", n, h, self.dtype)
        a.add_(torch.mm(units, self.mid[j], out=hidden).relu_())
        width = self.heads[j].shape[1]
        logits = torch.mm(units, self.heads[j], out=self._buffer("logits", n, width, self.dtype))
        return _cdf(logits[:, :v].float(), self._cdf(n, v))

    def _prefix_tables(self, rows: int) -> list[torch.Tensor]:
        """CDFs per prefix for the leading columns whose prefixes are at most ``rows``:
        row ``p`` of table ``j`` is the CDF for the prefix whose mixed-radix number (the
        columns before ``j`` as digits) is ``p``."""
        out: list[torch.Tensor] = []
        count = 1
        for j, v in enumerate(self.net.vocabs):
            if 2 * count > rows or count * v > _PREFIX_TABLE_CELLS:
                break
            digits = [torch.arange(self.net.vocabs[i], device=self.device) + self.offsets[i]
                      for i in range(j)]  # fmt: skip
            grid = torch.cartesian_prod(*digits).view(count, j) if j else None
            table = torch.empty((count, v), dtype=torch.float32, device=self.device)
            for start in range(0, count, 4096):
                stop = min(start + 4096, count)
                part = grid[start:stop] if j else torch.empty((1, 0), dtype=torch.long)
                table[start:stop] = self._column_cdf(j, part, None)
            out.append(table)
            count *= v
        self._work.clear()  # sized for the tables; chunks size their own
        return out

    def _buffer(self, name: str, n: int, width: int, dtype: torch.dtype) -> torch.Tensor:
        """A reused (n, width) work tensor (contiguous), grown when too small."""
        buf = self._work.get(name)
        if buf is None or buf.numel() < n * width or buf.dtype != dtype:
            buf = self._work[name] = torch.empty(n * width, dtype=dtype, device=self.device)
        return buf[: n * width].view(n, width)

    def _cdf(self, n: int, v: int) -> torch.Tensor:
        return self._buffer("cdf", n, v, torch.float32)


def _head(net: Network, j: int, null_mask: torch.Tensor | None) -> torch.Tensor:
    """Column ``j``'s output weight with its bias as the last row: (hidden + 1, width), in
    base 2, -inf on a null token that may not be drawn, zero-padded to a width that is a
    multiple of 16."""
    bias = net.head_bias[j].detach()
    if null_mask is not None:
        bias = bias + null_mask
    weight = torch.cat([net.head_weight(j).detach(), bias[None]]) * _LOG2_E
    return F.pad(weight, (0, -net.vocabs[j] % 16))


def _cdf(logits: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """The unnormalised CDF of ``2**logits`` (rows, vocab) into ``out`` (float32, same
    shape). The logits' maximum is not subtracted (a pass saved) unless some row's total
    overflowed or underflowed; those rows are redone with it."""
    torch.exp2(logits, out=out).cumsum_(dim=1)
    total = out[:, -1:]
    low, high = torch.aminmax(total)  # NaN propagates: the check fails
    if not (float(low) > _SMALLEST_TOTAL and float(high) < math.inf):
        bad = ~(torch.isfinite(total) & (total > _SMALLEST_TOTAL))
        rows = bad.squeeze(1).nonzero().squeeze(1)
        redo = logits[rows]
        out[rows] = redo.sub_(redo.amax(dim=1, keepdim=True)).exp2_().cumsum_(dim=1)
    return out
