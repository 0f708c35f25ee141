"""network.Sampler draws from exactly the distribution the trained network defines.

The sampler rewrites the network for speed (lookup tables for the masked first layer,
biases folded into weights, base-2 heads padded to a multiple of 16, no max subtraction
unless a total overflows): these tests compare its draws with the probabilities of the
network's own teacher-forced loss, enumerated over every row of a small vocabulary."""

from __future__ import annotations

import itertools

import pytest
import torch

from synthohive_dbt.synth.autoregressive.network import Network
from synthohive_dbt.synth.autoregressive.sampler import Sampler

pytestmark = pytest.mark.usefixtures("one_thread")


def _network(vocabs: list[int], context_dim: int, seed: int) -> Network:
    g = torch.Generator().manual_seed(seed)
    positions = [None, [(k + 0.5) / vocabs[1] - 0.5 for k in range(vocabs[1])]]
    positions += [None] * (len(vocabs) - 2)
    net = Network(vocabs, context_dim, positions=positions, hidden=8, embedding_cap=6,
                  context_hidden=4, generator=g, device=torch.device("cpu"))  # fmt: skip
    with torch.no_grad():  # the biases start at zero: give them values to fold
        for p in (net.b_in, net.b_mid, *net.head_bias):
            p.copy_(torch.randn(p.shape, generator=g))
        if context_dim:
            net.b_ctx1.copy_(torch.randn(net.b_ctx1.shape, generator=g))
    return net.eval()


def _exact(net: Network, context: torch.Tensor | None, masked_last: int) -> torch.Tensor:
    """Probability of every token row, from the loss, with token ``masked_last`` of the
    last column excluded and that column's conditional renormalised."""
    rows = torch.tensor(list(itertools.product(*[range(v) for v in net.vocabs])))
    with torch.no_grad():
        logp = torch.stack([
            -net.loss(r[None], None if context is None else context[:1]).double() for r in rows
        ])  # fmt: skip
    joint = logp.exp().view(*net.vocabs)
    prefix = joint.sum(dim=-1, keepdim=True)
    last = joint / prefix
    last[..., masked_last] = 0.0
    return (prefix * last / last.sum(dim=-1, keepdim=True)).flatten()


def _frequencies(tokens: torch.Tensor, vocabs: list[int]) -> torch.Tensor:
    flat = torch.zeros(len(tokens), dtype=torch.long)
    for j, v in enumerate(vocabs):
        flat = flat * v + tokens[:, j]
    return torch.bincount(flat, minlength=int(torch.tensor(vocabs).prod())).double() / len(tokens)


@pytest.mark.parametrize(
    ("context_dim", "prefix_tables"),
    [(0, 0), (0, 3), (2, 0)],
    ids=["network", "prefix-tables", "context"],
)
def test_draws_follow_the_networks_distribution(context_dim, prefix_tables):
    """Through the network for every column, through prefix tables for all three (a
    sample bigger than twice their 15 prefixes), and with a parent context."""
    vocabs = [3, 5, 4]
    net = _network(vocabs, context_dim, seed=context_dim)
    masks = [None, None, torch.tensor([0.0, 0.0, 0.0, float("-inf")])]
    context = None
    n = 120_000
    if context_dim:
        context = torch.tensor([[0.7, -1.2]]).expand(n, -1).contiguous()
    sampler = Sampler(net, masks, rows=n if prefix_tables else 0)
    assert len(sampler.prefix_cdfs) == prefix_tables
    with torch.inference_mode():
        tokens = sampler.sample(n, context, torch.Generator().manual_seed(5))
    assert tokens.shape == (n, 3) and tokens.dtype == torch.long
    assert not bool((tokens[:, 2] == 3).any())  # the masked null token is never drawn
    expected = _exact(net, context, masked_last=3)
    got = _frequencies(tokens, vocabs)
    # binomial standard error at most 0.0015 for 120,000 rows: 4.5 of them
    assert float((got - expected).abs().max()) < 0.0065


def test_draws_are_bit_identical_for_a_seed_and_differ_between_seeds():
    net = _network([3, 5, 4], 0, seed=3)
    sampler = Sampler(net, [None, None, None])
    with torch.inference_mode():
        a = sampler.sample(5000, None, torch.Generator().manual_seed(1))
        b = sampler.sample(5000, None, torch.Generator().manual_seed(1))
        c = sampler.sample(5000, None, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("level", [300.0, -300.0])
def test_logits_beyond_float32_exp_are_redone_stably(level):
    """Logits whose 2**x overflows (or underflows to zero) in float32 still give the
    softmax: 1 / (1 + e^-1) for two logits one apart, nothing for the far ones."""
    net = _network([4, 2], 0, seed=4)
    with torch.no_grad():
        net.heads[0].zero_()
        net.head_bias[0].copy_(torch.tensor([level, level - 40.0, level - 60.0, level - 1.0]))
    sampler = Sampler(net, [None, None])
    n = 40_000
    with torch.inference_mode():
        tokens = sampler.sample(n, None, torch.Generator().manual_seed(9))[:, 0]
    assert set(tokens.unique().tolist()) == {0, 3}
    share = float((tokens == 0).double().mean())
    assert abs(share - 1.0 / (1.0 + torch.e**-1.0)) < 0.012


def test_prefix_tables_stop_where_they_stop_paying():
    """Tables for the leading columns while their prefixes are at most half the rows;
    none with a parent context (every row has its own)."""
    net = _network([3, 5, 4], 0, seed=6)
    assert [len(Sampler(net, [None] * 3, rows=r).prefix_cdfs) for r in (1, 2, 6, 30)] == [
        0, 1, 2, 3,
    ]  # fmt: skip
    table = Sampler(net, [None] * 3, rows=30).prefix_cdfs[2]
    assert table.shape == (15, 4)
    assert Sampler(_network([3, 5, 4], 2, seed=6), [None] * 3, rows=10**6).prefix_cdfs == []
