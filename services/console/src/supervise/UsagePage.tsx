/** A user's usage for supervisors (GET /api/usage/stats/{user}): totals, by model, by day.
 * The user and period are in the URL (``?user=&days=``), so the wall can link here. */

import { useEffect, useState } from "react";
import { useSearchParams } from "react-router";

import { describeError } from "../api/errors";
import { formatCredits } from "../balance/store";
import { supervise } from "./api";
import type { UsageStats, UsageTotals } from "./types";

export const PERIODS = [7, 30, 90, 365] as const;
const DEFAULT_DAYS = 30;

/** The period the URL asks for, if it is one the page offers. */
export function periodOf(value: string | null): number {
  const days = Number(value);
  return (PERIODS as readonly number[]).includes(days) ? days : DEFAULT_DAYS;
}

function Figures({ totals }: { totals: UsageTotals }) {
  return (
    <dl className="usage-totals">
      <div>
        <dt>Requests</dt>
        <dd>{totals.requests.toLocaleString("en-US")}</dd>
      </div>
      <div>
        <dt>Tokens</dt>
        <dd>
          {totals.tokens.toLocaleString("en-US")}{" "}
          <span className="hint">
            ({totals.inputTokens.toLocaleString("en-US")} in, {totals.outputTokens.toLocaleString("en-US")} out)
          </span>
        </dd>
      </div>
      <div>
        <dt>Credits</dt>
        <dd>{formatCredits(totals.credits)}</dd>
      </div>
    </dl>
  );
}

function UsageTable<T extends UsageTotals>({
  caption,
  first,
  rows,
  label,
}: {
  caption: string;
  first: string;
  rows: T[];
  label: (row: T) => string;
}) {
  if (rows.length === 0) return null;
  return (
    <div className="table-scroll">
      <table className="usage-table">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{first}</th>
            <th scope="col">Requests</th>
            <th scope="col">Tokens</th>
            <th scope="col">Credits</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={label(row)}>
              <th scope="row">{label(row)}</th>
              <td>{row.requests.toLocaleString("en-US")}</td>
              <td>{row.tokens.toLocaleString("en-US")}</td>
              <td>{formatCredits(row.credits)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function UsagePage() {
  const [params, setParams] = useSearchParams();
  const user = params.get("user")?.trim() ?? "";
  const days = periodOf(params.get("days"));
  const [draft, setDraft] = useState(user);
  const [draftDays, setDraftDays] = useState(days);
  const [result, setResult] = useState<{ key: string; stats: UsageStats | null; error: string | null } | null>(null);
  const key = `${user}:${days}`;

  useEffect(() => {
    setDraft(user);
    setDraftDays(days);
    if (!user) return;
    const abort = new AbortController();
    supervise
      .userStats(user, days, abort.signal)
      .then((stats) => setResult({ key: `${user}:${days}`, stats, error: null }))
      .catch((failure: unknown) => {
        if (abort.signal.aborted) return;
        setResult({ key: `${user}:${days}`, stats: null, error: describeError(failure) });
      });
    return () => abort.abort();
  }, [user, days]);

  function show(event: React.FormEvent) {
    event.preventDefault();
    const name = draft.trim();
    if (name) setParams({ user: name, days: String(draftDays) });
  }

  const current = result?.key === key ? result : null;
  const stats = current?.stats ?? null;

  return (
    <div className="usage-page">
      <h1 id="page-title">Usage by user</h1>
      <form className="usage-form" onSubmit={show}>
        <div>
          <label htmlFor="usage-user">User (username or id)</label>
          <input
            id="usage-user"
            required
            autoComplete="off"
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
          />
        </div>
        <div>
          <label htmlFor="usage-days">Period</label>
          <select id="usage-days" value={draftDays} onChange={(event) => setDraftDays(Number(event.target.value))}>
            {PERIODS.map((period) => (
              <option key={period} value={period}>
                Last {period} days
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Show usage</button>
      </form>
      {user && current === null && <p aria-busy="true">Loading…</p>}
      {current?.error && (
        <p role="alert" className="error">
          {current.error}
        </p>
      )}
      {stats && (
        <section aria-labelledby="usage-title" data-testid="usage-stats">
          <h2 id="usage-title">
            {user}, last {stats.days} days
          </h2>
          {stats.totals.requests === 0 ? (
            <p>No usage in this period.</p>
          ) : (
            <>
              <Figures totals={stats.totals} />
              {stats.byok.requests > 0 && (
                <p className="hint">
                  Of which with the user's own provider keys (BYOK): {stats.byok.requests} requests,{" "}
                  {formatCredits(stats.byok.credits)} credits.
                </p>
              )}
              <UsageTable caption="By model" first="Model" rows={stats.byModel} label={(row) => row.modelId ?? "(none)"} />
              <UsageTable caption="By day" first="Day" rows={stats.byDay} label={(row) => row.date} />
            </>
          )}
        </section>
      )}
    </div>
  );
}
