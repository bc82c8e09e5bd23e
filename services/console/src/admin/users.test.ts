import { describe, expect, it } from "vitest";

import type { AdminUser } from "./types";
import { confirmationFor, doneMessage } from "./users";

const user: AdminUser = {
  id: "u1",
  username: "alice",
  email: "alice@example.com",
  role: "supervisor",
  disabled: false,
  createdAt: "2030-01-01T00:00:00Z",
  updatedAt: "2030-01-01T00:00:00Z",
};

describe("confirmationFor", () => {
  it("asks before disabling, resetting 2FA or taking rights away", () => {
    expect(confirmationFor(user, { kind: "disable" })).toMatch(/^Disable alice\?/);
    expect(confirmationFor(user, { kind: "reset2fa" })).toMatch(/two-factor/);
    expect(confirmationFor(user, { kind: "role", role: "enduser" })).toMatch(
      /from supervisor to enduser/,
    );
  });

  it("does not ask before enabling or giving more rights", () => {
    expect(confirmationFor(user, { kind: "enable" })).toBeNull();
    expect(confirmationFor(user, { kind: "role", role: "admin" })).toBeNull();
  });
});

describe("doneMessage", () => {
  it("says what happened", () => {
    expect(doneMessage(user, { kind: "role", role: "admin" })).toBe("alice is now admin.");
    expect(doneMessage(user, { kind: "disable" })).toBe("alice is disabled.");
  });
});
