import { Navigate, Route, Routes, useLocation } from "react-router";

import { AccountPage } from "./account/AccountPage";
import type { Role } from "./api/types";
import { AdminArea } from "./admin/AdminArea";
import { RegisterPage } from "./auth/RegisterPage";
import { SignInPage } from "./auth/SignInPage";
import { useAuth } from "./auth/store";
import { ChatPage } from "./chat/ChatPage";
import { Shell } from "./layout/Shell";
import { NotAllowedPage, NotFoundPage } from "./pages/StatusPages";
import { SupervisePage } from "./supervise/SupervisePage";

/** Who may open which area; the API refuses the others anyway. */
export const AREAS: { path: string; label: string; roles: Role[] }[] = [
  { path: "/chat", label: "Chat", roles: ["enduser", "supervisor", "admin"] },
  { path: "/supervise", label: "Live wall", roles: ["supervisor", "admin"] },
  { path: "/admin", label: "Admin", roles: ["admin"] },
  { path: "/account", label: "Account", roles: ["enduser", "supervisor", "admin"] },
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
        <Route path="/account" element={<AccountPage />} />
        <Route
          path="/supervise/*"
          element={
            <RequireRole roles={["supervisor", "admin"]}>
              <SupervisePage />
            </RequireRole>
          }
        />
        <Route
          path="/admin/*"
          element={
            <RequireRole roles={["admin"]}>
              <AdminArea />
            </RequireRole>
          }
        />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </Shell>
  );
}
