"""Generator (residual blocks) and PacGAN critic, plus the fused output activation.

Modules are built on the ``meta`` device and initialised from an explicit
``torch.Generator``: constructing them never touches torch's global random state, and
the critic's dropout draws its masks from the same explicit generator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .transformer import DataTransformer

_EPS = 1e-10


class Residual(nn.Module):
    """Linear -> BatchNorm -> ReLU, concatenated with its input (as in CTGAN)."""

    def __init__(self, i: int, o: int):
        super().__init__()
        self.fc = nn.Linear(i, o, device="meta")
        self.bn = nn.BatchNorm1d(o, device="meta")


class Generator(nn.Module):
    """CTGAN's residual generator over the input ``[noise, context, condition one-hot]``.

    The condition is passed as category ids (``gid``), never as a one-hot matrix: its
    share of every layer is a row lookup in the weight (``embedding``), which saves the
    multiplications by zero that make up a quarter of the generator's work. The weights
    are those of the dense network, so the maths is the same.
    """

    def __init__(self, dense_dim: int, cond_dim: int, dims: Sequence[int], data_dim: int):
        super().__init__()
        self.cond_dim = cond_dim
        blocks, dim = [], dense_dim + cond_dim
        for width in dims:
            blocks.append(Residual(dim, width))
            dim += width
        self.blocks = nn.ModuleList(blocks)
        self.out = nn.Linear(dim, data_dim, device="meta")

    def forward(
        self,
        dense: torch.Tensor,
        gid: torch.Tensor | None = None,
        weight: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``dense``: noise and context; ``gid``/``weight``: condition ids and their 0/1 weight."""
        h = dense
        for block in self.blocks:
            pre = self._linear(block.fc, h, gid, weight)
            h = torch.cat([F.relu(block.bn(pre)), h], dim=1)
        return self._linear(self.out, h, gid, weight)

    @torch.no_grad()
    def folded(self) -> list[FoldedLayer]:
        """Weights for ``infer``: eval-mode batch norm folded into its linear layer, the
        input columns split per input piece (no concatenation at run time) and the
        condition columns kept as a lookup table."""
        layers = [(b.fc, b.bn) for b in self.blocks] + [(self.out, None)]
        dense_dim = layers[0][0].in_features - self.cond_dim
        folded, widths = [], []
        for fc, bn in layers:
            w, b = fc.weight, fc.bias
            if bn is not None:
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                w, b = w * scale.unsqueeze(1), (b - bn.running_mean) * scale + bn.bias
            # this layer reads [o_(l-1), ..., o_0, dense, condition]
            blocks, start = [], 0
            for width in [*widths[::-1], dense_dim]:
                blocks.append(w[:, start : start + width].t().contiguous())
                start += width
            table = w[:, start:].t().contiguous() if self.cond_dim else None
            folded.append(FoldedLayer(blocks, table, b.contiguous()))
            widths.append(fc.out_features)
        return folded

    @staticmethod
    def infer(
        layers: list[FoldedLayer], dense: torch.Tensor, gid: torch.Tensor | None
    ) -> torch.Tensor:
        """Eval-mode forward with ``folded()`` weights (same result as ``forward``)."""
        pieces = [dense]
        out = dense
        for i, layer in enumerate(layers):
            out = torch.addmm(layer.bias, pieces[0], layer.blocks[0])
            for piece, block in zip(pieces[1:], layer.blocks[1:], strict=True):
                out.addmm_(piece, block)
            if layer.table is not None and gid is not None:
                out += layer.table[gid]
            if i < len(layers) - 1:
                pieces.insert(0, out.relu_())
        return out

    def _linear(self, fc: nn.Linear, x, gid, weight) -> torch.Tensor:
        k = self.cond_dim
        if not k:
            return fc(x)
        y = F.linear(x, fc.weight[:, :-k], fc.bias)
        if gid is None:  # an all-zero condition adds nothing
            return y
        picked = F.embedding(gid, fc.weight[:, -k:].t())
        return y + (picked if weight is None else picked * weight.unsqueeze(1))


@dataclass(frozen=True)
class FoldedLayer:
    """One generator layer for inference: weight block per input piece, condition table."""

    blocks: list[torch.Tensor]  # (piece width, layer width), pieces newest first
    table: torch.Tensor | None  # (cond_dim, layer width)
    bias: torch.Tensor


class Critic(nn.Module):
    """Scores groups of ``pac`` rows; dropout masks come from the generator passed in."""

    def __init__(self, input_dim: int, dims: Sequence[int], pac: int, dropout: float):
        super().__init__()
        self.pac, self.input_dim, self.p = pac, input_dim, dropout
        layers, dim = [], input_dim * pac
        for width in dims:
            layers.append(nn.Linear(dim, width, device="meta"))
            dim = width
        self.layers = nn.ModuleList(layers)
        self.out = nn.Linear(dim, 1, device="meta")

    def forward(self, x: torch.Tensor, g: torch.Generator | None = None) -> torch.Tensor:
        h = x.reshape(-1, self.pac * self.input_dim)
        for layer in self.layers:
            h = F.leaky_relu(layer(h), 0.2)
            if self.training and self.p > 0 and g is not None:
                keep = torch.rand(h.shape, generator=g, device=h.device) >= self.p
                h = h * keep / (1.0 - self.p)
        return self.out(h)


def materialise(module: nn.Module, device: torch.device, g: torch.Generator | None) -> nn.Module:
    """Allocate a meta-built module on ``device``; initialise it like torch would, from ``g``.

    With ``g`` None the parameters stay uninitialised (they are about to be loaded).
    """
    module = module.to_empty(device=device)
    if g is None:
        return module
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=g)
                bound = 1.0 / math.sqrt(m.in_features)
                nn.init.uniform_(m.bias, -bound, bound, generator=g)
            elif isinstance(m, nn.BatchNorm1d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
                m.reset_running_stats()
    return module


def gumbel(shape: torch.Size | tuple[int, ...], g: torch.Generator, device) -> torch.Tensor:
    u = torch.rand(shape, generator=g, device=device)
    return -torch.log(-torch.log(u + _EPS) + _EPS)


def activate(
    raw: torch.Tensor, transformer: DataTransformer, tau: float, g: torch.Generator
) -> torch.Tensor:
    """tanh on alphas, gumbel-softmax on every one-hot span, one call per width group."""
    n, a = raw.shape[0], transformer.n_alpha
    noisy = (raw[:, a:] + gumbel((n, raw.shape[1] - a), g, raw.device)) / tau
    parts = [torch.tanh(raw[:, :a])]
    for grp in transformer.groups:
        block = noisy[:, grp.start - a : grp.stop - a].reshape(n, grp.count, grp.width)
        parts.append(torch.softmax(block, dim=-1).reshape(n, -1))
    return torch.cat(parts, dim=1)


def condition_loss(
    raw: torch.Tensor, transformer: DataTransformer, gid: torch.Tensor, weight: torch.Tensor
) -> torch.Tensor:
    """Cross-entropy of the conditioned category, summed over rows, divided by batch size."""
    n = raw.shape[0]
    parts = []
    for grp in transformer.groups:
        if grp.discrete:
            block = raw[:, grp.start : grp.stop].reshape(n, grp.count, grp.width)
            parts.append(torch.log_softmax(block, dim=-1).reshape(n, -1))
    log_p = torch.cat(parts, dim=1)
    nll = -log_p.gather(1, gid.unsqueeze(1)).squeeze(1)
    return (nll * weight).sum() / n


def draw_slots(
    raw: torch.Tensor, transformer: DataTransformer, mask: torch.Tensor, g: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generation: (tanh alphas, one slot per span) with slots drawn from the softmax.

    One uniform per span, inverted through the span's cumulative softmax; ``mask`` (0 or
    -inf per one-hot position) removes slots that must never be generated.
    """
    n, a = raw.shape[0], transformer.n_alpha
    logits = raw[:, a:] + mask
    slots = []
    for grp in transformer.groups:
        if grp.width == 1:
            slots.append(torch.zeros(n, grp.count, dtype=torch.long, device=raw.device))
            continue
        block = logits[:, grp.start - a : grp.stop - a].reshape(n, grp.count, grp.width)
        cdf = torch.softmax(block, dim=-1).cumsum_(dim=-1)
        u = torch.rand(n, grp.count, 1, generator=g, device=raw.device) * cdf[..., -1:]
        slots.append((cdf <= u).sum(dim=-1).clamp_(max=grp.width - 1))
    empty = torch.zeros(n, 0, dtype=torch.long, device=raw.device)
    return torch.tanh(raw[:, :a]), torch.cat(slots, dim=1) if slots else empty
