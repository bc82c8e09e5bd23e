/** The admin routes of the contract, on the console's one client (its token, its refresh). */

import { api } from "../api/client";
import { auditQuery, exportQuery, queryString, usersQuery } from "./query";
import type {
  AdminUser,
  AllocateRequest,
  AllocateResponse,
  AuditFilters,
  AuditPage,
  Member,
  ModelGroup,
  ModelGroupCreate,
  Organization,
  Plan,
  PlanHistory,
  SystemStats,
  Team,
  UserBalance,
  UserPage,
  UserUpdate,
} from "./types";

const path = encodeURIComponent;

/** A fresh Idempotency-Key (crypto.randomUUID needs a secure context; the fallback is only
 * for plain-http development hosts). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** POST /api/credits/allocate. The same key and body replay the first answer (no second
 * allocation), so a retry after a lost answer is safe. */
export function allocateCredits(
  request: AllocateRequest,
  idempotencyKey: string,
): Promise<AllocateResponse> {
  return api.request("POST", "/api/credits/allocate", {
    body: request,
    headers: { "Idempotency-Key": idempotencyKey },
  });
}

/** GET /api/credits/balance/{user}: by id or username. */
export function balanceOf(user: string): Promise<UserBalance> {
  return api.request("GET", `/api/credits/balance/${path(user)}`);
}

export function listUsers(search: string, role: string, page: number, limit = 20): Promise<UserPage> {
  return api.request("GET", `/api/auth/users${usersQuery(search, role, page, limit)}`);
}

export function updateUser(id: string, change: UserUpdate): Promise<AdminUser> {
  return api.request("PATCH", `/api/auth/users/${path(id)}`, { body: change });
}

export async function resetTwoFactor(id: string): Promise<void> {
  await api.request<void>("POST", `/api/auth/users/${path(id)}/2fa/reset`);
}

export function auditLogs(filters: AuditFilters, page: number, limit = 25): Promise<AuditPage> {
  const built = auditQuery(filters, page, limit);
  if ("error" in built) return Promise.reject(new Error(built.error));
  return api.request("GET", `/api/audit-logs${built.query}`);
}

export function systemStats(days: number): Promise<SystemStats> {
  return api.request("GET", `/api/usage/system-stats${queryString({ days })}`);
}

/** GET /api/usage/export as a CSV file: fetched with the access token (a plain link would
 * carry none), then handed to the browser as a download. */
export async function downloadUsageCsv(user: string, from: string, to: string): Promise<void> {
  const built = exportQuery(user, from, to);
  if ("error" in built) throw new Error(built.error);
  const response = await api.raw("GET", `/api/usage/export${built.query}`, {
    headers: { Accept: "text/csv" },
  });
  const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "");
  const url = URL.createObjectURL(await response.blob());
  try {
    const link = document.createElement("a");
    link.href = url;
    link.download = name?.[1] ?? "usage.csv";
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // The click has started the download; the URL is no longer needed after this task.
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}

export async function organizations(): Promise<Organization[]> {
  return (await api.request<{ organizations: Organization[] }>("GET", "/api/organizations"))
    .organizations;
}

export async function teamsOf(organizationId: string): Promise<Team[]> {
  const query = queryString({ organizationId });
  return (await api.request<{ teams: Team[] }>("GET", `/api/teams${query}`)).teams;
}

export async function membersOf(organizationId: string): Promise<Member[]> {
  const url = `/api/organizations/${path(organizationId)}/members`;
  return (await api.request<{ members: Member[] }>("GET", url)).members;
}

export async function modelGroups(): Promise<ModelGroup[]> {
  return (await api.request<{ modelGroups: ModelGroup[] }>("GET", "/api/model-groups")).modelGroups;
}

export function createModelGroup(group: ModelGroupCreate, idempotencyKey: string): Promise<ModelGroup> {
  return api.request("POST", "/api/model-groups", {
    body: group,
    headers: { "Idempotency-Key": idempotencyKey },
  });
}

export async function plans(): Promise<Plan[]> {
  return (await api.request<{ plans: Plan[] }>("GET", "/api/plans")).plans;
}

export function planHistory(planId: string): Promise<PlanHistory> {
  return api.request("GET", `/api/plans/${path(planId)}/history`);
}
