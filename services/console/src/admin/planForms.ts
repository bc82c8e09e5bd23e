/** A plan's terms as the admin typed them, checked as provisioning does, and the calls that
 * create a plan or add a version (CONTRACT.md: plans are append-only versions). */

import { api } from "../api/client";
import { parseCredits } from "../balance/amounts";
import type { Plan } from "./types";

export interface PlanTermsForm {
  name: string;
  monthlyCredits: string;
  requestsPerMinute: string;
  modelGroups: string[];
  /** A datetime-local value (the admin's local time), empty for now. */
  effectiveFrom: string;
}

export interface PlanTerms {
  name?: string;
  monthlyCredits: string;
  requestsPerMinute: number;
  modelGroups: string[];
  effectiveFrom?: string;
}

export function checkPlanTerms(
  form: PlanTermsForm,
  nameRequired: boolean,
  now: Date = new Date(),
): { ok: true; terms: PlanTerms } | { ok: false; reason: string } {
  const name = form.name.trim();
  if (nameRequired && !name) return { ok: false, reason: "Plan name: required" };
  const credits = form.monthlyCredits.trim() === "0" ? { credits: "0" } : parseCredits(form.monthlyCredits);
  if ("error" in credits) return { ok: false, reason: `Monthly credits: ${credits.error}` };
  const rpm = form.requestsPerMinute.trim();
  if (!/^\d+$/.test(rpm) || Number(rpm) < 1 || Number(rpm) > 100_000) {
    return { ok: false, reason: "Requests per minute: a whole number from 1 to 100,000" };
  }
  const terms: PlanTerms = {
    monthlyCredits: credits.credits,
    requestsPerMinute: Number(rpm),
    modelGroups: form.modelGroups,
  };
  if (name) terms.name = name;
  if (form.effectiveFrom) {
    const from = new Date(form.effectiveFrom);
    if (Number.isNaN(from.getTime())) return { ok: false, reason: "Effective from: not a date" };
    if (from < now) return { ok: false, reason: "Effective from: not in the past" };
    terms.effectiveFrom = from.toISOString();
  }
  return { ok: true, terms };
}

export const planAdmin = {
  create: (terms: PlanTerms, key: string) =>
    api.request<Plan>("POST", "/api/plans", { body: terms, headers: { "Idempotency-Key": key } }),
  assign: (planId: string, user: string) =>
    api.request<{ username: string; planName: string }>(
      "PUT",
      `/api/plans/${encodeURIComponent(planId)}/users/${encodeURIComponent(user)}`,
    ),
  addVersion: (planId: string, terms: PlanTerms, key: string) =>
    api.request<Plan>("POST", `/api/plans/${encodeURIComponent(planId)}/versions`, {
      body: terms,
      headers: { "Idempotency-Key": key },
    }),
};
