import { useCallback, useEffect, useState } from "react";

import { describeError } from "../api/errors";
import { ErrorAlert } from "../layout/ErrorAlert";
import { useAction } from "../layout/useAction";
import { newIdempotencyKey } from "./api";
import { formatTime } from "./credits";
import { type MintedTeamKey, type TeamKey, keyState, parseExpiryDays, teamKeys } from "./teamKeys";
import type { Team } from "./types";

/** A team's keys: mint one (shown once), rotate with a grace period, revoke. */
export function TeamKeysPanel({ team }: { team: Team }) {
  const [keys, setKeys] = useState<TeamKey[] | null>(null);
  const [name, setName] = useState("");
  const [days, setDays] = useState("");
  const [minted, setMinted] = useState<{ name: string; key: MintedTeamKey } | null>(null);
  // One Idempotency-Key per filled-in form: resubmitting after a lost answer mints no second key.
  const [attempt, setAttempt] = useState(newIdempotencyKey);
  const { busy, error, setError, run } = useAction();

  const reload = useCallback(async () => {
    try {
      setKeys(await teamKeys.list(team.id));
    } catch (failure) {
      setError(describeError(failure));
    }
  }, [team.id]);

  useEffect(() => {
    void reload();
  }, [reload]);

  const act = (action: () => Promise<void>) =>
    run(async () => {
      await action();
      await reload();
    });

  function create(event: React.FormEvent) {
    event.preventDefault();
    const expiresInDays = parseExpiryDays(days);
    if (expiresInDays === null) {
      setError("Expires in days: a whole number from 1 to 3650, or empty for none");
      return;
    }
    void act(async () => {
      const body = expiresInDays === undefined ? { name: name.trim() } : { name: name.trim(), expiresInDays };
      setMinted({ name: name.trim(), key: await teamKeys.create(team.id, body, attempt) });
      setName("");
      setDays("");
      setAttempt(newIdempotencyKey());
    });
  }

  const rotate = (key: TeamKey) => {
    const grace = window.prompt(`Rotate “${key.name}”: seconds the old key keeps working`, "3600");
    if (grace === null) return;
    if (!/^\d+$/.test(grace.trim())) {
      setError("Grace period: a whole number of seconds");
      return;
    }
    void act(async () => {
      setMinted({ name: key.name, key: await teamKeys.rotate(team.id, key.id, Number(grace.trim())) });
    });
  };

  const revoke = (key: TeamKey) => {
    if (!window.confirm(`Revoke “${key.name}” of ${team.name}? Programs using it stop at once.`)) return;
    void act(() => teamKeys.revoke(team.id, key.id).then(() => undefined));
  };

  const now = new Date();
  return (
    <div className="admin-panel" aria-label={`Keys of ${team.name}`} role="region">
      <h3>Keys of {team.name}</h3>
      <form onSubmit={create} className="admin-inline">
        <label htmlFor={`key-name-${team.id}`}>Key name</label>
        <input
          id={`key-name-${team.id}`}
          required
          maxLength={100}
          value={name}
          onChange={(event) => {
            setName(event.target.value);
            setAttempt(newIdempotencyKey());
          }}
        />
        <label htmlFor={`key-days-${team.id}`}>Expires in days (optional)</label>
        <input
          id={`key-days-${team.id}`}
          inputMode="numeric"
          value={days}
          onChange={(event) => {
            setDays(event.target.value);
            setAttempt(newIdempotencyKey());
          }}
        />
        <button type="submit" disabled={busy}>
          Create team key
        </button>
      </form>
      {minted && (
        <div role="status" className="admin-result">
          <p>
            Key <strong>{minted.name}</strong>: copy it now, it is not shown again.
          </p>
          <code data-testid="minted-team-key" className="mono">
            {minted.key.key}
          </code>
        </div>
      )}
      <ErrorAlert error={error} />
      {keys?.length === 0 && <p className="hint">No keys yet.</p>}
      {keys && keys.length > 0 && (
        <div className="table-scroll">
          <table>
            <caption className="visually-hidden">Keys of {team.name}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">State</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((key) => {
                const state = keyState(key, now);
                return (
                  <tr key={key.id}>
                    <td>{key.name}</td>
                    <td className="mono">{key.prefix}…</td>
                    <td>{state}</td>
                    <td>{formatTime(key.expiresAt)}</td>
                    <td>{formatTime(key.lastUsedAt)}</td>
                    <td>
                      {state === "active" && (
                        <>
                          <button type="button" className="link" disabled={busy} onClick={() => rotate(key)}>
                            Rotate {key.name}
                          </button>{" "}
                          <button type="button" className="link" disabled={busy} onClick={() => revoke(key)}>
                            Revoke {key.name}
                          </button>
                        </>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
