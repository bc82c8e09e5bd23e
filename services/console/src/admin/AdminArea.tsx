import { Navigate, NavLink, Route, Routes } from "react-router";

import { NotFoundPage } from "../pages/StatusPages";
import "./admin.css";
import { AuditPage } from "./AuditPage";
import { CreditsPage } from "./CreditsPage";
import { ModelGroupsPage } from "./ModelGroupsPage";
import { OrganizationsPage } from "./OrganizationsPage";
import { PlansPage } from "./PlansPage";
import { UsagePage } from "./UsagePage";
import { UsersPage } from "./UsersPage";

/** The admin pages, in the order an admin needs them. */
export const ADMIN_PAGES: { path: string; label: string }[] = [
  { path: "credits", label: "Credits" },
  { path: "users", label: "Users" },
  { path: "audit", label: "Audit log" },
  { path: "usage", label: "Usage" },
  { path: "organizations", label: "Organizations" },
  { path: "model-groups", label: "Model groups" },
  { path: "plans", label: "Plans" },
];

/** /admin/*: a sub-navigation and the page; /admin itself opens the credits page. */
export function AdminArea() {
  return (
    <div className="admin">
      <nav aria-label="Administration" className="admin-nav">
        <ul>
          {ADMIN_PAGES.map((page) => (
            <li key={page.path}>
              <NavLink to={`/admin/${page.path}`}>{page.label}</NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <div className="admin-page">
        <Routes>
          <Route index element={<Navigate to="credits" replace />} />
          <Route path="credits" element={<CreditsPage />} />
          <Route path="users" element={<UsersPage />} />
          <Route path="audit" element={<AuditPage />} />
          <Route path="usage" element={<UsagePage />} />
          <Route path="organizations" element={<OrganizationsPage />} />
          <Route path="model-groups" element={<ModelGroupsPage />} />
          <Route path="plans" element={<PlansPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </div>
    </div>
  );
}
