"""What every command shares: the one error boundary (`fail`), JSON on stdout, and the store to use.

Rich and the settings are imported inside the functions, so that `outagesync --help` stays fast.
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, NoReturn

import typer

from outagesync.entrypoints.cli.exit_codes import exit_code_of
from outagesync.errors import OutageSyncError

if TYPE_CHECKING:
    from rich.console import Console

    from outagesync.services.ports import Store


_quiet: ContextVar[bool] = ContextVar("outagesync_cli_quiet", default=False)


_sandbox_database: ContextVar[bool] = ContextVar("outagesync_cli_sandbox_database", default=False)


def use_sandbox_database(use: bool) -> None:
    """`reports --sandbox`: `open_store()` opens the sandbox's own report database (unless
    OUTAGESYNC_DATABASE_URL names one), where `sync --sandbox` records its runs."""
    _sandbox_database.set(use)


def set_quiet(quiet: bool) -> None:
    """`--quiet`: from now on, `stderr()` prints nothing but errors (`stderr(error=True)`)."""
    _quiet.set(quiet)


def is_quiet() -> bool:
    return _quiet.get()


def stderr(*, error: bool = False) -> Console:
    """A console for messages on stderr; soft wrap keeps each message one line, for grep. With JSON logs
    (`--log-format json`), each line it prints is a log record instead, so stderr is JSON lines only.
    With --quiet, only a console for errors (`error=True`) prints anything."""
    from rich.console import Console

    from outagesync import bootstrap

    quiet = is_quiet() and not error
    if bootstrap.json_logs():
        return Console(
            file=LogLines(), highlight=False, soft_wrap=True, no_color=True, width=10_000, quiet=quiet
        )
    return Console(stderr=True, highlight=False, soft_wrap=True, quiet=quiet)


class LogLines(io.StringIO):
    """A text stream whose lines become records of the "outagesync.cli" logger: `error: ...` at ERROR,
    `warning: ...`, `interrupted: ...`, `waiting ...` at WARNING, the rest at INFO."""

    def __init__(self) -> None:
        super().__init__()
        self._pending = ""
        self._log = logging.getLogger("outagesync.cli")
        self._log.setLevel(logging.INFO)  # messages are always shown, as on a terminal

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *lines, self._pending = (self._pending + text).split("\n")
        for line in lines:
            if line.strip():
                self._log.log(_level_of(line), line)
        return len(text)

    def flush(self) -> None:
        if self._pending.strip():
            self._log.log(_level_of(self._pending), self._pending)
        self._pending = ""


def _level_of(line: str) -> int:
    if line.startswith("error"):
        return logging.ERROR
    if line.startswith(("warning", "interrupted", "terminated", "hung up", "waiting")):
        return logging.WARNING
    return logging.INFO


def fail(exc: OutageSyncError) -> NoReturn:
    """Print `error: <message>` on stderr and exit with the error's exit code."""
    from rich.markup import escape

    stderr(error=True).print(f"[red]error[/]: {escape(str(exc))}", highlight=False)
    raise typer.Exit(exit_code_of(exc)) from None


def say(text: str) -> None:
    """A plain line on stdout, unless --quiet (docs/cli.md: --quiet prints only errors)."""
    if not is_quiet():
        typer.echo(text)


def print_json(data: object) -> None:
    """`data` as indented JSON on stdout (presenters' shapes only)."""
    from outagesync.presenters.json import encode_json

    sys.stdout.write(encode_json(data).decode())


@contextmanager
def open_store() -> Iterator[Store]:
    """The store from the settings (environment, .env), closed afterwards; our errors end the command."""
    from outagesync import bootstrap
    from outagesync.config import load_settings

    try:
        settings = load_settings()
        if _sandbox_database.get():
            settings = bootstrap.for_sandbox(settings)
        store = bootstrap.build_store(settings)
        try:
            yield store
        finally:
            store.dispose()
    except OutageSyncError as exc:
        fail(exc)
