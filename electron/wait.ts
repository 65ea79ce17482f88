/**
 * The floor's vocabulary for waiting: `sleep`, `pollUntil` (ask again until an answer comes, at
 * most so long) and `withTimeout` (one promise, at most so long). A call site says what it
 * waits for and how long; none writes its own `setTimeout` loop. (VS Code keeps the same few
 * words in one module: `src/vs/base/common/async.ts`.)
 */
import { setTimeout as delay } from 'node:timers/promises';

/** A wait that reached its limit; `what` names what was awaited, `limitMs` how long it was given. */
export class TimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly limitMs: number,
  ) {
    super(`${what}: not within ${seconds(limitMs)}`);
    this.name = 'TimeoutError';
  }
}

/** "5 s", "0.5 s", "1.25 s": a limit as a sentence says it. */
export function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(2))} s`;
}

/**
 * Resolves after `ms` milliseconds. Rejects with Node's AbortError (name 'AbortError') when
 * `signal` aborts first.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : undefined);
}

export interface PollOptions {
  /** What is awaited, as the error should name it ("the container to be gone"). */
  what: string;
  /** The longest wait in ms, counted from the first call of `check`. */
  limitMs: number;
  /** The pause between two calls of `check`, in ms (default 100). */
  everyMs?: number;
  /** Aborts the wait (AbortError) between two calls. */
  signal?: AbortSignal;
}

/**
 * Calls `check` until it answers with something other than `undefined` or `false`, and
 * returns that answer. `check` runs at once, then `everyMs` after each answer, and a last time
 * once the limit has passed (so a limit of 0 asks once). An error thrown by `check` ends the
 * wait with that error.
 *
 * Throws TimeoutError naming `what` when no answer came within `limitMs`; AbortError when
 * `signal` aborts.
 */
export async function pollUntil<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  { what, limitMs, everyMs = 100, signal }: PollOptions,
): Promise<Exclude<T, false>> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    signal?.throwIfAborted();
    const answer = await check();
    if (answer !== undefined && answer !== false) return answer as Exclude<T, false>;
    if (Date.now() >= deadline) throw new TimeoutError(what, limitMs);
    await sleep(Math.min(everyMs, Math.max(0, deadline - Date.now())), signal);
  }
}

export interface TimeoutOptions {
  /** What is awaited, as the error should name it ("ls in 0123456789ab to finish"). */
  what: string;
  /** The longest wait, in ms. */
  limitMs: number;
  /** Called once when the limit passes, before the promise rejects: the place to let go of a stream. */
  onTimeout?: () => void;
}

/**
 * `work`'s outcome, or TimeoutError naming `what` when it does not settle within `limitMs`
 * (`work` itself is not stopped: `onTimeout` is where the caller stops it).
 */
export function withTimeout<T>(work: Promise<T>, { what, limitMs, onTimeout }: TimeoutOptions): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new TimeoutError(what, limitMs));
    }, limitMs);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}
