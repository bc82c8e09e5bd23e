"""Who sees what: an end user sees no supervisor or admin pages (and the API refuses them
anyway); registration and the 2FA sign-in step; a phone-width screen."""

import re

import httpx
import pyotp
from helpers import DEMO_USERS, GATEWAY_URL, bearer, onboarded_user, tokens_for
from playwright.sync_api import Page, expect

from .conftest import balance_of, screenshot, sign_in


def test_an_enduser_sees_no_supervisor_or_admin_pages(page: Page) -> None:
    sign_in(page, "user1", DEMO_USERS["user1"][0])
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Chat")).to_be_visible()
    expect(nav.get_by_role("link", name="Live wall")).to_have_count(0)
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    for path in ("/admin", "/admin/credits", "/supervise"):
        page.goto(path)
        expect(page.get_by_role("heading", name="Not available")).to_be_visible()
    screenshot(page, "enduser-no-admin")
    # The API refuses them whatever the page shows.
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        token = tokens_for(client, "user1")["accessToken"]
        allocate = client.post(
            "/api/credits/allocate",
            json={"targetUserId": "user2", "credits": 5},
            headers=bearer(token),
        )
        assert allocate.status_code == 403
        assert client.get("/api/chat/streams/active", headers=bearer(token)).status_code == 403


def test_an_admin_and_a_supervisor_see_their_pages(page: Page) -> None:
    sign_in(page, "admin", DEMO_USERS["admin"][0])
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Admin")).to_be_visible()
    expect(nav.get_by_role("link", name="Live wall")).to_be_visible()
    nav.get_by_role("link", name="Admin").click()
    # /admin opens the credits page, under the admin area's own navigation.
    expect(page).to_have_url(re.compile(r"/admin/credits$"))
    expect(page.get_by_role("heading", name="Credits", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Administration")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "supervisor1", DEMO_USERS["supervisor1"][0])
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Live wall")).to_be_visible()
    expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    nav.get_by_role("link", name="Live wall").click()
    expect(page.get_by_role("heading", name="Live wall", level=1)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text=re.compile("in progress"))).to_be_visible()
    page.goto("/admin")
    expect(page.get_by_role("heading", name="Not available")).to_be_visible()


def test_a_person_registers_on_a_phone_and_lands_in_the_chat(phone_page: Page) -> None:
    page = phone_page
    page.goto("/")
    page.get_by_role("link", name="Register").click()
    username = f"e2econsole{re.sub('[^0-9]', '', str(id(page)))[-6:]}{page.evaluate('Date.now()')}"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password").fill("Console-Passw0rd!")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_test_id("username")).to_have_text(username)
    expect(page.get_by_role("heading", name="New chat")).to_be_visible()
    # Registration signed in with the password too, so the refresh cookie is there.
    assert "refresh_token" in {c["name"] for c in page.context.cookies()}
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "register-phone")


def test_a_weak_password_is_refused_with_the_reason(page: Page) -> None:
    page.goto("/register")
    page.get_by_label("Username").fill("e2eweakpassword")
    page.get_by_label("Email").fill("e2eweakpassword@example.com")
    page.get_by_label("Password").fill("password1234")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()


def test_sign_in_with_2fa_asks_for_the_code(page: Page) -> None:
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        user = onboarded_user(client)
        headers = bearer(user["accessToken"])
        secret = client.post("/api/auth/2fa/setup", headers=headers).json()["secret"]
        verified = client.post(
            "/api/auth/2fa/verify", json={"code": pyotp.TOTP(secret).now()}, headers=headers
        )
        assert verified.status_code == 200, verified.text
        backup = verified.json()["backupCodes"][0]
    username = user["user"]["username"]
    page.goto("/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill("E2e-Passw0rd!")
    page.get_by_role("button", name="Sign in").click()
    code = page.get_by_label(re.compile("Code from your authenticator"))
    expect(code).to_be_visible()
    expect(page.get_by_test_id("username")).to_have_count(0)
    code.fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_be_visible()
    code.fill(backup)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_test_id("username")).to_have_text(username)
    assert balance_of(page) > 0
