/** The supervisor's area under /supervise: the live wall, one session watched alone, and a
 * user's usage. */

import { NavLink, Route, Routes } from "react-router";

import { NotFoundPage } from "../pages/StatusPages";
import { LiveWall } from "./LiveWall";
import { UsagePage } from "./UsagePage";
import { WatchPage } from "./WatchPage";
import "./supervise.css";

export function SupervisePage() {
  return (
    <section className="page supervise" aria-labelledby="page-title">
      <nav aria-label="Supervision" className="subnav">
        <ul>
          <li>
            <NavLink to="/supervise" end>
              Live wall
            </NavLink>
          </li>
          <li>
            <NavLink to="/supervise/usage">Usage by user</NavLink>
          </li>
        </ul>
      </nav>
      <Routes>
        <Route index element={<LiveWall />} />
        <Route path="usage" element={<UsagePage />} />
        <Route path=":sessionId" element={<WatchPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </section>
  );
}
