/** One session watched live: its title and latest question, then each answer as it streams
 * (the one under way on joining starts with what it had said), and how the watch stands. */

import { useEffect, useId, useState } from "react";

import { api } from "../api/client";
import type { SessionDetail } from "../api/types";
import { formatCredits } from "../balance/store";
import { Markdown } from "../chat/Markdown";
import { useWatch } from "./hooks";
import type { WatchedAnswer, WatchState } from "./watch";

function statusText(state: WatchState): string {
  const status = state.status;
  const live = state.answers.at(-1)?.end === null;
  switch (status.kind) {
    case "connecting":
      return "Connecting…";
    case "watching":
      return live ? "Answering now…" : "Watching: no answer in progress. A new one will show here.";
    case "ended":
      return "The watch has ended (time limit or connection closed).";
    case "lost":
      return "The answer was lost: the server generating it stopped.";
    case "failed":
      return `Cannot watch this session: ${status.message}`;
  }
}

function AnswerEnd({ answer }: { answer: WatchedAnswer }) {
  const end = answer.end;
  if (end === null) return null;
  if (end.kind === "complete") {
    const credits = end.creditsUsed === null ? "" : ` · ${formatCredits(end.creditsUsed)} credits`;
    return (
      <p className="hint" data-testid="watched-complete">
        Answer complete: {end.tokensUsed} tokens{credits}
      </p>
    );
  }
  if (end.kind === "failed") {
    return (
      <p className="error">
        The answer failed: {end.message} ({end.code})
      </p>
    );
  }
  return <p className="hint">The watch stopped before this answer ended.</p>;
}

export function Watcher({
  sessionId,
  username,
  onClose,
  headingLevel = 2,
}: {
  sessionId: string;
  /** Who the session belongs to, when the caller knows (the wall does). */
  username?: string | undefined;
  onClose?: (() => void) | undefined;
  headingLevel?: 2 | 3;
}) {
  const { state, reconnect } = useWatch(sessionId);
  const [session, setSession] = useState<SessionDetail | null>(null);
  const titleId = useId();
  const answerCount = state.answers.length;
  // The wall forgets the name once the answer is over: the panel keeps the last one it had.
  const [knownName, setKnownName] = useState(username);
  if (username && username !== knownName) setKnownName(username);

  // The session's title and latest question; read again when a new answer starts.
  useEffect(() => {
    let live = true;
    api
      .session(sessionId)
      .then((detail) => live && setSession(detail))
      .catch(() => undefined); // the watch works without it
    return () => {
      live = false;
    };
  }, [sessionId, answerCount]);

  const question = session?.messages.filter((m) => m.role === "user").at(-1)?.content ?? null;
  const who = knownName || state.userId || session?.userId || "…";
  const Heading = headingLevel === 2 ? "h2" : "h3";
  const over = ["ended", "lost", "failed"].includes(state.status.kind);

  return (
    <section className="watcher" aria-labelledby={titleId} data-testid="watcher" data-session={sessionId}>
      <div className="watcher-head">
        <Heading id={titleId} className="watcher-title">
          {session?.title ?? "Session"} <span className="watcher-who">· {who}</span>
        </Heading>
        {onClose && (
          <button type="button" className="secondary" onClick={onClose} aria-label={`Stop watching ${who}`}>
            Close
          </button>
        )}
      </div>
      <p className="hint watcher-meta">
        Model {state.modelId ?? session?.modelId ?? "…"} · session <code>{sessionId.slice(0, 8)}</code>
      </p>
      <p role="status" className={state.status.kind === "failed" ? "error" : "hint"} data-testid="watch-status">
        {statusText(state)}
      </p>
      {over && (
        <button type="button" className="secondary" onClick={reconnect}>
          Watch again
        </button>
      )}
      {question && (
        <div className="watched-question">
          <p className="message-role">Latest question</p>
          <Markdown text={question} />
        </div>
      )}
      <ol className="watched-answers" aria-label={`Answers in ${session?.title ?? "the session"}`}>
        {state.answers.map((answer, index) => (
          <li key={index} className="message message-assistant">
            <p className="message-role">
              Assistant{answer.joinedMidway ? " (joined midway: the start is what it had said before)" : ""}
            </p>
            <div data-testid="watched-answer" aria-busy={answer.end === null}>
              <Markdown text={answer.text} />
            </div>
            <AnswerEnd answer={answer} />
          </li>
        ))}
      </ol>
    </section>
  );
}
