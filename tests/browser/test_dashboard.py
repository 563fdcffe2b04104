"""The dashboard in a real browser (Debian's chromium) against a live `outagesync serve` with the sandbox:
log in, the fleet's statuses, a site's timeline (one bar per outage of the default dataset), a sync started
from the page, a failing site's upstream answer, log out; no request leaves 127.0.0.1; axe-core finds no
serious or critical accessibility violation. Screenshots of the three pages are taken (and written to
docs/ui/ with OUTAGESYNC_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why (and fails under CI=true)
    expect = None  # type: ignore[assignment]

from tests.browser.conftest import ASSETS, FAILING_SITE, SCREENSHOTS, Fleet, Served, log_in

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

pytestmark = pytest.mark.xdist_group("browser")  # `make test`: one worker, one browser, one server

NORWICH_KEPT = 10  # the default dataset: norwich-pear-tree's outages at or after 2022-01-01
NORWICH_ALL = 18  # ... and all of its devices' outages, the 8 before the cutoff included


def _shot(page: Page, name: str) -> None:
    """The page's screenshot, checked to be a PNG; written to docs/ui/ only with
    OUTAGESYNC_UPDATE_SCREENSHOTS=1, so that a test run leaves the tree clean."""
    image = page.screenshot(full_page=True)
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(image) > 10_000
    if os.environ.get("OUTAGESYNC_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / f"{name}.png").write_bytes(image)


def test_logging_in_with_the_token_opens_the_fleet(browser: Browser, live: Served, fleet: Fleet) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live.url}/ui/")
    assert urlsplit(page.url).path == "/ui/login"
    page.get_by_label("API token").fill("not-the-token-at-all")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "✖ That is not the API token."
    log_in(page, live)
    assert page.get_by_role("heading", level=1).inner_text() == "Fleet"
    cookie = next(c for c in context.cookies() if c["name"] == "outagesync_ui")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/ui")
    context.close()


def test_the_overview_lists_each_site_with_its_status_failing_first(page: Page, live: Served) -> None:
    page.goto(f"{live.url}/ui/")
    rows = page.locator("table.fleet tbody tr")
    statuses = {
        rows.nth(n).get_attribute("data-site"): rows.nth(n).get_attribute("data-status")
        for n in range(rows.count())
    }
    assert statuses == {
        FAILING_SITE: "failed",
        "zurich-lindenhof": "never",
        "norwich-pear-tree": "succeeded",
    }
    assert rows.first.get_attribute("data-site") == FAILING_SITE
    # the status is said in words, not by colour alone
    assert rows.first.locator("td").first.inner_text().startswith("✖ failed")
    _shot(page, "overview")
    page.get_by_label("Status").select_option("failing")
    expect(rows).to_have_count(1)  # htmx swapped the table in
    assert rows.first.get_attribute("data-site") == FAILING_SITE
    assert "status=failing" in page.url  # htmx pushed the filter into the address


def test_a_site_timeline_draws_one_bar_per_outage(page: Page, live: Served) -> None:
    page.goto(f"{live.url}/ui/sites/norwich-pear-tree")
    page.wait_for_selector("#timeline[data-drawn]")
    assert page.get_attribute("#timeline", "data-drawn") == str(NORWICH_KEPT)
    assert page.locator("table.bars tr.bar").count() == NORWICH_KEPT
    _shot(page, "site")
    page.get_by_role("link", name="upstream now (kept and dropped)").first.click()
    page.wait_for_url("**/ui/sites/norwich-pear-tree?timeline=live")
    expect(page.locator("#timeline")).to_have_attribute("data-drawn", str(NORWICH_ALL))
    kinds = page.locator("table.bars tr.bar td:nth-child(4)").all_text_contents()
    assert (kinds.count("kept"), kinds.count("dropped")) == (NORWICH_KEPT, NORWICH_ALL - NORWICH_KEPT)
    option: Any = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('timeline')).getOption().series"
        ".map(s => [s.name, s.data.length])"
    )
    assert option == [
        ["kept (posted)", NORWICH_KEPT],
        ["dropped (before the cutoff)", NORWICH_ALL - NORWICH_KEPT],
    ]
    # hovering a bar shows its exact times: the first dropped bar's middle, in page coordinates
    bar: Any = page.evaluate(
        """() => {
            const element = document.getElementById('timeline');
            const chart = echarts.getInstanceByDom(element);
            const bar = chart.getOption().series[1].data[0];
            const [x, y] = chart.convertToPixel({seriesIndex: 1}, [(bar[1] + bar[2]) / 2, bar[0]]);
            const box = element.getBoundingClientRect();
            return {x: box.left + x, y: box.top + y, begin: bar[5], end: bar[6]};
        }"""
    )
    page.mouse.move(bar["x"], bar["y"])
    tooltip = page.get_by_text(f"begin {bar['begin']}")
    expect(tooltip).to_be_visible()
    assert f"end {bar['end']}" in tooltip.inner_text()
    assert "dropped (before the cutoff)" in tooltip.inner_text()


def test_a_sync_started_from_the_site_page_ends_on_its_report(page: Page, live: Served) -> None:
    page.goto(f"{live.url}/ui/sites/norwich-pear-tree")
    runs_before = page.locator("table.history tbody tr").count()
    page.get_by_role("link", name="Sync now…").click()
    page.get_by_role("button", name="Yes, sync now").click()
    page.wait_for_url("**/ui/reports/*")
    # the page follows the run until it ends
    expect(page.locator("#run-status")).to_have_text("Status: ✔ succeeded", timeout=20_000)
    page.goto(f"{live.url}/ui/sites/norwich-pear-tree")
    assert page.locator("table.history tbody tr").count() == runs_before + 1


def test_a_failing_site_shows_the_upstream_answer(page: Page, live: Served, fleet: Fleet) -> None:
    page.goto(f"{live.url}/ui/reports/{fleet.failed_report}")
    assert page.locator("#run-status").inner_text().strip() == "Status: ✖ failed"
    assert page.locator("#error-heading").inner_text() == "✖ Error upstream-rejected-payload"
    assert page.locator("#upstream-message").inner_text() == "Unexpected outages received"
    # the sandbox's 400 names what is wrong in its `detail` (the item the late cutoff dropped)
    assert page.locator("#upstream-detail").inner_text() == (
        "1 missing and 0 unexpected item(s) (order does not matter, copies count); missing: "
        '{"id": "002b28fc-283c-47ec-9af2-ea287336dc1b", "name": "Battery 1", '
        '"begin": "2022-05-23T12:21:27.377Z", "end": "2022-11-13T02:16:38.905Z"}'
    )
    _shot(page, "report")


def test_logging_out_ends_the_session(page: Page, live: Served) -> None:
    page.goto(f"{live.url}/ui/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/ui/login")
    page.goto(f"{live.url}/ui/sites/norwich-pear-tree")
    assert urlsplit(page.url).path == "/ui/login"


PAGES = [
    "/ui/",
    "/ui/sites/norwich-pear-tree",
    "/ui/sites/norwich-pear-tree?timeline=live",
    "/docs",
    "/redoc",
]


def test_no_page_loads_anything_from_outside_127_0_0_1(
    browser: Browser, live: Served, fleet: Fleet, logged_in_state: dict[str, Any]
) -> None:
    context = browser.new_context(storage_state=logged_in_state)  # type: ignore[arg-type]
    outside: list[str] = []

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    for path in [*PAGES, f"/ui/reports/{fleet.failed_report}"]:
        page.goto(live.url + path, wait_until="networkidle")
        if path == "/docs":  # Swagger UI and ReDoc drew the API from the files the server ships
            expect(page.locator(".swagger-ui .info .title")).to_contain_text("outagesync")
        if path == "/redoc":
            expect(page.locator("h1").first).to_contain_text("outagesync")
    context.close()
    assert outside == []


def test_the_keyboard_reaches_the_content_and_the_filters(page: Page, live: Served) -> None:
    page.goto(f"{live.url}/ui/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "q"  # the fleet's filter, by its label "Site"
    page.keyboard.type("norwich")
    expect(page.locator("table.fleet tbody tr")).to_have_count(1)


@pytest.mark.parametrize(
    "path", ["/ui/", "/ui/sites/norwich-pear-tree", "report", "/ui/managed/new", "/ui/login"]
)
def test_axe_finds_no_serious_accessibility_violation(
    browser: Browser, live: Served, fleet: Fleet, logged_in_state: dict[str, Any], path: str
) -> None:
    # axe is injected as an inline script: this context lets it past the pages' Content-Security-Policy
    state = None if path == "/ui/login" else logged_in_state
    context = browser.new_context(storage_state=state, bypass_csp=True)  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(live.url + (f"/ui/reports/{fleet.failed_report}" if path == "report" else path))
    page.add_script_tag(path=str(ASSETS / "axe.min.js"))
    violations: list[dict[str, Any]] = page.evaluate("axe.run(document).then(r => r.violations)")
    context.close()
    serious = [
        (v["id"], v["impact"], [node["target"] for node in v["nodes"]][:3])
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
