"""Critical values against simulation: two independent samples of one distribution exceed
them at most ALPHA of the time (up to Monte Carlo error), at the sizes of small tables."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest

from synthohive_dbt.emit import critical
from synthohive_dbt.emit.critical import ALPHA
from synthohive_dbt.emit.thresholds import sample_threshold

REPEATS = 20_000
SIZES = [(6, 6), (6, 60), (65, 65), (1000, 1000)]


def at_most_alpha(statistics: np.ndarray, threshold: float) -> None:
    """The share of simulated statistics above ``threshold`` is ALPHA or less, allowing
    three standard errors of the simulation: the threshold is not below the 0.999
    quantile of the statistic."""
    share = float(np.mean(statistics > threshold))
    slack = 3 * math.sqrt(ALPHA * (1 - ALPHA) / len(statistics))
    assert share <= ALPHA + slack, (threshold, share, np.quantile(statistics, 1 - ALPHA))


def simulated_ks(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """Two-sample KS statistics of continuous samples: D depends only on how the n + m
    values interleave, so each repeat is a random order of n real and m synthetic labels."""
    out = []
    per_chunk = max(1, 2_000_000 // (n + m))
    labels = np.concatenate([np.ones(n), np.zeros(m)])
    for start in range(0, REPEATS, per_chunk):
        size = min(per_chunk, REPEATS - start)
        order = rng.permuted(np.tile(labels, (size, 1)), axis=1)
        gap = np.cumsum(order, axis=1) / n - np.cumsum(1 - order, axis=1) / m
        out.append(np.abs(gap).max(axis=1))
    return np.concatenate(out)


def simulated_tvd(n: int, m: int, shares: list[float], rng: np.random.Generator) -> np.ndarray:
    real = rng.multinomial(n, shares, size=REPEATS) / n
    synthetic = rng.multinomial(m, shares, size=REPEATS) / m
    return 0.5 * np.abs(real - synthetic).sum(axis=1)


@pytest.mark.parametrize(("n", "m"), SIZES)
def test_ks_critical_value_covers_the_simulated_quantile(n, m):
    rng = np.random.default_rng(20240601)
    value = critical.ks(n, m)
    at_most_alpha(simulated_ks(n, m, rng), value)
    # and the generated threshold, rounded up, lies strictly above it
    threshold = sample_threshold("ks_distance", 0.0, value)
    assert threshold is None or threshold > value


@pytest.mark.parametrize(("n", "m"), SIZES)
@pytest.mark.parametrize(
    "shares",
    [[0.5, 0.5], [0.9, 0.1], [0.5, 0.3, 0.2], [0.2] * 5, [0.4, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05]],
)
def test_tvd_critical_value_covers_the_simulated_quantile(n, m, shares):
    rng = np.random.default_rng(20240602)
    at_most_alpha(simulated_tvd(n, m, shares, rng), critical.tvd(n, m, len(shares)))


def test_exact_ks_matches_enumeration_of_every_interleaving():
    """On tiny samples every order of the n + m values is equally likely: count them."""
    for n, m in [(3, 4), (4, 4), (2, 7), (5, 6)]:
        stats = []
        for real in combinations(range(n + m), n):
            labels = np.zeros(n + m)
            labels[list(real)] = 1
            gap = np.cumsum(labels) / n - np.cumsum(1 - labels) / m
            stats.append(np.abs(gap).max())
        stats = np.array(stats)
        for alpha in (0.05, 0.1, 0.3):
            value = critical.ks(n, m, alpha)
            assert np.mean(stats > value + 1e-12) <= alpha  # covers ...
            assert np.mean(stats >= value - 1e-12) > alpha  # ... and is the smallest that does


def test_a_critical_value_at_the_maximum_means_no_test():
    assert critical.ks(6, 6) == 1.0  # D = 1 happens 2 times in 924: above ALPHA
    assert sample_threshold("ks_distance", 0.2, critical.ks(6, 6)) is None
    assert sample_threshold("tvd", 0.2, critical.tvd(6, 6, 3)) is None
    assert critical.ks(0, 10) == math.inf
    assert sample_threshold("ks_distance", 0.2, math.inf) is None


def test_null_rate_difference_is_covered_by_the_ks_value():
    """A NULL share difference is the KS statistic of a 0/1 column: ties only shrink it."""
    rng = np.random.default_rng(20240603)
    for n, m in [(6, 60), (65, 65), (300, 300)]:
        for rate in (0.5, 0.1):
            diff = np.abs(rng.binomial(n, rate, REPEATS) / n - rng.binomial(m, rate, REPEATS) / m)
            at_most_alpha(diff, critical.ks(n, m))


@pytest.mark.parametrize(("n", "m"), [(10, 10), (65, 65), (300, 300)])
@pytest.mark.parametrize("rho", [0.0, 0.8])
def test_correlation_critical_value_covers_the_simulated_quantile(n, m, rho):
    rng = np.random.default_rng(20240604)
    cov = [[1.0, rho], [rho, 1.0]]

    def corr(size: int) -> np.ndarray:
        xy = rng.multivariate_normal([0.0, 0.0], cov, size=(REPEATS, size))
        x, y = xy[..., 0] - xy[..., 0].mean(1, keepdims=True), xy[..., 1]
        y = y - y.mean(1, keepdims=True)
        return (x * y).sum(1) / np.sqrt((x * x).sum(1) * (y * y).sum(1))

    at_most_alpha(np.abs(corr(n) - corr(m)), critical.correlation(n, m))


def test_critical_values_shrink_with_size_to_below_the_defaults():
    assert critical.ks(6, 60) > critical.ks(65, 65) > critical.ks(1000, 1000)
    assert critical.ks(1000, 1000) < 0.2 and critical.tvd(1000, 1000, 10) < 0.2
    assert critical.correlation(2000, 2000, pairs=15) < 0.3
    # the exact small-sample value is below the asymptotic bound it refines
    assert critical.ks(65, 65) <= critical.ks_asymptotic(65, 65)
