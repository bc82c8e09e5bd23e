"""The ``/docs`` page renders its operations in a real browser, loading nothing from elsewhere.

Debian's Chromium (``apt-get install chromium``; ``.ci/run`` installs it) is driven by
Playwright; it cannot download a browser of its own here. A machine without it fails this
test rather than skipping it, so a docs page that went blank cannot pass unnoticed.
"""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI
from playwright.sync_api import sync_playwright

from service_kit import ServiceSettings, create_app
from service_kit.docs import CONTENT_SECURITY_POLICY

CHROMIUM = Path("/usr/bin/chromium")
# No background traffic of the browser's own, so every request seen is the page's.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

router = APIRouter(prefix="/api/widgets", tags=["widgets"])


@router.get("/{widget_id}")
async def read_widget(widget_id: int) -> dict[str, int]:
    return {"id": widget_id}


@router.post("")
async def make_widget() -> dict[str, int]:
    return {"id": 1}


def build() -> FastAPI:
    return create_app(ServiceSettings(service_name="docs-test"), title="Widgets", routers=[router])


@pytest.fixture
def served_app() -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread; yields its origin."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(build(), log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the docs page test needs Debian's Chromium "
            "(apt-get install -y chromium; .ci/run installs it before the tests)",
            pytrace=False,
        )


def test_docs_page_renders_every_operation_from_its_own_origin(served_app: str) -> None:
    require_chromium()
    requested: list[str] = []
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.on("pageerror", lambda error: problems.append(str(error)))
            # A Content-Security-Policy violation is reported as a console error.
            page.on(
                "console",
                lambda message: problems.append(message.text) if message.type == "error" else None,
            )
            response = page.goto(f"{served_app}/docs")
            page.wait_for_selector(".opblock", timeout=15_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
        finally:
            browser.close()

    assert response is not None
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert {"/api/widgets/{widget_id}", "/api/widgets", "/api/health"} <= set(paths), paths
    origin = urlsplit(served_app).netloc
    assert requested and all(urlsplit(url).netloc == origin for url in requested), requested
    assert problems == []


async def test_docs_assets_come_from_the_service_and_redoc_is_not_served() -> None:
    transport = httpx.ASGITransport(app=build())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        page = await client.get("/docs")
        bundle = await client.get("/docs/assets/swagger-ui-bundle.js")
        redoc = await client.get("/redoc")
    assert page.status_code == 200
    assert "<script>" not in page.text  # no inline script: the policy forbids it
    assert "http" not in page.text  # every URL on the page is of its own origin
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert redoc.status_code == 404  # it would load from a CDN; /docs is the one page
