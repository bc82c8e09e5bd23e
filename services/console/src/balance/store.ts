/** The signed-in person's balance, re-read after each answer (and on demand). */

import { useSyncExternalStore } from "react";

import { api } from "../api/client";
import type { Balance } from "../api/types";

let balance: Balance | null = null;
const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useBalance(): Balance | null {
  return useSyncExternalStore(subscribe, () => balance);
}

export async function refreshBalance(): Promise<void> {
  try {
    balance = await api.balance();
  } catch {
    return; // the badge keeps the last figure; the chat shows the failure itself
  }
  for (const listener of listeners) listener();
}

export function clearBalance(): void {
  balance = null;
  for (const listener of listeners) listener();
}

/** Credits as a person reads them: up to 6 decimals, no trailing zeros. */
export function formatCredits(credits: number): string {
  return credits.toLocaleString("en-US", { maximumFractionDigits: 6 });
}
