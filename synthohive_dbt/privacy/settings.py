"""Privacy settings: the ``privacy`` entry of the ``synthohive`` dbt var, and the meta
keys that opt tables and columns in or out.

    vars:
      synthohive:
        privacy:
          min_category_rows: 5   # a value seen in fewer real rows is never kept (k)
          holdout_share: 0.1     # real rows set aside, never trained on, for the metrics
          holdout_max_rows: 10000

Meta (``config.meta``): ``synthohive_pii: fake | mask | hash | drop | keep | true | false``
on a column; ``synthohive_privacy: public`` on a column or table (values kept as they are);
``synthohive_mode: copy`` on a table (copied as it is, keys included, no model).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import PrivacyError

MODE_KEY, PRIVACY_KEY, PII_KEY, KIND_KEY, LOCALE_KEY = (
    "synthohive_mode",
    "synthohive_privacy",
    "synthohive_pii",
    "synthohive_pii_kind",
    "synthohive_locale",
)
COPY, PUBLIC = "copy", "public"
#: the default k: a value seen in fewer real rows is never kept (one declaration for all)
MIN_CATEGORY_ROWS = 5
_SETTINGS = {"min_category_rows": int, "holdout_share": float, "holdout_max_rows": int}


@dataclass(frozen=True)
class PrivacySettings:
    min_category_rows: int = MIN_CATEGORY_ROWS
    holdout_share: float = 0.1
    holdout_max_rows: int = 10_000

    @classmethod
    def from_vars(cls, synthohive_vars: Mapping[str, Any] | None) -> PrivacySettings:
        """Read ``vars.synthohive.privacy``; raise PrivacyError listing every problem."""
        settings, problems = cls.parse(synthohive_vars)
        if problems:
            raise PrivacyError("invalid privacy settings (nothing was run)", problems)
        return settings

    @classmethod
    def parse(cls, synthohive_vars: Mapping[str, Any] | None) -> tuple[PrivacySettings, list[str]]:
        """(settings, problems) of ``vars.synthohive.privacy``; defaults where wrong."""
        raw = synthohive_vars.get("privacy") if isinstance(synthohive_vars, Mapping) else None
        if raw is None:
            return cls(), []
        where = "vars.synthohive.privacy"
        if not isinstance(raw, Mapping):
            return cls(), [f"{where} must be a mapping, got {raw!r}"]
        problems = [
            f"{where}.{k} is not a setting; known ones are {', '.join(_SETTINGS)}"
            for k in sorted(set(raw) - set(_SETTINGS))
        ]
        values: dict[str, Any] = {}
        for key, kind in _SETTINGS.items():
            if key not in raw:
                continue
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                problems.append(f"{where}.{key} must be a number, got {value!r}")
                continue
            if kind is int and float(value) != int(value):
                problems.append(f"{where}.{key} must be a whole number, got {value!r}")
                continue
            values[key] = kind(value)
        k = values.get("min_category_rows", cls.min_category_rows)
        if k < 1:
            problems.append(
                f"{where}.min_category_rows is {k}; it must be 1 or more (1 keeps every "
                "value; the default 5 keeps values seen in at least 5 real rows)"
            )
        share = values.get("holdout_share", cls.holdout_share)
        if not 0 <= share < 0.5:
            problems.append(f"{where}.holdout_share is {share}; use a share in [0, 0.5)")
        if values.get("holdout_max_rows", 0) < 0:
            problems.append(f"{where}.holdout_max_rows must be 0 or more")
        if problems:
            return cls(), problems
        return cls(**values), []


def is_copy(meta: Mapping[str, Any]) -> bool:
    """``synthohive_mode: copy``: a reference table copied as it is."""
    return str(meta.get(MODE_KEY, "")).lower() == COPY


def is_public(meta: Mapping[str, Any]) -> bool:
    return str(meta.get(PRIVACY_KEY, "")).lower() == PUBLIC
