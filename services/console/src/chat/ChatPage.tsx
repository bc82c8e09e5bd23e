import { useCallback, useEffect, useState } from "react";
import { useParams } from "react-router";

import { api } from "../api/client";
import { describeError } from "../api/errors";
import type { ChatSession } from "../api/types";
import { Conversation } from "./Conversation";
import { NewChat } from "./NewChat";
import { SessionList } from "./SessionList";

export function ChatPage() {
  const { sessionId } = useParams();
  const [sessions, setSessions] = useState<ChatSession[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const reload = useCallback(async () => {
    try {
      setSessions((await api.sessions()).sessions);
      setError(null);
    } catch (failure) {
      setError(describeError(failure));
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  return (
    <div className="chat-layout">
      <aside aria-label="Chat sessions">
        <SessionList sessions={sessions} error={error} onChanged={reload} />
      </aside>
      <section className="chat-main" aria-label="Conversation">
        {sessionId ? (
          <Conversation key={sessionId} sessionId={sessionId} onAnswered={reload} />
        ) : (
          <NewChat onCreated={reload} />
        )}
      </section>
    </div>
  );
}
