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
_TINY = 1e-30  # a span total below this is redone with its own maximum


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
    def folded(
        self, dtype: torch.dtype = torch.float32, mask: torch.Tensor | None = None
    ) -> FoldedNetwork:
        """Weights for ``infer``, in ``dtype``: eval-mode batch norm folded into its linear
        layer, the condition columns kept as a lookup table, the output layer padded
        with zero columns to a multiple of 32 (matrix units run whole tiles). ``mask``
        (0 or -inf per output) is added to the output bias: outputs that must never be
        drawn come out as -inf."""
        layers = [(b.fc, b.bn) for b in self.blocks] + [(self.out, None)]
        folded = []
        for fc, bn in layers:
            w, b = fc.weight, fc.bias
            if bn is not None:
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                w, b = w * scale.unsqueeze(1), (b - bn.running_mean) * scale + bn.bias
            folded.append(_fold(w, b, self.cond_dim))
        if mask is not None:
            last = folded[-1]
            folded[-1] = FoldedLayer(last.weight, last.table, last.bias + mask)
        folded[-1] = folded[-1].padded(-self.out.out_features % 32)
        return FoldedNetwork([layer.to(dtype) for layer in folded], self.out.out_features)

    @staticmethod
    def infer(net: FoldedNetwork, dense: torch.Tensor, gid: torch.Tensor | None) -> torch.Tensor:
        """Eval-mode forward with ``folded()`` weights (the result of ``forward``, up to
        the rounding of the network's dtype); returns float32."""
        h = dense.to(net.layers[0].bias.dtype)
        for layer in net.layers[:-1]:
            h = torch.cat([layer.apply(h, gid).relu_(), h], dim=1)
        return net.layers[-1].apply(h, gid)[:, : net.width].float()

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
    """One generator layer for inference: ``x @ weight + bias + table[condition]``."""

    weight: torch.Tensor  # (input width without the condition, layer width)
    table: torch.Tensor | None  # (cond_dim, layer width)
    bias: torch.Tensor

    def apply(self, x: torch.Tensor, gid: torch.Tensor | None) -> torch.Tensor:
        out = torch.addmm(self.bias, x, self.weight)
        if self.table is not None and gid is not None:
            out += F.embedding(gid, self.table)
        return out

    def to(self, dtype: torch.dtype) -> FoldedLayer:
        table = None if self.table is None else self.table.to(dtype)
        return FoldedLayer(self.weight.to(dtype), table, self.bias.to(dtype))

    def padded(self, extra: int) -> FoldedLayer:
        """The layer with ``extra`` more outputs that are always zero."""
        if not extra:
            return self
        table = None if self.table is None else F.pad(self.table, (0, extra))
        return FoldedLayer(F.pad(self.weight, (0, extra)), table, F.pad(self.bias, (0, extra)))


@dataclass(frozen=True)
class FoldedNetwork:
    """The folded layers and the generator's output width (before padding)."""

    layers: list[FoldedLayer]
    width: int


def _fold(w: torch.Tensor, b: torch.Tensor, cond_dim: int) -> FoldedLayer:
    """Split ``w`` (reading ``[o_(l-1), ..., o_0, dense, condition]``) into the dense
    weight and the condition's lookup table."""
    dense = w.shape[1] - cond_dim
    table = w[:, dense:].t().contiguous() if cond_dim else None
    return FoldedLayer(w[:, :dense].t().contiguous(), table, b.contiguous())


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
    Tensors are allocated one by one rather than with ``Module.to_empty``, whose meta
    decomposition imports torch's symbolic-shape machinery (about a second per process).
    """
    for m in module.modules():
        for name, p in m._parameters.items():
            if p is not None:
                empty = torch.empty(p.shape, dtype=p.dtype, device=device)
                m._parameters[name] = nn.Parameter(empty, requires_grad=p.requires_grad)
        for name, b in m._buffers.items():
            if b is not None:
                m._buffers[name] = torch.empty(b.shape, dtype=b.dtype, device=device)
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
    raw: torch.Tensor,
    transformer: DataTransformer,
    g: torch.Generator,
    rounded: torch.dtype = torch.float32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generation: (tanh alphas, one slot per span) with slots drawn from the softmax.

    One uniform per span, inverted through the span's cumulative (unnormalised) softmax
    weights; slots that must never be generated have logit -inf (``generation_mask``,
    folded into the output bias) and weight 0. The weights are ``exp(logit - row max)``
    over the whole row at once (a few contiguous passes instead of one pass per span
    group); a span whose weights all underflow, because it lies far below the row's
    largest logit, is redone with its own maximum.

    ``rounded``: the dtype ``raw`` was computed in. Below float32, the alphas (which
    become the continuous values) are dithered uniformly within their rounding interval,
    so that values do not fall on the coarse lattice of an 8-bit mantissa.
    """
    n, a = raw.shape[0], transformer.n_alpha
    pre = raw[:, :a]
    if rounded != torch.float32 and a:
        pre = pre + dither(pre, round(-math.log2(torch.finfo(rounded).eps)), g)
    logits = raw[:, a:]
    weights = (logits - logits.amax(dim=1, keepdim=True)).exp_()
    slots = []
    for grp in transformer.groups:
        if grp.width == 1:
            slots.append(torch.zeros(n, grp.count, dtype=torch.long, device=raw.device))
            continue
        cols = slice(grp.start - a, grp.stop - a)
        cdf = weights[:, cols].reshape(n, grp.count, grp.width).cumsum(dim=-1)
        low = (cdf[..., -1] < _TINY).any(dim=1)
        if bool(low.any()):
            block = logits[low, cols].reshape(-1, grp.count, grp.width)
            cdf[low] = (block - block.amax(dim=-1, keepdim=True)).exp_().cumsum_(dim=-1)
        # 1 - U lies in (0, 1]: the threshold is positive and at most the total, so the
        # first slot whose cumulative weight reaches it always has weight (masked never)
        u = (1.0 - torch.rand(n, grp.count, 1, generator=g, device=raw.device)) * cdf[..., -1:]
        slots.append(torch.searchsorted(cdf, u).squeeze(-1))  # how many slots lie below u
    empty = torch.zeros(n, 0, dtype=torch.long, device=raw.device)
    return torch.tanh(pre), torch.cat(slots, dim=1) if slots else empty


def dither(x: torch.Tensor, mantissa_bits: int, g: torch.Generator) -> torch.Tensor:
    """Uniform noise over the rounding interval of each value of ``x``, for values that
    were rounded to ``mantissa_bits`` explicit mantissa bits (half a unit either side;
    none for an exact zero)."""
    _, exponent = torch.frexp(x)  # x = m * 2**e with 0.5 <= |m| < 1
    ulp = torch.ldexp((x != 0).to(x.dtype), exponent - (mantissa_bits + 1))
    return (torch.rand(x.shape, generator=g, device=x.device) - 0.5) * ulp
