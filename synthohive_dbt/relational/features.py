"""Parent rows as numeric feature vectors, and clusters of parents.

Children are conditioned on their parent through these vectors (the model *context*), and
secondary FKs pick parents through clusters of them. An encoder is JSON: per parent column
either a standardised number (with a null indicator) or a one-hot of its most frequent
values (the values are the parent model's own categories, not new data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

MAX_FEATURE_COLUMNS = 16
MAX_ONEHOT = 8
MAX_CLUSTERS = 16
NUMERIC = "numeric"
ONEHOT = "onehot"


@dataclass(frozen=True)
class Feature:
    column: str
    kind: str  # NUMERIC | ONEHOT
    mean: float = 0.0
    std: float = 1.0
    null_indicator: bool = False
    categories: tuple[Any, ...] = ()

    @property
    def width(self) -> int:
        if self.kind == ONEHOT:
            return len(self.categories) + 1  # + "other / null"
        return 1 + int(self.null_indicator)

    def to_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "mean": self.mean,
            "std": self.std,
            "null_indicator": self.null_indicator,
            "categories": list(self.categories),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Feature:
        return cls(**{**data, "categories": tuple(data.get("categories", ()))})


@dataclass(frozen=True)
class FeatureEncoder:
    features: tuple[Feature, ...]

    @property
    def width(self) -> int:
        return sum(f.width for f in self.features)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.column for f in self.features)

    def encode(self, frame: pd.DataFrame, valid: np.ndarray | None = None) -> np.ndarray:
        """(n, width) float32; rows where ``valid`` is False (no parent) are all zero."""
        n = len(frame)
        blocks = [_encode_feature(f, frame[f.column]) for f in self.features]
        out = np.concatenate(blocks, axis=1) if blocks else np.zeros((n, 0), dtype=np.float32)
        if valid is not None:
            out[~valid] = 0.0
        return out.astype(np.float32, copy=False)

    def to_json(self) -> list[dict[str, Any]]:
        return [f.to_json() for f in self.features]

    @classmethod
    def from_json(cls, data: Sequence[Mapping[str, Any]]) -> FeatureEncoder:
        return cls(tuple(Feature.from_json(d) for d in data))


def learn_encoder(frame: pd.DataFrame, columns: Sequence[str], min_rows: int = 5) -> FeatureEncoder:
    """Pick up to MAX_FEATURE_COLUMNS informative columns of a parent frame; a one-hot
    keeps only values seen in at least ``min_rows`` rows (rare values stay out of plans)."""
    features: list[Feature] = []
    for name in columns[:MAX_FEATURE_COLUMNS]:
        series = frame[name]
        if series.isna().all():
            continue
        numeric = _as_number(series)
        if numeric is not None and series.nunique(dropna=True) > MAX_ONEHOT:
            values = numeric[~np.isnan(numeric)]
            std = float(values.std()) or 1.0
            features.append(
                Feature(
                    name,
                    NUMERIC,
                    mean=float(values.mean()),
                    std=std,
                    null_indicator=bool(np.isnan(numeric).any()),
                )
            )
            continue
        counts = series.dropna().astype(str).value_counts()
        top = counts[counts >= min_rows].index[:MAX_ONEHOT]
        if len(top) > 1:
            features.append(Feature(name, ONEHOT, categories=tuple(str(v) for v in top)))
    return FeatureEncoder(tuple(features))


def _encode_feature(feature: Feature, series: pd.Series) -> np.ndarray:
    n = len(series)
    if feature.kind == NUMERIC:
        numeric = _as_number(series)
        if numeric is None:
            numeric = np.full(n, np.nan)
        null = np.isnan(numeric)
        scaled = np.where(null, 0.0, (numeric - feature.mean) / feature.std)
        cols = [np.clip(scaled, -10, 10)]
        if feature.null_indicator:
            cols.append(null.astype(np.float64))
        return np.stack(cols, axis=1)
    text = (
        series.astype(object)
        .where(series.notna(), None)
        .map(lambda v: None if v is None else str(v))
    )
    known = text.where(text.isin(feature.categories), None)
    codes = pd.Categorical(known, categories=list(feature.categories)).codes
    out = np.zeros((n, len(feature.categories) + 1))
    out[np.arange(n), np.where(codes < 0, len(feature.categories), codes)] = 1.0
    return out


def _as_number(series: pd.Series) -> np.ndarray | None:
    if pd.api.types.is_bool_dtype(series.dtype):
        return None
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        stamps = series
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            stamps = series.dt.tz_convert("UTC").dt.tz_localize(None)
        out = stamps.astype("datetime64[us]").astype("int64").to_numpy().astype(np.float64) / 1e6
        out[series.isna().to_numpy()] = np.nan
        return out
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    return None


# -- clusters -------------------------------------------------------------------------------


def kmeans(points: np.ndarray, k: int, rng: np.random.Generator, iters: int = 20) -> np.ndarray:
    """Centroids (k, d) by Lloyd's algorithm with k-means++ seeding (vectorised)."""
    n = len(points)
    k = max(1, min(k, n))
    centroids = points[[int(rng.integers(0, n))]]
    for _ in range(1, k):
        d2 = _sq_dist(points, centroids).min(axis=1)
        total = d2.sum()
        if total <= 0:
            break
        centroids = np.vstack([centroids, points[rng.choice(n, p=d2 / total)]])
    for _ in range(iters):
        labels = assign(points, centroids)
        sums = np.zeros_like(centroids)
        np.add.at(sums, labels, points)
        counts = np.bincount(labels, minlength=len(centroids))[:, None]
        moved = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
        if np.allclose(moved, centroids):
            break
        centroids = moved
    return centroids


def assign(points: np.ndarray, centroids: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    """Nearest centroid per point, in chunks to bound memory."""
    out = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), chunk):
        out[start : start + chunk] = _sq_dist(points[start : start + chunk], centroids).argmin(1)
    return out


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d2 = (a * a).sum(1)[:, None] - 2.0 * a @ b.T + (b * b).sum(1)[None, :]
    return np.maximum(d2, 0.0)  # rounding makes duplicates slightly negative
