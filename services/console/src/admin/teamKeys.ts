/** A team's API keys (CONTRACT.md provisioning table): `sk-...` secrets shown only when minted. */

import { api } from "../api/client";

export interface TeamKey {
  id: string;
  teamId: string;
  name: string;
  prefix: string;
  models: string[] | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  replacedBy: string | null;
}

export interface MintedTeamKey {
  id: string;
  key: string;
  prefix: string;
  expiresAt: string | null;
}

const keysOf = (teamId: string) => `/api/teams/${encodeURIComponent(teamId)}/keys`;

export const teamKeys = {
  list: async (teamId: string) =>
    (await api.request<{ keys: TeamKey[] }>("GET", keysOf(teamId))).keys,
  create: (teamId: string, body: { name: string; expiresInDays?: number }, idempotencyKey: string) =>
    api.request<MintedTeamKey>("POST", keysOf(teamId), {
      body,
      headers: { "Idempotency-Key": idempotencyKey },
    }),
  revoke: (teamId: string, keyId: string) =>
    api.request<TeamKey>("DELETE", `${keysOf(teamId)}/${encodeURIComponent(keyId)}`),
  rotate: (teamId: string, keyId: string, gracePeriodSeconds: number) =>
    api.request<MintedTeamKey>("POST", `${keysOf(teamId)}/${encodeURIComponent(keyId)}/rotate`, {
      body: { gracePeriodSeconds },
    }),
};

/** A key's state as a person reads it, at ``now``. */
export function keyState(key: TeamKey, now: Date): "active" | "revoked" | "expired" | "expiring" {
  if (key.revokedAt !== null && new Date(key.revokedAt) <= now) return "revoked";
  if (key.expiresAt !== null && new Date(key.expiresAt) <= now) return "expired";
  if (key.revokedAt !== null || key.replacedBy !== null) return "expiring";
  return "active";
}

/** "30" → 30; "" → undefined (no expiry); anything else → null (refused). */
export function parseExpiryDays(text: string): number | undefined | null {
  const value = text.trim();
  if (value === "") return undefined;
  if (!/^\d+$/.test(value)) return null;
  const days = Number(value);
  return days >= 1 && days <= 3650 ? days : null;
}
