"""Conversions between Arrow (what drivers give and take) and the in-memory pandas form.

Every backend reads into an Arrow table and calls :func:`to_memory`; every backend writes
from the Arrow table :func:`to_arrow` builds. The pandas representation is therefore the
same on every warehouse (see ``synthohive_dbt.warehouse.base`` for the table). All work is
column-wise (Arrow compute casts), never per row.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa

from synthohive_dbt.errors import WarehouseError
from synthohive_dbt.schema import ColumnType, LogicalType

_US = pa.timestamp("us")
_US_UTC = pa.timestamp("us", tz="UTC")

# The Arrow type each logical type is held in between the driver and pandas.
ARROW_TYPES: Mapping[LogicalType, pa.DataType] = {
    LogicalType.INTEGER: pa.int64(),
    LogicalType.NUMERIC: pa.float64(),
    LogicalType.FLOAT: pa.float64(),
    LogicalType.TEXT: pa.large_string(),
    LogicalType.BOOLEAN: pa.bool_(),
    LogicalType.DATE: pa.date32(),
    LogicalType.TIMESTAMP: _US,
    LogicalType.TIMESTAMPTZ: _US_UTC,
    LogicalType.UUID: pa.large_string(),
    LogicalType.UNSUPPORTED: pa.large_string(),
}

# Arrow -> pandas extension dtypes, so that NULL stays pd.NA instead of becoming float NaN.
PANDAS_DTYPES = {
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
    pa.string(): pd.StringDtype(),
    pa.large_string(): pd.StringDtype(),
}

_ARROW_ERRORS = (
    pa.ArrowInvalid,
    pa.ArrowNotImplementedError,
    pa.ArrowTypeError,
    TypeError,
    ValueError,
    OverflowError,
)


def _memory_type(logical: LogicalType) -> pa.DataType:
    # dates live in pandas as datetime64[us] at midnight, not as python date objects
    return _US if logical is LogicalType.DATE else ARROW_TYPES[logical]


def _cast_in(array: pa.ChunkedArray, logical: LogicalType) -> pa.ChunkedArray:
    target = _memory_type(logical)
    if pa.types.is_timestamp(array.type) or pa.types.is_date(array.type):
        # nanosecond warehouse timestamps are truncated to microseconds on purpose
        return array.cast(target, safe=False)
    return array.cast(target)


def to_memory(table: pa.Table, types: Mapping[str, ColumnType], where: str) -> pd.DataFrame:
    """Convert a driver's Arrow table to the documented pandas representation."""
    arrays = {}
    for name, array in zip(table.column_names, table.columns, strict=True):
        ctype = types[name]
        try:
            arrays[name] = _cast_in(array, ctype.logical)
        except _ARROW_ERRORS as exc:
            raise WarehouseError(
                f"column {name} ({ctype.native}) of {where} cannot be read as "
                f"{ctype.logical.value}: {exc}"
            ) from exc
    converted = pa.table(arrays) if arrays else table
    return converted.to_pandas(types_mapper=PANDAS_DTYPES.get)


def _as_arrow(series: pd.Series) -> pa.ChunkedArray | pa.Array:
    try:
        return pa.array(series, from_pandas=True)
    except _ARROW_ERRORS:
        # mixed python objects (e.g. uuid.UUID, numbers in a text column): use their str()
        return pa.array(series.astype("string"), from_pandas=True)


def _cast_out(series: pd.Series, logical: LogicalType) -> pa.Array:
    array = _as_arrow(series)
    kind = array.type
    if logical in (LogicalType.TEXT, LogicalType.UUID):
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            array = pa.array(series.astype("string"), from_pandas=True)
        return array.cast(pa.large_string())
    if logical is LogicalType.NUMERIC and pa.types.is_decimal(kind):
        return array  # exact decimals given by the caller are written exactly
    if logical is LogicalType.TIMESTAMP and pa.types.is_timestamp(kind) and kind.tz:
        return array.cast(_US_UTC).cast(_US)  # aware -> naive: the UTC wall clock
    if logical is LogicalType.DATE and pa.types.is_timestamp(kind):
        return array.cast(pa.date32(), safe=False)  # drop the time of day
    if pa.types.is_timestamp(kind) and logical in (LogicalType.TIMESTAMP, LogicalType.TIMESTAMPTZ):
        return array.cast(ARROW_TYPES[logical], safe=False)  # naive -> aware assumes UTC
    return array.cast(ARROW_TYPES[logical])


def to_arrow(frame: pd.DataFrame, types: Mapping[str, ColumnType], where: str) -> pa.Table:
    """Convert a frame to Arrow with one canonical type per logical type, in ``types`` order.

    Accepts the in-memory representation and common variants (float with NaN for
    integers, python dates, tz-aware timestamps in any zone, uuid.UUID objects).
    """
    arrays = []
    for name, ctype in types.items():
        try:
            arrays.append(_cast_out(frame[name], ctype.logical))
        except _ARROW_ERRORS as exc:
            raise WarehouseError(
                f"column {name} of {where} cannot be written as {ctype.native} "
                f"({ctype.logical.value}): {exc}"
            ) from exc
    return pa.Table.from_arrays(arrays, names=list(types))


def empty_arrow(types: Mapping[str, ColumnType]) -> pa.Table:
    """A zero-row Arrow table with the canonical types (drivers that return None on no rows)."""
    return pa.schema([(n, ARROW_TYPES[t.logical]) for n, t in types.items()]).empty_table()
