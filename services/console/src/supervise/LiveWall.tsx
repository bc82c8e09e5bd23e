/** The live wall: every answer being generated now, on every replica, read again every 2 s
 * while the page is visible; a watcher panel per answer the supervisor opens (several at once,
 * kept in the URL as ``?watch=<sessionId>``), which stays after its answer ends. */

import { Link, useSearchParams } from "react-router";

import { supervise } from "./api";
import { elapsedSeconds, formatDuration, spokenDuration } from "./duration";
import { useNow, usePolling } from "./hooks";
import type { ActiveStream } from "./types";
import { Watcher } from "./Watcher";

export const POLL_MS = 2000;

const loadStreams = (signal: AbortSignal) => supervise.activeStreams(signal);

function watchedOf(params: URLSearchParams): string[] {
  return [...new Set(params.getAll("watch").filter(Boolean))];
}

function searchWith(params: URLSearchParams, watched: string[]): string {
  const next = new URLSearchParams(params);
  next.delete("watch");
  for (const id of watched) next.append("watch", id);
  const text = next.toString();
  return text ? `?${text}` : "";
}

function StreamCard({
  stream,
  now,
  watching,
  watchSearch,
}: {
  stream: ActiveStream;
  now: number;
  watching: boolean;
  watchSearch: string;
}) {
  const who = stream.username || stream.userId;
  const seconds = elapsedSeconds(stream.startedAt, now);
  return (
    <li className="stream-card" data-testid="active-stream" data-session={stream.sessionId}>
      <h2 className="stream-user">{who}</h2>
      <dl className="stream-facts">
        <div>
          <dt>Model</dt>
          <dd>{stream.modelId}</dd>
        </div>
        <div>
          <dt>Session</dt>
          <dd>
            <code title={stream.sessionId}>{stream.sessionId.slice(0, 8)}</code>
          </dd>
        </div>
        <div>
          <dt>Running</dt>
          <dd>
            <time dateTime={`PT${seconds}S`} aria-label={spokenDuration(seconds)}>
              {formatDuration(seconds)}
            </time>
          </dd>
        </div>
      </dl>
      <p className="stream-actions">
        {watching ? (
          <span className="hint">Watching below</span>
        ) : (
          <Link className="button" to={{ search: watchSearch }} aria-label={`Watch ${who}'s answer here`}>
            Watch
          </Link>
        )}
        <Link to={`/supervise/${encodeURIComponent(stream.sessionId)}`} aria-label={`Open ${who}'s session alone`}>
          Full page
        </Link>
        {stream.username && (
          <Link to={`/supervise/usage?user=${encodeURIComponent(stream.username)}`} aria-label={`Usage of ${who}`}>
            Usage
          </Link>
        )}
      </p>
    </li>
  );
}

export function LiveWall() {
  const { data: streams, error, updatedAt } = usePolling(loadStreams, POLL_MS);
  const now = useNow(1000);
  const [params, setParams] = useSearchParams();
  const watched = watchedOf(params);
  const names = new Map((streams ?? []).map((s) => [s.sessionId, s.username || s.userId]));
  const count = streams?.length ?? 0;

  function close(sessionId: string) {
    setParams(searchWith(params, watched.filter((id) => id !== sessionId)));
  }

  return (
    <div className="live-wall">
      <h1 id="page-title">Live wall</h1>
      <p className="hint">
        The answers being generated now, on every server. The wall updates by itself every {POLL_MS / 1000} s while
        this page is visible.
      </p>
      {error && (
        <p role="alert" className="error">
          Could not update the wall: {error}
        </p>
      )}
      <p role="status" className="wall-count">
        {streams === null
          ? error
            ? ""
            : "Loading…"
          : count === 0
            ? "No answers in progress right now."
            : `${count} ${count === 1 ? "answer" : "answers"} in progress`}
      </p>
      {updatedAt && (
        <p className="hint">
          Updated <time dateTime={updatedAt.toISOString()}>{updatedAt.toLocaleTimeString()}</time>
        </p>
      )}
      {count > 0 && (
        <ul className="stream-cards" aria-label="Answers in progress">
          {streams?.map((stream) => (
            <StreamCard
              key={stream.streamingSessionId}
              stream={stream}
              now={now}
              watching={watched.includes(stream.sessionId)}
              watchSearch={searchWith(params, [...watched, stream.sessionId])}
            />
          ))}
        </ul>
      )}
      {watched.length > 0 && (
        <section className="watchers" aria-labelledby="watchers-title">
          <h2 id="watchers-title">Watching ({watched.length})</h2>
          <div className="watcher-grid">
            {watched.map((sessionId) => (
              <Watcher
                key={sessionId}
                sessionId={sessionId}
                username={names.get(sessionId)}
                headingLevel={3}
                onClose={() => close(sessionId)}
              />
            ))}
          </div>
        </section>
      )}
    </div>
  );
}
