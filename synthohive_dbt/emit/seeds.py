"""Export: synthetic tables as dbt seeds (CSV files plus a seeds YAML with their tests).

Seeds go to ``<first seed path>/synthohive/``: one ``synth_<identifier>.csv`` per table and
``_synthohive__seeds.yml`` that pins each column to the real warehouse type
(``config.column_types``) and carries the same tests as the generated sources. ``dbt seed``
inserts row by row (about 1.4 ms per cell on Postgres), so seeds suit small outputs; above
SLOW_ROWS rows a warning says so.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..relational.plan import TablePlan
from ..schema import ColumnType, LogicalType
from .exports import ExportRun, FileExport
from .files import GeneratedFile, Quoted

SEEDS_DIR = "synthohive"
SEEDS_YAML = "_synthohive__seeds.yml"
#: above this many rows in all, ``dbt seed`` gets slow: warn
SLOW_ROWS = 10_000
#: seconds ``dbt seed`` spends per cell on Postgres (measured)
SECONDS_PER_CELL = 0.0014


def seeds_dir(project_dir: Path, seed_paths: list[str]) -> Path:
    first = seed_paths[0] if seed_paths else "seeds"
    return Path(project_dir) / first / SEEDS_DIR


def csv_text(frame: pd.DataFrame, types: Mapping[str, ColumnType]) -> str:
    """CSV as ``dbt seed`` reads it: ISO dates and timestamps, true/false, empty = NULL."""
    out = pd.DataFrame(index=frame.index)
    for name, ctype in types.items():
        out[name] = _csv_column(frame[name], ctype.logical)
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def _csv_column(series: pd.Series, logical: LogicalType) -> pd.Series:
    null = series.isna().to_numpy()
    if logical is LogicalType.DATE:
        text = pd.to_datetime(series).dt.strftime("%Y-%m-%d")
    elif logical is LogicalType.TIMESTAMP:
        stamps = pd.to_datetime(series)
        if stamps.dt.tz is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        text = stamps.dt.strftime(_stamp_format(stamps))
    elif logical is LogicalType.TIMESTAMPTZ:
        stamps = pd.to_datetime(series, utc=True)
        text = stamps.dt.strftime(_stamp_format(stamps) + "+00:00")
    elif logical is LogicalType.BOOLEAN:
        text = series.astype("boolean").map({True: "true", False: "false"})
    elif logical is LogicalType.INTEGER:
        text = series.astype("Int64").astype("string")
    else:
        text = series.astype("string")
    text = text.astype(object)
    text[null] = None
    return text


def _stamp_format(stamps: pd.Series) -> str:
    """Whole seconds unless some value has a fraction (keeps the CSV readable)."""
    fraction = stamps.dropna().dt.microsecond.to_numpy()
    return "%Y-%m-%d %H:%M:%S" + (".%f" if fraction.any() else "")


class SeedsExport(FileExport):
    """CSV seeds in ``<first seed path>/synthohive/``, column types pinned to the real ones."""

    resource = "seeds"
    yaml_name = SEEDS_YAML
    suffix = ".csv"
    headerless = True

    def directory(self, project: Any) -> Path:
        return seeds_dir(project.project_dir, list(project.config.seed_paths))

    def table_files(self, run: ExportRun) -> tuple[list[GeneratedFile], dict[str, int], list[str]]:
        relational, options = run.relational, run.options
        frames = {
            plan.key: frame
            for plan, frame in relational.generate(
                scale=options.scale,
                seed=options.seed,
                keep_orphans=options.keep_orphans,
                reporter=run.reporter,
            )
        }
        plans, order = relational.plans, relational.order
        files = [
            GeneratedFile(
                self.table_path(run.directory, plans[k]),
                csv_text(frames[k], plans[k].column_types),
                marked=False,
            )
            for k in order
        ]
        rows = {plans[k].name: len(frames[k]) for k in order}
        warning = slow_seed_warning({k: len(frames[k]) for k in order}, plans)
        return files, rows, [warning] if warning else []

    def node_config(self, plan: TablePlan) -> dict[str, Any]:
        return {
            "column_types": {n: _type_text(t.native) for n, t in plan.columns},
            "meta": {"synthohive_generated": True},
        }


SEEDS = SeedsExport()


def _type_text(native: str) -> str:
    return Quoted(native) if "(" in native else native


def slow_seed_warning(rows: Mapping[str, int], plans: Mapping[str, TablePlan]) -> str | None:
    total = sum(rows.values())
    if total <= SLOW_ROWS:
        return None
    cells = sum(n * len(p.columns) for p, n in ((plans[k], rows[k]) for k in rows))
    minutes = cells * SECONDS_PER_CELL / 60
    return (
        f"the seeds hold {total} rows ({cells} cells); `dbt seed` loads about one cell per "
        f"1.4 ms on Postgres (~{minutes:.1f} min here). For outputs this size, write the "
        "tables into the warehouse instead (`synthohive generate` without --as-seeds)"
    )
