/** How long an answer has been running, as a person reads it on the wall. */

/** Whole seconds from ``startedAt`` (seconds since the epoch) to ``nowMs`` (milliseconds);
 * never negative, whatever the skew between the server's clock and this one. */
export function elapsedSeconds(startedAt: number, nowMs: number): number {
  return Math.max(0, Math.floor(nowMs / 1000 - startedAt));
}

/** ``m:ss`` under an hour, ``h:mm:ss`` from then on. */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** The same for a screen reader: "1 min 5 s", "2 h 0 min 3 s", "4 s". */
export function spokenDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${m} min ${s} s`;
  if (m > 0) return `${m} min ${s} s`;
  return `${s} s`;
}
