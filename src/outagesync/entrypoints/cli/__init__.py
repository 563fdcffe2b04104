"""The `outagesync` command (Typer + Rich): one module per command group, rendering in `render/`.

Each command parses, calls a use case through the ports bootstrap builds, renders, and exits with the
code of `exit_codes`; heavy modules are imported inside the commands, so `--help` stays fast.
"""

from outagesync.entrypoints.cli.main import app, main

__all__ = ["app", "main"]
