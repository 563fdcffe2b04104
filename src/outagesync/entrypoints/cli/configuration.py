"""`outagesync config show`: every effective setting, where it came from, secrets masked."""

from __future__ import annotations

import typer

from outagesync.entrypoints.cli.console import fail, print_json, say
from outagesync.entrypoints.cli.options import JsonFlag
from outagesync.errors import OutageSyncError

config_app = typer.Typer(
    help="""The effective configuration: every setting, its value and its source.

    Examples:
        outagesync config show
        outagesync config show --json
    """,
    no_args_is_help=True,
)


@config_app.command("show")
def show_config(json_output: JsonFlag = False) -> None:
    """Every effective setting, its value and where it came from; secrets masked as ***.

    Sources: environment, .env file, SSM parameter, default. An invalid setting is an error naming it
    (exit 2). Piped, one `VARIABLE=value  # source` line per setting, nothing padded.

    Environment: every OUTAGESYNC_* and KRAKENFLEX_* variable (and the .env file)

    Examples:
        outagesync config show
        outagesync config show | grep -v '# default'
        outagesync config show --json | jq '.settings[] | select(.source != "default")'
    """
    from outagesync.config import effective_settings, load_settings

    try:
        settings = effective_settings(load_settings())
    except OutageSyncError as exc:
        fail(exc)
    if json_output:
        print_json(
            {"settings": [{"variable": s.variable, "value": s.value, "source": s.source} for s in settings]}
        )
        return
    lines = [(f"{s.variable}={s.value}", s.source) for s in settings]
    # sources in one column on a terminal wide enough; piped, nothing padded (docs/cli.md)
    width = max(len(line) for line, _ in lines) if _aligned(lines) else 0
    for line, source in lines:
        say(f"{line:<{width}}  # {source}")


def _aligned(lines: list[tuple[str, str]]) -> bool:
    import shutil
    import sys

    if not sys.stdout.isatty():
        return False
    widest = max(len(line) for line, _ in lines) + 4 + max(len(source) for _, source in lines)
    return widest <= shutil.get_terminal_size().columns
