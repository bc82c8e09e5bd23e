/** What an action on a user does, in words: the question asked before a destructive one. */

import type { Role } from "../api/types";
import type { AdminUser } from "./types";

export type UserAction =
  | { kind: "role"; role: Role }
  | { kind: "disable" }
  | { kind: "enable" }
  | { kind: "reset2fa" };

const RANK: Record<Role, number> = { enduser: 0, supervisor: 1, admin: 2 };

/** The confirmation question for an action, or null when it needs none (enabling, or giving
 * more rights is not destructive, and is undone as easily). */
export function confirmationFor(user: AdminUser, action: UserAction): string | null {
  switch (action.kind) {
    case "disable":
      return `Disable ${user.username}? They are signed out at once and cannot sign in until enabled again.`;
    case "reset2fa":
      return `Reset two-factor authentication of ${user.username}? Their authenticator and backup codes stop working; they sign in with the password alone until they set it up again.`;
    case "role":
      if (RANK[action.role] < RANK[user.role]) {
        return `Change the role of ${user.username} from ${user.role} to ${action.role}? They lose the access of a ${user.role} at once.`;
      }
      return null;
    case "enable":
      return null;
  }
}

/** The line shown after an action succeeded. */
export function doneMessage(user: AdminUser, action: UserAction): string {
  switch (action.kind) {
    case "disable":
      return `${user.username} is disabled.`;
    case "enable":
      return `${user.username} is enabled.`;
    case "reset2fa":
      return `Two-factor authentication of ${user.username} is reset.`;
    case "role":
      return `${user.username} is now ${action.role}.`;
  }
}
