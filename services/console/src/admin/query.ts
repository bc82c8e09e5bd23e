/** Query strings of the admin routes: empty filters are left out, times go out in UTC with
 * their zone (RFC 3339), as the API asks. */

import type { AuditFilters } from "./types";

export type QueryValue = string | number | null | undefined;

/** "?a=1&b=x%20y" of the non-empty values, in the given order; "" when none is left. */
export function queryString(params: Record<string, QueryValue>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === null || value === undefined) continue;
    const text = typeof value === "number" ? String(value) : value.trim();
    if (text !== "") search.append(name, text);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** An <input type="datetime-local"> value (local time, no zone) as an RFC 3339 UTC time;
 * null when empty or not a time. */
export function localToRfc3339(local: string): string | null {
  if (local.trim() === "") return null;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(local.trim())) return null;
  const at = new Date(local.trim()); // no zone: the browser's local time
  return Number.isNaN(at.getTime()) ? null : at.toISOString();
}

export const EMPTY_AUDIT_FILTERS: AuditFilters = {
  actor: "",
  action: "",
  targetType: "",
  targetId: "",
  from: "",
  to: "",
};

/** The audit log's query for a page of filters, or the problem with the time range. */
export function auditQuery(
  filters: AuditFilters,
  page: number,
  limit: number,
): { query: string } | { error: string } {
  const from = localToRfc3339(filters.from);
  const to = localToRfc3339(filters.to);
  if (filters.from.trim() !== "" && from === null) return { error: "“From” is not a time." };
  if (filters.to.trim() !== "" && to === null) return { error: "“To” is not a time." };
  if (from !== null && to !== null && from >= to) {
    return { error: "“From” must be before “To”." };
  }
  return {
    query: queryString({
      actor: filters.actor,
      action: filters.action,
      targetType: filters.targetType,
      targetId: filters.targetId,
      from,
      to,
      page,
      limit,
    }),
  };
}

/** GET /api/auth/users's query. */
export function usersQuery(search: string, role: string, page: number, limit: number): string {
  return queryString({ q: search, role, page, limit });
}

/** GET /api/usage/export's query for a CSV of one user's usage (empty: the caller's) over the
 * days [from, to] (dates "2030-01-31", whole UTC days; a date `to` includes its day), grouped
 * by day and model. */
export function exportQuery(
  user: string,
  from: string,
  to: string,
): { query: string } | { error: string } {
  const date = /^\d{4}-\d{2}-\d{2}$/;
  if (from !== "" && !date.test(from)) return { error: "“From” is not a date." };
  if (to !== "" && !date.test(to)) return { error: "“To” is not a date." };
  if (from !== "" && to !== "" && from > to) return { error: "“From” must not be after “To”." };
  return {
    query: queryString({
      userId: user,
      from: from === "" ? null : from,
      to: to === "" ? null : to,
      groupBy: "day,model",
      format: "csv",
    }),
  };
}
