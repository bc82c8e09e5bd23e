/**
 * The typed client of the public API, same origin as the console. The access token lives only
 * in this object's memory; the refresh token is an httpOnly cookie that auth sets and only the
 * browser sends (to /api/auth). A 401 is answered by one refresh and one retry.
 */

import { ApiError, errorFrom } from "./errors";
import { readSse } from "./sse";
import type {
  Balance,
  ChatEvent,
  ChatSession,
  LoginResponse,
  MfaRequired,
  Model,
  SessionDetail,
  SessionList,
  TokenPair,
  User,
} from "./types";

type Method = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

interface RequestOptions {
  body?: unknown;
  /** Send the access token, and refresh it once on a 401 (default true). */
  auth?: boolean;
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export interface ClientOptions {
  baseUrl?: string;
  fetch?: typeof fetch;
}

export class ApiClient {
  private accessToken: string | null = null;
  private refreshing: Promise<boolean> | null = null;
  private readonly baseUrl: string;
  private readonly fetcher: typeof fetch;
  /** Called when a refresh fails: the session is over. */
  onSignedOut: (() => void) | null = null;

  constructor(options: ClientOptions = {}) {
    this.baseUrl = options.baseUrl ?? "";
    this.fetcher = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  get signedIn(): boolean {
    return this.accessToken !== null;
  }

  setAccessToken(token: string | null): void {
    this.accessToken = token;
  }

  /** The access token's claims, read without verifying: for display only (every service
   * verifies the token itself). Null when signed out or unreadable. */
  claims(): Record<string, unknown> | null {
    const payload = this.accessToken?.split(".")[1];
    if (!payload) return null;
    try {
      const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
      const json = new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
      const claims: unknown = JSON.parse(json);
      return claims && typeof claims === "object" ? (claims as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  }

  /** A new access token from the refresh cookie; concurrent callers share one refresh (a
   * refresh token is single-use: two at once would revoke the family). */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    try {
      const response = await this.send("POST", "/api/auth/refresh", { auth: false });
      if (!response.ok) {
        this.accessToken = null;
        return false;
      }
      const pair = (await response.json()) as TokenPair;
      this.accessToken = pair.accessToken;
      return true;
    } catch {
      return false;
    }
  }

  private send(method: Method, path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    if (options.auth !== false && this.accessToken) {
      headers.Authorization = `Bearer ${this.accessToken}`;
    }
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    return this.fetcher(this.baseUrl + path, {
      method,
      headers,
      body,
      signal: options.signal,
      credentials: "same-origin",
    });
  }

  /** The response (2xx), after one refresh and retry on a 401; an ApiError otherwise. */
  async raw(method: Method, path: string, options: RequestOptions = {}): Promise<Response> {
    let response = await this.send(method, path, options);
    if (response.status === 401 && options.auth !== false && this.accessToken !== null) {
      if (await this.refresh()) {
        response = await this.send(method, path, options);
      } else {
        this.onSignedOut?.();
      }
    }
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.raw(method, path, options);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  // Auth

  async login(username: string, password: string): Promise<LoginResponse | MfaRequired> {
    const answer = await this.request<LoginResponse | MfaRequired>("POST", "/api/auth/login", {
      body: { username, password },
      auth: false,
    });
    if ("accessToken" in answer) this.accessToken = answer.accessToken;
    return answer;
  }

  async loginWithCode(mfaToken: string, code: string): Promise<LoginResponse> {
    const answer = await this.request<LoginResponse>("POST", "/api/auth/login/2fa", {
      body: { mfaToken, code },
      auth: false,
    });
    this.accessToken = answer.accessToken;
    return answer;
  }

  register(username: string, email: string, password: string): Promise<LoginResponse> {
    return this.request("POST", "/api/auth/register", {
      body: { username, email, password },
      auth: false,
    });
  }

  /** Revokes the refresh cookie's family and clears the cookie; the token is forgotten anyway. */
  async logout(): Promise<void> {
    try {
      await this.request<void>("POST", "/api/auth/logout");
    } finally {
      this.accessToken = null;
    }
  }

  me(): Promise<User> {
    return this.request("GET", "/api/auth/me");
  }

  // Credits and models

  balance(): Promise<Balance> {
    return this.request("GET", "/api/credits/balance");
  }

  async models(): Promise<Model[]> {
    return (await this.request<{ models: Model[] }>("GET", "/api/models")).models;
  }

  /** Credits for 1,000 tokens of the model (at its higher rate, input or output). */
  async pricePer1k(modelId: string): Promise<number> {
    const body = { modelId, tokens: 1000 };
    return (await this.request<{ credits: number }>("POST", "/api/credits/calculate", { body }))
      .credits;
  }

  // Chat

  sessions(page = 1, limit = 50): Promise<SessionList> {
    return this.request("GET", `/api/chat/sessions?page=${page}&limit=${limit}`);
  }

  createSession(body: { title?: string; modelId?: string }): Promise<ChatSession> {
    return this.request("POST", "/api/chat/sessions", { body });
  }

  session(id: string): Promise<SessionDetail> {
    return this.request("GET", `/api/chat/sessions/${encodeURIComponent(id)}`);
  }

  async deleteSession(id: string): Promise<void> {
    await this.request("DELETE", `/api/chat/sessions/${encodeURIComponent(id)}`);
  }

  /** The answer's events as they stream in. With ``lastEventId`` (and no message) it resumes
   * an answer after the last event received. Aborting ``signal`` stops reading. */
  async *streamAnswer(
    sessionId: string,
    ask: { message?: string; modelId?: string; lastEventId?: string },
    signal?: AbortSignal,
  ): AsyncGenerator<ChatEvent> {
    const headers: Record<string, string> = { Accept: "text/event-stream" };
    if (ask.lastEventId) headers["Last-Event-ID"] = ask.lastEventId;
    const body = ask.message === undefined ? undefined : { message: ask.message, modelId: ask.modelId };
    const path = `/api/chat/sessions/${encodeURIComponent(sessionId)}/stream`;
    const response = await this.raw("POST", path, { body, headers, signal });
    if (response.status === 204 || response.body === null) return;
    for await (const frame of readSse(response.body)) {
      const event = toChatEvent(frame.event, frame.data, frame.id);
      if (event) yield event;
    }
  }
}

/** A stream frame as a ChatEvent; null for an event type the console does not know. */
export function toChatEvent(type: string, data: string, id: string): ChatEvent | null {
  if (!["model", "chunk", "complete", "error"].includes(type)) return null;
  let fields: unknown;
  try {
    fields = JSON.parse(data);
  } catch {
    throw new ApiError(502, "bad_stream", `The server sent a malformed ${type} event`, null);
  }
  if (!fields || typeof fields !== "object") {
    throw new ApiError(502, "bad_stream", `The server sent a malformed ${type} event`, null);
  }
  return { ...(fields as object), type, id } as ChatEvent;
}

/** The console's one client. */
export const api = new ApiClient();
