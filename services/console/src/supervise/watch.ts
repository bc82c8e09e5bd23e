/** What a watcher shows, reduced from the observer stream's events: the session's owner and
 * model, the answers seen (the one in progress when joining starts with what it had said so
 * far) and how each ended, and whether the watch itself goes on. */

import type { ObserverEvent } from "./types";

/** The code of an answer whose replica died; the observer stream ends after it. */
export const ANSWER_LOST = "answer_lost";

export type WatchedEnd =
  | { kind: "complete"; tokensUsed: number; creditsUsed: number | null }
  | { kind: "failed"; message: string; code: string }
  /** The watch stopped (time limit, connection) before this answer did. */
  | { kind: "unknown" };

export interface WatchedAnswer {
  text: string;
  /** It was already under way when the watch joined: ``text`` starts with what it had said. */
  joinedMidway: boolean;
  end: WatchedEnd | null;
}

export type WatchStatus =
  | { kind: "connecting" }
  | { kind: "watching" }
  /** The server closed the watch (its time limit): reconnecting goes on. */
  | { kind: "ended" }
  /** The answer's replica died (``answer_lost``): the watch ended with it. */
  | { kind: "lost" }
  | { kind: "failed"; message: string };

export interface WatchState {
  status: WatchStatus;
  userId: string | null;
  modelId: string | null;
  answers: WatchedAnswer[];
}

export type WatchAction =
  | ObserverEvent
  | { type: "closed" }
  | { type: "failed"; message: string }
  | { type: "reconnect" };

export const initialWatch: WatchState = {
  status: { kind: "connecting" },
  userId: null,
  modelId: null,
  answers: [],
};

function last(answers: WatchedAnswer[]): WatchedAnswer | undefined {
  return answers.at(-1);
}

/** The answers with the open one replaced (a new one opened when none is). */
function withOpen(answers: WatchedAnswer[], change: (open: WatchedAnswer) => WatchedAnswer): WatchedAnswer[] {
  const current = last(answers);
  if (current && current.end === null) return [...answers.slice(0, -1), change(current)];
  return [...answers, change({ text: "", joinedMidway: false, end: null })];
}

/** The answer in progress, if any, marked as cut short by the watch ending. */
function closeOpen(answers: WatchedAnswer[]): WatchedAnswer[] {
  const current = last(answers);
  if (!current || current.end !== null) return answers;
  return [...answers.slice(0, -1), { ...current, end: { kind: "unknown" } }];
}

export function watchReducer(state: WatchState, action: WatchAction): WatchState {
  switch (action.type) {
    case "observer": {
      // A (re)join: what the live answer has said so far, if one is live.
      const answers = closeOpen(state.answers);
      const joined = action.partialResponse
        ? [...answers, { text: action.partialResponse, joinedMidway: true, end: null }]
        : answers;
      return {
        status: { kind: "watching" },
        userId: action.userId,
        modelId: action.modelId,
        answers: joined,
      };
    }
    case "chunk":
      return { ...state, answers: withOpen(state.answers, (open) => ({ ...open, text: open.text + action.content })) };
    case "complete": {
      const end: WatchedEnd = { kind: "complete", tokensUsed: action.tokensUsed, creditsUsed: action.creditsUsed };
      return { ...state, answers: withOpen(state.answers, (open) => ({ ...open, end })) };
    }
    case "error": {
      const end: WatchedEnd = { kind: "failed", message: action.message, code: action.code };
      const answers = withOpen(state.answers, (open) => ({ ...open, end }));
      return { ...state, answers, status: action.code === ANSWER_LOST ? { kind: "lost" } : state.status };
    }
    case "closed":
      if (state.status.kind !== "watching" && state.status.kind !== "connecting") return state;
      return { ...state, status: { kind: "ended" }, answers: closeOpen(state.answers) };
    case "failed":
      return { ...state, status: { kind: "failed", message: action.message }, answers: closeOpen(state.answers) };
    case "reconnect":
      return { ...state, status: { kind: "connecting" } };
  }
}

/** The answer being generated now, if the watch shows one. */
export function liveAnswer(state: WatchState): WatchedAnswer | null {
  const current = last(state.answers);
  return current && current.end === null ? current : null;
}
