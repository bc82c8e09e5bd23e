import { describe, expect, it } from "vitest";

import { ApiClient, toChatEvent } from "./client";
import { ApiError, describeError } from "./errors";

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  credentials: RequestCredentials | undefined;
}

/** A fetch that answers from a list, in order, and records each request. */
function fakeFetch(...answers: Response[]) {
  const calls: Call[] = [];
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({
      url: String(input),
      method: init?.method ?? "GET",
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body as string | undefined,
      credentials: init?.credentials,
    });
    const answer = answers.shift();
    if (!answer) throw new Error(`unexpected request ${String(input)}`);
    return answer;
  }) as typeof fetch;
  return { calls, fetcher };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function sse(text: string): Response {
  return new Response(text, { status: 200, headers: { "Content-Type": "text/event-stream" } });
}

const USER = { id: "u1", username: "user1", email: "user1@example.com", role: "enduser" };

describe("ApiClient", () => {
  it("keeps the login's access token in memory and sends it", async () => {
    const { calls, fetcher } = fakeFetch(
      json(200, { accessToken: "a1", refreshToken: "r1", user: USER }),
      json(200, USER),
    );
    const client = new ApiClient({ fetch: fetcher });
    await client.login("user1", "User1@123");
    await client.me();
    expect(calls[0]?.headers.Authorization).toBeUndefined();
    expect(JSON.parse(calls[0]?.body ?? "")).toEqual({ username: "user1", password: "User1@123" });
    expect(calls[1]?.headers.Authorization).toBe("Bearer a1");
    expect(calls.every((call) => call.credentials === "same-origin")).toBe(true);
  });

  it("reads the access token's claims for display, and none when signed out", () => {
    const client = new ApiClient();
    expect(client.claims()).toBeNull();
    const claims = { sub: "u1", mfaEnabled: true, name: "Zoë" };
    const payload = Buffer.from(JSON.stringify(claims), "utf8").toString("base64url");
    client.setAccessToken(`e30.${payload}.sig`);
    expect(client.claims()).toEqual({ sub: "u1", mfaEnabled: true, name: "Zoë" });
    client.setAccessToken("not-a-jwt");
    expect(client.claims()).toBeNull();
  });

  it("answers mfaRequired without a token", async () => {
    const { fetcher } = fakeFetch(json(200, { mfaRequired: true, mfaToken: "m1" }));
    const client = new ApiClient({ fetch: fetcher });
    expect(await client.login("user1", "pw")).toEqual({ mfaRequired: true, mfaToken: "m1" });
    expect(client.signedIn).toBe(false);
  });

  it("refreshes once on a 401 (from the cookie: no body) and retries", async () => {
    const { calls, fetcher } = fakeFetch(
      json(401, { code: "invalid_token", message: "Invalid authentication token" }),
      json(200, { accessToken: "a2", refreshToken: "r2" }),
      json(200, USER),
    );
    const client = new ApiClient({ fetch: fetcher });
    client.setAccessToken("expired");
    expect(await client.me()).toEqual(USER);
    expect(calls.map((call) => [call.method, call.url])).toEqual([
      ["GET", "/api/auth/me"],
      ["POST", "/api/auth/refresh"],
      ["GET", "/api/auth/me"],
    ]);
    expect(calls[1]?.body).toBeUndefined();
    expect(calls[1]?.headers.Authorization).toBeUndefined();
    expect(calls[2]?.headers.Authorization).toBe("Bearer a2");
  });

  it("shares one refresh between concurrent 401s", async () => {
    const unauthorized = () => json(401, { code: "invalid_token", message: "no" });
    const { calls, fetcher } = fakeFetch(
      unauthorized(),
      unauthorized(),
      json(200, { accessToken: "a2", refreshToken: "r2" }),
      json(200, USER),
      json(200, USER),
    );
    const client = new ApiClient({ fetch: fetcher });
    client.setAccessToken("expired");
    await Promise.all([client.me(), client.me()]);
    expect(calls.filter((call) => call.url === "/api/auth/refresh")).toHaveLength(1);
  });

  it("signs out when the refresh is refused", async () => {
    const { fetcher } = fakeFetch(
      json(401, { code: "invalid_token", message: "Invalid authentication token" }),
      json(401, { code: "invalid_token", message: "Invalid authentication token" }),
    );
    const client = new ApiClient({ fetch: fetcher });
    let signedOut = false;
    client.onSignedOut = () => {
      signedOut = true;
    };
    client.setAccessToken("expired");
    await expect(client.me()).rejects.toMatchObject({ status: 401, code: "invalid_token" });
    expect(signedOut).toBe(true);
    expect(client.signedIn).toBe(false);
  });

  it("turns an error envelope into an ApiError with Retry-After", async () => {
    const { fetcher } = fakeFetch(
      json(429, { code: "rate_limited", message: "Too many requests" }, { "Retry-After": "12" }),
    );
    const client = new ApiClient({ fetch: fetcher });
    client.setAccessToken("a1");
    const error = await client.balance().catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 429, code: "rate_limited", retryAfterSeconds: 12 });
    expect(describeError(error)).toBe("Too many requests: try again in 12 s.");
  });

  it("reads a body that is not JSON as the status alone", async () => {
    const { fetcher } = fakeFetch(new Response("<html>bad gateway</html>", { status: 502 }));
    const client = new ApiClient({ fetch: fetcher });
    await expect(client.models()).rejects.toMatchObject({ status: 502, code: "http_502" });
  });

  it("streams an answer's events in order, skipping heartbeats and unknown events", async () => {
    const { calls, fetcher } = fakeFetch(
      sse(
        'id: s:1\nevent: model\ndata: {"modelId":"m","streamingSessionId":"s"}\n\n' +
          ": heartbeat\n\n" +
          'id: s:2\nevent: chunk\ndata: {"content":"Hel","tokenCount":1}\n\n' +
          'id: s:3\nevent: chunk\ndata: {"content":"lo","tokenCount":2}\n\n' +
          'id: s:4\nevent: novelty\ndata: {}\n\n' +
          'id: s:5\nevent: complete\ndata: {"sessionId":"c1","tokensUsed":2,"creditsUsed":0.5,"messageId":"x"}\n\n',
      ),
    );
    const client = new ApiClient({ fetch: fetcher });
    client.setAccessToken("a1");
    const events = [];
    for await (const event of client.streamAnswer("c1", { message: "Hi", modelId: "m" })) {
      events.push(event);
    }
    expect(events.map((event) => [event.type, event.id])).toEqual([
      ["model", "s:1"],
      ["chunk", "s:2"],
      ["chunk", "s:3"],
      ["complete", "s:5"],
    ]);
    expect(events[3]).toMatchObject({ creditsUsed: 0.5, tokensUsed: 2 });
    expect(calls[0]?.url).toBe("/api/chat/sessions/c1/stream");
    expect(calls[0]?.headers.Accept).toBe("text/event-stream");
    expect(JSON.parse(calls[0]?.body ?? "")).toEqual({ message: "Hi", modelId: "m" });
  });

  it("resumes with Last-Event-ID and no body, and ends quietly on 204", async () => {
    const { calls, fetcher } = fakeFetch(new Response(null, { status: 204 }));
    const client = new ApiClient({ fetch: fetcher });
    client.setAccessToken("a1");
    const events = [];
    for await (const event of client.streamAnswer("c1", { lastEventId: "s:9" })) events.push(event);
    expect(events).toEqual([]);
    expect(calls[0]?.headers["Last-Event-ID"]).toBe("s:9");
    expect(calls[0]?.body).toBeUndefined();
  });

  it("raises the refusal before a stream starts (402)", async () => {
    const { fetcher } = fakeFetch(
      json(402, { code: "insufficient_credits", message: "Insufficient credits" }),
    );
    const client = new ApiClient({ fetch: fetcher });
    client.setAccessToken("a1");
    const error = await client
      .streamAnswer("c1", { message: "Hi" })
      .next()
      .catch((failure: unknown) => failure);
    expect(error).toMatchObject({ status: 402, code: "insufficient_credits" });
    expect(describeError(error)).toMatch(/out of credits/);
  });

  it("encodes the session id in the path", async () => {
    const { calls, fetcher } = fakeFetch(json(200, { message: "Session deleted" }));
    const client = new ApiClient({ fetch: fetcher });
    client.setAccessToken("a1");
    await client.deleteSession("a/b?c");
    expect(calls[0]?.url).toBe("/api/chat/sessions/a%2Fb%3Fc");
  });
});

describe("toChatEvent", () => {
  it("refuses a malformed event body", () => {
    expect(() => toChatEvent("chunk", "{not json", "1")).toThrow(ApiError);
  });

  it("tells a model that is unavailable from a service that is down", () => {
    expect(describeError(new ApiError(503, "model_unavailable", "x", null))).toMatch(/pick another/);
    expect(describeError(new ApiError(503, "chat_unavailable", "x", 5))).toMatch(/try again/);
  });
});
