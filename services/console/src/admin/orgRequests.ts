/** What the organization forms send (CONTRACT.md provisioning table), checked on the text the
 * admin typed, with a reason per field. */

import { api } from "../api/client";
import { parseCredits } from "../balance/amounts";
import type { OrgRole, Organization, Team } from "./types";

export const SLUG = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export type Checked<T> = { ok: true; body: T } | { ok: false; reason: string };

export interface NewOrganization {
  slug: string;
  name: string;
}

export interface NewTeam {
  organizationId: string;
  name: string;
  modelGroups: string[];
  initialCredits?: string;
}

export interface NewInvitation {
  email: string;
  role: OrgRole;
}

export function checkOrganization(slug: string, name: string): Checked<NewOrganization> {
  const cleanSlug = slug.trim();
  if (!SLUG.test(cleanSlug)) {
    return { ok: false, reason: "Slug: 3-63 lowercase letters, digits and hyphens, no hyphen at the ends" };
  }
  if (!name.trim()) return { ok: false, reason: "Name: required" };
  return { ok: true, body: { slug: cleanSlug, name: name.trim() } };
}

export function checkTeam(
  organizationId: string,
  name: string,
  groups: string[],
  credits: string,
): Checked<NewTeam> {
  if (!name.trim()) return { ok: false, reason: "Team name: required" };
  if (groups.length === 0) return { ok: false, reason: "Model groups: choose at least one" };
  const body: NewTeam = { organizationId, name: name.trim(), modelGroups: groups };
  if (credits.trim()) {
    const parsed = parseCredits(credits);
    if ("error" in parsed) return { ok: false, reason: `Initial credits: ${parsed.error}` };
    body.initialCredits = parsed.credits;
  }
  return { ok: true, body };
}

export function checkInvitation(email: string, role: OrgRole): Checked<NewInvitation> {
  const clean = email.trim();
  if (!EMAIL.test(clean)) return { ok: false, reason: "Email: an address such as ana@example.com" };
  return { ok: true, body: { email: clean, role } };
}

const withKey = (body: unknown, idempotencyKey: string) => ({
  body,
  headers: { "Idempotency-Key": idempotencyKey },
});

export const orgAdmin = {
  createOrganization: (body: NewOrganization, key: string) =>
    api.request<Organization>("POST", "/api/organizations", withKey(body, key)),
  createTeam: (body: NewTeam, key: string) =>
    api.request<Team>("POST", "/api/teams", withKey(body, key)),
  fundTeam: (teamId: string, credits: string, key: string) =>
    api.request<{ teamCredits: number }>(
      "POST",
      `/api/teams/${encodeURIComponent(teamId)}/credits`,
      withKey({ credits }, key),
    ),
  removeMember: (organizationId: string, userId: string) =>
    api.request<void>(
      "DELETE",
      `/api/organizations/${encodeURIComponent(organizationId)}/members/${encodeURIComponent(userId)}`,
    ),
  deleteOrganization: (organizationId: string) =>
    api.request<void>("DELETE", `/api/organizations/${encodeURIComponent(organizationId)}`),
  invite: (organizationId: string, body: NewInvitation, key: string) =>
    api.request<{ id: string; email: string; role: OrgRole; expiresAt: string }>(
      "POST",
      `/api/organizations/${encodeURIComponent(organizationId)}/invitations`,
      withKey(body, key),
    ),
};
