import { describe, expect, it } from "vitest";

import type { Provider } from "./api";
import { personalKeyRequest, providerKeyRequest, when } from "./forms";

const COMPATIBLE: Provider = {
  id: "openai-compatible",
  name: "OpenAI-compatible server",
  fields: [{ name: "apiKey", label: "API key", secret: true, required: true }],
  baseUrl: "required",
};
const BEDROCK: Provider = {
  id: "bedrock",
  name: "AWS Bedrock",
  fields: [
    { name: "accessKeyId", label: "Access key id", secret: true, required: true },
    { name: "secretAccessKey", label: "Secret access key", secret: true, required: true },
    { name: "sessionToken", label: "Session token", secret: true, required: false },
  ],
  baseUrl: "not_allowed",
};

describe("personalKeyRequest", () => {
  const empty = { name: "", expiresInDays: "", maxBudgetCredits: "", requestsPerMinute: "" };

  it("sends only what was filled in", () => {
    expect(personalKeyRequest({ ...empty, name: " ci " })).toEqual({ ok: true, value: { name: "ci" } });
    expect(
      personalKeyRequest({ name: "ci", expiresInDays: "30", maxBudgetCredits: "5.5", requestsPerMinute: "60" }),
    ).toEqual({
      ok: true,
      value: { name: "ci", expiresInDays: 30, maxBudgetCredits: "5.5", requestsPerMinute: 60 },
    });
  });

  it("names the field that is wrong", () => {
    expect(personalKeyRequest(empty)).toEqual({ ok: false, reason: "Name: say what the key is for" });
    const days = personalKeyRequest({ ...empty, name: "ci", expiresInDays: "0" });
    expect(days.ok || days.reason).toMatch(/^Expires in days/);
    const rpm = personalKeyRequest({ ...empty, name: "ci", requestsPerMinute: "1.5" });
    expect(rpm.ok || rpm.reason).toMatch(/^Requests per minute/);
    const budget = personalKeyRequest({ ...empty, name: "ci", maxBudgetCredits: "lots" });
    expect(budget.ok || budget.reason).toMatch(/^Budget/);
  });
});

describe("providerKeyRequest", () => {
  it("sends the provider's fields, leaving out empty optional ones", () => {
    const answer = providerKeyRequest(
      BEDROCK,
      "prod",
      { accessKeyId: "AKIASIM1", secretAccessKey: "s3cret", sessionToken: " " },
      "ignored",
    );
    expect(answer).toEqual({
      ok: true,
      value: {
        provider: "bedrock",
        label: "prod",
        credentials: { accessKeyId: "AKIASIM1", secretAccessKey: "s3cret" },
      },
    });
  });

  it("refuses a missing required field and a missing server address", () => {
    expect(providerKeyRequest(BEDROCK, "prod", { accessKeyId: "AKIASIM1" }, "")).toEqual({
      ok: false,
      reason: "Secret access key: required",
    });
    expect(providerKeyRequest(COMPATIBLE, "mine", { apiKey: "sk-sim-1" }, "ftp://x").ok).toBe(false);
    expect(providerKeyRequest(COMPATIBLE, "mine", { apiKey: "sk-sim-1" }, "https://llm.example")).toEqual({
      ok: true,
      value: {
        provider: "openai-compatible",
        label: "mine",
        credentials: { apiKey: "sk-sim-1" },
        baseUrl: "https://llm.example",
      },
    });
  });
});

describe("when", () => {
  it("reads a timestamp in UTC and says never for none", () => {
    expect(when(null)).toBe("never");
    expect(when("2026-12-01T20:30:00Z")).toBe("01/12/2026, 20:30:00 UTC");
  });
});
