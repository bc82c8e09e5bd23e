import { useCallback, useEffect, useRef, useState } from "react";

import { api } from "../api/client";
import { describeError } from "../api/errors";
import type { ChatMessage, SessionDetail } from "../api/types";
import { formatCredits } from "../balance/store";
import { Markdown } from "./Markdown";
import { takePendingQuestion } from "./pending";
import { type Answer, useAnswer } from "./useAnswer";

function Message({ role, children }: { role: ChatMessage["role"]; children: React.ReactNode }) {
  return (
    <li className={`message message-${role}`}>
      <p className="message-role">{role === "user" ? "You" : "Assistant"}</p>
      {children}
    </li>
  );
}

function AnswerEnd({ answer }: { answer: Answer }) {
  const end = answer.end;
  if (end === null) return <p className="hint" aria-live="polite">Answering…</p>;
  if (end.kind === "complete") {
    const credits = end.creditsUsed === null ? "" : ` · ${formatCredits(end.creditsUsed)} credits`;
    return (
      <p className="hint" data-testid="answer-complete">
        {end.tokensUsed} tokens{credits}
      </p>
    );
  }
  if (end.kind === "stopped") return <p className="hint">Stopped. You are billed for what was generated.</p>;
  return (
    <p role="alert" className="error">
      {end.message}
    </p>
  );
}

export function Conversation({ sessionId, onAnswered }: { sessionId: string; onAnswered: () => Promise<void> }) {
  const [session, setSession] = useState<SessionDetail | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [draft, setDraft] = useState("");
  const asked = useRef(false);

  const load = useCallback(async () => {
    try {
      setSession(await api.session(sessionId));
    } catch (failure) {
      setLoadError(describeError(failure));
    }
  }, [sessionId]);

  const { answer, ask, resume, stop, streaming } = useAnswer(sessionId, () => {
    void load();
    void onAnswered();
  });

  useEffect(() => {
    void load();
  }, [load]);

  // The first question of a chat just created, or an answer a reload interrupted (once, even
  // if the effect runs again).
  useEffect(() => {
    if (asked.current) return;
    asked.current = true;
    const question = takePendingQuestion(sessionId);
    if (question) void ask(question);
    else resume();
  }, [ask, resume, sessionId]);

  async function send(event: React.FormEvent) {
    event.preventDefault();
    const question = draft.trim();
    if (!question || streaming) return;
    setDraft("");
    await ask(question);
  }

  if (loadError) {
    return (
      <p role="alert" className="error">
        {loadError}
      </p>
    );
  }
  const stored = session?.messages ?? [];

  return (
    <div className="conversation">
      <h1 className="conversation-title">{session?.title ?? "Chat"}</h1>
      {session && <p className="hint">Model: {session.modelId}</p>}
      <ol className="messages" aria-label="Messages">
        {(answer ? storedBefore(stored, answer) : stored).map((message) => (
          <Message key={message.id} role={message.role}>
            <Markdown text={message.content} />
          </Message>
        ))}
        {answer && (
          <>
            <Message role="user">
              <Markdown text={answer.question} />
            </Message>
            <Message role="assistant">
              <div data-testid="live-answer" aria-live="polite" aria-busy={answer.end === null}>
                <Markdown text={answer.text} />
              </div>
              <AnswerEnd answer={answer} />
            </Message>
          </>
        )}
      </ol>
      <form className="composer" onSubmit={(event) => void send(event)}>
        <label htmlFor="message">Message</label>
        <textarea
          id="message"
          rows={3}
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === "Enter" && !event.shiftKey) {
              event.preventDefault();
              event.currentTarget.form?.requestSubmit();
            }
          }}
        />
        {streaming ? (
          <button type="button" onClick={stop}>
            Stop
          </button>
        ) : (
          <button type="submit">Send</button>
        )}
      </form>
    </div>
  );
}

/** The stored messages, without the live question and its answer if the store has them yet. */
function storedBefore(stored: ChatMessage[], answer: Answer): ChatMessage[] {
  const last = stored.at(-2);
  if (last && last.role === "user" && last.content === answer.question) return stored.slice(0, -2);
  const lone = stored.at(-1);
  if (lone && lone.role === "user" && lone.content === answer.question) return stored.slice(0, -1);
  return stored;
}
