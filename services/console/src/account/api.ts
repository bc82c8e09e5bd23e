/** The account pages' part of the public API (CONTRACT.md auth and provisioning tables). */

import { api } from "../api/client";

export interface TwoFactorSetup {
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

export interface PersonalKey {
  id: string;
  name: string;
  prefix: string;
  models: string[] | null;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  /** Credits as the API sends them: shown, never computed with. */
  maxBudgetCredits: number | string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface MintedKey extends PersonalKey {
  key: string;
}

export interface NewPersonalKey {
  name: string;
  expiresInDays?: number;
  maxBudgetCredits?: string;
  requestsPerMinute?: number;
}

export interface ProviderField {
  name: string;
  label: string;
  secret: boolean;
  required: boolean;
}

export interface Provider {
  id: string;
  name: string;
  fields: ProviderField[];
  /** Whether a stored key takes a server address (an OpenAI-compatible server's). */
  baseUrl: "required" | "not_allowed";
}

export interface ProviderKey {
  id: string;
  provider: string;
  label: string;
  last4: string;
  teamId: string | null;
  baseUrl: string | null;
  createdAt: string;
}

export interface NewProviderKey {
  provider: string;
  label: string;
  credentials: Record<string, string>;
  baseUrl?: string;
}

export interface Validation {
  valid: boolean;
  message: string;
}

export const twoFactor = {
  setup: () => api.request<TwoFactorSetup>("POST", "/api/auth/2fa/setup"),
  verify: (code: string) =>
    api.request<{ enabled: boolean; backupCodes: string[] }>("POST", "/api/auth/2fa/verify", {
      body: { code },
    }),
  disable: (code: string) => api.request<void>("DELETE", "/api/auth/2fa", { body: { code } }),
};

export const personalKeys = {
  list: async () => (await api.request<{ keys: PersonalKey[] }>("GET", "/api/auth/api-keys")).keys,
  create: (body: NewPersonalKey) => api.request<MintedKey>("POST", "/api/auth/api-keys", { body }),
  revoke: (id: string) =>
    api.request<PersonalKey>("DELETE", `/api/auth/api-keys/${encodeURIComponent(id)}`),
};

export const providerKeys = {
  providers: () => api.request<Provider[]>("GET", "/api/byok/providers"),
  list: async () => (await api.request<{ keys: ProviderKey[] }>("GET", "/api/byok/keys")).keys,
  create: (body: NewProviderKey) => api.request<ProviderKey>("POST", "/api/byok/keys", { body }),
  remove: (id: string) =>
    api.request<ProviderKey>("DELETE", `/api/byok/keys/${encodeURIComponent(id)}`),
  validate: (id: string) =>
    api.request<Validation>("POST", `/api/byok/keys/${encodeURIComponent(id)}/validate`),
};
