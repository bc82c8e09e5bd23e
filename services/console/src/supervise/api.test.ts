import { describe, expect, it } from "vitest";

import { ApiClient } from "../api/client";
import { ApiError } from "../api/errors";
import { superviseApi, toObserverEvent } from "./api";

function recordingFetch(...answers: Response[]) {
  const calls: { url: string; headers: Record<string, string>; method: string }[] = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({
      url: String(input),
      method: init?.method ?? "GET",
      headers: (init?.headers ?? {}) as Record<string, string>,
    });
    const answer = answers.shift();
    if (!answer) throw new Error(`unexpected request ${String(input)}`);
    return answer;
  }) as typeof fetch;
  return { calls, fetcher };
}

function client(...answers: Response[]) {
  const { calls, fetcher } = recordingFetch(...answers);
  const apiClient = new ApiClient({ fetch: fetcher });
  apiClient.setAccessToken("a1");
  return { calls, supervise: superviseApi(apiClient) };
}

describe("toObserverEvent", () => {
  it("types the observer stream's events and skips others", () => {
    expect(toObserverEvent("chunk", '{"content":"Hi","tokenCount":1}')).toEqual({
      type: "chunk",
      content: "Hi",
      tokenCount: 1,
    });
    expect(toObserverEvent("model", '{"modelId":"m"}')).toBeNull();
    expect(toObserverEvent("message", "hello")).toBeNull();
  });

  it("refuses a known event with malformed data", () => {
    expect(() => toObserverEvent("chunk", "not json")).toThrow(ApiError);
    expect(() => toObserverEvent("observer", "[1]")).toThrow(ApiError);
  });
});

describe("superviseApi", () => {
  it("lists the active streams, oldest first, with the access token", async () => {
    const streams = [
      { streamingSessionId: "b", sessionId: "s2", userId: "u2", username: "bob", modelId: "m", startedAt: 20 },
      { streamingSessionId: "a", sessionId: "s1", userId: "u1", username: "ann", modelId: "m", startedAt: 10 },
    ];
    const { calls, supervise } = client(Response.json({ streams }));
    const found = await supervise.activeStreams();
    expect(found.map((s) => s.username)).toEqual(["ann", "bob"]);
    expect(calls[0]?.url).toBe("/api/chat/streams/active");
    expect(calls[0]?.headers.Authorization).toBe("Bearer a1");
  });

  it("observes a session over fetch with the Authorization header and yields its events", async () => {
    const body =
      'event: observer\ndata: {"sessionId":"s/1","userId":"u1","modelId":"m","partialResponse":"He"}\n\n' +
      ": heartbeat\n\n" +
      'id: x:3\nevent: chunk\ndata: {"content":"llo","tokenCount":2}\n\n' +
      'id: x:4\nevent: complete\ndata: {"sessionId":"s/1","tokensUsed":2,"creditsUsed":0.1,"messageId":"m1"}\n\n';
    const { calls, supervise } = client(new Response(body, { headers: { "Content-Type": "text/event-stream" } }));
    const events = [];
    for await (const event of supervise.observe("s/1")) events.push(event.type);
    expect(events).toEqual(["observer", "chunk", "complete"]);
    expect(calls[0]?.url).toBe("/api/chat/sessions/s%2F1/observe");
    expect(calls[0]?.method).toBe("GET");
    expect(calls[0]?.headers.Authorization).toBe("Bearer a1");
    expect(calls[0]?.headers.Accept).toBe("text/event-stream");
  });

  it("a refused observation is an ApiError before any event", async () => {
    const { supervise } = client(Response.json({ message: "Session not found", code: "not_found" }, { status: 404 }));
    const events = supervise.observe("nope");
    await expect(events.next()).rejects.toMatchObject({ status: 404, code: "not_found" });
  });

  it("asks for a user's usage by username and period", async () => {
    const { calls, supervise } = client(Response.json({ userId: "u1", days: 7 }));
    await supervise.userStats("ann smith", 7);
    expect(calls[0]?.url).toBe("/api/usage/stats/ann%20smith?days=7");
  });
});
