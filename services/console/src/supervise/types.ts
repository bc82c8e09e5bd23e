/** The supervisor routes' bodies (CONTRACT.md chat and accounting tables), camelCase as sent. */

import type { DayUsage, ModelUsage, UsageTotals } from "../usage/types";

export type { DayUsage, ModelUsage, UsageTotals };

/** GET /api/chat/streams/active: one answer being generated now, on any replica. */
export interface ActiveStream {
  streamingSessionId: string;
  sessionId: string;
  userId: string;
  /** Empty when the replica did not record it. */
  username: string;
  modelId: string;
  /** When the answer started, in seconds since the epoch (the server's clock). */
  startedAt: number;
}

export interface ActiveStreams {
  streams: ActiveStream[];
}

/** The observer stream's events (CONTRACT.md "Stream events"): ``observer`` on join, then the
 * user stream's ``chunk``, ``complete`` and ``error``. */
export type ObserverEvent =
  | { type: "observer"; sessionId: string; userId: string; modelId: string; partialResponse: string }
  | { type: "chunk"; content: string; tokenCount: number }
  | { type: "complete"; sessionId: string; tokensUsed: number; creditsUsed: number | null; messageId: string }
  | { type: "error"; message: string; code: string };

/** GET /api/usage/stats/{user}: credits are decimal numbers (at most 6 fractional digits). */
export interface UsageStats {
  userId: string;
  days: number;
  keyId: string | null;
  totals: UsageTotals;
  byok: UsageTotals;
  byModel: ModelUsage[];
  byDay: DayUsage[];
}
