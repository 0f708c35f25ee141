"""Structured progress events.

Library code reports through a ``Reporter``; the CLI renders events on the terminal
(or stays quiet), programs can collect them. Events are plain names plus fields, e.g.
``reporter.event("epoch", table="orders", epoch=3, epochs=300, loss_g=0.1, loss_d=-0.2)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Event:
    name: str
    fields: dict[str, Any]


class Reporter:
    """Fans events out to listeners. The default reporter does nothing."""

    def __init__(self, *listeners: Callable[[Event], None]):
        self._listeners = list(listeners)

    def event(self, name: str, **fields: Any) -> None:
        if not self._listeners:
            return
        evt = Event(name, fields)
        for listener in self._listeners:
            listener(evt)

    def add(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)


@dataclass
class EventLog:
    """A listener that keeps every event (for tests and programs)."""

    events: list[Event] = field(default_factory=list)

    def __call__(self, evt: Event) -> None:
        self.events.append(evt)

    def named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]


SILENT = Reporter()
