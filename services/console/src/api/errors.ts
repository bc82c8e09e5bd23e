/** An API refusal in the platform's envelope ({message, code}), and what to tell a person. */

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfterSeconds: number | null;

  constructor(status: number, code: string, message: string, retryAfterSeconds: number | null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

function retryAfter(response: Response): number | null {
  const value = response.headers.get("Retry-After");
  if (value === null || !/^\d+$/.test(value.trim())) return null;
  return Number(value.trim());
}

/** The ApiError of a non-2xx response, whatever its body. */
export async function errorFrom(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = response.statusText || `HTTP ${response.status}`;
  try {
    const body: unknown = await response.json();
    if (body && typeof body === "object") {
      const fields = body as Record<string, unknown>;
      if (typeof fields.code === "string") code = fields.code;
      if (typeof fields.message === "string") message = fields.message;
    }
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  return new ApiError(response.status, code, message, retryAfter(response));
}

/** A sentence for the person at the screen. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 402) {
      return "You are out of credits: ask an administrator to allocate more.";
    }
    if (error.code === "mfa_setup_required") {
      return "Your role needs two-factor authentication: set it up on the Account page first.";
    }
    if (error.status === 429) {
      return error.retryAfterSeconds !== null
        ? `Too many requests: try again in ${error.retryAfterSeconds} s.`
        : "Too many requests: wait a moment and try again.";
    }
    if (error.status === 503) {
      return error.code === "model_unavailable"
        ? "This model is unavailable right now: pick another one."
        : "The service is unavailable right now: try again shortly.";
    }
    return error.message;
  }
  if (error instanceof TypeError) return "Cannot reach the server: check your connection.";
  return error instanceof Error ? error.message : String(error);
}
