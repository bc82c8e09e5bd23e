/** One answer streaming in: its text so far, how it ended, a stop button's abort, and its
 * resumption after a reload (the text so far and the last event id are kept in sessionStorage
 * while it streams; the server sends what came after that id: no gap, no duplicate). */

import { useCallback, useEffect, useRef, useState } from "react";

import { api } from "../api/client";
import { describeError } from "../api/errors";
import { refreshBalance } from "../balance/store";

export type AnswerEnd =
  | { kind: "complete"; creditsUsed: number | null; tokensUsed: number }
  | { kind: "stopped" }
  | { kind: "failed"; message: string };

export interface Answer {
  question: string;
  text: string;
  end: AnswerEnd | null;
}

interface InProgress {
  question: string;
  text: string;
  lastEventId: string;
}

const storageKey = (sessionId: string) => `console:answer:${sessionId}`;

function saved(sessionId: string): InProgress | null {
  try {
    const raw = sessionStorage.getItem(storageKey(sessionId));
    return raw ? (JSON.parse(raw) as InProgress) : null;
  } catch {
    return null;
  }
}

export function useAnswer(sessionId: string, onEnded: () => void) {
  const [answer, setAnswer] = useState<Answer | null>(null);
  const controller = useRef<AbortController | null>(null);
  // The latest callback, so that ``ask`` and ``resume`` stay the same across renders.
  const ended = useRef(onEnded);
  useEffect(() => {
    ended.current = onEnded;
  }, [onEnded]);

  const run = useCallback(
    async (question: string, from: InProgress | null) => {
      const abort = new AbortController();
      controller.current = abort;
      const key = storageKey(sessionId);
      let text = from?.text ?? "";
      let end: AnswerEnd | null = null;
      setAnswer({ question, text, end });
      const ask = from ? { lastEventId: from.lastEventId } : { message: question };
      try {
        for await (const event of api.streamAnswer(sessionId, ask, abort.signal)) {
          if (event.type === "chunk") text += event.content;
          else if (event.type === "complete") {
            end = { kind: "complete", creditsUsed: event.creditsUsed, tokensUsed: event.tokensUsed };
          } else if (event.type === "error") {
            end = { kind: "failed", message: `${event.message} (${event.code})` };
          }
          if (end === null) {
            sessionStorage.setItem(key, JSON.stringify({ question, text, lastEventId: event.id }));
          }
          setAnswer({ question, text, end });
        }
        // A resumed answer that was already over and all received (204): the stored one shows.
        if (end === null && from) {
          sessionStorage.removeItem(key);
          setAnswer(null);
          ended.current();
          return;
        }
        end ??= { kind: "failed", message: "The answer stopped before it was complete." };
      } catch (failure) {
        end = abort.signal.aborted ? { kind: "stopped" } : { kind: "failed", message: describeError(failure) };
      } finally {
        controller.current = null;
      }
      sessionStorage.removeItem(key);
      setAnswer({ question, text, end });
      await refreshBalance();
      ended.current();
    },
    [sessionId],
  );

  const ask = useCallback((question: string) => run(question, null), [run]);

  /** Goes on with an answer a reload interrupted; false when there is none. */
  const resume = useCallback(() => {
    const from = saved(sessionId);
    if (from === null) return false;
    void run(from.question, from);
    return true;
  }, [run, sessionId]);

  const stop = useCallback(() => controller.current?.abort(), []);

  return { answer, ask, resume, stop, streaming: answer !== null && answer.end === null };
}
