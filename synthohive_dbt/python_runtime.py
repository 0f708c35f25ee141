"""What the generated dbt Python models call when dbt runs them: sample one synthetic table
in-process (``emit.python_models`` writes the models; this is dbt's entry into the library
for them, as ``bridge`` is for ``dbt run-operation``).

A child table is made from state its parents' generation leaves behind that is not in the
parents' written columns (each parent row's sampled child count, parent features), so a
model regenerates its ancestors in memory with the same per-table seeds (cheap next to
training) and keeps only its own table. The parents dbt already built (``dbt.ref``) are
compared with the regenerated ones: a mismatch means they came from other artifacts or
another seed, and the model fails instead of writing children whose keys dangle.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ArtifactError, ModelError
from .relational import RelationalModel
from .relational.plan import TablePlan
from .warehouse.duckdb import DIALECT
from .warehouse.frames import to_arrow

ARTIFACTS_ENV = "SYNTHOHIVE_ARTIFACTS"
_CACHE: dict[tuple[str, float], RelationalModel] = {}
_LOCK = threading.Lock()


def load_artifacts(path: str | os.PathLike[str]) -> RelationalModel:
    """The saved RelationalModel, cached per process (dbt runs models in threads)."""
    root = Path(os.environ.get(ARTIFACTS_ENV) or path).expanduser()
    plan_json = root / "plan.json"
    try:
        stamp = plan_json.stat().st_mtime
    except OSError as exc:
        raise ArtifactError(
            f"no synthohive artifacts at {root}; run `synthohive fit`, or set "
            f"{ARTIFACTS_ENV} to the artifacts directory"
        ) from exc
    with _LOCK:
        key = (str(root.resolve()), stamp)
        if key not in _CACHE:
            _CACHE[key] = RelationalModel.load(root)
        return _CACHE[key]


def ancestors(relational: RelationalModel, key: str) -> set[str]:
    """``key`` and every table it needs first, through any FK (cycle-closing ones too)."""
    seen: set[str] = set()
    todo = [key]
    while todo:
        current = todo.pop()
        if current in seen or current not in relational.plans:
            continue
        seen.add(current)
        todo += [fk.parent for fk in relational.plans[current].fks]
    return seen


def generate_one(
    relational: RelationalModel, key: str, *, seed: int, scale: float
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """(table ``key``, its regenerated ancestors) as ``RelationalModel.generate`` makes
    them with the same seed."""
    if key not in relational.plans:
        raise ModelError(f"table {key} is not in the synthohive artifacts; refit")
    keep = ancestors(relational, key)
    sub = RelationalModel(
        plans={k: relational.plans[k] for k in keep},
        order=tuple(k for k in relational.order if k in keep),
        models={k: m for k, m in relational.models.items() if k in keep},
        model_name=relational.model_name,
    )
    made: dict[str, pd.DataFrame] = {}
    for plan, frame in sub.generate(scale=scale, seed=seed):
        made[plan.key] = frame
    return made[key], made


def check_parents(
    plan: TablePlan,
    plans: Mapping[str, TablePlan],
    built: Mapping[str, pd.DataFrame],
    regenerated: Mapping[str, pd.DataFrame],
) -> None:
    """Refuse to go on when a parent dbt built differs from the regenerated one."""
    for parent_key, frame in built.items():
        parent = plans[parent_key]
        mine = regenerated[parent_key]
        columns = [c for fk in plan.fks if fk.parent == parent_key for c in fk.parent_columns]
        same = len(frame) == len(mine) and all(
            _key_set(frame[c]) == _key_set(mine[c]) for c in dict.fromkeys(columns)
        )
        if not same:
            raise ModelError(
                f"the synthetic parent {parent.identifier} in the warehouse was not made "
                f"from these artifacts and seed ({len(frame)} rows there, {len(mine)} "
                "regenerated); rebuild all of them together: dbt run --select "
                "path:models/synthohive"
            )


def _key_set(series: pd.Series) -> set[str]:
    return set(series.dropna().astype(str))


def sample_table(
    session: Any,
    artifacts: str,
    key: str,
    parents: Mapping[str, Any],
    *,
    seed: int = 0,
    scale: float = 1.0,
) -> Any:
    """Sample table ``key`` and return it as a DuckDB relation with the real column types.

    ``parents`` maps parent table key -> what ``dbt.ref`` returned for it.
    """
    relational = load_artifacts(artifacts)
    frame, regenerated = generate_one(relational, key, seed=seed, scale=scale)
    plan = relational.plans[key]
    built = {k: _frame(rel) for k, rel in parents.items()}
    check_parents(plan, relational.plans, built, regenerated)
    return _typed_relation(session, frame, plan)


def _frame(relation: Any) -> pd.DataFrame:
    return relation.df() if hasattr(relation, "df") else pd.DataFrame(relation)


def _typed_relation(session: Any, frame: pd.DataFrame, plan: TablePlan) -> Any:
    """A relation over the frame that casts each column to its real warehouse type (a
    DataFrame alone would let DuckDB infer BIGINT/DOUBLE/VARCHAR)."""
    types = plan.column_types
    data = to_arrow(frame, types, plan.identifier)
    name = f"__synthohive_{plan.identifier}_{uuid.uuid4().hex[:8]}"
    session.register(name, data)
    exprs = ", ".join(
        f"cast({DIALECT.quote(n)} as {DIALECT.native(t)}) as {DIALECT.quote(n)}"
        for n, t in types.items()
    )
    return session.sql(f"select {exprs} from {DIALECT.quote(name)}")
