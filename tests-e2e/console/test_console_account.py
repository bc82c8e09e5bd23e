"""What a person manages for themselves in the browser: two-factor authentication, a personal
API key and a provider key (BYOK), each checked against the API too (not only on screen)."""

import re
import uuid

import httpx
import pyotp
from helpers import GATEWAY_URL, bearer, login, refused_within
from playwright.sync_api import Page, expect

from .conftest import FRESH_PASSWORD, fresh_user, screenshot, sign_in


def test_a_person_sets_up_2fa_api_and_provider_keys(page: Page) -> None:
    username = fresh_user()
    sign_in(page, username, FRESH_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()

    # 2FA: the QR code and the secret, one code turns it on, ten backup codes shown once.
    page.get_by_role("button", name="Set up two-factor authentication").click()
    expect(page.get_by_role("img", name="QR code of your two-factor secret")).to_be_visible()
    secret = page.get_by_test_id("totp-secret").inner_text()
    page.get_by_label("Code from your authenticator app").fill("000000")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("list", name="Backup codes").get_by_role("listitem")).to_have_count(10)

    # A personal key with a budget: shown once, and it works on /v1.
    page.get_by_label("Name").fill("notebook")
    page.get_by_label("Budget in credits (optional)").fill("2.5")
    page.get_by_role("button", name="Create key").click()
    minted = page.get_by_test_id("minted-key")
    expect(minted).to_have_text(re.compile(r"^sk-\S+$"))
    key = minted.inner_text()
    expect(page.get_by_role("cell", name="2.5 credits")).to_be_visible()
    screenshot(page, "account")
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        assert client.get("/v1/models", headers=bearer(key)).status_code == 200
        # The account now has 2FA: a password alone no longer signs in.
        assert login(client, username, FRESH_PASSWORD).json().get("mfaRequired") is True

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke notebook").click()
    expect(page.get_by_role("button", name="Revoke notebook")).to_have_count(0)
    expect(minted).to_have_count(0)
    # A provider key: stored, shown by its last four characters only, checked with the provider.
    provider_key = f"sk-sim-{uuid.uuid4().hex}"
    page.get_by_label("Provider", exact=True).select_option(label="OpenAI")
    page.get_by_label("Label", exact=True).fill("my openai")
    page.get_by_label("API key", exact=True).fill(provider_key)
    page.get_by_role("button", name="Store key").click()
    expect(page.get_by_role("cell", name=f"…{provider_key[-4:]}")).to_be_visible()
    page.get_by_role("button", name="Check my openai").click()
    expect(page.get_by_role("status").filter(has_text="my openai: valid")).to_be_visible()
    assert provider_key not in page.content()

    # Revocation takes effect within a second at every entry (CONTRACT.md).
    refused_within("/v1/models", key)
