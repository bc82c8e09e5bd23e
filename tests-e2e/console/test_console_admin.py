"""The admin area in the browser: credits allocated on the credits page reach the user's own
header balance, and a user disabled on the users page can no longer sign in (checked against
the API, and found in the audit log page)."""

import re
import uuid
from decimal import Decimal

import httpx
from helpers import DEMO_USERS, GATEWAY_URL, bearer, login, refused_within
from playwright.sync_api import Page, expect

from .conftest import FRESH_PASSWORD, fresh_user, screenshot, sign_in


def _credits(text: str) -> Decimal:
    """A figure the console shows ("1,012.5") as an exact decimal."""
    return Decimal(text.replace(",", ""))


def test_an_admin_allocates_credits_that_user1_then_has(page: Page) -> None:
    username = "user1"
    note = f"e2e console allocation {uuid.uuid4().hex[:6]}"
    sign_in(page, "admin", DEMO_USERS["admin"][0])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    expect(page).to_have_url(re.compile(r"/admin/credits$"))
    expect(page.get_by_role("heading", name="Credits", exact=True)).to_be_visible()
    admin_nav = page.get_by_role("navigation", name="Administration")
    for label in ("Credits", "Users", "Audit log", "Usage"):
        expect(admin_nav.get_by_role("link", name=label)).to_be_visible()

    # What the user holds before: the plan's grant.
    page.get_by_label("User (username or id)").fill(username)
    page.get_by_role("button", name="Show balance").click()
    total = page.get_by_test_id("user-total-credits")
    expect(total).to_have_text(re.compile(r"^[\d,.]+$"))
    before = _credits(total.inner_text())

    # A refused amount says why and sends nothing; then a valid allocation.
    page.get_by_label("Amount of credits").fill("1.0000001")
    page.get_by_role("button", name="Allocate credits").click()
    expect(page.get_by_text("Credits have at most 6 decimal places.")).to_be_visible()
    page.get_by_label("Amount of credits").fill("12.5")
    page.get_by_label("Expires after (days, optional)").fill("30")
    page.get_by_label("Notes (optional)").fill(note)
    page.get_by_role("button", name="Allocate credits").click()
    expect(page.get_by_role("heading", name="Allocated")).to_be_visible()
    expect(page.get_by_test_id("allocated-credits")).to_have_text("12.5")
    after = before + Decimal("12.5")
    expect(total).to_have_text(f"{after:,}")
    expect(page.get_by_role("cell", name=note)).to_be_visible()
    screenshot(page, "admin-credits", full_page=False)  # user1 may hold many allocations

    # The user signs in and the header shows the allocation added.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, username, DEMO_USERS[username][0])
    badge = page.get_by_test_id("balance")
    expect(badge).to_have_text(f"{after:,}")
    assert _credits(badge.inner_text()) == after


def test_a_user_disabled_on_the_users_page_cannot_sign_in(page: Page) -> None:
    username = fresh_user()
    sign_in(page, "admin", DEMO_USERS["admin"][0])
    page.goto("/admin/users")
    page.get_by_label("Search users").fill(username)
    page.get_by_role("button", name="Search", exact=True).click()
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=username))
    expect(card).to_have_count(1)
    user_id = card.locator(".mono").inner_text()

    # A destructive action asks first: dismissed, nothing changes; accepted, it is done.
    page.once("dialog", lambda dialog: dialog.dismiss())
    card.get_by_role("button", name=f"Disable {username}").click()
    expect(card.get_by_role("button", name=f"Disable {username}")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name=f"Disable {username}").click()
    expect(page.get_by_role("status")).to_have_text(f"{username} is disabled.")
    expect(card.get_by_role("button", name=f"Enable {username}")).to_be_visible()
    screenshot(page, "admin-users")
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        assert login(client, username, FRESH_PASSWORD).status_code == 401

    # The audit log page finds it (it arrives over the bus: apply again until it is there).
    admin_nav = page.get_by_role("navigation", name="Administration")
    admin_nav.get_by_role("link", name="Audit log").click()
    page.get_by_label("Action").fill("user.*")
    page.get_by_label("Target id").fill(user_id)
    entry = page.get_by_role("list", name="Audit entries").get_by_text("user.disabled")
    for _ in range(20):
        page.get_by_role("button", name="Apply filters").click()
        try:
            expect(entry).to_be_visible(timeout=500)
            break
        except AssertionError:
            continue
    expect(entry).to_be_visible()
    expect(page.get_by_role("list", name="Audit entries").get_by_role("listitem")).to_have_count(1)


def test_an_admin_makes_an_org_and_a_funded_team_and_mints_its_key_once(page: Page) -> None:
    slug = f"e2e-{uuid.uuid4().hex[:10]}"
    group = f"e2e-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        admin = bearer(login(client, "admin").json()["accessToken"])
        models = [client.get("/api/models", headers=admin).json()["models"][0]["id"]]
        made = client.post(
            "/api/model-groups", json={"name": group, "models": models}, headers=admin
        )
        assert made.status_code == 201, made.text
    sign_in(page, "admin", DEMO_USERS["admin"][0])
    page.goto("/admin/organizations")
    page.get_by_label("Slug", exact=True).fill(slug)
    page.get_by_label("Organization name").fill("Keyed")
    page.get_by_role("button", name="Create organization").click()
    page.get_by_label("Filter by name or slug").fill(slug)
    page.get_by_role("button", name="Show teams and members of Keyed").click()

    # A team with its model group and credits an admin grants.
    new_team = page.get_by_role("form", name="New team in Keyed")
    new_team.get_by_label("Team name").fill("crew")
    new_team.get_by_label(group).check()
    new_team.get_by_label(re.compile("^Initial credits")).fill("5")
    new_team.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("row", name=re.compile(rf"^crew {re.escape(group)} 5"))).to_be_visible()

    # Funded again from the row: a platform admin grants (a prompt asks how much).
    page.once("dialog", lambda dialog: dialog.accept("2.25"))
    page.get_by_role("button", name="Fund crew").click()
    expect(
        page.get_by_role("row", name=re.compile(rf"^crew {re.escape(group)} 7\.25"))
    ).to_be_visible()

    invite = page.get_by_role("form", name="Invite to Keyed")
    invite.get_by_label("Email").fill(f"{uuid.uuid4().hex[:8]}@example.com")
    invite.get_by_role("button", name="Send invitation").click()
    expect(invite.get_by_role("status")).to_have_text(re.compile(r"^Invited \S+ as member"))

    page.get_by_role("button", name="Keys of crew").click()
    keys = page.get_by_role("region", name="Keys of crew")
    keys.get_by_label("Key name").fill("pipeline")
    keys.get_by_role("button", name="Create team key").click()
    minted = keys.get_by_test_id("minted-team-key")
    expect(minted).to_have_text(re.compile(r"^sk-\S+$"))
    key = minted.inner_text()
    expect(keys.get_by_role("cell", name="active")).to_be_visible()
    # The key acts as the team: its balance is the team's.
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        assert client.get("/api/credits/balance", headers=bearer(key)).status_code == 200

    page.once("dialog", lambda dialog: dialog.accept())
    keys.get_by_role("button", name="Revoke pipeline").click()
    expect(keys.get_by_role("cell", name="revoked")).to_be_visible()
    refused_within("/api/credits/balance", key)


def test_an_admin_creates_a_plan_and_appends_a_version(page: Page) -> None:
    name = f"e2e-plan-{uuid.uuid4().hex[:8]}"
    sign_in(page, "admin", DEMO_USERS["admin"][0])
    page.goto("/admin/plans")
    new_plan = page.get_by_role("form", name="New plan")
    new_plan.get_by_label("Plan name").fill(name)
    new_plan.get_by_label("Monthly credits").fill("3")
    new_plan.get_by_label("Requests per minute").fill("10")
    new_plan.get_by_role("button", name="Create plan").click()
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=name))
    expect(card.get_by_text("Version 1: 3 credits a month, 10 requests a minute")).to_be_visible()

    card.get_by_role("button", name=re.compile("^Show history and new version")).click()
    version = card.get_by_role("form", name=f"New version of {name}")
    version.get_by_label("Monthly credits").fill("4.5")
    version.get_by_label("Requests per minute").fill("12")
    version.get_by_role("button", name="Add version").click()
    expect(card.get_by_text("Version 2: 4.5 credits a month, 12 requests a minute")).to_be_visible()
    member = fresh_user()
    card.get_by_role("textbox", name=f"Move a user to {name}").fill(member)
    card.get_by_role("button", name=f"Move to {name}").click()
    expect(card.get_by_role("status")).to_have_text(f"{member} is now on {name}.")
    with httpx.Client(base_url=GATEWAY_URL, timeout=30) as client:
        admin = bearer(login(client, "admin").json()["accessToken"])
        plan = next(
            p for p in client.get("/api/plans", headers=admin).json()["plans"] if p["name"] == name
        )
        history = client.get(f"/api/plans/{plan['id']}/history", headers=admin).json()
    assert [v["version"] for v in history["versions"]] == [1, 2]
    assert [Decimal(str(v["monthlyCredits"])) for v in history["versions"]] == [3, Decimal("4.5")]
