/** One session watched on its own page (/supervise/:sessionId), e.g. from a link. */

import { Link, useParams } from "react-router";

import { Watcher } from "./Watcher";

export function WatchPage() {
  const { sessionId = "" } = useParams();
  return (
    <div className="watch-page">
      <h1 id="page-title">Watching a session</h1>
      <p>
        <Link to="/supervise">Back to the live wall</Link> ·{" "}
        <Link to={`/supervise?watch=${encodeURIComponent(sessionId)}`}>Watch it on the wall</Link>
      </p>
      <Watcher key={sessionId} sessionId={sessionId} />
    </div>
  );
}
