import { describe, expect, it } from "vitest";

import type { ObserverEvent } from "./types";
import { initialWatch, liveAnswer, type WatchAction, type WatchState, watchReducer } from "./watch";

const JOIN = { type: "observer", sessionId: "s1", userId: "u1", modelId: "m1" } as const;

function reduce(...actions: WatchAction[]): WatchState {
  return actions.reduce(watchReducer, initialWatch);
}

const chunk = (content: string): ObserverEvent => ({ type: "chunk", content, tokenCount: 1 });
const complete: ObserverEvent = { type: "complete", sessionId: "s1", tokensUsed: 7, creditsUsed: 0.5, messageId: "x" };

describe("watchReducer", () => {
  it("starts with what the live answer had said, then adds the tokens as they arrive", () => {
    const state = reduce({ ...JOIN, partialResponse: "Hello" }, chunk(" wide"), chunk(" world"));
    expect(state.status).toEqual({ kind: "watching" });
    expect(state.userId).toBe("u1");
    expect(state.modelId).toBe("m1");
    expect(state.answers).toEqual([{ text: "Hello wide world", joinedMidway: true, end: null }]);
    expect(liveAnswer(state)?.text).toBe("Hello wide world");
  });

  it("joining between answers shows none until the next one streams", () => {
    const joined = reduce({ ...JOIN, partialResponse: "" });
    expect(joined.answers).toEqual([]);
    expect(liveAnswer(joined)).toBeNull();
    const next = watchReducer(joined, chunk("New"));
    expect(next.answers).toEqual([{ text: "New", joinedMidway: false, end: null }]);
  });

  it("ends an answer with its tokens and credits, and starts the next one apart", () => {
    const state = reduce({ ...JOIN, partialResponse: "A" }, chunk("b"), complete, chunk("Second"));
    expect(state.answers).toEqual([
      { text: "Ab", joinedMidway: true, end: { kind: "complete", tokensUsed: 7, creditsUsed: 0.5 } },
      { text: "Second", joinedMidway: false, end: null },
    ]);
    expect(state.status.kind).toBe("watching");
  });

  it("a failed answer says why and the watch goes on; a lost one ends the watch", () => {
    const failed = reduce({ ...JOIN, partialResponse: "A" }, { type: "error", message: "Model failed", code: "provider_error" });
    expect(failed.answers[0]?.end).toEqual({ kind: "failed", message: "Model failed", code: "provider_error" });
    expect(failed.status.kind).toBe("watching");
    const lost = watchReducer(failed, { type: "error", message: "gone", code: "answer_lost" });
    // A lost answer may have sent nothing yet: it still shows, as lost.
    expect(lost.answers.at(-1)?.end).toEqual({ kind: "failed", message: "gone", code: "answer_lost" });
    expect(lost.status).toEqual({ kind: "lost" });
  });

  it("the server closing the watch cuts the open answer short and says so", () => {
    const state = reduce({ ...JOIN, partialResponse: "Half" }, { type: "closed" });
    expect(state.status).toEqual({ kind: "ended" });
    expect(state.answers[0]?.end).toEqual({ kind: "unknown" });
    expect(liveAnswer(state)).toBeNull();
  });

  it("closing after a lost answer keeps the watch lost", () => {
    const state = reduce(
      { ...JOIN, partialResponse: "A" },
      { type: "error", message: "gone", code: "answer_lost" },
      { type: "closed" },
    );
    expect(state.status).toEqual({ kind: "lost" });
  });

  it("a failure to connect is shown with its message", () => {
    const state = reduce({ type: "failed", message: "Not found" });
    expect(state.status).toEqual({ kind: "failed", message: "Not found" });
    expect(state.answers).toEqual([]);
  });

  it("reconnecting keeps what was seen and adds the rejoined answer after it", () => {
    const before = reduce({ ...JOIN, partialResponse: "One" }, { type: "closed" }, { type: "reconnect" });
    expect(before.status).toEqual({ kind: "connecting" });
    const after = watchReducer(before, { ...JOIN, partialResponse: "One two" });
    expect(after.answers.map((a) => a.text)).toEqual(["One", "One two"]);
    expect(after.status).toEqual({ kind: "watching" });
  });
});
