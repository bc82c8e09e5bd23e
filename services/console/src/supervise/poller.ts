/** Reading something again and again while anyone can see it: one request at a time, the next
 * ``intervalMs`` after the last one ended; none while the page is hidden (the one in flight is
 * aborted), one at once when it shows again; nothing after ``stop``. */

/** The part of ``document`` polling needs (a fake one in tests). */
export interface Visibility {
  readonly hidden: boolean;
  addEventListener(type: "visibilitychange", listener: () => void): void;
  removeEventListener(type: "visibilitychange", listener: () => void): void;
}

export interface PollOptions<T> {
  load: (signal: AbortSignal) => Promise<T>;
  onData: (data: T) => void;
  onError: (error: unknown) => void;
  intervalMs: number;
  visibility?: Visibility | null;
}

/** Starts at once (unless hidden); returns ``stop``. */
export function startPolling<T>({ load, onData, onError, intervalMs, visibility = null }: PollOptions<T>): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let inFlight: AbortController | null = null;
  const hidden = () => visibility?.hidden === true;

  function clearTimer() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  function schedule() {
    if (stopped || hidden() || timer !== null || inFlight !== null) return;
    timer = setTimeout(() => {
      timer = null;
      void tick();
    }, intervalMs);
  }

  async function tick() {
    if (stopped || hidden() || inFlight !== null) return;
    const controller = new AbortController();
    inFlight = controller;
    try {
      const data = await load(controller.signal);
      if (!stopped && !controller.signal.aborted) onData(data);
    } catch (error) {
      if (!stopped && !controller.signal.aborted) onError(error);
    } finally {
      if (inFlight === controller) inFlight = null;
      schedule();
    }
  }

  function onVisibilityChange() {
    clearTimer();
    if (hidden()) {
      inFlight?.abort();
      inFlight = null;
    } else {
      void tick();
    }
  }

  visibility?.addEventListener("visibilitychange", onVisibilityChange);
  void tick();

  return () => {
    stopped = true;
    clearTimer();
    inFlight?.abort();
    inFlight = null;
    visibility?.removeEventListener("visibilitychange", onVisibilityChange);
  };
}
