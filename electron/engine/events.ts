/**
 * Docker's event stream, followed for as long as it is wanted: when the connection to the
 * engine drops (an engine restart, a socket that went away), it says so and subscribes again,
 * with a short backoff, until the engine answers; then it says the engine is back (events in
 * between were missed: a follower reconciles from state then, it does not replay).
 *
 * Docker sends events as JSON, one object a line (`GET /events`); a chunk may end mid-line.
 */
import type Docker from 'dockerode';
import { jsonLines } from './streams';

export interface DockerEvent {
  id?: string;
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
}

export type EngineConnection =
  | { state: 'connected' }
  | { state: 'lost'; reason: string }
  /** Subscribed again after a loss; `downMs` is how long the engine was away. */
  | { state: 'restored'; downMs: number };

export interface FollowOptions {
  /** Docker's event filters (type, event, label...). */
  filters: Record<string, string[]>;
  onEvent: (event: DockerEvent) => void;
  onConnection?: (change: EngineConnection) => void;
  /** First and longest wait between attempts, in ms. */
  retryMs?: number;
  maxRetryMs?: number;
}

/** Follows the engine's events until the returned disposer is called; never gives up. */
export function followEvents(docker: Docker, options: FollowOptions): () => void {
  const { retryMs = 250, maxRetryMs = 2000 } = options;
  let stream: NodeJS.ReadableStream | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lostAt: number | undefined;
  let wait = retryMs;

  const lost = (reason: string) => {
    stream = undefined;
    if (stopped) return;
    if (lostAt === undefined) {
      lostAt = Date.now();
      options.onConnection?.({ state: 'lost', reason });
    }
    timer = setTimeout(subscribe, wait);
    wait = Math.min(maxRetryMs, wait * 2);
  };

  const subscribe = () => {
    if (stopped) return;
    docker.getEvents({ filters: options.filters }, (err, s) => {
      if (err || !s) return lost(err instanceof Error ? err.message : 'no event stream');
      if (stopped) return destroy(s);
      stream = s;
      wait = retryMs;
      if (lostAt !== undefined) {
        const downMs = Date.now() - lostAt;
        lostAt = undefined;
        options.onConnection?.({ state: 'restored', downMs });
      } else options.onConnection?.({ state: 'connected' });
      const events = jsonLines((event) => options.onEvent(event as DockerEvent));
      let ended = false;
      const end = (reason: string) => {
        if (ended) return;
        ended = true;
        lost(reason);
      };
      s.on('data', (chunk: Buffer) => events.write(chunk));
      s.on('error', (e: Error) => end(e.message));
      s.on('end', () => end('the engine closed the event stream'));
      s.on('close', () => end('the engine closed the event stream'));
    });
  };

  subscribe();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (stream) destroy(stream);
  };
}

function destroy(stream: NodeJS.ReadableStream): void {
  (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
}
