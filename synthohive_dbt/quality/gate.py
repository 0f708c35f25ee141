"""The report's gate: ``--fail-under X`` and ``vars: synthohive: report:``.

    vars:
      synthohive:
        report:
          fail_under: 0.8          # the overall score (``--fail-under`` overrides it)
          tables:
            orders: {fail_under: 0.85}   # a table's score

The gate fails when the overall score or a table with a threshold scores below it; the
result names every failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import EmitError

KEY = "report"


@dataclass(frozen=True)
class GateSettings:
    fail_under: float | None = None
    tables: Mapping[str, float] = field(default_factory=dict)


def gate_settings(
    synthohive_vars: Mapping[str, Any], fail_under: float | None = None
) -> GateSettings:
    """Validated settings from ``vars.synthohive.report``; ``fail_under`` (the CLI's)
    replaces the overall threshold. Raises one EmitError listing every problem."""
    where = f"vars.synthohive.{KEY}"
    settings = synthohive_vars.get(KEY) or {}
    problems: list[str] = []
    if not isinstance(settings, Mapping):
        raise EmitError(f"{where} must be a mapping such as {{fail_under: 0.8}}, got {settings!r}")
    problems += [
        f"{where}.{k} is not a setting; known ones are fail_under, tables"
        for k in sorted(set(settings) - {"fail_under", "tables"})
    ]
    overall = _score(settings.get("fail_under"), f"{where}.fail_under", problems)
    if fail_under is not None:
        overall = _score(fail_under, "--fail-under", problems)
    tables: dict[str, float] = {}
    per_table = settings.get("tables") or {}
    if not isinstance(per_table, Mapping):
        problems.append(f"{where}.tables must map table names to {{fail_under: X}}")
        per_table = {}
    for name, table in per_table.items():
        if not isinstance(table, Mapping) or set(table) - {"fail_under"}:
            problems.append(f"{where}.tables.{name} takes only fail_under, got {table!r}")
            continue
        value = _score(table.get("fail_under"), f"{where}.tables.{name}.fail_under", problems)
        if value is not None:
            tables[str(name)] = value
    if problems:
        raise EmitError("the report's gate settings are invalid", problems)
    return GateSettings(overall, tables)


def apply_gate(report: Mapping[str, Any], settings: GateSettings) -> dict[str, Any]:
    """``{"fail_under", "tables", "passed", "failures"}`` for ``report``; a table with a
    threshold that the report does not hold is a failure too (a typo passes nothing)."""
    failures: list[str] = []
    overall = report["overall"]["score"]
    if settings.fail_under is not None and (overall is None or overall < settings.fail_under):
        failures.append(f"overall score {_shown(overall)} is below {settings.fail_under}")
    scores = {t["name"]: t["score"] for t in report["tables"]}
    for name, threshold in sorted(settings.tables.items()):
        if name not in scores:
            failures.append(f"table {name!r} has a threshold but is not in the report")
        elif scores[name] is None or scores[name] < threshold:
            failures.append(f"table {name!r} scores {_shown(scores[name])}, below {threshold}")
    return {
        "fail_under": settings.fail_under,
        "tables": dict(settings.tables),
        "passed": not failures,
        "failures": failures,
    }


def _score(value: Any, where: str, problems: list[str]) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        problems.append(f"{where} must be a number from 0 to 1, got {value!r}")
        return None
    return float(value)


def _shown(score: float | None) -> str:
    return "n/a" if score is None else f"{score:.3f}"
