/** What the account forms send: typed from what a person typed, refused with a reason. */

import { parseCredits } from "../balance/amounts";
import type { NewPersonalKey, NewProviderKey, Provider } from "./api";

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

function parseWhole(text: string, what: string, max: number): Parsed<number> {
  const value = text.trim();
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    return { ok: false, reason: `${what}: a whole number from 1 to ${max.toLocaleString("en")}` };
  }
  return { ok: true, value: Number(value) };
}

export interface PersonalKeyForm {
  name: string;
  expiresInDays: string;
  maxBudgetCredits: string;
  requestsPerMinute: string;
}

export function personalKeyRequest(form: PersonalKeyForm): Parsed<NewPersonalKey> {
  const name = form.name.trim();
  if (!name) return { ok: false, reason: "Name: say what the key is for" };
  const request: NewPersonalKey = { name };
  if (form.expiresInDays.trim()) {
    const days = parseWhole(form.expiresInDays, "Expires in days", 3650);
    if (!days.ok) return days;
    request.expiresInDays = days.value;
  }
  if (form.maxBudgetCredits.trim()) {
    const budget = parseCredits(form.maxBudgetCredits);
    if ("error" in budget) return { ok: false, reason: `Budget: ${budget.error}` };
    request.maxBudgetCredits = budget.credits;
  }
  if (form.requestsPerMinute.trim()) {
    const rpm = parseWhole(form.requestsPerMinute, "Requests per minute", 100_000);
    if (!rpm.ok) return rpm;
    request.requestsPerMinute = rpm.value;
  }
  return { ok: true, value: request };
}

export function providerKeyRequest(
  provider: Provider,
  label: string,
  fields: Record<string, string>,
  baseUrl: string,
): Parsed<NewProviderKey> {
  if (!label.trim()) return { ok: false, reason: "Label: say which key this is" };
  const credentials: Record<string, string> = {};
  for (const field of provider.fields) {
    const value = (fields[field.name] ?? "").trim();
    if (value) credentials[field.name] = value;
    else if (field.required) return { ok: false, reason: `${field.label}: required` };
  }
  const request: NewProviderKey = { provider: provider.id, label: label.trim(), credentials };
  if (provider.baseUrl === "required") {
    if (!/^https?:\/\/\S+$/.test(baseUrl.trim())) {
      return { ok: false, reason: "Server address: a URL starting with https://" };
    }
    request.baseUrl = baseUrl.trim();
  }
  return { ok: true, value: request };
}

/** A date the API sent, as a person reads it; "never" for none. */
export function when(iso: string | null): string {
  if (iso === null) return "never";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString("en-GB", { timeZone: "UTC" }) + " UTC";
}
