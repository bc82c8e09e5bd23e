/** The live wall's React hooks: polling a read, a clock for running times, and watching a
 * session's answers. */

import { useCallback, useEffect, useReducer, useState } from "react";

import { describeError } from "../api/errors";
import { supervise } from "./api";
import { startPolling } from "./poller";
import { initialWatch, type WatchState, watchReducer } from "./watch";

export interface Polled<T> {
  data: T | null;
  /** The last read's failure, cleared by the next success; ``data`` keeps the last good one. */
  error: string | null;
  updatedAt: Date | null;
}

/** ``load`` now and every ``intervalMs`` while the page is visible and the component mounted.
 * Keep ``load`` stable (module scope or useCallback): a new one restarts the polling. */
export function usePolling<T>(load: (signal: AbortSignal) => Promise<T>, intervalMs: number): Polled<T> {
  const [state, setState] = useState<Polled<T>>({ data: null, error: null, updatedAt: null });
  useEffect(
    () =>
      startPolling({
        load,
        intervalMs,
        visibility: typeof document === "undefined" ? null : document,
        onData: (data) => setState({ data, error: null, updatedAt: new Date() }),
        onError: (error) => setState((current) => ({ ...current, error: describeError(error) })),
      }),
    [load, intervalMs],
  );
  return state;
}

/** The time now, in milliseconds, renewed every ``intervalMs``. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/** A session's answers as a supervisor sees them, from joining until unmounted; ``reconnect``
 * watches again after the watch ended, was lost or failed. */
export function useWatch(sessionId: string): { state: WatchState; reconnect: () => void } {
  const [state, dispatch] = useReducer(watchReducer, initialWatch);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    void (async () => {
      try {
        for await (const event of supervise.observe(sessionId, abort.signal)) dispatch(event);
        if (!abort.signal.aborted) dispatch({ type: "closed" });
      } catch (failure) {
        if (!abort.signal.aborted) dispatch({ type: "failed", message: describeError(failure) });
      }
    })();
    return () => abort.abort();
  }, [sessionId, attempt]);

  const reconnect = useCallback(() => {
    dispatch({ type: "reconnect" });
    setAttempt((n) => n + 1);
  }, []);

  return { state, reconnect };
}
