"""Data transformer: codec values <-> the vectors the networks see.

Input is what the column codecs produce (continuous: float64 with NaN for null; discrete:
int64 codes with -1 for null). Each continuous column becomes a scalar ``alpha`` in
[-1, 1] plus a one-hot *mode* from its variational Gaussian mixture (mode-specific
normalisation); each discrete column a one-hot category. A null is one more slot of the
one-hot (an extra mode or an extra category). Constant columns take no space.

The data vector is laid out as ``[alphas | mode spans | category spans]`` with spans of
equal width next to each other, so activations and losses run once per *width group*
instead of once per column. Rows are stored compactly (alphas and slot indices, not the
one-hot matrix) and expanded batch by batch; a 500-category column costs 4 bytes a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ...errors import DataError
from ..columns import CONTINUOUS, DISCRETE, ColumnCodec
from .vgm import Mixture, assign_modes, fit_mixture, restore_values

MODES = "modes"
CATEGORIES = "categories"
CONSTANT = "constant"
PASSTHROUGH = "passthrough"  # uuid and all-null columns: decoded by their codec alone


@dataclass(frozen=True)
class ColumnLayout:
    """Where one column lives in the data vector and how to decode it."""

    name: str
    kind: str  # MODES | CATEGORIES | CONSTANT | PASSTHROUGH
    width: int = 0  # one-hot slots, the null slot included
    nullable: bool = False  # the last slot of the span means null
    not_null: bool = False  # never generate the null slot
    span: int = -1  # position among spans (index column in EncodedRows.slots)
    offset: int = -1  # first slot in the data vector
    alpha: int = -1  # alpha position in the data vector (MODES)
    means: tuple[float, ...] = ()
    stds: tuple[float, ...] = ()
    weights: tuple[float, ...] = ()
    counts: tuple[int, ...] = ()  # training rows per slot (CATEGORIES)
    constant: float | None = None  # the encoded value of a CONSTANT column

    @property
    def mixture(self) -> Mixture:
        return Mixture(np.array(self.means), np.array(self.stds), np.array(self.weights))


@dataclass(frozen=True)
class SpanGroup:
    """``count`` spans of equal ``width`` stored contiguously from ``start``."""

    start: int
    count: int
    width: int
    discrete: bool

    @property
    def stop(self) -> int:
        return self.start + self.count * self.width


@dataclass(frozen=True)
class EncodedRows:
    """Training rows in compact form: alpha per continuous column, slot per span."""

    alpha: np.ndarray  # float32 (n, n_alpha)
    slots: np.ndarray  # int32 (n, n_spans)

    def __len__(self) -> int:
        return len(self.slots)

    def take(self, rows: np.ndarray) -> EncodedRows:
        return EncodedRows(self.alpha[rows], self.slots[rows])


class DataTransformer:
    """Fitted layout of one table; JSON-serialisable."""

    def __init__(self, layouts: Sequence[ColumnLayout]):
        self.layouts = tuple(layouts)
        spans = sorted((c for c in self.layouts if c.span >= 0), key=lambda c: c.span)
        self.spans: tuple[ColumnLayout, ...] = tuple(spans)
        self.n_alpha = sum(1 for c in self.layouts if c.kind == MODES)
        self.width = self.n_alpha + sum(c.width for c in spans)
        discrete = [c for c in spans if c.kind == CATEGORIES]
        self.cond_start = discrete[0].offset if discrete else self.width
        self.cond_dim = self.width - self.cond_start
        self.groups = _groups(spans)

    @property
    def discrete_spans(self) -> tuple[ColumnLayout, ...]:
        return tuple(c for c in self.spans if c.kind == CATEGORIES)

    @property
    def trainable(self) -> bool:
        """False when every column is constant or passed through: nothing to learn."""
        return bool(self.spans)

    # -- fit / transform --------------------------------------------------------------
    @classmethod
    def fit(
        cls,
        values: Sequence[np.ndarray],
        codecs: Sequence[ColumnCodec],
        not_null: Sequence[bool],
        rng: np.random.Generator,
        *,
        max_components: int = 10,
        subsample: int = 20_000,
        weight_threshold: float = 0.005,
    ) -> DataTransformer:
        """Fit modes and categories on codec values (one array per codec)."""
        drafts: list[dict[str, Any]] = []
        for codec, column, strict in zip(codecs, values, not_null, strict=True):
            base: dict[str, Any] = {"name": codec.name, "not_null": bool(strict)}
            if codec.kind == CONTINUOUS:
                drafts.append(
                    _fit_continuous(column, base, rng, max_components, subsample, weight_threshold)
                )
            elif codec.kind == DISCRETE:
                drafts.append(_fit_discrete(column, codec, base))
            else:
                drafts.append({**base, "kind": PASSTHROUGH})
        return cls(_place(drafts))

    def transform(self, values: Sequence[np.ndarray], rng: np.random.Generator) -> EncodedRows:
        """Codec values to compact rows; continuous modes are drawn from their posterior."""
        n = len(values[0]) if len(values) else 0
        alpha = np.zeros((n, self.n_alpha), dtype=np.float32)
        slots = np.zeros((n, len(self.spans)), dtype=np.int32)
        for layout, column in zip(self.layouts, values, strict=True):
            if layout.kind == MODES:
                x = np.asarray(column, dtype=np.float64)
                null = np.isnan(x)
                if null.any() and not layout.nullable:
                    raise DataError(f"column {layout.name!r} has nulls it had none at fit time")
                modes, a = assign_modes(
                    np.where(null, layout.means[0], x), layout.mixture, rng.random(n)
                )
                modes[null] = layout.width - 1
                a[null] = 0.0
                alpha[:, layout.alpha] = a
                slots[:, layout.span] = modes
            elif layout.kind == CATEGORIES:
                codes = np.asarray(column, dtype=np.int64)
                if layout.nullable:
                    codes = np.where(codes < 0, layout.width - 1, codes)
                if (codes < 0).any() or (codes >= layout.width).any():
                    raise DataError(
                        f"column {layout.name!r} holds a category (or null) not seen at fit "
                        "time; refit the model on the current data"
                    )
                slots[:, layout.span] = codes
        return EncodedRows(alpha, slots)

    # -- decode -----------------------------------------------------------------------
    def decode(self, alpha: np.ndarray, slots: np.ndarray, n: int) -> list[np.ndarray]:
        """Generated (alpha, slots) back to codec values, one array per column."""
        out: list[np.ndarray] = []
        for layout in self.layouts:
            if layout.kind == MODES:
                s = slots[:, layout.span].astype(np.int64)
                null = s == layout.width - 1 if layout.nullable else np.zeros(n, dtype=bool)
                s = np.where(null, 0, s)
                x = restore_values(alpha[:, layout.alpha], s, layout.mixture)
                out.append(np.where(null, np.nan, x))
            elif layout.kind == CATEGORIES:
                s = slots[:, layout.span].astype(np.int64)
                if layout.nullable:
                    s = np.where(s == layout.width - 1, -1, s)
                out.append(s)
            elif layout.kind == CONSTANT:
                out.append(np.full(n, layout.constant))
            else:
                out.append(np.full(n, np.nan))
        return out

    def masked_slots(self) -> np.ndarray:
        """Data-vector positions that sampling must never pick (null slots of not_null)."""
        return np.array(
            [c.offset + c.width - 1 for c in self.spans if c.nullable and c.not_null],
            dtype=np.int64,
        )

    # -- persistence ------------------------------------------------------------------
    def to_json(self) -> list[dict[str, Any]]:
        return [asdict(c) for c in self.layouts]

    @classmethod
    def from_json(cls, data: Sequence[dict[str, Any]]) -> DataTransformer:
        layouts = []
        for item in data:
            item = dict(item)
            for key in ("means", "stds", "weights", "counts"):
                item[key] = tuple(item.get(key, ()))
            layouts.append(ColumnLayout(**item))
        return cls(layouts)


def _fit_continuous(
    column: np.ndarray,
    base: dict[str, Any],
    rng: np.random.Generator,
    max_components: int,
    subsample: int,
    weight_threshold: float,
) -> dict[str, Any]:
    x = np.asarray(column, dtype=np.float64)
    null = np.isnan(x)
    finite = x[~null]
    if not null.any() and finite.min() == finite.max():
        return {**base, "kind": CONSTANT, "constant": float(finite[0])}
    mixture = fit_mixture(
        finite,
        rng,
        max_components=max_components,
        subsample=subsample,
        weight_threshold=weight_threshold,
    )
    nullable = bool(null.any())
    return {
        **base,
        "kind": MODES,
        "width": mixture.n_modes + int(nullable),
        "nullable": nullable,
        "means": tuple(float(v) for v in mixture.means),
        "stds": tuple(float(v) for v in mixture.stds),
        "weights": tuple(float(v) for v in mixture.weights),
    }


def _fit_discrete(column: np.ndarray, codec: ColumnCodec, base: dict[str, Any]) -> dict[str, Any]:
    codes = np.asarray(column, dtype=np.int64)
    k = codec.n_categories
    null = codes < 0
    nullable = bool(null.any())
    counts = np.bincount(codes[~null], minlength=k)[:k]
    if nullable:
        counts = np.append(counts, int(null.sum()))
    if not nullable and k == 1:
        return {**base, "kind": CONSTANT, "constant": 0.0}
    return {
        **base,
        "kind": CATEGORIES,
        "width": k + int(nullable),
        "nullable": nullable,
        "counts": tuple(int(c) for c in counts),
    }


def _place(drafts: list[dict[str, Any]]) -> list[ColumnLayout]:
    """Assign alpha positions, then spans sorted by (discrete, width, column order)."""
    alpha = 0
    for draft in drafts:
        if draft["kind"] == MODES:
            draft["alpha"] = alpha
            alpha += 1
    order = sorted(
        (i for i, d in enumerate(drafts) if d["kind"] in (MODES, CATEGORIES)),
        key=lambda i: (drafts[i]["kind"] == CATEGORIES, drafts[i]["width"], i),
    )
    offset = alpha
    for span, i in enumerate(order):
        drafts[i]["span"] = span
        drafts[i]["offset"] = offset
        offset += drafts[i]["width"]
    return [ColumnLayout(**d) for d in drafts]


def _groups(spans: Sequence[ColumnLayout]) -> tuple[SpanGroup, ...]:
    groups: list[SpanGroup] = []
    for span in spans:
        discrete = span.kind == CATEGORIES
        last = groups[-1] if groups else None
        if last and last.width == span.width and last.discrete == discrete:
            groups[-1] = SpanGroup(last.start, last.count + 1, last.width, discrete)
        else:
            groups.append(SpanGroup(span.offset, 1, span.width, discrete))
    return tuple(groups)
