"""One backend interface for every warehouse: catalog, bulk read, atomic bulk write.

In-memory representation
------------------------
``Warehouse.read`` returns, and ``write_tables`` expects, one pandas dtype per logical type,
identical on every warehouse (models and key generators rely on it)::

    INTEGER      Int64 (nullable, pd.NA)         int64 range; larger values fail to read
    NUMERIC      float64 (NaN = NULL)            written back cast to the exact native type,
                                                 e.g. numeric(10,2); decimal.Decimal objects
                                                 are also accepted and written exactly
    FLOAT        float64 (NaN = NULL)            NaN and NULL are the same value in memory
    TEXT         string (pd.StringDtype, pd.NA)  empty string and NULL stay distinct
    BOOLEAN      boolean (nullable, pd.NA)
    DATE         datetime64[us] at midnight      NaT = NULL; not python date objects
    TIMESTAMP    datetime64[us], naive           nanosecond timestamps are truncated to us
    TIMESTAMPTZ  datetime64[us, UTC]             any zone is converted to UTC on read
    UUID         string, canonical lowercase     same dtype as TEXT
    UNSUPPORTED  string: the warehouse's text    read only; ``write_tables`` refuses them
                 rendering of the value

Writes are tolerant of common variants (float with NaN for an integer column if every
value is integral, python ``date``, timestamps in any zone or unit, ``uuid.UUID``) and
convert them column-wise; see ``frames.to_arrow``.

Writes are staged: each table is bulk-loaded into ``__synthohive_stage_<identifier>`` in
the target schema with the native column types, then swapped into place (drop the old
table, rename the stage). Where the warehouse has transactional DDL (DuckDB, Postgres) the
swap of every table of one ``write_tables`` call is a single transaction; on any failure
the stages are dropped and the previous synthetic tables are left as they were.
"""

from __future__ import annotations

import hashlib
import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import pandas as pd
import pyarrow as pa

from synthohive_dbt.errors import UnsafeWriteError, WarehouseError
from synthohive_dbt.schema import ColumnType, LogicalType, Relation
from synthohive_dbt.warehouse.dialect import Dialect
from synthohive_dbt.warehouse.frames import to_arrow, to_memory

STAGE_PREFIX = "__synthohive_stage_"

W = TypeVar("W", bound="Warehouse")
TableWrite = tuple[str, pd.DataFrame, Mapping[str, ColumnType]]
Swap = tuple["Relation", "Relation", Mapping[str, ColumnType]]  # stage, final, column types


def import_driver(module: str, what: str, extra: str) -> Any:
    """The driver module of an optional extra, imported when a backend first needs it;
    WarehouseError naming the extra to install when it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise WarehouseError(
            f"{what} is not installed; pip install 'synthohive-dbt[{extra}]'"
        ) from exc


@dataclass
class _Stage:
    final: Relation
    stage: Relation
    types: dict[str, ColumnType]
    rows: int = 0


@dataclass(frozen=True)
class Scan:
    """Which rows a read takes: those matching ``where`` (SQL on the table's columns),
    at most ``limit`` of them; None: no bound."""

    limit: int | None = None
    where: str | None = None


class Warehouse(ABC):
    """A native connection to one warehouse. Use as a context manager, or call close()."""

    dialect: ClassVar[Dialect]

    def __init__(self, connection: Any, *, owns_connection: bool, target: str | None = None):
        self._conn = connection
        self._owns = owns_connection
        self.target = target

    @classmethod
    def from_connection(cls: type[W], connection: Any) -> W:
        """Wrap a ready native connection (e.g. dbt's own); close() leaves it open."""
        return cls(connection, owns_connection=False)

    @classmethod
    def check_credentials(
        cls, credentials: Any, *, target: str | None = None, profiles: str | None = None
    ) -> None:
        """Refuse, without connecting, settings that cannot work (ProfileError); runs when
        the profile is loaded, before dbt or a driver dials anything. ``profiles``: where
        the profile was read, for the message."""
        return None  # nothing to refuse by default

    @classmethod
    @abstractmethod
    def from_credentials(cls: type[W], credentials: Any, *, target: str | None = None) -> W:
        """Open a native connection from a dbt Credentials object."""

    # ---- catalog ---------------------------------------------------------------------
    @abstractmethod
    def columns(self, relation: Relation) -> dict[str, ColumnType]:
        """Column name -> type, in table order; WarehouseError if the relation is missing."""

    @abstractmethod
    def schema_exists(self, database: str | None, schema: str) -> bool: ...

    @abstractmethod
    def list_tables(self, database: str | None, schema: str) -> list[str]:
        """Names of the tables and views in a schema, sorted."""

    def row_count(self, relation: Relation, where: str | None = None) -> int:
        """Rows of ``relation`` (meeting ``where``, a SQL condition, when given)."""
        sql = f"select count(*) from {relation.render(self.dialect)}"
        with self._errors(f"counting rows of {relation}"):
            rows = self._fetch(sql if where is None else f"{sql} where {where}")
        return int(rows[0][0])

    def fk_histogram(self, relation: Relation, columns: Sequence[str]) -> dict[int, int]:
        """{k: how many values of ``columns`` (none null) occur in k rows of ``relation``},
        counted in the warehouse: children per parent without reading the children."""
        q = self.dialect.quote
        keys = ", ".join(q(c) for c in columns)
        present = " and ".join(f"{q(c)} is not null" for c in columns)
        sql = (
            f"select n, count(*) from (select count(*) as n from "
            f"{relation.render(self.dialect)} where {present} group by {keys}) as per_parent "
            "group by n"
        )
        with self._errors(f"counting rows per {', '.join(columns)} of {relation}"):
            rows = self._fetch(sql)
        return {int(n): int(count) for n, count in rows}

    # ---- read ------------------------------------------------------------------------
    def read(
        self,
        relation: Relation,
        columns: Sequence[str] | None = None,
        limit: int | None = None,
        *,
        where: str | None = None,
    ) -> pd.DataFrame:
        """Read a table (or some columns, or the first ``limit`` rows in scan order);
        ``where``: a SQL condition on the table's columns (``sampling`` builds them)."""
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise WarehouseError(f"limit for reading {relation} must be an integer >= 0")
        available = self.columns(relation)
        names = self._resolve(relation, available, columns)
        types = {stored: available[stored] for stored in names.values()}
        with self._errors(f"reading {relation}"):
            data = self._read_arrow(relation, types, Scan(limit, where))
        frame = to_memory(data, types, str(relation))
        return frame.rename(columns={v: k for k, v in names.items() if k != v})

    def _resolve(
        self, relation: Relation, available: Mapping[str, ColumnType], wanted: Sequence[str] | None
    ) -> dict[str, str]:
        """Requested name -> stored name; a unique case-insensitive match is accepted."""
        if wanted is None:
            return {name: name for name in available}
        folded: dict[str, list[str]] = {}
        for name in available:
            folded.setdefault(name.casefold(), []).append(name)
        resolved, missing = {}, []
        for name in wanted:
            matches = [name] if name in available else folded.get(name.casefold(), [])
            if len(matches) == 1:
                resolved[name] = matches[0]
            else:
                missing.append(name)
        if missing:
            raise WarehouseError(
                f"{relation} has no column {', '.join(missing)}; "
                f"its columns are {', '.join(available)}"
            )
        return resolved

    @abstractmethod
    def _read_arrow(
        self, relation: Relation, types: Mapping[str, ColumnType], scan: Scan
    ) -> pa.Table:
        """The selected columns of the rows ``scan`` chooses, through the native bulk
        path, as Arrow."""

    def _select_sql(self, relation: Relation, types: Mapping[str, ColumnType], scan: Scan) -> str:
        """The query ``_read_arrow`` runs: each column as ``_select_expr`` reads it."""
        exprs = ", ".join(self._select_expr(n, t) for n, t in types.items())
        sql = f"select {exprs} from {relation.render(self.dialect)}"
        if scan.where is not None:
            sql += f" where {scan.where}"
        return sql if scan.limit is None else f"{sql} limit {int(scan.limit)}"

    def _select_expr(self, name: str, ctype: ColumnType) -> str:
        return self.dialect.select_expr(name, ctype)

    # ---- write -----------------------------------------------------------------------
    def create_schema(self, database: str | None, schema: str) -> None:
        if self.schema_exists(database, schema):
            return
        parts = (database, schema) if self.dialect.schema_in_database else (schema,)
        name = ".".join(self.dialect.quote(p) for p in parts if p)
        with self._errors(f"creating schema {schema}"):
            self._execute(f"create schema if not exists {name}")

    def write_tables(
        self,
        target_schema: str,
        tables: Sequence[TableWrite],
        *,
        database: str | None = None,
        protected_schemas: Iterable[str] = (),
    ) -> dict[str, int]:
        """Write (identifier, frame, column types) tables, parents first; rows per table.

        All tables are staged first and swapped together, so a failure anywhere leaves
        every previously written synthetic table as it was.
        """
        self._check_write(target_schema, tables, protected_schemas)
        self.create_schema(database, target_schema)
        stages: list[_Stage] = []
        try:
            for identifier, frame, types in tables:
                stage = self._stage_for(Relation(database, target_schema, identifier), types)
                stages.append(stage)
                stage.rows = self._load_stage(stage, [frame])
            with self._errors(f"replacing tables in {target_schema}"):
                self._swap([(s.stage, s.final, s.types) for s in stages])
        except BaseException:
            self._discard(s.stage for s in stages)
            raise
        return {s.final.identifier: s.rows for s in stages}

    def write_table_chunks(
        self,
        target_schema: str,
        identifier: str,
        chunks: Iterable[pd.DataFrame],
        column_types: Mapping[str, ColumnType],
        *,
        database: str | None = None,
        protected_schemas: Iterable[str] = (),
    ) -> int:
        """Stream frames into one table (memory stays one chunk); swap at the end."""
        self._check_write(target_schema, [(identifier, None, column_types)], protected_schemas)
        self.create_schema(database, target_schema)
        stage = self._stage_for(Relation(database, target_schema, identifier), column_types)
        try:
            rows = self._load_stage(stage, chunks)
            with self._errors(f"replacing {stage.final}"):
                self._swap([(stage.stage, stage.final, stage.types)])
        except BaseException:
            self._discard([stage.stage])
            raise
        return rows

    def _check_write(
        self,
        schema: str,
        tables: Sequence[tuple[str, Any, Mapping[str, ColumnType]]],
        protected: Iterable[str],
    ) -> None:
        """Refuse unsafe targets and report every problem with the tables at once."""
        if not schema or not schema.strip():
            raise WarehouseError("the target schema for synthetic tables is empty")
        key = self.dialect.normalize(schema)
        if key in {self.dialect.normalize(p) for p in protected}:
            raise UnsafeWriteError(
                f"refusing to write synthetic tables into schema {schema}: it holds real "
                "tables selected for synthesis; choose another target schema "
                f"(e.g. {schema}_synthetic)"
            )
        problems, seen = [], set()
        for identifier, frame, types in tables:
            problems += _table_problems(self.dialect, identifier, frame, types, seen)
        if problems:
            raise WarehouseError(f"cannot write synthetic tables to {schema}", problems)

    def _stage_for(self, final: Relation, types: Mapping[str, ColumnType]) -> _Stage:
        name = STAGE_PREFIX + final.identifier
        limit = self.dialect.max_identifier_length
        if limit and len(name.encode()) > limit:
            digest = hashlib.sha1(final.identifier.encode()).hexdigest()[:8]
            name = f"{STAGE_PREFIX}{digest}_{final.identifier}".encode()[:limit].decode(
                errors="ignore"
            )
        return _Stage(final, Relation(final.database, final.schema, name), dict(types))

    def _load_stage(self, stage: _Stage, chunks: Iterable[pd.DataFrame]) -> int:
        where, types = str(stage.final), stage.types
        with self._errors(f"creating staging table for {where}"):
            self._drop_table(stage.stage)
            self._create_stage(stage.stage, types)
        rows = 0
        for chunk in chunks:
            problems = _frame_problems(stage.final.identifier, chunk, types)
            if problems:
                raise WarehouseError(f"cannot write {where}", problems)
            data = to_arrow(chunk, types, where)
            if data.num_rows:
                with self._errors(f"loading {where}"):
                    self._append(stage.stage, data, types)
            rows += data.num_rows
        return rows

    def _discard(self, stages: Iterable[Relation]) -> None:
        """Best-effort cleanup after a failure; the original error is what matters."""
        for stage in stages:
            with suppress(Exception):
                self._recover()
                self._drop_table(stage)

    def _create_stage(self, relation: Relation, types: Mapping[str, ColumnType]) -> None:
        """An empty staging table with the native column types."""
        cols = ", ".join(self.dialect.column_ddl(n, t) for n, t in types.items())
        self._execute(f"create table {relation.render(self.dialect)} ({cols})")

    def _drop_table(self, relation: Relation) -> None:
        self._execute(f"drop table if exists {relation.render(self.dialect)}")

    def _recover(self) -> None:
        """Bring the connection back to a usable state after a failed statement."""
        return None  # autocommit drivers need nothing; Postgres overrides

    @abstractmethod
    def _append(self, stage: Relation, data: pa.Table, types: Mapping[str, ColumnType]) -> None:
        """Bulk-load canonical Arrow data into the (existing) stage table."""

    @abstractmethod
    def _swap(self, swaps: Sequence[Swap]) -> None:
        """Replace each final table by its (stage, final, types) stage, in one transaction
        where the warehouse has transactional DDL."""

    # ---- plumbing --------------------------------------------------------------------
    @abstractmethod
    def _execute(self, sql: str) -> None: ...

    @abstractmethod
    def _fetch(self, sql: str) -> list[tuple[Any, ...]]: ...

    @abstractmethod
    def _driver_errors(self) -> tuple[type[BaseException], ...]: ...

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn driver exceptions into WarehouseError naming what was being done."""
        try:
            yield
        except (*self._driver_errors(), pa.ArrowException) as exc:
            message = str(exc).strip() or type(exc).__name__
            raise WarehouseError(f"{action} failed on {self.dialect.name}: {message}") from exc

    def close(self) -> None:
        if self._conn is not None and self._owns:
            with suppress(Exception):
                self._conn.close()
        self._conn = None

    def __enter__(self: W) -> W:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _table_problems(
    dialect: Dialect,
    identifier: str,
    frame: pd.DataFrame | None,
    types: Mapping[str, ColumnType],
    seen: set[str],
) -> list[str]:
    if not identifier:
        return ["a table has an empty identifier"]
    problems = []
    key = dialect.normalize(identifier)
    if key in seen:
        problems.append(f"{identifier} is listed twice")
    seen.add(key)
    if identifier.startswith(STAGE_PREFIX):
        problems.append(f"{identifier} uses the reserved prefix {STAGE_PREFIX}")
    if not types:
        problems.append(f"{identifier} has no columns")
    for name, ctype in types.items():
        if ctype.logical is LogicalType.UNSUPPORTED:
            problems.append(
                f"{identifier}.{name} has unsupported type {ctype.native}; "
                "drop the column or cast it in a dbt model"
            )
    if frame is not None:
        problems += _frame_problems(identifier, frame, types)
    return problems


def _frame_problems(
    identifier: str, frame: pd.DataFrame, types: Mapping[str, ColumnType]
) -> list[str]:
    if not isinstance(frame, pd.DataFrame):
        return [f"{identifier}: expected a pandas DataFrame, got {type(frame).__name__}"]
    names = [str(c) for c in frame.columns]
    problems = []
    missing = [n for n in types if n not in names]
    extra = [n for n in names if n not in types]
    if missing:
        problems.append(f"{identifier}: the frame lacks column(s) {', '.join(missing)}")
    if extra:
        problems.append(f"{identifier}: the frame has column(s) without a type: {', '.join(extra)}")
    if len(set(names)) != len(names):
        problems.append(f"{identifier}: the frame has duplicate column names")
    return problems
