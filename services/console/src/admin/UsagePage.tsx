import { useEffect, useState } from "react";

import { describeError } from "../api/errors";
import { formatCredits } from "../balance/store";
import { ErrorAlert } from "../layout/ErrorAlert";
import { downloadUsageCsv, systemStats } from "./api";
import { bars } from "./chart";
import { exportQuery } from "./query";
import type { SystemStats } from "./types";

const PERIODS = [7, 30, 90];
const tokens = (count: number) => count.toLocaleString("en-US");

/** /admin/usage: credits and tokens across users by day and by model, the top users, and the
 * CSV export of GET /api/usage/export. */
export function UsagePage() {
  const [days, setDays] = useState(30);
  const [stats, setStats] = useState<SystemStats | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    setError(null);
    systemStats(days)
      .then((found) => live && setStats(found))
      .catch((problem: unknown) => live && setError(describeError(problem)));
    return () => {
      live = false;
    };
  }, [days]);

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title">Usage</h1>
      <div className="field admin-inline">
        <label htmlFor="usage-days">Period</label>
        <select id="usage-days" value={days} onChange={(event) => setDays(Number(event.target.value))}>
          {PERIODS.map((period) => (
            <option key={period} value={period}>
              Last {period} days
            </option>
          ))}
        </select>
      </div>
      <ErrorAlert error={error} />
      {stats === null && !error && <p>Loading…</p>}
      {stats && (
        <>
          <dl className="facts">
            <dt>Credits</dt>
            <dd>{formatCredits(stats.totals.credits)}</dd>
            <dt>Requests</dt>
            <dd>{tokens(stats.totals.requests)}</dd>
            <dt>Tokens</dt>
            <dd>{tokens(stats.totals.tokens)}</dd>
            <dt>Users with usage</dt>
            <dd>{tokens(stats.users)}</dd>
          </dl>
          <BarChart
            title="Credits by day"
            rows={stats.byDay.map((day) => ({ label: day.date, value: day.credits, tokens: day.tokens }))}
          />
          <BarChart
            title="Credits by model"
            rows={stats.byModel.map((model) => ({
              label: model.modelId ?? "(no model)",
              value: model.credits,
              tokens: model.tokens,
            }))}
          />
          {stats.topUsers.length > 0 && (
            <div className="table-scroll">
              <table>
                <caption>Top users</caption>
                <thead>
                  <tr>
                    <th scope="col">User</th>
                    <th scope="col">Credits</th>
                    <th scope="col">Requests</th>
                    <th scope="col">Tokens</th>
                  </tr>
                </thead>
                <tbody>
                  {stats.topUsers.map((user) => (
                    <tr key={user.userId}>
                      <td>{user.username ?? user.userId}</td>
                      <td className="num">{formatCredits(user.credits)}</td>
                      <td className="num">{tokens(user.requests)}</td>
                      <td className="num">{tokens(user.tokens)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
      <ExportForm />
    </section>
  );
}

/** A horizontal bar per row, drawn in SVG by attributes (the CSP allows no inline styles),
 * with the figure as text beside it; the table under it says the same for screen readers. */
function BarChart({ title, rows }: { title: string; rows: { label: string; value: number; tokens: number }[] }) {
  if (rows.length === 0) {
    return (
      <section className="admin-panel">
        <h2>{title}</h2>
        <p className="hint">No usage in this period.</p>
      </section>
    );
  }
  const drawn = bars(rows.map(({ label, value }) => ({ label, value })));
  return (
    <section className="admin-panel chart">
      <h2>{title}</h2>
      <ul className="bars" aria-hidden="true">
        {drawn.map((bar) => (
          <li key={bar.label}>
            <span className="bar-label">{bar.label}</span>
            <svg className="bar" viewBox="0 0 100 10" preserveAspectRatio="none" focusable="false">
              <rect x="0" y="0" height="10" width={bar.length} />
            </svg>
            <span className="bar-value">{formatCredits(bar.value)}</span>
          </li>
        ))}
      </ul>
      <details>
        <summary>{title} as a table</summary>
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">{title.endsWith("day") ? "Day" : "Model"}</th>
                <th scope="col">Credits</th>
                <th scope="col">Tokens</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.label}>
                  <td>{row.label}</td>
                  <td className="num">{formatCredits(row.value)}</td>
                  <td className="num">{tokens(row.tokens)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </section>
  );
}

function ExportForm() {
  const [user, setUser] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    const checked = exportQuery(user, from, to);
    if ("error" in checked) {
      setError(checked.error);
      return;
    }
    setError(null);
    setBusy(true);
    try {
      await downloadUsageCsv(user, from, to);
    } catch (problem) {
      setError(describeError(problem));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="admin-panel admin-filters" aria-labelledby="export-title" onSubmit={(event) => void submit(event)}>
      <h2 id="export-title">Export usage as CSV</h2>
      <p className="hint">
        One user's usage by day and model. Dates are whole UTC days; empty “From” means 30 days before “To”,
        empty “To” means today (at most 366 days).
      </p>
      <div className="field">
        <label htmlFor="export-user">User (username or id; empty: you)</label>
        <input
          id="export-user"
          autoComplete="off"
          maxLength={254}
          value={user}
          onChange={(event) => setUser(event.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="export-from">From</label>
        <input id="export-from" type="date" value={from} onChange={(event) => setFrom(event.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="export-to">To (included)</label>
        <input id="export-to" type="date" value={to} onChange={(event) => setTo(event.target.value)} />
      </div>
      <ErrorAlert error={error} />
      <div className="admin-actions">
        <button type="submit" disabled={busy}>
          {busy ? "Preparing…" : "Download CSV"}
        </button>
      </div>
    </form>
  );
}
