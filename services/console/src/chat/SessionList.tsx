import { Link, NavLink, useNavigate, useParams } from "react-router";

import { api } from "../api/client";
import { describeError } from "../api/errors";
import type { ChatSession } from "../api/types";

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
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {sessions === null && !error && <p>Loading…</p>}
      {sessions?.length === 0 && <p className="hint">No chats yet.</p>}
      <ul className="sessions">
        {sessions?.map((session) => (
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
