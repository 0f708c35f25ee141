"""Typed progress events: names, the one formatter, JSON lines, the log, the CLI's choice."""

from __future__ import annotations

import io
import json

import numpy as np

from synthohive_dbt import cli
from synthohive_dbt.progress import (
    EpochEnded,
    EventLog,
    FitDone,
    FitStarted,
    JsonLines,
    Reporter,
    Stage,
    TableRead,
    TextLines,
    TrainingDone,
    Validated,
    format_event,
)

EPOCH = EpochEnded("orders", 3, 300, 0.1, -0.2, 1234.0, 59.6, 0.2, 10)


def test_names_come_from_the_class_and_epochs_are_detail():
    assert (FitDone.name, TableRead.name, EpochEnded.name) == (
        "fit_done",
        "table_read",
        "epoch_ended",
    )
    assert (EPOCH.level, Validated.level, FitStarted.level) == ("debug", "debug", "info")


def test_format_event_renders_progress_and_skips_the_rest():
    assert format_event(Stage("read", 3)) == "read: 3 tables"
    assert format_event(FitStarted("orders", 50, "ctgan")) == "  fit orders (50 rows, ctgan)"
    assert format_event(EPOCH) == (
        "    orders epoch 3/300 loss_g=0.100 loss_d=-0.200 1234 rows/s eta 60s"
    )
    validated = Validated("orders", 4, 0.25, improved=False, best_score=0.5, best_epoch=2)
    assert format_event(validated) == "    orders validation score 0.250 (best 0.500)"
    assert format_event(FitDone("orders", "ctgan", 1.0)) is None


def test_text_lines_prefix_the_elapsed_time():
    out = io.StringIO()
    Reporter(TextLines(out)).emit(TableRead("orders", 7))
    Reporter(TextLines(out)).emit(FitDone("orders", "ctgan", 1.0))
    assert out.getvalue().endswith("s]   read orders: 7 rows\n")
    assert out.getvalue().count("\n") == 1


def test_json_lines_one_object_per_event_with_name_time_and_fields():
    out = io.StringIO()
    reporter = Reporter(JsonLines(out))
    reporter.emit(TableRead("orders", np.int64(7)))
    reporter.emit(TrainingDone("orders", 0, 0, None, False, float("nan")))
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first.pop("ts").endswith("Z")
    assert first == {"event": "table_read", "level": "info", "table": "orders", "rows": 7}
    assert second["best_score"] is None and second["seconds"] is None  # JSON has no NaN


def test_event_log_selects_by_class():
    log = EventLog()
    reporter = Reporter(log)
    for event in (Stage("fit", 1), EPOCH, FitDone("orders", "ctgan", 1.0)):
        reporter.emit(event)
    assert log.of(EpochEnded) == [EPOCH]
    assert [e.table for e in log.of(FitDone)] == ["orders"]


def test_log_format_on_every_command_and_quiet_wins():
    parser = cli.build_parser()
    for command in ("inspect", "fit", "generate", "init"):
        assert parser.parse_args([command, "--log-format", "json"]).log_format == "json"

    def listeners(*argv: str) -> list[type]:
        return [type(x) for x in cli.progress_reporter(parser.parse_args(argv)).listeners]

    assert listeners("fit", "--log-format", "json") == [JsonLines]
    assert listeners("generate") == [TextLines]
    assert listeners("fit", "-q", "--log-format", "json") == []
