"""What a fitted table model knows about each column, from its codecs, without data.

The built-in models (CTGAN, copula) share one codec per column (``synth.columns``); a
third-party model has none, and the callers fall back to the warehouse types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..synth.base import TableModel


@dataclass(frozen=True)
class ColumnProfile:
    """What the fitted model knows about a column (from its codecs), without data."""

    kind: str  # continuous | discrete | uuid | null
    n_categories: int = 0
    null_rate: float = 0.0
    constant: bool = False
    # chance that two independent values are equal and not NULL: the sum of squared
    # category shares; 1 / grid points for rounded numbers, dates, timestamps; 0 for
    # unrounded floats. None: not known (a guess from kind and categories is used)
    collision: float | None = None
    # share of the values decoded as new values in place of rare real ones (privacy):
    # they match no real value, so a distribution test's distance grows by up to this
    new_share: float = 0.0


def column_profiles(model: TableModel | None) -> dict[str, ColumnProfile]:
    """Per learned column, the codec facts of the built-in models (empty if unknown)."""
    if model is None:
        return {}
    try:
        meta, _ = model.state()
    except Exception:  # noqa: BLE001 - a third-party model: fall back to the types
        return {}
    out: dict[str, ColumnProfile] = {}
    for codec in meta.get("codecs") or ():
        if not isinstance(codec, Mapping) or "name" not in codec:
            continue
        n_cat = len(codec.get("categories") or ())
        low, high = codec.get("minimum"), codec.get("maximum")
        constant = (codec.get("kind") == "discrete" and n_cat <= 1) or (
            codec.get("kind") == "continuous" and low is not None and low == high
        )
        null_rate = float(codec.get("null_rate") or 0.0)
        out[codec["name"]] = ColumnProfile(
            kind=str(codec.get("kind")),
            n_categories=n_cat,
            null_rate=null_rate,
            constant=constant,
            collision=(1.0 - null_rate) ** 2 * _value_collision(codec),
            new_share=(1.0 - null_rate) * _new_share(codec),
        )
    return out


def _new_share(codec: Mapping[str, Any]) -> float:
    """Share of non-NULL values decoded as new values (rare real values' stand-ins)."""
    other = codec.get("other_index")
    if codec.get("kind") != "discrete" or other is None:
        return 0.0
    shares = list(codec.get("frequencies") or ())
    rare = float(codec.get("rare_share", 0.0 if codec.get("other_values") else 1.0))
    return float(shares[other]) * rare if other < len(shares) else 0.0


def _value_collision(codec: Mapping[str, Any]) -> float:
    """Chance that two non-NULL values the codec decodes are equal."""
    if codec.get("kind") == "discrete":
        shares = list(codec.get("frequencies") or ())
        if not shares:
            return 1.0
        other = codec.get("other_index")
        total = 0.0
        for i, f in enumerate(shares):
            if i != other:
                total += f * f
                continue
            # the "other" category: its frequent values by their weights; the rare
            # share decodes to new values that hardly ever meet
            kept = f * (1.0 - float(codec.get("rare_share", 0.0)))
            weights = list(codec.get("other_frequencies") or ())
            n_values = len(codec.get("other_values") or ())
            if weights:
                w = sum(weights)
                total += sum((kept * x / w) ** 2 for x in weights)
            elif n_values:
                total += kept * kept / n_values
        return total
    if codec.get("kind") != "continuous" or codec.get("minimum") is None:
        return 0.0
    if codec.get("integral"):
        resolution = 1.0
    elif codec.get("decimals") is not None:
        resolution = 10.0 ** -int(codec["decimals"])
    elif codec.get("step"):
        resolution = float(codec["step"])
    else:
        return 0.0  # decoded unrounded: equal to a real value only if copied
    return 1.0 / ((float(codec["maximum"]) - float(codec["minimum"])) / resolution + 1.0)


def model_profiles(relational: Any) -> dict[str, dict[str, ColumnProfile]]:
    """Column profiles of every fitted table model of a RelationalModel, by table key.

    A ratio's target (``TablePlan.ratio_targets``) is learned as its ratio to another
    column: the codec tells its NULL share, but the column is the product of a number
    and the ratio, continuous whatever the ratio is (a few tax rates are categories).
    """
    out = {}
    for key, model in relational.models.items():
        profiles = column_profiles(model)
        for name in relational.plans[key].ratio_targets:
            if name in profiles:
                profiles[name] = ColumnProfile("continuous", null_rate=profiles[name].null_rate)
        out[key] = profiles
    return out
