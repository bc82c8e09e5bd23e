import { useState } from "react";
import { Link } from "react-router";

import { describeError } from "../api/errors";
import { ErrorAlert } from "../layout/ErrorAlert";
import { register } from "./store";

export function RegisterPage() {
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await register(username, email, password);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="centered">
      <form className="card" onSubmit={(event) => void submit(event)} aria-labelledby="register-title">
        <h1 id="register-title">Create an account</h1>
        <label htmlFor="username">Username</label>
        <input
          id="username"
          autoComplete="username"
          required
          value={username}
          onChange={(event) => setUsername(event.target.value)}
        />
        <label htmlFor="email">Email</label>
        <input
          id="email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          type="password"
          autoComplete="new-password"
          aria-describedby="password-hint"
          required
          minLength={12}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <p id="password-hint" className="hint">
          At least 12 characters, and not a common password.
        </p>
        <ErrorAlert error={error} />
        <button type="submit" disabled={busy}>
          Register
        </button>
        <p>
          Already registered? <Link to="/signin">Sign in</Link>
        </p>
      </form>
    </main>
  );
}
