"""A supervisor's live wall in the browser: an end user's answer, started through the API,
appears on the wall by itself; the supervisor watches it on the wall and sees what it had said
on joining, the tokens arriving after, and its end; the same text the user received."""

import re
import threading
import uuid

import httpx
from helpers import DEMO_USERS, GATEWAY_URL, bearer, onboarded_user, sse_events
from playwright.sync_api import Page, expect

from .conftest import FRESH_PASSWORD, PHONE, screenshot, sign_in

# About 6 s of answer: long enough to find it on the wall (read every 2 s) and watch it grow.
SLOW = "[[sim:answer-tokens=48]] [[sim:tokens-per-second=8]] [[sim:first-token-delay-ms=0]]"

GROWN = """([selector, before]) => {
    const node = document.querySelector(selector);
    return node !== null && node.innerText.trim().length > before;
}"""


def test_a_supervisor_sees_a_live_answer_on_the_wall_and_watches_it(page: Page) -> None:
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        user = onboarded_user(client)
        username = user["user"]["username"]
        headers = bearer(user["accessToken"])
        created = client.post(
            "/api/chat/sessions", json={"title": f"Watched {uuid.uuid4().hex[:6]}"}, headers=headers
        )
        assert created.status_code == 201, created.text
        session_id = created.json()["sessionId"]

        sign_in(page, "supervisor1", DEMO_USERS["supervisor1"][0])
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Live wall").click()
        expect(page.get_by_role("heading", name="Live wall", level=1)).to_be_visible()

        received: list[str] = []
        ended: list[tuple[str, dict[str, object]]] = []

        def ask() -> None:
            with client.stream(
                "POST",
                f"/api/chat/sessions/{session_id}/stream",
                json={"message": f"Tell me a long story {SLOW}"},
                headers=headers,
            ) as response:
                for event, data, _ in sse_events(response):
                    if event == "chunk":
                        received.append(data["content"])
                    elif event in ("complete", "error"):
                        ended.append((event, data))

        asker = threading.Thread(target=ask, daemon=True)
        asker.start()
        try:
            # The wall reads the active streams by itself: the answer appears without a reload.
            card = page.get_by_test_id("active-stream").filter(has_text=username)
            expect(card).to_be_visible(timeout=8_000)
            expect(card).to_contain_text(session_id[:8])
            expect(card.locator("time")).to_have_text(re.compile(r"^\d+:\d\d$"))
            expect(page.get_by_role("status").filter(has_text="in progress")).to_be_visible()
            screenshot(page, "live-wall")

            card.get_by_role("link", name=re.compile(f"^Watch {username}")).click()
            watcher = page.locator(f'[data-testid="watcher"][data-session="{session_id}"]')
            expect(watcher).to_be_visible()
            expect(watcher.get_by_role("heading")).to_contain_text(username)
            expect(watcher.get_by_role("status")).to_have_text(re.compile("Answering now"))
            # Tokens arrive: the watched text grows while the answer is under way.
            selector = f'[data-session="{session_id}"] [data-testid="watched-answer"]'
            page.wait_for_function(GROWN, arg=[selector, 0], timeout=5_000)
            before = len(page.locator(selector).inner_text().strip())
            page.wait_for_function(GROWN, arg=[selector, before], timeout=5_000)
            screenshot(page, "watching-answer")

            # The end: the watcher says so, and shows the whole answer the user received.
            expect(watcher.get_by_test_id("watched-complete")).to_have_text(
                re.compile(r"^Answer complete: \d+ tokens · [\d.,]+ credits$"), timeout=10_000
            )
            asker.join(10)
            assert [event for event, _ in ended] == ["complete"]
            tokens = ended[0][1]["tokensUsed"]
            answer = page.locator(selector)
            expect(answer).to_have_text("".join(received).strip())
            expect(answer).to_have_attribute("aria-busy", "false")
            # The finished answer leaves the wall; its watcher stays.
            expect(card).to_have_count(0, timeout=5_000)
            expect(watcher).to_be_visible()

            # Readable on a phone: nothing wider than its screen.
            page.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

            # A session watched alone, by its address: no answer in progress now.
            page.goto(f"/supervise/{session_id}")
            expect(page.get_by_role("heading", name="Watching a session")).to_be_visible()
            expect(page.get_by_test_id("watch-status")).to_have_text(
                re.compile("no answer in progress")
            )

            # The user's usage, as accounting recorded the answer.
            page.goto(f"/supervise/usage?user={username}&days=7")
            stats = page.get_by_test_id("usage-stats")
            expect(stats.get_by_role("heading")).to_have_text(f"{username}, last 7 days")
            figures = stats.locator(".usage-totals")
            expect(figures.locator("dt:text-is('Requests') + dd")).to_have_text("1")
            expect(figures.locator("dt:text-is('Tokens') + dd")).to_contain_text(f"{tokens:,}")
            expect(stats.get_by_role("table", name="By model")).to_be_visible()
        finally:
            asker.join(15)


def test_an_end_user_filters_their_chat_list_by_title(page: Page) -> None:
    """The chat API has no search: the list filters the chats it loaded, by title."""
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        user = onboarded_user(client, FRESH_PASSWORD)
        for title in ("Crème brûlée recipe", "Explain streaming", "Streaming ledgers"):
            created = client.post(
                "/api/chat/sessions", json={"title": title}, headers=bearer(user["accessToken"])
            )
            assert created.status_code == 201, created.text
    sign_in(page, user["user"]["username"], FRESH_PASSWORD)
    chats = page.get_by_role("complementary", name="Chat sessions").get_by_role("listitem")
    expect(chats).to_have_count(3)
    search = page.get_by_role("searchbox", name="Search chats")
    search.fill("STREAMING")
    expect(chats).to_have_count(2)
    search.fill("creme")
    expect(chats).to_have_count(1)
    expect(chats).to_contain_text("Crème brûlée recipe")
    search.fill("nothing like this")
    expect(chats).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("No chat matches “nothing like this”.")
    search.fill("")
    expect(chats).to_have_count(3)
