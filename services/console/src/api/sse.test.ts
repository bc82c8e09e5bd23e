import { describe, expect, it } from "vitest";

import { readSse, SseParser } from "./sse";

function streamOf(...chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) {
        controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
      }
      controller.close();
    },
  });
}

async function all(body: ReadableStream<Uint8Array>) {
  const events = [];
  for await (const event of readSse(body)) events.push(event);
  return events;
}

describe("SseParser", () => {
  it("parses an event with its type, id and data", () => {
    const events = new SseParser().push('id: s1:1\nevent: chunk\ndata: {"content":"Hi"}\n\n');
    expect(events).toEqual([{ id: "s1:1", event: "chunk", data: '{"content":"Hi"}' }]);
  });

  it("waits for the blank line before dispatching", () => {
    const parser = new SseParser();
    expect(parser.push("event: chunk\ndata: a")).toEqual([]);
    expect(parser.push("b\n")).toEqual([]);
    expect(parser.push("\n")).toEqual([{ id: "", event: "chunk", data: "ab" }]);
  });

  it("joins data lines with a newline and keeps a space after the first", () => {
    const events = new SseParser().push("data: one\ndata:  two\ndata\n\n");
    expect(events[0]?.data).toBe("one\n two\n");
  });

  it("accepts CRLF and lone CR line ends, even a CRLF split between chunks", () => {
    const parser = new SseParser();
    expect(parser.push("data: a\r")).toEqual([]);
    expect(parser.push("\n\r\n")).toEqual([{ id: "", event: "message", data: "a" }]);
    expect(parser.push("data: b\r\rdata: c\r\n\r\n")).toEqual([
      { id: "", event: "message", data: "b" },
      { id: "", event: "message", data: "c" },
    ]);
  });

  it("skips comments (heartbeats) and events without data", () => {
    const events = new SseParser().push(": ping\n\nevent: chunk\n\n: ping\ndata: x\n\n");
    expect(events).toEqual([{ id: "", event: "message", data: "x" }]);
  });

  it("keeps the last id for later events and resets the type after each", () => {
    const events = new SseParser().push("id: 7\nevent: model\ndata: a\n\ndata: b\n\n");
    expect(events.map((event) => [event.id, event.event])).toEqual([
      ["7", "model"],
      ["7", "message"],
    ]);
  });

  it("ignores an id containing NUL", () => {
    const events = new SseParser().push("id: 1\ndata: a\n\nid: 2\0\ndata: b\n\n");
    expect(events.map((event) => event.id)).toEqual(["1", "1"]);
  });
});

describe("readSse", () => {
  it("decodes a multi-byte character split between chunks", async () => {
    const bytes = new TextEncoder().encode("data: é€\n\n");
    const events = await all(streamOf(bytes.slice(0, 7), bytes.slice(7)));
    expect(events).toEqual([{ id: "", event: "message", data: "é€" }]);
  });

  it("drops an event the stream ended in the middle of", async () => {
    const events = await all(streamOf("data: whole\n\n", "data: half"));
    expect(events.map((event) => event.data)).toEqual(["whole"]);
  });

  it("cancels the body when the reader stops early", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("data: 1\n\ndata: 2\n\n"));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const event of readSse(body)) {
      expect(event.data).toBe("1");
      break;
    }
    expect(cancelled).toBe(true);
  });
});
