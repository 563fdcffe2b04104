"""How `--help` is written (docs/cli.md, "Conventions"): metavars, setting-backed options, and the
command and group classes that turn a docstring into help + an epilog.

A docstring is: a one-line summary, paragraphs (single line breaks joined, so the terminal wraps them),
then optionally `Environment: A, B` and `Examples:` followed by indented `outagesync ...` lines. The
last two are moved below the options (the epilog). Imports nothing heavy: `--help` must stay fast.
"""

from __future__ import annotations

import copy
import inspect
import re
from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

SITE_ID = "SITE_ID"
SITE_IDS = "SITE_ID..."
ID = "ID"
REPORT_ID = "REPORT_ID"
JOB_ID = "JOB_ID"
ISO8601 = "ISO8601"
DURATION = "DURATION"
WHEN = "WHEN"  # ISO8601, or a DURATION ago
STATUS = "STATUS"
STATE = "STATE"  # a queue job's state
PATH = "PATH"
N = "N"
SECONDS = "SECONDS"
HOST = "HOST"
PORT = "PORT"
URL = "URL"
TOKEN = "TOKEN"  # noqa: S105 (a metavar, not a secret)
KEY = "KEY"
CRON = "CRON"
MS = "MS"
RATE = "RATE"  # a probability, 0 to 1
TEXT = "TEXT"  # free text (a name)
REVISION = "REVISION"
TARGET = "TARGET"
METAVARS = frozenset(
    {SITE_ID, SITE_IDS, ID, REPORT_ID, JOB_ID, ISO8601, DURATION, WHEN, STATUS, STATE, PATH, N, SECONDS}
    | {HOST, PORT, URL, TOKEN, KEY, CRON, MS, RATE, TEXT, REVISION, TARGET}
)
"""Every metavar an option or argument may show (besides a closed list of words, `a|b|c`)."""


def escape(text: str) -> str:
    """`text` shown literally by Rich markup: a `[` that would start a tag (`[default: x]`) is escaped,
    others (`jq '.items[]'`) are left as they are, for the Typer versions that print the epilog raw."""
    return re.sub(r"(?<!\\)\[(?=[a-z#/@][^\[]*?\])", r"\\[", text)


def setting_help(text: str, *variables: str, default: object = None) -> str:
    """Help for an option a setting also gives: `text [env var: VARIABLE] [default: DEFAULT]` (the
    settings read the variable, and the .env file; Typer is not given `envvar=` so that errors name the
    variable, and the option's own default is None: the setting's applies)."""
    names = ", ".join(variables)
    shown = f"{text} {escape(f'[env var: {names}]')}"
    return shown if default is None else default_help(shown, default)


def default_help(text: str, default: object) -> str:
    """`text [default: DEFAULT]`, for a default Typer cannot show (the parameter's own is None)."""
    return f"{text} {escape(f'[default: {default}]')}"


def split_help(doc: str) -> tuple[str, str | None]:
    """A docstring as (help, epilog): paragraphs reflowed; `Environment:` and `Examples:` moved to the
    epilog, examples one per line."""
    body: list[str] = []
    environment: str | None = None
    examples: list[str] = []
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    for index, paragraph in enumerate(paragraphs):
        if paragraph.startswith("Examples:"):
            rest = "\n".join([paragraph.removeprefix("Examples:"), *paragraphs[index + 1 :]])
            examples = [line.strip() for line in rest.splitlines() if line.strip()]
            break
        if paragraph.startswith("Environment:"):
            environment = " ".join(paragraph.split())
        elif paragraph.startswith("\b"):
            body.append(paragraph)
        else:
            body.append(escape(" ".join(paragraph.split())))
    epilog = []
    if environment:
        epilog.append(escape(environment))
    if examples:
        epilog.append("Examples:\n" + "\n".join(f"  {escape(line)}" for line in examples))
    # the leading line break keeps the examples' indent (Typer dedents the epilog's lines after the first)
    return "\n\n".join(body), "\n" + "\n\n".join(epilog) if epilog else None


class HelpCommand(TyperCommand):
    """A command whose help is written as docs/cli.md says (see `split_help`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _apply_docstring(self)


class HelpGroup(TyperGroup):
    """A command group whose help is written as docs/cli.md says (see `split_help`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _apply_docstring(self)


def _apply_docstring(command: TyperCommand | TyperGroup) -> None:
    command.rich_markup_mode = "rich"  # help is Rich markup whatever Typer's default (None before 0.17)
    if command.help:
        command.help, epilog = split_help(command.help)
        command.epilog = command.epilog or epilog
    for param in command.params:
        described = not isinstance(param, TyperOption | TyperArgument) or param.show_default is not True
        if param.default is None and not described:  # older Typers print "[default: None]"
            param.show_default = False  # type: ignore[attr-defined]  # narrowed above
        if isinstance(param, TyperArgument) and param.metavar:
            # its metavar says what it is: no `<str>` type beside it
            param.type = copy.copy(param.type)
            setattr(param.type, "get_metavar", _no_metavar)  # noqa: B010 (an instance's method)


def _no_metavar(*_args: object, **_kwargs: object) -> str:
    return ""
