/** The supervisor's calls, on the console's one client (its token, its refresh on a 401). */

import { api, type ApiClient } from "../api/client";
import { ApiError } from "../api/errors";
import { readSse } from "../api/sse";
import type { ActiveStream, ActiveStreams, ObserverEvent, UsageStats } from "./types";

const OBSERVER_EVENTS = new Set(["observer", "chunk", "complete", "error"]);

/** A frame of the observer stream as an ObserverEvent; null for an event type it does not know
 * (an ApiError for a known one whose data is not a JSON object). */
export function toObserverEvent(type: string, data: string): ObserverEvent | null {
  if (!OBSERVER_EVENTS.has(type)) return null;
  let fields: unknown;
  try {
    fields = JSON.parse(data);
  } catch {
    fields = null;
  }
  if (!fields || typeof fields !== "object" || Array.isArray(fields)) {
    throw new ApiError(502, "bad_stream", `The server sent a malformed ${type} event`, null);
  }
  return { ...(fields as object), type } as ObserverEvent;
}

export function superviseApi(client: ApiClient = api) {
  return {
    /** The answers in progress across all replicas, oldest first. */
    async activeStreams(signal?: AbortSignal): Promise<ActiveStream[]> {
      const body = await client.request<ActiveStreams>("GET", "/api/chat/streams/active", { signal });
      return [...body.streams].sort((a, b) => a.startedAt - b.startedAt);
    },

    /** A session's answers as they stream (the answer so far first), until the server ends the
     * watch or ``signal`` aborts. EventSource cannot send the Authorization header: fetch. */
    async *observe(sessionId: string, signal?: AbortSignal): AsyncGenerator<ObserverEvent> {
      const path = `/api/chat/sessions/${encodeURIComponent(sessionId)}/observe`;
      const response = await client.raw("GET", path, {
        headers: { Accept: "text/event-stream" },
        signal,
      });
      if (response.body === null) return;
      for await (const frame of readSse(response.body)) {
        const event = toObserverEvent(frame.event, frame.data);
        if (event) yield event;
      }
    },

    /** A user's usage over the last ``days`` days, by username or id. */
    userStats(user: string, days: number, signal?: AbortSignal): Promise<UsageStats> {
      const path = `/api/usage/stats/${encodeURIComponent(user)}?days=${days}`;
      return client.request("GET", path, { signal });
    },
  };
}

export type SuperviseApi = ReturnType<typeof superviseApi>;

export const supervise = superviseApi();
