"""Critical values: how far each fidelity statistic gets on sampling noise alone.

Each function returns the value that the statistic of two INDEPENDENT samples of one
distribution, of sizes ``n`` (real) and ``m`` (synthetic), exceeds with probability at most
``alpha``; a generated threshold is never below it (see ``thresholds``), so a small table
does not fail on noise. Every value errs on the high side:

* ``ks``: the exact two-sample Kolmogorov-Smirnov quantile (lattice-path count) while
  ``n * m <= EXACT_KS_CELLS``, else the asymptotic bound ``c(alpha) * sqrt((n + m) / (n m))``
  with ``c = sqrt(-ln(alpha / 2) / 2)``, which lies above the exact quantile at every size
  checked (equal sizes: provably). Ties (discrete data) only make the statistic smaller,
  so it also bounds children per parent and, for a 0/1 column, the NULL-rate difference.
* ``tvd``: two categories: the KS value (TVD then is the KS statistic of one indicator).
  More: Hoeffding's inequality for each of the ``2**k - 2`` category subsets and a union
  bound (the two-sample form of the Bretagnolle-Huber-Carol inequality):
  ``sqrt(ln((2**k - 2) / alpha) / (2 N))`` with ``N = n m / (n + m)``.
* ``correlation``: Fisher's z (``atanh r`` is about normal with variance ``1 / (n - 3)``);
  ``|r1 - r2| <= |z1 - z2|`` since tanh is 1-Lipschitz, and ``pairs`` pairs share
  ``alpha`` (Bonferroni). An approximation for non-normal data, unlike the others.

``math.inf`` means the statistic is undefined at that size (no values on a side).
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

import numpy as np

ALPHA = 0.001
#: the exact KS quantile up to this many cells of the (n, m) lattice (milliseconds each)
EXACT_KS_CELLS = 250_000


def ks(n: int, m: int, alpha: float = ALPHA) -> float:
    """Two-sample KS statistic exceeded with probability at most ``alpha``."""
    if n < 1 or m < 1:
        return math.inf
    n, m = sorted((int(n), int(m)))
    if n * m > EXACT_KS_CELLS:
        return ks_asymptotic(n, m, alpha)
    return _ks_exact(n, m, alpha)


def ks_asymptotic(n: int, m: int, alpha: float = ALPHA) -> float:
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


def tvd(n: int, m: int, k: int, alpha: float = ALPHA) -> float:
    """Total variation distance over ``k`` categories (NULL counted as one)."""
    if n < 1 or m < 1:
        return math.inf
    if k <= 1:
        return 0.0
    if k == 2:
        return ks(n, m, alpha)
    effective = n * m / (n + m)
    return math.sqrt(math.log((2**k - 2) / alpha) / (2 * effective))


def correlation(n: int, m: int, pairs: int = 1, alpha: float = ALPHA) -> float:
    """Difference of two Pearson correlations, for the largest of ``pairs`` pairs."""
    if n <= 3 or m <= 3:
        return math.inf
    z = NormalDist().inv_cdf(1 - alpha / (2 * max(pairs, 1)))
    return z * math.sqrt(1 / (n - 3) + 1 / (m - 3))


@lru_cache(maxsize=256)
def _ks_exact(n: int, m: int, alpha: float) -> float:
    """Smallest D with P(D_{n,m} > D) <= alpha. Every gap |i m - j n| is a multiple of
    gcd(n, m): bisect over those multiples, starting from the asymptotic bound."""
    unit = math.gcd(n, m)
    high = min(math.ceil(ks_asymptotic(n, m, alpha) * n * m / unit), n * m // unit)
    if _exceed(n, m, high * unit) > alpha:
        high = n * m // unit
    low = 0
    while low < high:
        mid = (low + high) // 2
        if _exceed(n, m, mid * unit) <= alpha:
            high = mid
        else:
            low = mid + 1
    return low * unit / (n * m)


def _exceed(n: int, m: int, gap: int) -> float:
    """P(max over the path of |i m - j n| > gap) for a uniformly random interleaving of n
    real and m synthetic values: the path goes (0, 0) -> (n, m) one value at a time; walk
    its anti-diagonals carrying the probability of having stayed inside."""
    total = n + m
    i = np.arange(n + 1)
    inside = np.zeros(n + 1)
    inside[0] = 1.0
    for s in range(total):
        step = np.zeros(n + 1)
        # from (i, s - i): a synthetic value next (j + 1) or a real one (i + 1)
        step += inside * np.clip(m - (s - i), 0, None) / (total - s)
        step[1:] += inside[:-1] * (n - i[:-1]) / (total - s)
        step[np.abs(i * total - (s + 1) * n) > gap] = 0.0
        inside = step
    return max(0.0, 1.0 - float(inside[n]))
