/** The admin API's bodies (CONTRACT.md: auth, accounting, provisioning), camelCase as sent.
 * Credits arrive as JSON numbers with at most 6 fractional digits (exact in a double): the
 * console only displays them and never adds them up. */

import type { Pagination, Role } from "../api/types";
import type { DayUsage, ModelUsage, UsageTotals } from "../usage/types";

export type { DayUsage, ModelUsage, UsageTotals };

export const ROLES: readonly Role[] = ["enduser", "supervisor", "admin"];

/** GET /api/auth/users items and PATCH /api/auth/users/{id} answers. */
export interface AdminUser {
  id: string;
  username: string;
  email: string;
  role: Role;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface UserPage {
  users: AdminUser[];
  pagination: Pagination;
}

export interface UserUpdate {
  role?: Role;
  disabled?: boolean;
}

/** POST /api/credits/allocate: `targetUserId` is a user id or a username; `credits` is sent
 * as the decimal text typed in, so no float ever carries it. */
export interface AllocateRequest {
  targetUserId: string;
  credits: string;
  expiryDays?: number;
  notes?: string;
}

export interface AllocateResponse {
  id: string;
  userId: string;
  credits: number;
  expiresAt: string | null;
  message: string;
}

export interface AdminAllocation {
  id: string;
  totalCredits: number;
  remainingCredits: number;
  expiresAt: string | null;
  notes: string | null;
}

/** GET /api/credits/balance/{userId}. */
export interface UserBalance {
  userId: string;
  totalCredits: number;
  reservedCredits: number;
  availableCredits: number;
  activeAllocations: AdminAllocation[];
}

/** GET /api/audit-logs. */
export interface AuditEntry {
  id: number;
  at: string;
  actorId: string;
  actorUsername: string | null;
  action: string;
  targetType: string;
  targetId: string;
  organizationId: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

export interface AuditPage {
  entries: AuditEntry[];
  pagination: Pagination;
}

export interface AuditFilters {
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  /** Local date-time as an <input type="datetime-local"> gives it ("2030-01-01T09:30"). */
  from: string;
  to: string;
}

/** GET /api/usage/system-stats. */
export interface TopUser extends UsageTotals {
  userId: string;
  username: string | null;
}

export interface SystemStats {
  days: number;
  totals: UsageTotals;
  users: number;
  byModel: ModelUsage[];
  byDay: DayUsage[];
  topUsers: TopUser[];
}

/** GET /api/organizations (an admin sees all), its teams and members. */
export type OrgRole = "owner" | "admin" | "member";

export interface Organization {
  id: string;
  slug: string;
  name: string;
  ownerId: string;
  createdAt: string;
  updatedAt: string;
  role: OrgRole | null;
}

export interface Team {
  id: string;
  organizationId: string;
  name: string;
  modelGroups: string[];
  models: string[];
  accountId: string;
  credits: number | null;
  createdBy: string;
  createdAt: string;
}

export interface Member {
  organizationId: string;
  userId: string;
  username: string;
  email: string | null;
  role: OrgRole;
  addedBy: string;
  createdAt: string;
}

/** GET/POST /api/model-groups. */
export interface ModelGroup {
  id: string;
  name: string;
  models: string[];
  description: string | null;
  createdBy: string;
  createdAt: string;
}

export interface ModelGroupCreate {
  name: string;
  models: string[];
  description?: string;
}

/** GET /api/plans (admin: every plan, its version in force and those scheduled) and
 * GET /api/plans/{id}/history. */
export interface PlanVersion {
  version: number;
  monthlyCredits: number;
  requestsPerMinute: number;
  modelGroups: string[];
  effectiveFrom: string;
  createdBy: string;
  createdAt: string;
}

export interface Plan {
  id: string;
  name: string;
  isDefault: boolean;
  current: PlanVersion | null;
  scheduled: PlanVersion[];
  createdAt: string;
}

export interface PlanHistory {
  planId: string;
  name: string;
  versions: PlanVersion[];
}
