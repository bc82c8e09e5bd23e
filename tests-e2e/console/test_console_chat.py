"""An end user's core journey in the browser: sign in, chat, the answer streaming in, the
balance going down; staying signed in across a reload (the refresh cookie) until signing out."""

import re
import uuid

import httpx
from helpers import DEMO_USERS, GATEWAY_URL, bearer, login
from playwright.sync_api import Page, expect

from .conftest import FRESH_PASSWORD, balance_of, fresh_user, fund, screenshot, sign_in


def test_user1_chats_sees_the_answer_stream_in_and_the_balance_drop(page: Page) -> None:
    fund("user1", 100)  # on a new machine user1 has nothing but what other tests gave
    sign_in(page, "user1", DEMO_USERS["user1"][0])
    api_calls: list[str] = []
    page.on("request", lambda request: api_calls.append(f"{request.method} {request.url}"))
    before = balance_of(page)
    question = f"Explain **streaming** in one paragraph ({uuid.uuid4().hex[:8]})."

    picker = page.get_by_label("Model")
    expect(picker).to_be_enabled()
    # Each model says whether it is available and what it costs.
    expect(picker.locator("option").first).to_have_text(
        re.compile(r"\((available|degraded|unavailable)\)")
    )
    expect(picker.locator("option").first).to_have_text(re.compile(r"credits / 1K tokens"))
    page.get_by_label("Your message").fill(question)
    page.get_by_role("button", name="Start chat").click()

    answer = page.get_by_test_id("live-answer")
    # Streamed: part of the answer is on screen while it is still being generated.
    page.wait_for_function(
        """() => {
            const live = document.querySelector('[data-testid="live-answer"]');
            return live && live.getAttribute('aria-busy') === 'true' && live.innerText.length > 0;
        }""",
        timeout=15_000,
    )
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    # The answer's cost, as the complete event said.
    expect(page.get_by_test_id("answer-complete")).to_have_text(
        re.compile(r"^\d+ tokens · [\d.,]+ credits$"), timeout=60_000
    )
    expect(answer).not_to_be_empty()
    expect(answer).to_have_attribute("aria-busy", "false")

    # The badge is re-read after the answer: lower by what the answer cost.
    expect(page.get_by_test_id("balance")).not_to_have_text(
        re.compile(rf"^{re.escape(f'{before:,}')}$")
    )
    assert balance_of(page) < before

    # The new chat is in the list, the open one, and its URL opens it.
    sessions = page.get_by_role("complementary", name="Chat sessions")
    link = sessions.get_by_role("link", name=re.compile(re.escape(question)))
    expect(link).to_have_attribute("aria-current", "page")
    assert page.url.endswith(link.get_attribute("href") or "-")
    # The conversation read its session once or twice (opening it, after the answer), and
    # asked once: no request loop behind the rendering.
    session_id = page.url.rsplit("/", 1)[-1]
    reads = [c for c in api_calls if c.endswith(f"/api/chat/sessions/{session_id}")]
    asks = [c for c in api_calls if c.endswith(f"/api/chat/sessions/{session_id}/stream")]
    assert 1 <= len(reads) <= 2, reads
    assert asks == [f"POST {GATEWAY_URL}/api/chat/sessions/{session_id}/stream"]
    screenshot(page, "chat")


def test_a_follow_up_question_in_the_same_chat_streams_too(page: Page) -> None:
    username = fresh_user()
    sign_in(page, username, FRESH_PASSWORD)
    page.get_by_label("Your message").fill("First question")
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_test_id("answer-complete")).to_be_visible(timeout=60_000)
    page.get_by_label("Message", exact=True).fill("A second question")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_test_id("answer-complete")).to_be_visible(timeout=60_000)
    messages = page.get_by_role("list", name="Messages").locator("> li")
    expect(messages).to_have_count(4)
    expect(messages.nth(0)).to_contain_text("First question")
    expect(messages.nth(2)).to_contain_text("A second question")


def test_a_reload_keeps_the_person_signed_in_until_they_sign_out(page: Page) -> None:
    sign_in(page, "user2", DEMO_USERS["user2"][0])
    # The access token was only in memory: the reload signs in again from the refresh cookie.
    page.reload()
    expect(page.get_by_test_id("username")).to_have_text("user2")
    cookies = {c["name"]: c for c in page.context.cookies()}
    refresh = cookies["refresh_token"]
    assert (refresh["httpOnly"], refresh["sameSite"], refresh["path"]) == (
        True,
        "Strict",
        "/api/auth",
    )
    assert page.evaluate("document.cookie") == ""  # script on the page cannot read it

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert "refresh_token" not in {c["name"] for c in page.context.cookies()}
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # The signed-out cookie's token is revoked too, not only forgotten.
    with httpx.Client(base_url=GATEWAY_URL) as client:
        reuse = client.post("/api/auth/refresh", json={"refreshToken": refresh["value"]})
    assert reuse.status_code == 401


def test_wrong_credentials_are_told_in_an_alert(page: Page) -> None:
    page.goto("/chat")
    page.get_by_label("Username or email").fill("user1")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid username or password")
    expect(page.get_by_test_id("username")).to_have_count(0)


def test_the_stop_button_ends_the_answer_and_keeps_what_came(page: Page) -> None:
    username = fresh_user()
    sign_in(page, username, FRESH_PASSWORD)
    page.get_by_label("Your message").fill("Tell me a long story")
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_test_id("live-answer")).not_to_be_empty(timeout=15_000)
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text("Stopped. You are billed for what was generated.")).to_be_visible()
    expect(page.get_by_test_id("answer-complete")).to_have_count(0)
    expect(page.get_by_test_id("live-answer")).not_to_be_empty()
    expect(page.get_by_role("button", name="Send")).to_be_visible()


def test_a_reload_mid_answer_resumes_it_with_no_gap_and_no_duplicate(page: Page) -> None:
    username = fresh_user()
    sign_in(page, username, FRESH_PASSWORD)
    page.get_by_label("Your message").fill(f"Resume me ({uuid.uuid4().hex[:8]})")
    page.get_by_role("button", name="Start chat").click()
    page.wait_for_function(
        """() => {
            const live = document.querySelector('[data-testid="live-answer"]');
            return live && live.getAttribute('aria-busy') === 'true' && live.innerText.length > 0;
        }""",
        timeout=15_000,
    )
    page.reload()
    expect(page.get_by_test_id("answer-complete")).to_be_visible(timeout=60_000)
    shown = " ".join(page.get_by_test_id("live-answer").inner_text().split())
    session_id = page.url.rsplit("/", 1)[-1]
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        token = login(client, username, FRESH_PASSWORD).json()["accessToken"]
        messages = client.get(
            f"/api/chat/sessions/{session_id}/messages", headers=bearer(token)
        ).json()["messages"]
    stored = " ".join(messages[-1]["content"].split())
    assert messages[-1]["role"] == "assistant"
    assert shown == stored
    # The one answer, asked once: the reload resumed it rather than asking again.
    assert [m["role"] for m in messages] == ["user", "assistant"]
    screenshot(page, "chat-resumed")


def test_a_chat_is_deleted_from_the_list_after_confirming(page: Page) -> None:
    title = f"Delete me {uuid.uuid4().hex[:8]}"
    username = fresh_user()
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        token = login(client, username, FRESH_PASSWORD).json()["accessToken"]
        created = client.post("/api/chat/sessions", json={"title": title}, headers=bearer(token))
        assert created.status_code == 201, created.text
    sign_in(page, username, FRESH_PASSWORD)
    sessions = page.get_by_role("complementary", name="Chat sessions")
    delete = sessions.get_by_role("button", name=f"Delete {title}")
    page.once("dialog", lambda dialog: dialog.dismiss())
    delete.click()
    expect(sessions.get_by_role("link", name=re.compile(title))).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    delete.click()
    expect(sessions.get_by_role("link", name=re.compile(title))).to_have_count(0)
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        gone = client.get(
            f"/api/chat/sessions/{created.json()['sessionId']}", headers=bearer(token)
        )
    assert gone.status_code == 404


def test_too_many_chats_a_minute_say_how_long_to_wait(page: Page) -> None:
    username = fresh_user()
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        token = login(client, username, FRESH_PASSWORD).json()["accessToken"]
        for _ in range(30):  # past the per-minute session limit (8 by default), whatever it is
            created = client.post("/api/chat/sessions", json={}, headers=bearer(token))
            if created.status_code == 429:
                break
            assert created.status_code == 201, created.text
        assert created.status_code == 429
    sign_in(page, username, FRESH_PASSWORD)
    page.get_by_label("Your message").fill("One more")
    page.get_by_role("button", name="Start chat").click()
    expect(page.get_by_role("alert")).to_have_text(
        re.compile(r"^Too many requests: try again in \d+ s\.$")
    )
    screenshot(page, "chat-429")
