import { useCallback, useEffect, useState } from "react";

import { describeError } from "../api/errors";
import { ErrorAlert } from "../layout/ErrorAlert";
import { useAction } from "../layout/useAction";
import { type Provider, type ProviderKey, providerKeys } from "./api";
import { providerKeyRequest, when } from "./forms";

/** Bring your own key: the person's provider credentials, stored encrypted, shown by last 4. */
export function ProviderKeysSection() {
  const [providers, setProviders] = useState<Provider[] | null>(null);
  const [keys, setKeys] = useState<ProviderKey[] | null>(null);
  const [providerId, setProviderId] = useState("");
  const [label, setLabel] = useState("");
  const [fields, setFields] = useState<Record<string, string>>({});
  const [baseUrl, setBaseUrl] = useState("");
  const [status, setStatus] = useState<string | null>(null);
  const { busy, error, setError, run } = useAction();

  const reload = useCallback(async () => {
    try {
      setKeys(await providerKeys.list());
    } catch (failure) {
      setError(describeError(failure));
    }
  }, []);

  useEffect(() => {
    void (async () => {
      try {
        setProviders(await providerKeys.providers());
      } catch (failure) {
        setError(describeError(failure));
      }
    })();
    void reload();
  }, [reload]);

  const provider = providers?.find((each) => each.id === providerId) ?? providers?.[0] ?? null;

  function act(action: () => Promise<string | null>) {
    setStatus(null);
    return run(async () => setStatus(await action()));
  }

  function store(event: React.FormEvent) {
    event.preventDefault();
    if (provider === null) return;
    const request = providerKeyRequest(provider, label, fields, baseUrl);
    if (!request.ok) {
      setError(request.reason);
      return;
    }
    void act(async () => {
      const stored = await providerKeys.create(request.value);
      setLabel("");
      setFields({});
      setBaseUrl("");
      await reload();
      return `Stored ${stored.label} (…${stored.last4}).`;
    });
  }

  const validate = (key: ProviderKey) =>
    act(async () => {
      const answer = await providerKeys.validate(key.id);
      return `${key.label}: ${answer.valid ? "valid" : "refused"} (${answer.message})`;
    });

  const remove = (key: ProviderKey) => {
    if (!window.confirm(`Delete the provider key “${key.label}”?`)) return;
    void act(async () => {
      await providerKeys.remove(key.id);
      await reload();
      return `Deleted ${key.label}.`;
    });
  };

  return (
    <section aria-labelledby="provider-keys-title" className="account-section">
      <h2 id="provider-keys-title">Provider keys (bring your own key)</h2>
      <p className="hint">
        Answers from a provider you hold a key for are made with your key and charged only the
        platform fee. Keys are encrypted at rest and never shown again.
      </p>
      {provider && (
        <form onSubmit={store} className="key-form">
          <label htmlFor="byok-provider">Provider</label>
          <select
            id="byok-provider"
            value={provider.id}
            onChange={(event) => {
              setProviderId(event.target.value);
              setFields({});
            }}
          >
            {providers?.map((each) => (
              <option key={each.id} value={each.id}>
                {each.name}
              </option>
            ))}
          </select>
          <label htmlFor="byok-label">Label</label>
          <input id="byok-label" required value={label} onChange={(event) => setLabel(event.target.value)} />
          {provider.fields.map((each) => (
            <div key={`${provider.id}-${each.name}`}>
              <label htmlFor={`byok-${each.name}`}>
                {each.label}
                {each.required ? "" : " (optional)"}
              </label>
              <input
                id={`byok-${each.name}`}
                type={each.secret ? "password" : "text"}
                autoComplete="off"
                required={each.required}
                value={fields[each.name] ?? ""}
                onChange={(event) => setFields({ ...fields, [each.name]: event.target.value })}
              />
            </div>
          ))}
          {provider.baseUrl === "required" && (
            <>
              <label htmlFor="byok-base-url">Server address</label>
              <input
                id="byok-base-url"
                type="url"
                required
                placeholder="https://llm.example.com"
                value={baseUrl}
                onChange={(event) => setBaseUrl(event.target.value)}
              />
            </>
          )}
          <button type="submit" disabled={busy}>
            Store key
          </button>
        </form>
      )}
      {status && <p role="status">{status}</p>}
      <ErrorAlert error={error} />
      {keys?.length === 0 && <p className="hint">No provider keys yet.</p>}
      {keys && keys.length > 0 && (
        <table className="keys">
          <caption className="visually-hidden">Your provider keys</caption>
          <thead>
            <tr>
              <th scope="col">Label</th>
              <th scope="col">Provider</th>
              <th scope="col">Key</th>
              <th scope="col">Added</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => (
              <tr key={key.id}>
                <td>{key.label}</td>
                <td>{providers?.find((each) => each.id === key.provider)?.name ?? key.provider}</td>
                <td>
                  <code>…{key.last4}</code>
                </td>
                <td>{when(key.createdAt)}</td>
                <td className="actions">
                  <button type="button" className="link" disabled={busy} onClick={() => void validate(key)}>
                    Check {key.label}
                  </button>{" "}
                  <button type="button" className="link" disabled={busy} onClick={() => remove(key)}>
                    Delete {key.label}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
