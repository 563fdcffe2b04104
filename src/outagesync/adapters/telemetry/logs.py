"""Log records as one JSON object per line (`--log-format json`), and the fields a run binds to them.

Standard library only (imported by the CLI before anything else): a `logging.Formatter`, and a
context variable holding `run_id`, `site_id` and `trace_id` for the records of the current task.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

FIELDS = ("run_id", "site_id", "endpoint", "attempt", "trace_id")  # added to a line where known

_bound: ContextVar[dict[str, Any] | None] = ContextVar("outagesync_log_fields", default=None)


def bind(**fields: Any) -> None:
    """Add fields to every record logged from now on in this task (and the tasks it starts)."""
    _bound.set({**(_bound.get() or {}), **fields})


def bound() -> dict[str, Any]:
    return dict(_bound.get() or {})


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "event", ...}`: the message as `event`, the bound fields, the
    `extra` fields of FIELDS, and the traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        line.update(bound())
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_json_logging(level: int) -> None:
    """The root logger writes JSON lines at `level` on stderr (text is `logging.basicConfig`'s)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)


def is_json_configured() -> bool:
    """Whether the root logger writes JSON lines (then every stderr message should be a log record)."""
    return any(isinstance(handler.formatter, JsonFormatter) for handler in logging.getLogger().handlers)
