import { describe, expect, it } from "vitest";

import { microToText, parseCredits, toMicro } from "../balance/amounts";
import { checkAllocation, formatTime } from "./credits";

const form = (fields: Partial<Parameters<typeof checkAllocation>[0]>) => ({
  user: "user1",
  credits: "10",
  expiryDays: "",
  notes: "",
  ...fields,
});

describe("credits text", () => {
  it("reads decimals as exact micro-credits, never through a float", () => {
    expect(toMicro("12.5")).toBe(12_500_000n);
    expect(toMicro("0.000001")).toBe(1n);
    // 0.1 + 0.2 style sums stay exact.
    expect(toMicro("0.3")).toBe(toMicro("0.1")! + toMicro("0.2")!);
    expect(toMicro("999999999.999999")).toBe(999_999_999_999_999n);
    expect(toMicro("1e3")).toBeNull();
    expect(toMicro("-1")).toBeNull();
    expect(toMicro("1.")).toBeNull();
  });

  it("writes micro-credits back as the shortest exact decimal", () => {
    expect(microToText(12_500_000n)).toBe("12.5");
    expect(microToText(1n)).toBe("0.000001");
    expect(microToText(7_000_000n)).toBe("7");
    expect(microToText(-1_500_000n)).toBe("-1.5");
  });

  it("accepts amounts as accounting does and sends their canonical text", () => {
    expect(parseCredits(" 007.50 ")).toEqual({ credits: "7.5" });
    expect(parseCredits("1,000")).toEqual({ credits: "1000" });
    expect(parseCredits(".25")).toEqual({ credits: "0.25" });
    expect(parseCredits("1000000000")).toEqual({ credits: "1000000000" });
  });

  it("refuses what accounting would refuse, saying why", () => {
    expect(parseCredits("")).toEqual({ error: "Enter an amount of credits." });
    expect(parseCredits("0")).toEqual({ error: "Credits must be greater than 0." });
    expect(parseCredits("0.0000001")).toEqual({ error: "Credits have at most 6 decimal places." });
    expect(parseCredits("1000000000.000001")).toEqual({
      error: "Credits must be at most 1,000,000,000.",
    });
    expect(parseCredits("-5")).toHaveProperty("error");
    expect(parseCredits("abc")).toHaveProperty("error");
    expect(parseCredits("1e3")).toHaveProperty("error");
    expect(parseCredits("NaN")).toHaveProperty("error");
  });
});

describe("checkAllocation", () => {
  it("builds the request with only the fields given", () => {
    expect(checkAllocation(form({ user: " alice ", credits: "12.50" }))).toEqual({
      ok: true,
      request: { targetUserId: "alice", credits: "12.5" },
    });
    expect(checkAllocation(form({ expiryDays: "30", notes: " promo " }))).toEqual({
      ok: true,
      request: { targetUserId: "user1", credits: "10", expiryDays: 30, notes: "promo" },
    });
  });

  it("names each field's problem", () => {
    const checked = checkAllocation({ user: " ", credits: "0", expiryDays: "0", notes: "x".repeat(501) });
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(Object.keys(checked.errors).sort()).toEqual(["credits", "expiryDays", "notes", "user"]);
  });

  it("takes expiry as a whole number of days from 1 to 3650", () => {
    for (const bad of ["1.5", "-1", "3651", "ten"]) {
      expect(checkAllocation(form({ expiryDays: bad })).ok).toBe(false);
    }
    expect(checkAllocation(form({ expiryDays: "3650" })).ok).toBe(true);
  });
});

describe("formatTime", () => {
  it("says never for no expiry and keeps text it cannot read", () => {
    expect(formatTime(null)).toBe("never");
    expect(formatTime("soon")).toBe("soon");
    expect(formatTime("2030-01-01T00:00:00Z")).toBe(new Date("2030-01-01T00:00:00Z").toLocaleString());
  });
});
