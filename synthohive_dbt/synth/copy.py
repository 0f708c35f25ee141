"""The ``copy`` model: a reference table copied as it is (``synthohive_mode: copy``).

Lookup tables whose real codes other data relies on (airports, currencies) are public by
declaration: fit stores their rows in the artifact (JSON, no pickle) and sampling returns
them unchanged, keys included. It is never a ``--model`` choice: the relational layer
uses it for the tables the project marks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import ArtifactError
from .base import TableModel
from .inputs import FitData


class CopyModel(TableModel):
    name: ClassVar[str] = "copy"

    def __init__(self, options=None):
        super().__init__(options)
        self._frame: pd.DataFrame | None = None

    def learn(self, data: FitData) -> None:
        names = [c.name for c in data.columns]
        self._frame = data.frame[names].reset_index(drop=True).copy()

    def sample(
        self, n: int, context: np.ndarray | None = None, *, rng: np.random.Generator
    ) -> pd.DataFrame:
        """The copied rows (all of them, whatever ``n``: a lookup table does not scale)."""
        if self._frame is None:
            raise ArtifactError("the copy model holds no rows; fit it first")
        return self._frame.copy()

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        if self._frame is None:
            raise ArtifactError("the copy model holds no rows; fit it first")
        columns = []
        for name in self._frame.columns:
            series = self._frame[name]
            if pd.api.types.is_datetime64_any_dtype(series.dtype):
                values = [None if pd.isna(v) else v.isoformat() for v in series]
            else:
                values = [None if pd.isna(v) else _plain(v) for v in series.astype(object)]
            columns.append({"name": str(name), "dtype": str(series.dtype), "values": values})
        return {"columns": columns}, {}

    @classmethod
    def from_state(cls, meta: Mapping[str, Any], tensors: Mapping[str, np.ndarray]) -> CopyModel:
        model = cls()
        try:
            data = {}
            for col in meta["columns"]:
                series = pd.Series(col["values"], dtype=object)
                try:
                    if "datetime" in col["dtype"]:
                        series = pd.to_datetime(
                            series, utc="UTC" in col["dtype"] or "+" in col["dtype"]
                        )
                    series = series.astype(col["dtype"])
                except (TypeError, ValueError):
                    pass  # kept as objects: the warehouse write casts them
                data[col["name"]] = series
        except (KeyError, TypeError) as exc:
            raise ArtifactError(f"copy artifact is incomplete or invalid: {exc}") from exc
        model._frame = pd.DataFrame(data)
        return model


def _plain(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
