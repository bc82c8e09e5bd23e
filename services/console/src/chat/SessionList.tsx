import { useState } from "react";
import { Link, NavLink, useNavigate, useParams } from "react-router";

import { api } from "../api/client";
import { describeError } from "../api/errors";
import type { ChatSession } from "../api/types";
import { ErrorAlert } from "../layout/ErrorAlert";

/** The sessions whose title holds every word of ``query`` (any case, any accents). The chat
 * API has no search: this filters the sessions loaded here only. */
export function matchingSessions(sessions: ChatSession[], query: string): ChatSession[] {
  const fold = (text: string) => text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
  const words = fold(query).split(/\s+/).filter(Boolean);
  if (words.length === 0) return sessions;
  return sessions.filter((session) => {
    const title = fold(session.title);
    return words.every((word) => title.includes(word));
  });
}

export function SessionList({
  sessions,
  error,
  onChanged,
}: {
  sessions: ChatSession[] | null;
  error: string | null;
  onChanged: () => Promise<void>;
}) {
  const { sessionId } = useParams();
  const navigate = useNavigate();
  const [query, setQuery] = useState("");
  const shown = sessions === null ? null : matchingSessions(sessions, query);

  async function remove(session: ChatSession) {
    if (!window.confirm(`Delete the chat “${session.title}”?`)) return;
    try {
      await api.deleteSession(session.sessionId);
    } catch (failure) {
      window.alert(describeError(failure));
    }
    if (session.sessionId === sessionId) void navigate("/chat");
    await onChanged();
  }

  return (
    <>
      <h2 className="sidebar-title">Chats</h2>
      <Link className="button" to="/chat">
        New chat
      </Link>
      <ErrorAlert error={error} />
      {sessions === null && !error && <p>Loading…</p>}
      {sessions?.length === 0 && <p className="hint">No chats yet.</p>}
      {sessions !== null && sessions.length > 0 && (
        <div className="session-search" role="search">
          <label htmlFor="session-search">Search chats</label>
          <input
            id="session-search"
            type="search"
            autoComplete="off"
            aria-describedby="session-search-hint"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
          />
          <p id="session-search-hint" className="hint">
            By title, among the {sessions.length} chats listed here.
          </p>
          <p className="hint" role="status">
            {shown?.length === 0 ? `No chat matches “${query.trim()}”.` : ""}
          </p>
        </div>
      )}
      <ul className="sessions">
        {shown?.map((session) => (
          <li key={session.sessionId}>
            <NavLink to={`/chat/${session.sessionId}`}>
              <span className="session-title">{session.title}</span>
              <time dateTime={session.createdAt}>{new Date(session.createdAt).toLocaleString()}</time>
            </NavLink>
            <button
              type="button"
              className="icon"
              aria-label={`Delete ${session.title}`}
              onClick={() => void remove(session)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
