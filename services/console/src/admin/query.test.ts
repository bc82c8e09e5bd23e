import { describe, expect, it } from "vitest";

import { auditQuery, EMPTY_AUDIT_FILTERS, exportQuery, localToRfc3339, queryString, usersQuery } from "./query";

describe("queryString", () => {
  it("leaves out empty values and encodes the rest", () => {
    expect(queryString({ a: "", b: null, c: undefined, d: " " })).toBe("");
    expect(queryString({ q: "a b&c", page: 2 })).toBe("?q=a+b%26c&page=2");
  });
});

describe("usersQuery", () => {
  it("sends the search and the role only when set", () => {
    expect(usersQuery("", "", 1, 20)).toBe("?page=1&limit=20");
    expect(usersQuery("ali", "admin", 3, 20)).toBe("?q=ali&role=admin&page=3&limit=20");
  });
});

describe("auditQuery", () => {
  it("sends local times as UTC with their zone, and the page", () => {
    const built = auditQuery(
      { ...EMPTY_AUDIT_FILTERS, actor: "admin", action: "team_key.*", from: "2030-01-01T09:30" },
      2,
      25,
    );
    const from = new Date("2030-01-01T09:30").toISOString();
    expect(built).toEqual({
      query: `?actor=admin&action=team_key.*&from=${encodeURIComponent(from)}&page=2&limit=25`,
    });
    expect(from.endsWith("Z")).toBe(true);
  });

  it("passes target filters under the API's names", () => {
    const built = auditQuery({ ...EMPTY_AUDIT_FILTERS, targetType: "user", targetId: "u1" }, 1, 50);
    expect(built).toEqual({ query: "?targetType=user&targetId=u1&page=1&limit=50" });
  });

  it("refuses a range that ends before it starts, and a time it cannot read", () => {
    const range = { ...EMPTY_AUDIT_FILTERS, from: "2030-01-02T00:00", to: "2030-01-01T00:00" };
    expect(auditQuery(range, 1, 25)).toEqual({ error: "“From” must be before “To”." });
    expect(auditQuery({ ...EMPTY_AUDIT_FILTERS, to: "yesterday" }, 1, 25)).toEqual({
      error: "“To” is not a time.",
    });
  });

  it("reads only datetime-local values", () => {
    expect(localToRfc3339("")).toBeNull();
    expect(localToRfc3339("2030-13-45T99:99")).toBeNull();
    expect(localToRfc3339("2030-01-01T00:00:30")).toBe(new Date("2030-01-01T00:00:30").toISOString());
  });
});

describe("exportQuery", () => {
  it("asks for a CSV by day and model, of a user when named", () => {
    expect(exportQuery("", "", "")).toEqual({ query: "?groupBy=day%2Cmodel&format=csv" });
    expect(exportQuery("user1", "2030-01-01", "2030-01-31")).toEqual({
      query: "?userId=user1&from=2030-01-01&to=2030-01-31&groupBy=day%2Cmodel&format=csv",
    });
  });

  it("refuses a range backwards", () => {
    expect(exportQuery("", "2030-02-01", "2030-01-01")).toEqual({
      error: "“From” must not be after “To”.",
    });
  });
});
