import { describe, expect, it } from "vitest";

import { checkPlanTerms, type PlanTermsForm } from "./planForms";

const FORM: PlanTermsForm = {
  name: " starter ",
  monthlyCredits: "12.50",
  requestsPerMinute: "30",
  modelGroups: ["fast"],
  effectiveFrom: "",
};
const NOW = new Date("2026-12-01T12:00:00Z");

describe("checkPlanTerms", () => {
  it("sends exact credits, whole requests per minute, and no time for now", () => {
    expect(checkPlanTerms(FORM, true, NOW)).toEqual({
      ok: true,
      terms: { name: "starter", monthlyCredits: "12.5", requestsPerMinute: 30, modelGroups: ["fast"] },
    });
  });

  it("allows a free plan and a version without a new name", () => {
    const free = checkPlanTerms({ ...FORM, name: "", monthlyCredits: "0" }, false, NOW);
    expect(free).toEqual({
      ok: true,
      terms: { monthlyCredits: "0", requestsPerMinute: 30, modelGroups: ["fast"] },
    });
  });

  it("sends a future start as an RFC 3339 time and refuses a past one", () => {
    const later = checkPlanTerms({ ...FORM, effectiveFrom: "2030-01-01T00:00:00Z" }, true, NOW);
    expect(later.ok && later.terms.effectiveFrom).toBe("2030-01-01T00:00:00.000Z");
    const past = checkPlanTerms({ ...FORM, effectiveFrom: "2020-01-01T00:00:00Z" }, true, NOW);
    expect(past).toEqual({ ok: false, reason: "Effective from: not in the past" });
  });

  it("names the field that is wrong", () => {
    const reasons = [
      checkPlanTerms({ ...FORM, name: "" }, true, NOW),
      checkPlanTerms({ ...FORM, monthlyCredits: "lots" }, true, NOW),
      checkPlanTerms({ ...FORM, requestsPerMinute: "0" }, true, NOW),
    ].map((checked) => (checked.ok ? "ok" : checked.reason.split(":")[0]));
    expect(reasons).toEqual(["Plan name", "Monthly credits", "Requests per minute"]);
  });
});
