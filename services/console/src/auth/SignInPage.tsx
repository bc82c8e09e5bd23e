import { useState } from "react";
import { Link } from "react-router";

import { describeError } from "../api/errors";
import { ErrorAlert } from "../layout/ErrorAlert";
import { signIn, signInWithCode } from "./store";

export function SignInPage() {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mfaToken === null) {
        setMfaToken(await signIn(username, password));
      } else {
        await signInWithCode(mfaToken, code.trim());
      }
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="centered">
      <form className="card" onSubmit={(event) => void submit(event)} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in</h1>
        {mfaToken === null ? (
          <>
            <label htmlFor="username">Username or email</label>
            <input
              id="username"
              name="username"
              autoComplete="username"
              required
              value={username}
              onChange={(event) => setUsername(event.target.value)}
            />
            <label htmlFor="password">Password</label>
            <input
              id="password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(event) => setPassword(event.target.value)}
            />
          </>
        ) : (
          <>
            <p>Two-factor authentication is on for this account.</p>
            <label htmlFor="code">Code from your authenticator app, or a backup code</label>
            <input
              id="code"
              name="code"
              autoComplete="one-time-code"
              inputMode="numeric"
              required
              autoFocus
              value={code}
              onChange={(event) => setCode(event.target.value)}
            />
          </>
        )}
        <ErrorAlert error={error} />
        <button type="submit" disabled={busy}>
          {mfaToken === null ? "Sign in" : "Verify"}
        </button>
        {mfaToken === null ? (
          <p>
            No account yet? <Link to="/register">Register</Link>
          </p>
        ) : (
          <button type="button" className="link" onClick={() => setMfaToken(null)}>
            Start again
          </button>
        )}
      </form>
    </main>
  );
}
