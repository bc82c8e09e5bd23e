import { describe, expect, it } from "vitest";

import { checkInvitation, checkOrganization, checkTeam } from "./orgRequests";

describe("checkOrganization", () => {
  it("takes a lowercase slug and a name", () => {
    expect(checkOrganization(" acme-research ", " Acme ")).toEqual({
      ok: true,
      body: { slug: "acme-research", name: "Acme" },
    });
  });

  it.each(["ab", "Acme", "-acme", "acme-", "ac me", "a".repeat(64)])("refuses the slug %j", (slug) => {
    expect(checkOrganization(slug, "Acme").ok).toBe(false);
  });

  it("refuses an empty name", () => {
    expect(checkOrganization("acme", "  ")).toEqual({ ok: false, reason: "Name: required" });
  });
});

describe("checkTeam", () => {
  it("sends initial credits as exact decimal text, and none when empty", () => {
    expect(checkTeam("o1", "crew", ["fast"], "007.50")).toEqual({
      ok: true,
      body: { organizationId: "o1", name: "crew", modelGroups: ["fast"], initialCredits: "7.5" },
    });
    expect(checkTeam("o1", "crew", ["fast"], "")).toEqual({
      ok: true,
      body: { organizationId: "o1", name: "crew", modelGroups: ["fast"] },
    });
  });

  it("names what is missing or wrong", () => {
    expect(checkTeam("o1", "", ["fast"], "")).toEqual({ ok: false, reason: "Team name: required" });
    expect(checkTeam("o1", "crew", [], "")).toEqual({
      ok: false,
      reason: "Model groups: choose at least one",
    });
    const credits = checkTeam("o1", "crew", ["fast"], "1.0000001");
    expect(credits.ok || credits.reason).toBe("Initial credits: Credits have at most 6 decimal places.");
  });
});

describe("checkInvitation", () => {
  it("takes an address and a role", () => {
    expect(checkInvitation(" ana@example.com ", "admin")).toEqual({
      ok: true,
      body: { email: "ana@example.com", role: "admin" },
    });
    expect(checkInvitation("ana", "member").ok).toBe(false);
  });
});
