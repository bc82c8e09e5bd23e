import { afterEach, describe, expect, it, vi } from "vitest";

import { api } from "../api/client";
import { allocateCredits, auditLogs, balanceOf, listUsers, resetTwoFactor, updateUser } from "./api";
import { EMPTY_AUDIT_FILTERS } from "./query";

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

function answering(status: number, body: unknown) {
  const calls: Call[] = [];
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({
      url: String(input),
      method: init?.method ?? "GET",
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    });
    return status === 204
      ? new Response(null, { status })
      : new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  });
  return calls;
}

afterEach(() => {
  vi.unstubAllGlobals();
  api.setAccessToken(null);
});

describe("admin API", () => {
  it("allocates with the credits as text and an Idempotency-Key", async () => {
    api.setAccessToken("t");
    const calls = answering(201, { id: "a1", userId: "u1", credits: 12.5, expiresAt: null, message: "ok" });
    const answer = await allocateCredits({ targetUserId: "alice", credits: "12.5", expiryDays: 7 }, "key-1");
    expect(answer.credits).toBe(12.5);
    expect(calls[0]).toMatchObject({
      url: "/api/credits/allocate",
      method: "POST",
      body: { targetUserId: "alice", credits: "12.5", expiryDays: 7 },
    });
    expect(calls[0]?.headers["Idempotency-Key"]).toBe("key-1");
    expect(calls[0]?.headers.Authorization).toBe("Bearer t");
  });

  it("names users in paths safely", async () => {
    const calls = answering(200, {});
    await balanceOf("a/b");
    await updateUser("u 1", { disabled: true });
    expect(calls.map((call) => [call.method, call.url])).toEqual([
      ["GET", "/api/credits/balance/a%2Fb"],
      ["PATCH", "/api/auth/users/u%201"],
    ]);
    expect(calls[1]?.body).toEqual({ disabled: true });
  });

  it("resets 2FA with a bodiless POST answered 204", async () => {
    const calls = answering(204, null);
    await expect(resetTwoFactor("u1")).resolves.toBeUndefined();
    expect(calls[0]).toMatchObject({ method: "POST", url: "/api/auth/users/u1/2fa/reset", body: undefined });
  });

  it("lists users and audit entries with their filters", async () => {
    const calls = answering(200, {});
    await listUsers("ali", "", 2);
    await auditLogs({ ...EMPTY_AUDIT_FILTERS, action: "user.disabled" }, 1);
    expect(calls.map((call) => call.url)).toEqual([
      "/api/auth/users?q=ali&page=2&limit=20",
      "/api/audit-logs?action=user.disabled&page=1&limit=25",
    ]);
  });

  it("sends no audit request for a backwards range", async () => {
    const calls = answering(200, {});
    const range = { ...EMPTY_AUDIT_FILTERS, from: "2030-01-02T00:00", to: "2030-01-01T00:00" };
    await expect(auditLogs(range, 1)).rejects.toThrow("“From” must be before “To”.");
    expect(calls).toEqual([]);
  });
});
