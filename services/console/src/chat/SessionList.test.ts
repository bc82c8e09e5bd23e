import { describe, expect, it } from "vitest";

import type { ChatSession } from "../api/types";
import { matchingSessions } from "./SessionList";

const session = (title: string): ChatSession => ({ sessionId: title, title, modelId: "m", createdAt: "2026-01-01" });
const SESSIONS = [session("Explain streaming"), session("Crème brûlée recipe"), session("Streaming ledgers in Python")];

describe("matchingSessions", () => {
  it("keeps every session for an empty or blank query", () => {
    expect(matchingSessions(SESSIONS, "")).toBe(SESSIONS);
    expect(matchingSessions(SESSIONS, "   ")).toBe(SESSIONS);
  });

  it("matches every word of the query in the title, in any case and order", () => {
    expect(matchingSessions(SESSIONS, "STREAM").map((s) => s.title)).toEqual([
      "Explain streaming",
      "Streaming ledgers in Python",
    ]);
    expect(matchingSessions(SESSIONS, "python streaming").map((s) => s.title)).toEqual([
      "Streaming ledgers in Python",
    ]);
    expect(matchingSessions(SESSIONS, "streaming recipe")).toEqual([]);
  });

  it("ignores accents", () => {
    expect(matchingSessions(SESSIONS, "creme brulee").map((s) => s.title)).toEqual(["Crème brûlée recipe"]);
  });
});
