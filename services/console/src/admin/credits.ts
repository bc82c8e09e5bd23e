/** The credits form's rules, as accounting applies them (credits > 0, at most 6 decimal
 * places, at most 1,000,000,000; expiry 1-3650 days; notes up to 500 characters), checked
 * on the text typed in: the amount is never turned into a float. */

import { parseCredits } from "../balance/amounts";
import type { AllocateRequest } from "./types";

export const MAX_EXPIRY_DAYS = 3650;
export const MAX_NOTES = 500;

export interface AllocationForm {
  user: string;
  credits: string;
  expiryDays: string;
  notes: string;
}

export type FieldErrors = Partial<Record<keyof AllocationForm, string>>;

export type Checked =
  | { ok: true; request: AllocateRequest }
  | { ok: false; errors: FieldErrors };

/** The allocation request of a filled-in form, or each field's problem. */
export function checkAllocation(form: AllocationForm): Checked {
  const errors: FieldErrors = {};
  const user = form.user.trim();
  if (user === "") errors.user = "Enter a username or user id.";
  else if (user.length > 254) errors.user = "A username or id has at most 254 characters.";

  const amount = parseCredits(form.credits);
  if ("error" in amount) errors.credits = amount.error;

  let expiryDays: number | undefined;
  const days = form.expiryDays.trim();
  if (days !== "") {
    if (!/^\d+$/.test(days) || Number(days) < 1 || Number(days) > MAX_EXPIRY_DAYS) {
      errors.expiryDays = `Enter a whole number of days from 1 to ${MAX_EXPIRY_DAYS}, or leave it empty.`;
    } else {
      expiryDays = Number(days);
    }
  }

  const notes = form.notes.trim();
  if (notes.length > MAX_NOTES) errors.notes = `Notes have at most ${MAX_NOTES} characters.`;

  if (Object.keys(errors).length > 0 || "error" in amount) return { ok: false, errors };
  const request: AllocateRequest = { targetUserId: user, credits: amount.credits };
  if (expiryDays !== undefined) request.expiryDays = expiryDays;
  if (notes !== "") request.notes = notes;
  return { ok: true, request };
}

/** A timestamp for people, or the fallback for none. */
export function formatTime(iso: string | null, none = "never"): string {
  if (iso === null) return none;
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? iso : at.toLocaleString();
}
