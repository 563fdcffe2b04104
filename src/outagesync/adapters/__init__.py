"""Adapters: the concrete I/O behind the service ports (upstream client, storage) and the sandbox server."""

from __future__ import annotations

import sys
import types


def _without_httpx_cli() -> None:
    """httpx imports its command-line client (click, Rich's progress and tables, Pygments: 40-80 ms of
    start-up) whenever click is installed, and uvicorn installs it. outagesync never runs that client, so
    a stand-in takes its module's place before httpx is first imported (`httpx.main` then says so)."""
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    stand_in = types.ModuleType("httpx._main", "stand-in: outagesync does not load httpx's CLI")

    def main() -> None:
        raise SystemExit("httpx's command line client is not loaded in outagesync's process")

    stand_in.main = main  # type: ignore[attr-defined]
    sys.modules["httpx._main"] = stand_in


_without_httpx_cli()
