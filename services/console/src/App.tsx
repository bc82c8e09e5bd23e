import { Navigate, Route, Routes, useLocation } from "react-router";

import type { Role } from "./api/types";
import { RegisterPage } from "./auth/RegisterPage";
import { SignInPage } from "./auth/SignInPage";
import { useAuth } from "./auth/store";
import { ChatPage } from "./chat/ChatPage";
import { Shell } from "./layout/Shell";
import { ComingSoonPage, NotAllowedPage, NotFoundPage } from "./pages/StatusPages";

/** Who may open which area; the API refuses the others anyway. */
export const AREAS: { path: string; label: string; roles: Role[] }[] = [
  { path: "/chat", label: "Chat", roles: ["enduser", "supervisor", "admin"] },
  { path: "/supervise", label: "Live wall", roles: ["supervisor", "admin"] },
  { path: "/admin", label: "Admin", roles: ["admin"] },
];

function RequireRole({ roles, children }: { roles: Role[]; children: React.ReactNode }) {
  const auth = useAuth();
  if (auth.phase !== "signedIn") return null;
  return roles.includes(auth.user.role) ? children : <NotAllowedPage />;
}

export function App() {
  const auth = useAuth();
  const location = useLocation();
  if (auth.phase === "starting") {
    return (
      <main className="centered" aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  }
  if (auth.phase === "signedOut") {
    return (
      <Routes>
        <Route path="/register" element={<RegisterPage />} />
        <Route path="/signin" element={<SignInPage />} />
        <Route path="*" element={<Navigate to="/signin" replace state={{ from: location.pathname }} />} />
      </Routes>
    );
  }
  return (
    <Shell areas={AREAS.filter((area) => area.roles.includes(auth.user.role))}>
      <Routes>
        <Route path="/" element={<Navigate to="/chat" replace />} />
        <Route path="/signin" element={<Navigate to="/chat" replace />} />
        <Route path="/register" element={<Navigate to="/chat" replace />} />
        <Route path="/chat" element={<ChatPage />} />
        <Route path="/chat/:sessionId" element={<ChatPage />} />
        <Route
          path="/supervise/*"
          element={
            <RequireRole roles={["supervisor", "admin"]}>
              <ComingSoonPage title="Live wall" />
            </RequireRole>
          }
        />
        <Route
          path="/admin/*"
          element={
            <RequireRole roles={["admin"]}>
              <ComingSoonPage title="Administration" />
            </RequireRole>
          }
        />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </Shell>
  );
}
