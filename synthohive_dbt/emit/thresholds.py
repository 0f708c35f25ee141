"""Fidelity-test thresholds from the dbt configuration, validated all at once.

Thresholds are dbt vars (``dbt_project.yml`` or ``--vars``), under the key ``synthohive``::

    vars:
      synthohive:
        fidelity_severity: error        # or warn
        thresholds:
          ks_distance: 0.2
          tvd: 0.2
          null_rate_difference: 0.1
          correlation_difference: 0.3
          children_per_parent_distance: 0.2
          row_count_ratio: [0.5, 2.0]   # times --scale
          no_real_row_copied: true
        tables:                          # per-table overrides, by table name
          raw_stores:
            thresholds: {ks_distance: 0.5}

A table's ``config.meta`` may also carry ``synthohive_thresholds: {...}`` and
``synthohive_fidelity_severity``. ``false`` switches a test off. Precedence, last wins:
defaults, ``vars`` thresholds, the table's meta, ``vars`` ``tables.<name>``.

The value resolved so is a floor: a generated test gets ``max(value, critical value)``
(``sample_threshold``), the critical value being what the statistic of two independent
samples of one distribution, at the table's real and expected synthetic sizes, exceeds with
probability 0.001 (``critical``), rounded up to 3 decimals. Large tables keep the
configured value; small ones get a higher one; a test whose critical value reaches the
statistic's maximum (noise alone can reach it) is not generated. Likewise
``no_real_row_copied: true`` allows that test, generated only where a match would mean a
copy (``fidelity_tests.copies_are_telling``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from ..errors import EmitError

VARS_KEY = "synthohive"
META_THRESHOLDS = "synthohive_thresholds"
META_SEVERITY = "synthohive_fidelity_severity"

# test name -> (default, lowest, highest) for distances
DISTANCES: Mapping[str, tuple[float, float, float]] = MappingProxyType(
    {
        "ks_distance": (0.2, 0.0, 1.0),
        "tvd": (0.2, 0.0, 1.0),
        "null_rate_difference": (0.1, 0.0, 1.0),
        # a difference of two correlations lies in [0, 2]
        "correlation_difference": (0.3, 0.0, 2.0),
        "children_per_parent_distance": (0.2, 0.0, 1.0),
    }
)
ROW_COUNT_RATIO = "row_count_ratio"
NO_COPY = "no_real_row_copied"
DEFAULT_RATIO = (0.5, 2.0)
SEVERITIES = ("error", "warn")
KNOWN = (*DISTANCES, ROW_COUNT_RATIO, NO_COPY)


@dataclass(frozen=True)
class Fidelity:
    """Resolved settings for one table. A value of None switches that test off."""

    distances: Mapping[str, float | None] = field(
        default_factory=lambda: MappingProxyType({k: v[0] for k, v in DISTANCES.items()})
    )
    row_count_ratio: tuple[float, float] | None = DEFAULT_RATIO
    no_real_row_copied: bool = True
    severity: str = "error"

    def threshold(self, test: str) -> float | None:
        return self.distances.get(test)


@dataclass(frozen=True)
class FidelityConfig:
    """Project-wide settings plus per-table overrides, already validated."""

    default: Fidelity
    tables: Mapping[str, Fidelity]  # by table name

    def for_table(self, name: str) -> Fidelity:
        return self.tables.get(name, self.default)


def sample_threshold(test: str, configured: float | None, critical: float) -> float | None:
    """The threshold a generated ``test`` gets: ``configured`` (None: switched off), raised
    to ``critical`` rounded up so that the statistic must exceed it (0.75 becomes 0.751);
    None when that reaches the statistic's maximum, where the test could never fail."""
    if configured is None or not math.isfinite(critical):
        return None
    floor = (math.floor(critical * 1000) + 1) / 1000
    if floor >= DISTANCES[test][2]:
        return None
    return max(configured, floor)


def synthohive_vars(config: Any) -> dict[str, Any]:
    """The ``synthohive`` var of a dbt RuntimeConfig: dbt_project.yml vars (global or
    scoped to the root project), overridden key by key by ``--vars``."""
    project_vars = _vars_dict(getattr(config, "vars", None))
    scoped = project_vars.get(getattr(config, "project_name", None), {})
    merged: dict[str, Any] = {}
    for layer in (
        scoped.get(VARS_KEY) if isinstance(scoped, Mapping) else None,
        project_vars.get(VARS_KEY),
        (getattr(config, "cli_vars", None) or {}).get(VARS_KEY),
    ):
        if layer is not None:
            merged = _deep_merge(merged, layer) if isinstance(layer, Mapping) else layer
    return merged


def resolve(
    settings: Any,
    tables: Mapping[str, Mapping[str, Any]],
    *,
    known: Iterable[str] = (),
    where: str = "vars.synthohive",
) -> FidelityConfig:
    """Validate ``settings`` (the ``synthohive`` var) and every table's meta; raise one
    EmitError listing every problem. ``tables`` maps each generated table's name to its
    meta; ``known`` names the project's other tables, which ``tables:`` may configure
    too (they were not selected this time)."""
    problems: list[str] = []
    if settings is None:
        settings = {}
    if not isinstance(settings, Mapping):
        raise EmitError(f"{where} must be a mapping, got {settings!r}")
    # "report" is the quality report's gate (quality.gate)
    known_keys = {"thresholds", "fidelity_severity", "tables", "privacy", "report"}
    problems += [
        f"{where}.{k} is not a setting; known ones are {', '.join(sorted(known_keys))}"
        for k in sorted(set(settings) - known_keys)
    ]
    base = _layer(Fidelity(), settings, where, problems)
    per_table = settings.get("tables") or {}
    if not isinstance(per_table, Mapping):
        problems.append(f"{where}.tables must map table names to settings")
        per_table = {}
    known = set(known) | set(tables)
    for name in sorted(set(per_table) - set(tables)):
        override = per_table[name]
        if name not in known:
            listed = ", ".join(sorted(tables))
            problems.append(
                f"{where}.tables.{name}: no table of that name in the project "
                f"(generated tables: {listed})"
            )
        elif isinstance(override, Mapping):  # not generated now: still validated
            _layer(base, override, f"{where}.tables.{name}", problems)
    resolved: dict[str, Fidelity] = {}
    for name, meta in tables.items():
        fid = base
        meta_layer = {
            "thresholds": meta.get(META_THRESHOLDS),
            "fidelity_severity": meta.get(META_SEVERITY),
        }
        fid = _layer(fid, meta_layer, f"{name}: config.meta", problems, meta_keys=True)
        override = per_table.get(name)
        if override is not None:
            if isinstance(override, Mapping):
                fid = _layer(fid, override, f"{where}.tables.{name}", problems)
            else:
                problems.append(f"{where}.tables.{name} must be a mapping")
        if fid != base:
            resolved[name] = fid
    if problems:
        raise EmitError("invalid fidelity-test settings (nothing was written)", problems)
    return FidelityConfig(base, MappingProxyType(resolved))


def _layer(
    fid: Fidelity,
    settings: Mapping[str, Any],
    where: str,
    problems: list[str],
    *,
    meta_keys: bool = False,
) -> Fidelity:
    severity = settings.get("fidelity_severity")
    sev_name = META_SEVERITY if meta_keys else "fidelity_severity"
    if severity is not None:
        if str(severity).lower() not in SEVERITIES:
            problems.append(f"{where}.{sev_name} must be warn or error, got {severity!r}")
        else:
            fid = _replace(fid, severity=str(severity).lower())
    thresholds = settings.get("thresholds")
    th_name = META_THRESHOLDS if meta_keys else "thresholds"
    if thresholds is None:
        return fid
    if not isinstance(thresholds, Mapping):
        problems.append(f"{where}.{th_name} must be a mapping of test name to threshold")
        return fid
    distances = dict(fid.distances)
    changes: dict[str, Any] = {}
    for test, value in thresholds.items():
        label = f"{where}.{th_name}.{test}"
        if test in DISTANCES:
            checked = _distance(test, value, label, problems)
            if checked is not _INVALID:
                distances[test] = checked
        elif test == ROW_COUNT_RATIO:
            checked = _ratio(value, label, problems)
            if checked is not _INVALID:
                changes["row_count_ratio"] = checked
        elif test == NO_COPY:
            if isinstance(value, bool):
                changes["no_real_row_copied"] = value
            else:
                problems.append(f"{label} must be true or false, got {value!r}")
        else:
            problems.append(f"{label}: unknown test; known ones are {', '.join(KNOWN)}")
    return _replace(fid, distances=MappingProxyType(distances), **changes)


_INVALID = object()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _distance(test: str, value: Any, label: str, problems: list[str]) -> Any:
    if value is False:
        return None
    _, low, high = DISTANCES[test]
    if not _is_number(value) or not low <= value <= high:
        problems.append(
            f"{label} must be a number between {low:g} and {high:g} (or false to switch "
            f"the test off), got {value!r}"
        )
        return _INVALID
    return float(value)


def _ratio(value: Any, label: str, problems: list[str]) -> Any:
    if value is False:
        return None
    ok = (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(_is_number(v) and v > 0 for v in value)
    )
    if not ok:
        problems.append(
            f"{label} must be [min, max] with two positive numbers (or false), got {value!r}"
        )
        return _INVALID
    low, high = float(value[0]), float(value[1])
    if low > high:
        problems.append(f"{label}: min {low:g} is greater than max {high:g}")
        return _INVALID
    return (low, high)


def _replace(fid: Fidelity, **changes: Any) -> Fidelity:
    return replace(fid, **changes)


def _vars_dict(provider: Any) -> dict[str, Any]:
    if provider is None:
        return {}
    if hasattr(provider, "to_dict"):
        return dict(provider.to_dict() or {})
    return dict(provider) if isinstance(provider, Mapping) else {}


def _deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out
