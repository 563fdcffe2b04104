"""Runs `outagesync ARGS...` in this process and prints, as one JSON line on stderr, which of the modules
given in PROBE_MODULES were loaded when the first upstream request was sent (tests/e2e/test_startup_path.py).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import outagesync.adapters  # noqa: F401 (imported before httpx, as the command itself does)
from outagesync.entrypoints.cli import main


def _install_probe() -> None:
    import httpx  # here, after outagesync.adapters: import sorting would move it above

    send = httpx.AsyncClient.send
    seen: list[str] = []

    async def probe(self: httpx.AsyncClient, request: httpx.Request, **options: Any) -> httpx.Response:
        if not seen:
            seen.append("probed")
            loaded = [name for name in os.environ["PROBE_MODULES"].split(",") if name in sys.modules]
            sys.stderr.write("PROBE " + json.dumps({"loaded": loaded}) + "\n")
        return await send(self, request, **options)

    httpx.AsyncClient.send = probe  # type: ignore[method-assign]


_install_probe()
sys.argv = ["outagesync", *sys.argv[1:]]
main()
