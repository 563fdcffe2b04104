"""Log records as one JSON object per line (`--log-format json`), and the fields a run binds to them.

Standard library only (imported by the CLI before anything else): a `logging.Formatter`, and a
context variable holding `run_id`, `site_id` and `trace_id` for the records of the current task.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable
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
        elif record.exc_text:  # formatted (and redacted) already by Redacting
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_json_logging(level: int) -> None:
    """The root logger writes JSON lines at `level` on stderr (text is `logging.basicConfig`'s)."""
    _install(JsonFormatter(), level)


def configure_logging(verbosity: int, *, json_lines: bool) -> Callable[[], None]:
    """Logs on stderr for the CLI's -q/-v/-vv: -1 errors only; 0 warnings; 1 our own steps at INFO
    (the `outagesync` loggers; other libraries stay at WARNING); 2 every library's DEBUG too. Secrets
    (`x-api-key` and bearer values, and each value given to `redact`) are masked in every line. Returns
    how to undo it."""
    formatter = JsonFormatter() if json_lines else logging.Formatter(TEXT_FORMAT)
    root_level = logging.ERROR if verbosity < 0 else logging.DEBUG if verbosity >= 2 else logging.WARNING
    root, ours = logging.getLogger(), logging.getLogger("outagesync")
    before = root.level, ours.level
    _install(formatter, root_level)
    ours.setLevel(logging.ERROR if verbosity < 0 else logging.INFO if verbosity == 1 else logging.NOTSET)

    def undo() -> None:
        """Back to the logging of before (a command run in-process, e.g. by a test, leaves none)."""
        for handler in list(root.handlers):
            if isinstance(handler, _Stderr):
                root.removeHandler(handler)
        root.setLevel(before[0])
        ours.setLevel(before[1])

    return undo


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_SECRET_PATTERNS = re.compile(
    r"(?i)((?:x-api-key|authorization)[\"']?\s*[:=,]\s*[\"']?(?:b[\"'])?(?:bearer\s+)?)([^\s\"',)]+)"
)
_secrets: set[str] = set()  # values never to print; logging is process-wide, so is this


def redact(secret: str) -> None:
    """Mask `secret` in every log line from now on (an API key, a token, a password)."""
    if len(secret.strip()) >= 4:  # a shorter "secret" would mask ordinary text
        _secrets.add(secret)
        _secrets.add(secret.strip())


def redacted(text: str) -> str:
    """`text` with the header values of secrets and every registered secret replaced by `***`."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _SECRET_PATTERNS.sub(lambda m: m.group(1) + "***", text)


class Redacting(logging.Filter):
    """Rewrites each record's message (and traceback) with secrets masked, before any formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redacted(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info:
            record.exc_text = redacted(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class _Stderr(logging.StreamHandler[Any]):
    """Writes to whatever `sys.stderr` is when a record comes (a test runner may swap it meanwhile)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def _install(formatter: logging.Formatter, level: int) -> None:
    """Our one handler on the root logger (replacing the one installed before; others stay)."""
    handler = _Stderr()
    handler.setFormatter(formatter)
    handler.addFilter(Redacting())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if isinstance(existing, _Stderr):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)


def is_json_configured() -> bool:
    """Whether the root logger writes JSON lines (then every stderr message should be a log record)."""
    return any(isinstance(handler.formatter, JsonFormatter) for handler in logging.getLogger().handlers)
