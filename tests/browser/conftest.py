"""Browser tests of the dashboard: Playwright driving Debian's chromium (never a downloaded browser) against a
real `outagesync serve` process whose upstream is the sandbox. One browser and one server per session.

Without chromium or playwright these tests are skipped with the reason, and fail under CI=true.
"""

from __future__ import annotations

import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from outagesync.sandbox import DEFAULT_API_KEY, Sandbox

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = os.environ.get("OUTAGESYNC_TEST_CHROMIUM", "/usr/bin/chromium")
# Debian's chromium in a container: no sandbox (root), no GPU, nothing fetched in the background
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ASSETS = Path(__file__).parent / "assets"
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "ui"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)")
    pytest.skip(reason)


@dataclass(frozen=True)
class Served:
    """A live `outagesync serve`: its base URL and API token."""

    url: str
    token: str

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


# Module scope (every browser test is in one module, so one browser still serves them all): Playwright's
# sync API runs an event loop in this thread while it is open, and async tests that come after in the same
# worker must not find it running.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _unavailable(f"no chromium at {CHROMIUM}: `apt-get install chromium` (Debian)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: `pip install -e '.[test]'`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def live(sandbox_server: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`outagesync serve --port 0` as a real process, on a SQLite file of its own, the sandbox upstream."""
    token = f"ui-token-{uuid.uuid4().hex}"
    home = tmp_path_factory.mktemp("ui")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OUTAGESYNC_", "KRAKENFLEX_", "KRAKEN_"))
    }
    env.update(
        KRAKENFLEX_API_URL=sandbox_server.url,
        KRAKENFLEX_API_KEY=DEFAULT_API_KEY,
        OUTAGESYNC_API_TOKEN=token,
        OUTAGESYNC_DATABASE_URL=f"sqlite:///{home / 'ui.db'}",
        OUTAGESYNC_MAX_ATTEMPTS="2",
        OUTAGESYNC_BACKOFF_INITIAL="0.01",
        OUTAGESYNC_BACKOFF_MAX="0.05",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "outagesync", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=home,  # no .env there
    )
    try:
        yield Served(f"http://127.0.0.1:{_announced_port(process)}", token)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def _announced_port(process: subprocess.Popen[str]) -> int:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        while selector.select(timeout=max(0.0, deadline - time.monotonic())):
            line = process.stdout.readline()
            found = re.match(r"outagesync API on http://127\.0\.0\.1:(\d+) ", line)
            if found:
                return int(found.group(1))
            if not line:
                break
    raise AssertionError("outagesync serve did not start")


@dataclass(frozen=True)
class Fleet:
    """What the session's server holds once seeded: report ids by site."""

    ok_report: str
    failed_report: str


FAILING_SITE = "kingfisher"  # managed with a late cutoff: the sandbox rejects the shorter list (400)


@pytest.fixture(scope="session")
def fleet(live: Served, sandbox_server: Sandbox) -> Fleet:
    """norwich-pear-tree synced (10 items), kingfisher failed (the sandbox's 400 with its detail),
    zurich-lindenhof managed but never run."""
    sandbox_server.reset()
    with live.api() as api:
        ok = api.post("/sites/norwich-pear-tree/sync")
        assert ok.status_code == 201, ok.text
        added = api.post("/sites", json={"site_id": FAILING_SITE, "since": "2022-06-01T00:00:00Z"})
        assert added.status_code == 201, added.text
        failed = api.post(f"/sites/{FAILING_SITE}/sync")
        assert failed.status_code == 502, failed.text
        never = api.post("/sites", json={"site_id": "zurich-lindenhof", "name": "Zürich Lindenhof"})
        assert never.status_code == 201, never.text
        failed_id = failed.json()["report_id"]
    return Fleet(ok.json()["id"], failed_id)


@pytest.fixture(scope="module")
def logged_in_state(browser: Browser, live: Served, fleet: Fleet) -> dict[str, Any]:
    """A browser's storage state after logging in through the login page."""
    context = browser.new_context()
    page = context.new_page()
    log_in(page, live)
    state: dict[str, Any] = context.storage_state()  # type: ignore[assignment]
    context.close()
    return state


def log_in(page: Page, live: Served) -> None:
    page.goto(f"{live.url}/ui/")
    page.get_by_label("API token").fill(live.token)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live.url}/ui/")


@pytest.fixture
def context(browser: Browser, logged_in_state: dict[str, Any]) -> Iterator[BrowserContext]:
    """A logged-in browser context of the test's own."""
    opened = browser.new_context(storage_state=logged_in_state)  # type: ignore[arg-type]
    yield opened
    opened.close()


@pytest.fixture
def page(context: BrowserContext, sandbox: Sandbox) -> Page:
    """A page of the test's own context; the sandbox reset (another test may have left faults in it)."""
    return context.new_page()
