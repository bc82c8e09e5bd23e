/** The public API's bodies the console uses (CONTRACT.md), camelCase as sent. */

export type Role = "enduser" | "supervisor" | "admin";

export interface User {
  id: string;
  username: string;
  email: string;
  role: Role;
}

export interface LoginResponse {
  accessToken: string;
  refreshToken: string;
  user: User;
}

export interface MfaRequired {
  mfaRequired: true;
  mfaToken: string;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

export interface Allocation {
  id: string;
  totalCredits: number;
  remainingCredits: number;
  expiresAt: string | null;
  notes: string | null;
}

export interface Balance {
  userId: string;
  totalCredits: number;
  reservedCredits: number;
  activeAllocations: Allocation[];
}

export type ModelStatus = "available" | "degraded" | "unavailable";

export interface Model {
  id: string;
  name: string;
  provider: string;
  tier: string;
  strengths: string[];
  status: ModelStatus;
}

export interface ChatSession {
  sessionId: string;
  title: string;
  modelId: string;
  createdAt: string;
  updatedAt?: string | null;
  messageCount?: number;
}

export interface Pagination {
  page: number;
  limit: number;
  total: number;
  pages: number;
}

export interface SessionList {
  sessions: ChatSession[];
  pagination: Pagination;
}

export interface ChatMessage {
  id: string;
  role: "user" | "assistant";
  content: string;
  modelId?: string | null;
  createdAt: string;
  status?: string | null;
  tokensUsed?: number | null;
  creditsUsed?: number | null;
}

export interface SessionDetail extends ChatSession {
  userId: string;
  messages: ChatMessage[];
}

/** The user stream's events (CONTRACT.md "Stream events"), each with its SSE id. */
export type ChatEvent =
  | { type: "model"; id: string; modelId: string; streamingSessionId: string }
  | { type: "chunk"; id: string; content: string; tokenCount: number }
  | {
      type: "complete";
      id: string;
      sessionId: string;
      tokensUsed: number;
      creditsUsed: number | null;
      messageId: string;
    }
  | { type: "error"; id: string; message: string; code: string };
