import { useEffect, useState } from "react";

import { describeError } from "../api/errors";
import { ErrorAlert } from "../layout/ErrorAlert";
import { auditLogs } from "./api";
import { formatTime } from "./credits";
import { Pager } from "./Pager";
import { auditQuery, EMPTY_AUDIT_FILTERS } from "./query";
import type { AuditEntry, AuditFilters, AuditPage as Page } from "./types";

const PAGE_SIZE = 25;

const TEXT_FILTERS: { field: keyof AuditFilters; label: string; hint: string }[] = [
  { field: "actor", label: "Actor", hint: "Username or user id" },
  { field: "action", label: "Action", hint: "e.g. user.disabled, or user.* for a prefix" },
  { field: "targetType", label: "Target type", hint: "e.g. user, team, plan" },
  { field: "targetId", label: "Target id", hint: "The target's id" },
];

/** /admin/audit: the platform's administrative actions, newest first, filtered and paged. */
export function AuditPage() {
  const [draft, setDraft] = useState<AuditFilters>(EMPTY_AUDIT_FILTERS);
  const [applied, setApplied] = useState({ filters: EMPTY_AUDIT_FILTERS, page: 1 });
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    auditLogs(applied.filters, applied.page, PAGE_SIZE)
      .then((found) => live && setPage(found))
      .catch((problem: unknown) => live && setError(describeError(problem)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [applied]);

  function submit(event: React.FormEvent) {
    event.preventDefault();
    const checked = auditQuery(draft, 1, PAGE_SIZE);
    if ("error" in checked) {
      setError(checked.error);
      return;
    }
    setApplied({ filters: draft, page: 1 });
  }

  function clear() {
    setDraft(EMPTY_AUDIT_FILTERS);
    setApplied({ filters: EMPTY_AUDIT_FILTERS, page: 1 });
  }

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Audit log</h1>
      <form className="admin-filters" role="search" aria-label="Filter the audit log" onSubmit={submit}>
        {TEXT_FILTERS.map(({ field, label, hint }) => (
          <div className="field" key={field}>
            <label htmlFor={`audit-${field}`}>{label}</label>
            <input
              id={`audit-${field}`}
              placeholder={hint}
              maxLength={200}
              value={draft[field]}
              onChange={(event) => setDraft({ ...draft, [field]: event.target.value })}
            />
          </div>
        ))}
        <div className="field">
          <label htmlFor="audit-from">From (your local time)</label>
          <input
            id="audit-from"
            type="datetime-local"
            value={draft.from}
            onChange={(event) => setDraft({ ...draft, from: event.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="audit-to">To (your local time)</label>
          <input
            id="audit-to"
            type="datetime-local"
            value={draft.to}
            onChange={(event) => setDraft({ ...draft, to: event.target.value })}
          />
        </div>
        <div className="admin-actions">
          <button type="submit">Apply filters</button>
          <button type="button" className="secondary" onClick={clear}>
            Clear
          </button>
        </div>
      </form>

      <ErrorAlert error={error} />
      {loading && <p aria-live="polite">Loading…</p>}
      {!loading && page?.entries.length === 0 && <p className="hint">No entries match.</p>}
      {page && page.entries.length > 0 && (
        <>
          <ol className="audit-list" aria-label="Audit entries" aria-busy={loading}>
            {page.entries.map((entry) => (
              <AuditItem key={entry.id} entry={entry} />
            ))}
          </ol>
          <Pager
            pagination={page.pagination}
            onPage={(next) => setApplied((current) => ({ ...current, page: next }))}
          />
        </>
      )}
    </section>
  );
}

function AuditItem({ entry }: { entry: AuditEntry }) {
  const hasChange = entry.before !== null || entry.after !== null;
  return (
    <li className="audit-entry">
      <p className="audit-head">
        <strong className="mono">{entry.action}</strong>{" "}
        <time dateTime={entry.at}>{formatTime(entry.at)}</time>
      </p>
      <p className="audit-meta">
        by <span className="mono">{entry.actorUsername ?? entry.actorId}</span> on{" "}
        <span className="mono">
          {entry.targetType} {entry.targetId}
        </span>
        {entry.organizationId && (
          <>
            {" "}
            in organization <span className="mono">{entry.organizationId}</span>
          </>
        )}
      </p>
      {hasChange && (
        <details>
          <summary>Before and after</summary>
          <div className="audit-diff">
            <div>
              <h3>Before</h3>
              <pre>{pretty(entry.before)}</pre>
            </div>
            <div>
              <h3>After</h3>
              <pre>{pretty(entry.after)}</pre>
            </div>
          </div>
          {entry.requestId && <p className="hint">Request {entry.requestId}</p>}
        </details>
      )}
    </li>
  );
}

function pretty(value: unknown): string {
  return value === null || value === undefined ? "—" : JSON.stringify(value, null, 2);
}
