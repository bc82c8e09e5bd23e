import { useCallback, useEffect, useState } from "react";

import { describeError } from "../api/errors";
import { ErrorAlert } from "../layout/ErrorAlert";
import { useAction } from "../layout/useAction";
import { type MintedKey, type PersonalKey, personalKeys } from "./api";
import { type PersonalKeyForm, personalKeyRequest, when } from "./forms";

const EMPTY: PersonalKeyForm = { name: "", expiresInDays: "", maxBudgetCredits: "", requestsPerMinute: "" };

/** Personal API keys (`sk-...`): create one (its secret shown once), see them, revoke. */
export function ApiKeysSection() {
  const [keys, setKeys] = useState<PersonalKey[] | null>(null);
  const [form, setForm] = useState(EMPTY);
  const [minted, setMinted] = useState<MintedKey | null>(null);
  const { busy, error, setError, run } = useAction();

  const reload = useCallback(async () => {
    try {
      setKeys(await personalKeys.list());
    } catch (failure) {
      setError(describeError(failure));
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  async function create(event: React.FormEvent) {
    event.preventDefault();
    const request = personalKeyRequest(form);
    if (!request.ok) {
      setError(request.reason);
      return;
    }
    await run(async () => {
      setMinted(await personalKeys.create(request.value));
      setForm(EMPTY);
      await reload();
    });
  }

  async function revoke(key: PersonalKey) {
    if (!window.confirm(`Revoke the key “${key.name}”? Programs using it stop working.`)) return;
    await run(async () => {
      await personalKeys.revoke(key.id);
      if (minted?.id === key.id) setMinted(null);
      await reload();
    });
  }

  const field = (name: keyof PersonalKeyForm) => ({
    id: `key-${name}`,
    value: form[name],
    onChange: (event: React.ChangeEvent<HTMLInputElement>) =>
      setForm({ ...form, [name]: event.target.value }),
  });

  return (
    <section aria-labelledby="api-keys-title" className="account-section">
      <h2 id="api-keys-title">API keys</h2>
      <p className="hint">
        Use a key as <code>Authorization: Bearer sk-…</code> on <code>/v1</code> (the OpenAI
        SDK works) or <code>/api</code>: it acts as you, within its own limits.
      </p>
      <form onSubmit={(event) => void create(event)} className="key-form">
        <label htmlFor="key-name">Name</label>
        <input {...field("name")} required maxLength={100} />
        <label htmlFor="key-expiresInDays">Expires in days (optional)</label>
        <input {...field("expiresInDays")} inputMode="numeric" />
        <label htmlFor="key-maxBudgetCredits">Budget in credits (optional)</label>
        <input {...field("maxBudgetCredits")} inputMode="decimal" />
        <label htmlFor="key-requestsPerMinute">Requests per minute (optional)</label>
        <input {...field("requestsPerMinute")} inputMode="numeric" />
        <button type="submit" disabled={busy}>
          Create key
        </button>
      </form>
      {minted && (
        <div role="status" className="minted">
          <p>
            The key <strong>{minted.name}</strong>: copy it now, it is not shown again.
          </p>
          <code data-testid="minted-key">{minted.key}</code>
        </div>
      )}
      <ErrorAlert error={error} />
      {keys?.length === 0 && <p className="hint">No keys yet.</p>}
      {keys && keys.length > 0 && (
        <table className="keys">
          <caption className="visually-hidden">Your API keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Budget</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id}>
                <td>{key.name}</td>
                <td>
                  <code>{key.prefix}…</code>
                </td>
                <td>{key.maxBudgetCredits === null ? "none" : `${key.maxBudgetCredits} credits`}</td>
                <td>{when(key.expiresAt)}</td>
                <td>{when(key.lastUsedAt)}</td>
                <td>
                  {key.revokedAt === null ? (
                    <button type="button" className="link" onClick={() => void revoke(key)}>
                      Revoke {key.name}
                    </button>
                  ) : (
                    "revoked"
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
