"""The web console in Debian's Chromium (driven by Playwright, which cannot download a browser
here) against the gateway of a running stack. Each test saves a screenshot under
.local/screenshots/console/; a failing one also saves a Playwright trace under
.local/traces/console/ (`playwright show-trace <file>`). A machine without Chromium fails
these tests rather than skipping them."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import GATEWAY_URL, bearer, onboarded_user, tokens_for
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".local" / "screenshots" / "console"
TRACES = ROOT / ".local" / "traces" / "console"
PHONE = {"width": 390, "height": 844}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


# Package scope, not session: the sync API runs an event loop on this thread while it is open,
# and the rest of the suite's asyncio.run() calls would then fail.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the console's browser tests need Debian's Chromium "
            "(apt-get install -y chromium)",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
        )
        yield browser
        browser.close()


def _open_page(browser: Browser, request: pytest.FixtureRequest, viewport: dict) -> Iterator[Page]:
    context = browser.new_context(base_url=GATEWAY_URL, viewport=viewport)
    context.tracing.start(screenshots=True, snapshots=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A Content-Security-Policy refusal is a console error: the page must cause none.
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    try:
        yield page
        assert errors == [], errors
    finally:
        if request.node.stash.get(FAILED, True):
            TRACES.mkdir(parents=True, exist_ok=True)
            context.tracing.stop(path=TRACES / f"{name}.zip")
        else:
            context.tracing.stop()
        context.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    yield from _open_page(browser, request, {"width": 1280, "height": 800})


@pytest.fixture
def phone_page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    yield from _open_page(browser, request, PHONE)


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("username")).to_have_text(username)


def balance_of(page: Page) -> float:
    """The balance the header shows, once it has one (display only: a float is fine here)."""
    badge = page.get_by_test_id("balance")
    expect(badge).to_have_text(re.compile(r"^[\d,.]+$"))
    return float(badge.inner_text().replace(",", ""))


FRESH_PASSWORD = "E2e-Passw0rd!"


def fresh_user() -> str:
    """A new end user with the default plan's credits (password FRESH_PASSWORD), so that a
    test's chats count against no one else's per-minute limits."""
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        return str(onboarded_user(client, FRESH_PASSWORD)["user"]["username"])


def fund(username: str, credits: int) -> None:
    """``credits`` more for a demo user, allocated by the admin: demo users start with none
    (they get no plan grant), and a test must not live on what earlier tests left them."""
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        admin = tokens_for(client, "admin")["accessToken"]
        allocated = client.post(
            "/api/credits/allocate",
            json={"targetUserId": username, "credits": credits, "notes": "e2e console funding"},
            headers=bearer(admin),
        )
        assert allocated.status_code == 201, allocated.text
