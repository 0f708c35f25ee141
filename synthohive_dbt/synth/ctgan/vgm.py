"""A vectorised variational Gaussian mixture for one continuous column.

The same model rdt fits with scikit-learn's ``BayesianGaussianMixture`` (a truncated
Dirichlet-process mixture, concentration 0.001, components below a weight threshold
dropped), written as array code over a bounded subsample: 1-D, so every update is a
handful of (rows x components) numpy operations, no per-row Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma

#: a component covers about +-4 standard deviations of its mode (as in CTGAN)
STD_MULTIPLIER = 4.0
_MAX_ITER = 100
_TOL = 1e-3
_REG_VAR = 1e-6  # on the standardised scale, like scikit-learn's reg_covar


@dataclass(frozen=True)
class Mixture:
    """Kept components of one column, in the column's own units."""

    means: np.ndarray  # (k,)
    stds: np.ndarray  # (k,)
    weights: np.ndarray  # (k,), sums to 1

    @property
    def n_modes(self) -> int:
        return len(self.means)


def fit_mixture(
    values: np.ndarray,
    rng: np.random.Generator,
    *,
    max_components: int = 10,
    subsample: int = 20_000,
    weight_threshold: float = 0.005,
    concentration: float = 0.001,
) -> Mixture:
    """Fit a variational DP Gaussian mixture to finite ``values`` (at least one)."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) > subsample:
        x = x[rng.choice(len(x), size=subsample, replace=False)]
    center, scale = float(x.mean()), float(x.std())
    if not scale > 0:  # a constant: one exact mode
        return Mixture(np.array([center]), np.array([_std_floor(center)]), np.ones(1))
    z = (x - center) / scale
    k = int(min(max_components, len(np.unique(z))))
    resp = _kmeans_responsibilities(z, k)
    post = _Posterior.from_responsibilities(z, resp, concentration)
    for _ in range(_MAX_ITER):
        resp = post.responsibilities(z)
        new = _Posterior.from_responsibilities(z, resp, concentration)
        shift = np.abs(new.counts - post.counts).max() / len(z)
        post = new
        if shift < _TOL:
            break
    weights = post.expected_weights()
    keep = weights > weight_threshold
    if not keep.any():
        keep = weights == weights.max()
    # report each kept component's own mean (the posterior mean is shrunk towards the
    # prior; for spikes such as integer values the data mean is exact)
    means = post.xbar[keep] * scale + center
    stds = np.sqrt(post.variances[keep]) * scale
    stds = np.maximum(stds, _std_floor(means))
    w = weights[keep]
    return Mixture(means, stds, w / w.sum())


def _std_floor(means: np.ndarray | float) -> np.ndarray:
    """Smallest std: keeps (x - mean) / std finite for spikes and constants."""
    return np.maximum(np.abs(np.asarray(means, dtype=np.float64)) * 1e-9, 1e-9)


def _kmeans_responsibilities(z: np.ndarray, k: int) -> np.ndarray:
    """Hard assignments (components x rows) from Lloyd steps started at spaced quantiles."""
    centers = np.quantile(z, (np.arange(k) + 0.5) / k)
    for _ in range(10):
        centers = np.unique(centers)
        edges = (centers[1:] + centers[:-1]) / 2
        label = np.searchsorted(edges, z)
        sums = np.bincount(label, weights=z, minlength=len(centers))
        counts = np.bincount(label, minlength=len(centers))
        moved = np.where(counts > 0, sums / np.maximum(counts, 1), centers)
        if np.allclose(moved, centers):
            break
        centers = moved
    resp = np.zeros((k, len(z)))
    resp[label, np.arange(len(z))] = 1.0
    return resp


@dataclass(frozen=True)
class _Posterior:
    """Variational posterior: stick-breaking Beta(g1, g2) weights, Normal-Gamma modes.

    Arrays are laid out components x rows so that reductions over components are
    element-wise operations across a few long rows.
    """

    counts: np.ndarray
    xbar: np.ndarray  # responsibility-weighted data mean
    g1: np.ndarray
    g2: np.ndarray
    means: np.ndarray  # m_k
    beta: np.ndarray  # precision scale of the mean
    a: np.ndarray  # Gamma shape of the precision
    b: np.ndarray  # Gamma rate of the precision

    @classmethod
    def from_responsibilities(
        cls, z: np.ndarray, resp: np.ndarray, concentration: float
    ) -> _Posterior:
        # priors as scikit-learn sets them for standardised 1-D data: mean 0, mean precision 1,
        # one degree of freedom, covariance prior equal to the data variance (1)
        beta0, a0, b0 = 1.0, 0.5, 0.5
        counts = resp.sum(axis=1) + 10 * np.finfo(float).eps
        xbar = resp @ z / counts
        var = np.maximum(resp @ (z * z) / counts - xbar**2, 0.0) + _REG_VAR
        tail = np.concatenate([np.cumsum(counts[::-1])[::-1][1:], [0.0]])
        beta = beta0 + counts
        return cls(
            counts=counts,
            xbar=xbar,
            g1=1.0 + counts,
            g2=concentration + tail,
            means=counts * xbar / beta,
            beta=beta,
            a=a0 + counts / 2,
            b=b0 + 0.5 * (counts * var + beta0 * counts / beta * xbar**2),
        )

    @property
    def variances(self) -> np.ndarray:
        return self.b / self.a

    def expected_weights(self) -> np.ndarray:
        v = self.g1 / (self.g1 + self.g2)
        rest = np.concatenate([[1.0], np.cumprod(1 - v)[:-1]])
        w = v * rest
        return w / w.sum()

    def responsibilities(self, z: np.ndarray) -> np.ndarray:
        total = digamma(self.g1 + self.g2)
        log_v = digamma(self.g1) - total
        log_1mv = digamma(self.g2) - total
        log_pi = log_v + np.concatenate([[0.0], np.cumsum(log_1mv)[:-1]])
        precision = self.a / self.b
        const = log_pi + 0.5 * (digamma(self.a) - np.log(self.b)) - 0.5 / self.beta
        log_rho = (z - self.means[:, None]) ** 2
        log_rho *= -0.5 * precision[:, None]
        log_rho += const[:, None]
        log_rho -= log_rho.max(axis=0)
        np.exp(log_rho, out=log_rho)
        log_rho /= log_rho.sum(axis=0)
        return log_rho


def assign_modes(
    values: np.ndarray, mixture: Mixture, uniforms: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Draw each finite value's mode from its posterior and normalise it within the mode.

    ``uniforms`` (one per value) drive the draw by inverse CDF, so the result is
    reproducible from the caller's generator. Returns (modes int64, alpha float32).
    """
    x = np.asarray(values, dtype=np.float64)
    means, stds = mixture.means[:, None], mixture.stds[:, None]
    log_p = (x - means) / stds
    log_p *= log_p
    log_p *= -0.5
    log_p += (np.log(mixture.weights) - np.log(mixture.stds))[:, None]
    log_p -= log_p.max(axis=0)
    np.exp(log_p, out=log_p)
    np.cumsum(log_p, axis=0, out=log_p)
    threshold = uniforms * log_p[-1]
    modes = (log_p < threshold).sum(axis=0).clip(0, mixture.n_modes - 1)
    alpha = (x - mixture.means[modes]) / (STD_MULTIPLIER * mixture.stds[modes])
    return modes.astype(np.int64), np.clip(alpha, -0.99, 0.99).astype(np.float32)


def restore_values(alpha: np.ndarray, modes: np.ndarray, mixture: Mixture) -> np.ndarray:
    """Inverse of ``assign_modes``: float64 values from alpha in [-1, 1] and modes."""
    a = np.clip(np.asarray(alpha, dtype=np.float64), -1.0, 1.0)
    return a * STD_MULTIPLIER * mixture.stds[modes] + mixture.means[modes]
