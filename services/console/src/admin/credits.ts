/** The credits form's rules, as accounting applies them (credits > 0, at most 6 decimal
 * places, at most 1,000,000,000; expiry 1-3650 days; notes up to 500 characters), checked
 * on the text typed in: the amount is never turned into a float. */

import type { AllocateRequest } from "./types";

export const MAX_CREDITS = 1_000_000_000n;
export const MAX_EXPIRY_DAYS = 3650;
export const MAX_NOTES = 500;
const MICRO = 1_000_000n;

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

/** Decimal credits text as integer micro-credits, or null when it is not a plain decimal
 * with at most 6 fractional digits ("12.5" → 12_500_000n). */
export function toMicro(text: string): bigint | null {
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(text);
  if (!match) return null;
  const whole = BigInt(match[1] ?? "0");
  const fraction = BigInt((match[2] ?? "").padEnd(6, "0"));
  return whole * MICRO + fraction;
}

/** The amount's canonical text ("007.50" → "7.5"), or why it is refused. */
export function parseCredits(input: string): { credits: string } | { error: string } {
  const text = input.trim().replaceAll(",", "").replaceAll("_", "");
  if (text === "") return { error: "Enter an amount of credits." };
  if (/^\d*\.\d{7,}$/.test(text)) return { error: "Credits have at most 6 decimal places." };
  const micro = toMicro(text.startsWith(".") ? `0${text}` : text);
  if (micro === null) return { error: "Enter a number such as 100 or 12.5." };
  if (micro <= 0n) return { error: "Credits must be greater than 0." };
  if (micro > MAX_CREDITS * MICRO) return { error: "Credits must be at most 1,000,000,000." };
  return { credits: microToText(micro) };
}

/** Integer micro-credits as the exact decimal text of credits (12_500_000n → "12.5"). */
export function microToText(micro: bigint): string {
  const negative = micro < 0n;
  const magnitude = negative ? -micro : micro;
  const whole = magnitude / MICRO;
  const fraction = (magnitude % MICRO).toString().padStart(6, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""}`;
}

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
