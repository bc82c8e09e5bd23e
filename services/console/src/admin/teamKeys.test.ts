import { describe, expect, it } from "vitest";

import { type TeamKey, keyState, parseExpiryDays } from "./teamKeys";

const KEY: TeamKey = {
  id: "k1",
  teamId: "t1",
  name: "ci",
  prefix: "sk-abc",
  models: null,
  createdAt: "2026-11-01T00:00:00Z",
  expiresAt: null,
  revokedAt: null,
  lastUsedAt: null,
  replacedBy: null,
};
const NOW = new Date("2026-12-01T12:00:00Z");

describe("keyState", () => {
  it("tells active, revoked, expired and a rotated key in its grace period apart", () => {
    expect(keyState(KEY, NOW)).toBe("active");
    expect(keyState({ ...KEY, revokedAt: "2026-12-01T11:00:00Z" }, NOW)).toBe("revoked");
    expect(keyState({ ...KEY, expiresAt: "2026-12-01T11:59:59Z" }, NOW)).toBe("expired");
    expect(keyState({ ...KEY, replacedBy: "k2", expiresAt: "2026-12-01T13:00:00Z" }, NOW)).toBe(
      "expiring",
    );
    expect(keyState({ ...KEY, revokedAt: "2026-12-01T12:05:00Z" }, NOW)).toBe("expiring");
  });
});

describe("parseExpiryDays", () => {
  it("takes whole days from 1 to 3650, empty as no expiry", () => {
    expect(parseExpiryDays(" 30 ")).toBe(30);
    expect(parseExpiryDays("")).toBeUndefined();
    for (const bad of ["0", "3651", "1.5", "-2", "soon"]) expect(parseExpiryDays(bad)).toBeNull();
  });
});
