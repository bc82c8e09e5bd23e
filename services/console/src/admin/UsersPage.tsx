import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router";

import { describeError } from "../api/errors";
import type { Role } from "../api/types";
import { useAuth } from "../auth/store";
import { ErrorAlert } from "../layout/ErrorAlert";
import { listUsers, resetTwoFactor, updateUser } from "./api";
import { formatTime } from "./credits";
import { Pager } from "./Pager";
import { ROLES, type AdminUser, type UserPage } from "./types";
import { confirmationFor, doneMessage, type UserAction } from "./users";

const PAGE_SIZE = 20;

/** /admin/users: find users, change their role, disable or enable them, reset their 2FA. */
export function UsersPage() {
  const auth = useAuth();
  const selfId = auth.phase === "signedIn" ? auth.user.id : null;
  const [search, setSearch] = useState("");
  const [role, setRole] = useState("");
  const [query, setQuery] = useState({ search: "", role: "", page: 1 });
  const [page, setPage] = useState<UserPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = useCallback(async () => {
    setError(null);
    try {
      setPage(await listUsers(query.search, query.role, query.page, PAGE_SIZE));
    } catch (problem) {
      setError(describeError(problem));
    }
  }, [query]);

  useEffect(() => {
    void load();
  }, [load]);

  function submit(event: React.FormEvent) {
    event.preventDefault();
    setNotice(null);
    setQuery({ search: search.trim(), role, page: 1 });
  }

  async function act(user: AdminUser, action: UserAction) {
    const question = confirmationFor(user, action);
    if (question !== null && !window.confirm(question)) return;
    setNotice(null);
    setError(null);
    try {
      if (action.kind === "reset2fa") await resetTwoFactor(user.id);
      else {
        const change =
          action.kind === "role" ? { role: action.role } : { disabled: action.kind === "disable" };
        const updated = await updateUser(user.id, change);
        setPage((current) =>
          current && {
            ...current,
            users: current.users.map((u) => (u.id === updated.id ? updated : u)),
          },
        );
      }
      setNotice(doneMessage(user, action));
    } catch (problem) {
      setError(`${user.username}: ${describeError(problem)}`);
    }
  }

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Users</h1>
      <form className="admin-filters" role="search" onSubmit={submit}>
        <div className="field">
          <label htmlFor="user-search">Search users</label>
          <input
            id="user-search"
            type="search"
            placeholder="Part of a name or email"
            maxLength={100}
            value={search}
            onChange={(event) => setSearch(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="user-role-filter">Filter by role</label>
          <select id="user-role-filter" value={role} onChange={(event) => setRole(event.target.value)}>
            <option value="">Any role</option>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Search</button>
      </form>

      <p className="admin-live" role="status">
        {notice}
      </p>
      <ErrorAlert error={error} />
      {page === null && !error && <p>Loading…</p>}
      {page?.users.length === 0 && <p className="hint">No user matches.</p>}
      {page && page.users.length > 0 && (
        <>
          <ul className="user-list">
            {page.users.map((user) => (
              <UserCard key={user.id} user={user} self={user.id === selfId} onAct={act} />
            ))}
          </ul>
          <Pager
            pagination={page.pagination}
            onPage={(next) => setQuery((current) => ({ ...current, page: next }))}
          />
        </>
      )}
    </section>
  );
}

function UserCard({
  user,
  self,
  onAct,
}: {
  user: AdminUser;
  self: boolean;
  onAct: (user: AdminUser, action: UserAction) => Promise<void>;
}) {
  const [role, setRole] = useState<Role>(user.role);
  const [busy, setBusy] = useState(false);
  useEffect(() => setRole(user.role), [user.role]);

  async function run(action: UserAction) {
    setBusy(true);
    try {
      await onAct(user, action);
    } finally {
      setBusy(false);
    }
  }

  const roleId = `role-${user.id}`;
  return (
    <li className="user-card" aria-labelledby={`name-${user.id}`}>
      <div className="user-head">
        <h2 id={`name-${user.id}`} className="user-name">
          {user.username}
          {self && <> <span className="tag">you</span></>}
          {user.disabled && <> <span className="tag tag-danger">disabled</span></>}
        </h2>
        <p className="user-meta">
          {user.email} · {user.role} · since {formatTime(user.createdAt)}
        </p>
        <p className="user-meta">
          Id <span className="mono">{user.id}</span>
        </p>
      </div>
      <div className="user-actions">
        <div className="role-change">
          <label htmlFor={roleId}>
            Role<span className="visually-hidden"> of {user.username}</span>
          </label>
          <select
            id={roleId}
            value={role}
            disabled={busy || self}
            onChange={(event) => setRole(event.target.value as Role)}
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          <button
            type="button"
            disabled={busy || self || role === user.role}
            onClick={() => void run({ kind: "role", role })}
          >
            Change role<span className="visually-hidden"> of {user.username}</span>
          </button>
        </div>
        <div className="admin-actions">
          {user.disabled ? (
            <button type="button" disabled={busy} onClick={() => void run({ kind: "enable" })}>
              Enable<span className="visually-hidden"> {user.username}</span>
            </button>
          ) : (
            <button
              type="button"
              className="danger"
              disabled={busy || self}
              onClick={() => void run({ kind: "disable" })}
            >
              Disable<span className="visually-hidden"> {user.username}</span>
            </button>
          )}
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() => void run({ kind: "reset2fa" })}
          >
            Reset 2FA<span className="visually-hidden"> of {user.username}</span>
          </button>
          <Link className="button secondary" to={`/admin/credits?user=${encodeURIComponent(user.username)}`}>
            Allocate credits<span className="visually-hidden"> to {user.username}</span>
          </Link>
        </div>
      </div>
    </li>
  );
}
