"""The explorer page in a real browser (Debian's Chromium driven by Playwright)."""

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from app.config import Settings
from app.main import create_app

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("TREATYKB_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def base_url(shared_url: str) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(Settings(database_url=shared_url, rate_limit_enabled=False)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("TREATYKB_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM} (TREATYKB_REQUIRE_BROWSER=1)")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object, base_url: str, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=base_url)  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.expect_404 = False  # type: ignore[attr-defined]
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    if page.expect_404:  # type: ignore[attr-defined]
        # The browser logs each 404 the page asked for; in an error test those are the point.
        assert any("status of 404" in e for e in errors)
        errors = [e for e in errors if "status of 404" not in e]
    assert errors == [], errors


def test_timeline_shows_three_treaties(page: object) -> None:
    page.goto("/")  # type: ignore[attr-defined]
    bars = page.locator("svg.timeline a.treaty-bar")  # type: ignore[attr-defined]
    playwright_api.expect(bars).to_have_count(3)
    # Each bar is a link named by the text it shows, as a screen reader reads it.
    for name in ("New START expired", "INF Treaty terminated", "Open Skies in force"):
        playwright_api.expect(page.get_by_role("link", name=name, exact=True)).to_have_count(1)  # type: ignore[attr-defined]


def test_open_new_start_and_see_its_limits(page: object) -> None:
    page.goto("/")  # type: ignore[attr-defined]
    page.locator('a.treaty-bar[data-slug="new-start"]').click()  # type: ignore[attr-defined]
    playwright_api.expect(page.locator("h1")).to_contain_text("New START")  # type: ignore[attr-defined]
    values = page.locator("td.value").all_inner_texts()  # type: ignore[attr-defined]
    assert "1,550 warheads" in values
    assert "800 launchers and heavy bombers" in values
    page.goto("/#/treaties/open-skies")  # type: ignore[attr-defined]
    withdrawn = page.locator("td.withdrawn")  # type: ignore[attr-defined]
    playwright_api.expect(withdrawn).to_have_text(["Russian Federation", "United States"])


def test_search_dust_highlights_lavrov(page: object) -> None:
    page.goto("/#/statements")  # type: ignore[attr-defined]
    page.get_by_label("Search text").fill("dust")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Show").click()  # type: ignore[attr-defined]
    first = page.locator(".statement").first  # type: ignore[attr-defined]
    playwright_api.expect(first.locator("mark")).to_have_text("dust")
    playwright_api.expect(first).to_contain_text("Sergei Lavrov")
    assert "q=dust" in page.url  # type: ignore[attr-defined]


def test_the_search_box_searches_as_you_type_with_the_last_word_as_a_prefix(
    page: object,
) -> None:
    """No submit: results arrive as the user types, and the word still being typed is a
    prefix ("dus" finds "dust"); Enter opens the full statement search."""
    page.goto("/")  # type: ignore[attr-defined]
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/v1/search" in r.url else None)  # type: ignore[attr-defined]
    # A slow keystroke (a busy machine) may let an earlier prefix go out first; wait for
    # the whole text's answer, not for whichever answer shows "dust" first.
    with page.expect_response(lambda r: "q=settles+dus" in r.url):  # type: ignore[attr-defined]
        page.get_by_label("Search everything").press_sequentially("settles dus", delay=40)  # type: ignore[attr-defined]
    results = page.locator("#quick-results li")  # type: ignore[attr-defined]
    playwright_api.expect(results.first.locator("mark").first).to_be_visible()
    playwright_api.expect(page.locator("#quick-results")).to_contain_text("dust")  # type: ignore[attr-defined]
    playwright_api.expect(page.locator("#quick-status")).to_contain_text("match")  # type: ignore[attr-defined]
    assert any("q=settles+dus*" in url or "q=settles+dus%2A" in url for url in sent), sent
    assert len(sent) < len("settles dus")  # debounced: not a request per keystroke
    page.get_by_label("Search everything").press("Enter")  # type: ignore[attr-defined]
    playwright_api.expect(page.locator("h1")).to_have_text("Statements")  # type: ignore[attr-defined]
    assert "q=settles%20dus" in page.url  # type: ignore[attr-defined]


def test_filter_statements_by_speaker(page: object) -> None:
    page.goto("/#/statements")  # type: ignore[attr-defined]
    page.get_by_label("Speaker").select_option("fu-cong")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Show").click()  # type: ignore[attr-defined]
    playwright_api.expect(page.locator("#count")).to_have_text("3 statements")  # type: ignore[attr-defined]
    speakers = set(page.locator(".statement a[href^='#/people/']").all_inner_texts())  # type: ignore[attr-defined]
    assert speakers == {"Fu Cong"}


def test_status_on_2020_12_01(page: object) -> None:
    page.goto("/")  # type: ignore[attr-defined]
    page.get_by_label("Date").fill("2020-12-01")  # type: ignore[attr-defined]
    page.get_by_label("Date").dispatch_event("change")  # type: ignore[attr-defined]
    row = page.locator('tr[data-slug="new-start"]')  # type: ignore[attr-defined]
    playwright_api.expect(row).to_contain_text("in force")
    playwright_api.expect(row).to_contain_text("2021-02-05")
    skies = page.locator('tr[data-slug="open-skies"]')  # type: ignore[attr-defined]
    playwright_api.expect(skies).to_contain_text("33")


def test_api_errors_show_their_detail(page: object) -> None:
    page.expect_404 = True  # type: ignore[attr-defined]
    page.goto("/#/treaties/start-ii")  # type: ignore[attr-defined]
    alert = page.get_by_role("alert")  # type: ignore[attr-defined]
    playwright_api.expect(alert).to_have_text("No treaty with identifier 'start-ii' exists.")


def test_person_and_article_pages_and_a_narrow_screen(page: object) -> None:
    page.set_viewport_size({"width": 375, "height": 800})  # type: ignore[attr-defined]
    page.goto("/#/people/sergei-lavrov")  # type: ignore[attr-defined]
    playwright_api.expect(page.locator("main")).to_contain_text("Also spelled: Sergey Lavrov")  # type: ignore[attr-defined]
    page.goto("/#/articles/act-2020-11-russia-expands-inf-moratorium-proposal")  # type: ignore[attr-defined]
    playwright_api.expect(page.locator(".statement")).to_have_count(3)  # type: ignore[attr-defined]
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 375


def test_statements_per_month_chart_and_facet_menus_filter_the_list(page: object) -> None:
    """The chart's bars and the menus' values are links: each narrows the list to what it
    counted, and the URL keeps the state."""
    page.goto("/#/statements")  # type: ignore[attr-defined]
    count = page.locator("#count")  # type: ignore[attr-defined]
    playwright_api.expect(count).to_have_text("27 statements")
    november = page.locator('svg.chart a.bar[data-month="2020-11"]')  # type: ignore[attr-defined]
    label = november.get_attribute("aria-label")
    assert label is not None
    assert label.startswith("November 2020: ")
    counted = int(label.split(": ")[1].split()[0])
    november.click()
    playwright_api.expect(count).to_have_text(f"{counted} statements")
    assert "during=2020-11" in page.url  # type: ignore[attr-defined]
    menu = page.locator('section.facet[data-facet="country"]')  # type: ignore[attr-defined]
    china = menu.get_by_role("link", name="China")
    chinese = int(china.inner_text().split("(")[1].rstrip(")"))
    china.click()
    playwright_api.expect(count).to_have_text(f"{chinese} statement{'s' if chinese != 1 else ''}")
    assert "country=CN" in page.url  # type: ignore[attr-defined]
    assert "during=2020-11" in page.url  # type: ignore[attr-defined]
    selected = page.locator('section.facet[data-facet="country"] a[aria-current]')  # type: ignore[attr-defined]
    playwright_api.expect(selected).to_contain_text("China")


def test_the_chart_stacks_by_country_and_shows_on_a_treaty_page(page: object) -> None:
    page.goto("/#/statements?stack=country")  # type: ignore[attr-defined]
    legend = page.locator("ul.legend li")  # type: ignore[attr-defined]
    playwright_api.expect(legend.first).to_be_visible()
    assert "Russia" in " ".join(legend.all_inner_texts())
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("main").screenshot(path=str(ARTIFACTS / "statements-per-month-by-country.png"))  # type: ignore[attr-defined]
    page.goto("/#/treaties/new-start")  # type: ignore[attr-defined]
    caption = page.locator("figure.chart-wrap figcaption")  # type: ignore[attr-defined]
    playwright_api.expect(caption).to_have_text(
        "Statements on New START per month, by speaker's country"
    )
    bars = page.locator("svg.chart a.bar")  # type: ignore[attr-defined]
    total = sum(
        int((bars.nth(i).get_attribute("aria-label") or "").split(": ")[1].split()[0])
        for i in range(bars.count())
    )
    assert total == 12  # New START's statements in the seed, every one dated to a month


def test_every_page_is_citable_and_readable_as_it_was(page: object) -> None:
    """The footer gives the data version and a permalink to cite; a page opened at an
    earlier version says so, reads that version's data, and its links stay there."""
    page.goto("/#/statements")  # type: ignore[attr-defined]
    playwright_api.expect(page.locator("#count")).to_have_text("27 statements")  # type: ignore[attr-defined]
    cite = page.get_by_role("link", name="Cite this page")  # type: ignore[attr-defined]
    playwright_api.expect(cite).to_have_attribute("href", re.compile(r"#/statements\?as_of=1$"))
    playwright_api.expect(page.locator("#citation")).to_contain_text("data version 1")  # type: ignore[attr-defined]
    playwright_api.expect(page.locator("#past")).to_be_hidden()  # type: ignore[attr-defined]
    # Version 0: the database before the seed data was loaded.
    page.get_by_label("Open as of version").fill("0")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Open").click()  # type: ignore[attr-defined]
    banner = page.locator("#past")  # type: ignore[attr-defined]
    playwright_api.expect(banner).to_contain_text("as it was at version 0")
    playwright_api.expect(page.locator("#count")).to_have_text("0 statements")  # type: ignore[attr-defined]
    nav = page.get_by_role("navigation", name="Main").get_by_role("link", name="Treaties")  # type: ignore[attr-defined]
    playwright_api.expect(nav).to_have_attribute("href", "#/?as_of=0")
    page.get_by_role("link", name="See the current data").click()  # type: ignore[attr-defined]
    playwright_api.expect(banner).to_be_hidden()
    playwright_api.expect(page.locator("#count")).to_have_text("27 statements")  # type: ignore[attr-defined]
