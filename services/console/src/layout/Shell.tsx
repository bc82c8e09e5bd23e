import { NavLink, useNavigate } from "react-router";

import { signOut, useAuth } from "../auth/store";
import { BalanceBadge } from "../balance/BalanceBadge";
import { clearBalance } from "../balance/store";

interface Area {
  path: string;
  label: string;
}

export function Shell({ areas, children }: { areas: Area[]; children: React.ReactNode }) {
  const auth = useAuth();
  const navigate = useNavigate();
  const user = auth.phase === "signedIn" ? auth.user : null;

  async function onSignOut() {
    try {
      await signOut();
    } finally {
      clearBalance();
      void navigate("/signin", { replace: true });
    }
  }

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <p className="brand">LLM platform</p>
        <nav aria-label="Main">
          <ul>
            {areas.map((area) => (
              <li key={area.path}>
                <NavLink to={area.path}>{area.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="account">
          <BalanceBadge />
          {user && (
            <p className="who">
              <span data-testid="username">{user.username}</span>{" "}
              <span className="role">({user.role})</span>
            </p>
          )}
          <button type="button" onClick={() => void onSignOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
