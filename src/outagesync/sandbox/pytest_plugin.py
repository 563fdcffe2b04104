"""pytest plugin: the `sandbox` fixture, a real sandbox server per session. Opt-in, so that installing
outagesync registers nothing in anyone's pytest: add `pytest_plugins = ["outagesync.sandbox.pytest_plugin"]`
to your top-level conftest.py, or run `pytest -p outagesync.sandbox.pytest_plugin`.

Top-level imports stay light: the server (uvicorn) is imported only when a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from outagesync.sandbox.server import Sandbox


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    """One sandbox on 127.0.0.1 (ephemeral port) for the whole session (per xdist worker)."""
    from outagesync.sandbox.server import Sandbox

    with Sandbox() as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Sandbox:
    """The session's sandbox, reset for this test: default dataset and key, no faults, empty logs."""
    sandbox_server.reset()
    return sandbox_server
