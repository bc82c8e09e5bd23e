import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { startPolling, type Visibility } from "./poller";

class FakeDocument implements Visibility {
  hidden = false;
  private listeners = new Set<() => void>();
  addEventListener(_: "visibilitychange", listener: () => void) {
    this.listeners.add(listener);
  }
  removeEventListener(_: "visibilitychange", listener: () => void) {
    this.listeners.delete(listener);
  }
  get listening() {
    return this.listeners.size;
  }
  set(hidden: boolean) {
    this.hidden = hidden;
    for (const listener of this.listeners) listener();
  }
}

/** A load whose calls are each answered by the test. */
function controlledLoad() {
  const calls: { signal: AbortSignal; resolve: (n: number) => void; reject: (e: unknown) => void }[] = [];
  const load = (signal: AbortSignal) =>
    new Promise<number>((resolve, reject) => {
      calls.push({ signal, resolve, reject });
    });
  return { calls, load };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("startPolling", () => {
  it("loads at once, then again an interval after each answer, never two at a time", async () => {
    const { calls, load } = controlledLoad();
    const data: number[] = [];
    const stop = startPolling({ load, intervalMs: 2000, onData: (n) => data.push(n), onError: () => undefined });
    expect(calls).toHaveLength(1);
    // A slow answer: no second request while the first is out.
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(1);
    calls[0]?.resolve(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(data).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    stop();
  });

  it("reports a failure and goes on polling", async () => {
    const { calls, load } = controlledLoad();
    const errors: unknown[] = [];
    const data: number[] = [];
    const stop = startPolling({ load, intervalMs: 1000, onData: (n) => data.push(n), onError: (e) => errors.push(e) });
    calls[0]?.reject(new Error("down"));
    await vi.advanceTimersByTimeAsync(1000);
    expect(errors).toEqual([new Error("down")]);
    expect(calls).toHaveLength(2);
    calls[1]?.resolve(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(data).toEqual([2]);
    stop();
  });

  it("stops: aborts the request out, reports nothing after, schedules nothing more", async () => {
    const { calls, load } = controlledLoad();
    const onData = vi.fn();
    const visibility = new FakeDocument();
    const stop = startPolling({ load, intervalMs: 1000, onData, onError: vi.fn(), visibility });
    expect(visibility.listening).toBe(1);
    stop();
    expect(calls[0]?.signal.aborted).toBe(true);
    expect(visibility.listening).toBe(0);
    calls[0]?.resolve(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(onData).not.toHaveBeenCalled();
    expect(calls).toHaveLength(1);
  });

  it("pauses while the page is hidden and loads at once when it shows again", async () => {
    const { calls, load } = controlledLoad();
    const visibility = new FakeDocument();
    const onData = vi.fn();
    const stop = startPolling({ load, intervalMs: 1000, onData, onError: vi.fn(), visibility });
    calls[0]?.resolve(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(2);
    visibility.set(true);
    expect(calls[1]?.signal.aborted).toBe(true);
    calls[1]?.resolve(2); // too late: aborted
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(2);
    expect(onData).toHaveBeenCalledTimes(1);
    visibility.set(false);
    expect(calls).toHaveLength(3);
    calls[2]?.resolve(3);
    await vi.advanceTimersByTimeAsync(0);
    expect(onData).toHaveBeenLastCalledWith(3);
    stop();
  });

  it("does not start while hidden", async () => {
    const { calls, load } = controlledLoad();
    const visibility = new FakeDocument();
    visibility.hidden = true;
    const stop = startPolling({ load, intervalMs: 1000, onData: vi.fn(), onError: vi.fn(), visibility });
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toHaveLength(0);
    visibility.set(false);
    expect(calls).toHaveLength(1);
    stop();
  });
});
