/**
 * Server-Sent Events read from a fetch body (EventSource cannot POST or set Authorization).
 * Parsing follows the HTML standard's event stream rules: lines end in CRLF, LF or CR; `data`
 * lines join with "\n"; a blank line dispatches; comments (heartbeats) and events without data
 * are skipped; `id` persists as the last event id.
 */

export interface SseEvent {
  event: string;
  data: string;
  id: string;
}

export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private eventType = "";
  private lastEventId = "";

  /** Feed decoded text; returns the events it completed. */
  push(text: string): SseEvent[] {
    this.buffer += text;
    const events: SseEvent[] = [];
    for (;;) {
      const end = this.lineEnd();
      if (end === null) break;
      const line = this.buffer.slice(0, end.index);
      this.buffer = this.buffer.slice(end.index + end.length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  /** The stream ended: a final line without its end of line still counts, an unfinished event
   * (no blank line after it) does not, as the standard says. */
  finish(): SseEvent[] {
    if (this.buffer === "") return [];
    const rest = this.buffer.endsWith("\r") ? this.buffer.slice(0, -1) : this.buffer;
    this.buffer = "";
    this.line(rest);
    return [];
  }

  private lineEnd(): { index: number; length: number } | null {
    for (let i = 0; i < this.buffer.length; i += 1) {
      const char = this.buffer[i];
      if (char === "\n") return { index: i, length: 1 };
      if (char === "\r") {
        // A CR at the end of what arrived may be the first half of a CRLF: wait for more.
        if (i + 1 === this.buffer.length) return null;
        return { index: i, length: this.buffer[i + 1] === "\n" ? 2 : 1 };
      }
    }
    return null;
  }

  private line(line: string): SseEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.eventType = value;
    else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
    return null;
  }

  private dispatch(): SseEvent | null {
    const data = this.data;
    const type = this.eventType;
    this.data = [];
    this.eventType = "";
    if (data.length === 0) return null;
    return { event: type || "message", data: data.join("\n"), id: this.lastEventId };
  }
}

/** The events of a response body as they arrive. Stopping early (``break``, or the fetch's
 * AbortSignal) cancels the body, which closes the connection. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    finished = true;
    yield* parser.push(decoder.decode());
    yield* parser.finish();
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
