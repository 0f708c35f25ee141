"""Typed progress events, one formatter, and the listeners that render them.

Library code reports through a ``Reporter``: ``reporter.emit(FitDone(table="orders",
model="ctgan", seconds=3.2))``. Each event is a frozen dataclass with one meaning per
field; its ``name`` (``fit_done``) is derived from the class name and its ``level`` says
how chatty it is (``debug`` for per-epoch detail). ``format_event`` is the one
human-readable rendering, used by the CLI (``TextLines``) and by dbt's log in the
run-operation bridge; ``JsonLines`` writes one JSON object per event (``--log-format
json``); ``EventLog`` keeps the events for tests and programs.
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import IO, Any, ClassVar, TypeVar


@dataclass(frozen=True)
class Event:
    """Base of every progress event."""

    name: ClassVar[str] = "event"
    level: ClassVar[str] = "info"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    def fields(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TableEvent(Event):
    """An event about one table."""

    table: str


@dataclass(frozen=True)
class EpochEvent(TableEvent):
    """The end of training epoch ``epoch`` of ``epochs`` (detail: ``debug``)."""

    level: ClassVar[str] = "debug"

    epoch: int
    epochs: int


@dataclass(frozen=True)
class Stage(Event):
    """A pipeline stage begins (``read``, ``fit``) over ``tables`` tables."""

    stage: str
    tables: int


@dataclass(frozen=True)
class TableRead(TableEvent):
    rows: int


@dataclass(frozen=True)
class TableKept(TableEvent):
    """An unselected table keeps its saved model (``fit --state``)."""


@dataclass(frozen=True)
class FitReused(TableEvent):
    """A table's saved model is reused: its training fingerprint is unchanged."""

    rows: int


@dataclass(frozen=True)
class FitStarted(TableEvent):
    """The relational engine starts fitting one table with ``model``."""

    rows: int
    model: str


@dataclass(frozen=True)
class FitDone(TableEvent):
    model: str
    seconds: float


@dataclass(frozen=True)
class TrainingStarted(TableEvent):
    """A neural model's training setup: ``rows`` given, ``columns`` of which ``modelled``
    are learned, encoded ``width`` wide."""

    rows: int
    columns: int
    modelled: int
    width: int
    epochs: int
    batch_size: int
    device: str


@dataclass(frozen=True)
class EpochEnded(EpochEvent):
    loss_g: float
    loss_d: float
    rows_per_s: float
    eta_s: float
    seconds: float
    steps: int


@dataclass(frozen=True)
class EpochTrained(EpochEvent):
    """An epoch of a likelihood model: mean training loss and the validation rows'
    loss (negative log-likelihood per row, in nats)."""

    loss: float
    validation_loss: float
    rows_per_s: float
    seconds: float
    steps: int


@dataclass(frozen=True)
class Validated(TableEvent):
    """A validation score; ``improved``: it is the best so far (``best_score`` at
    ``best_epoch``, whose weights are kept)."""

    level: ClassVar[str] = "debug"

    epoch: int
    score: float
    improved: bool
    best_score: float
    best_epoch: int


@dataclass(frozen=True)
class TrainingDone(TableEvent):
    """``best_score`` is None when no epoch ran (nothing to learn)."""

    epochs_run: int
    best_epoch: int
    best_score: float | None
    stopped_early: bool
    seconds: float


@dataclass(frozen=True)
class TableGenerated(TableEvent):
    rows: int
    seconds: float


@dataclass(frozen=True)
class PrivacyMeasured(TableEvent):
    dcr_share: float
    passed: bool


def format_event(event: Event) -> str | None:
    """The event as one line of progress (indented by depth), or None to stay silent."""
    match event:
        case Stage(stage=stage, tables=tables):
            return f"{stage}: {tables} tables"
        case TableRead(table=table, rows=rows):
            return f"  read {table}: {rows} rows"
        case TableKept(table=table):
            return f"  keep {table}: not selected"
        case FitReused(table=table):
            return f"  reuse {table}: fingerprint unchanged"
        case FitStarted(table=table, rows=rows, model=model):
            return f"  fit {table} ({rows} rows, {model})"
        case EpochTrained() as e:
            return (
                f"    {e.table} epoch {e.epoch}/{e.epochs} loss={e.loss:.3f}"
                f" validation={e.validation_loss:.3f} {e.rows_per_s:.0f} rows/s"
            )
        case EpochEnded() as e:
            return (
                f"    {e.table} epoch {e.epoch}/{e.epochs} loss_g={e.loss_g:.3f}"
                f" loss_d={e.loss_d:.3f} {e.rows_per_s:.0f} rows/s eta {e.eta_s:.0f}s"
            )
        case Validated(table=table, score=score, best_score=best):
            return f"    {table} validation score {score:.3f} (best {best:.3f})"
        case TableGenerated(table=table, rows=rows):
            return f"  generated {table}: {rows} rows"
    return None


class Reporter:
    """Fans events out to listeners. The default reporter does nothing."""

    def __init__(self, *listeners: Callable[[Event], None]):
        self.listeners = listeners

    def emit(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)


class TextLines:
    """Renders events as ``format_event`` lines with the elapsed time (the CLI's default)."""

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream or sys.stderr
        self.started = time.perf_counter()

    def __call__(self, event: Event) -> None:
        text = format_event(event)
        if text is not None:
            elapsed = time.perf_counter() - self.started
            print(f"[{elapsed:6.1f}s] {text}", file=self.stream, flush=True)


class JsonLines:
    """One JSON object per event: ``event`` (its name), ``ts`` (UTC, ISO 8601), ``level``
    and the event's fields; non-finite numbers become null (JSON has none)."""

    def __init__(self, stream: IO[str] | None = None):
        self.stream = stream or sys.stderr

    def __call__(self, event: Event) -> None:
        ts = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        record = {"event": event.name, "ts": ts.replace("+00:00", "Z"), "level": event.level}
        record.update({k: _json_value(v) for k, v in event.fields().items()})
        print(json.dumps(record), file=self.stream, flush=True)


def _json_value(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


E = TypeVar("E", bound=Event)


@dataclass
class EventLog:
    """A listener that keeps every event (for tests and programs)."""

    events: list[Event] = field(default_factory=list)

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[E]) -> list[E]:
        """The events of one class, in order."""
        return [e for e in self.events if isinstance(e, kind)]


SILENT = Reporter()
