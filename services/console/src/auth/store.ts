/** The one auth store: who is signed in. The access token itself stays inside the API client. */

import { useSyncExternalStore } from "react";

import { api } from "../api/client";
import type { User } from "../api/types";

export type AuthState =
  | { phase: "starting"; user: null }
  | { phase: "signedOut"; user: null }
  | { phase: "signedIn"; user: User };

let state: AuthState = { phase: "starting", user: null };
const listeners = new Set<() => void>();

function set(next: AuthState): void {
  state = next;
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useAuth(): AuthState {
  return useSyncExternalStore(subscribe, () => state);
}

api.onSignedOut = () => set({ phase: "signedOut", user: null });

/** On load: a refresh cookie from an earlier visit signs the person back in. */
export async function resumeSession(): Promise<void> {
  if (await api.refresh()) {
    try {
      set({ phase: "signedIn", user: await api.me() });
      return;
    } catch {
      // fall through: signed out
    }
  }
  set({ phase: "signedOut", user: null });
}

/** Signs in, or answers the mfaToken the second step needs. */
export async function signIn(username: string, password: string): Promise<string | null> {
  const answer = await api.login(username, password);
  if ("mfaRequired" in answer) return answer.mfaToken;
  set({ phase: "signedIn", user: answer.user });
  return null;
}

export async function signInWithCode(mfaToken: string, code: string): Promise<void> {
  const answer = await api.loginWithCode(mfaToken, code);
  set({ phase: "signedIn", user: answer.user });
}

/** Registers, then signs in with the password (which is what sets the refresh cookie). */
export async function register(username: string, email: string, password: string): Promise<void> {
  await api.register(username, email, password);
  await signIn(username, password);
}

export async function signOut(): Promise<void> {
  try {
    await api.logout();
  } finally {
    set({ phase: "signedOut", user: null });
  }
}
