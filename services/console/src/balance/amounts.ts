/** Credit amounts as exact decimal text and integer micro-credits: never a float. Accounting's
 * rule: more than 0, at most 6 decimal places, at most 1,000,000,000. */

export const MAX_CREDITS = 1_000_000_000n;
const MICRO = 1_000_000n;

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
