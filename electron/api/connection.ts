/**
 * A connection: whoever is at the other end of a transport (a browser tab over WebSocket, an
 * Electron window over IPC, an in-process client). Most methods do not care who calls them;
 * those that hold something for the caller (terminal sessions) send it events of its own and
 * let go of what it held when it goes.
 */
import { randomBytes } from 'node:crypto';
import type { EventName, Events } from './contract';

export interface Connection {
  /** Unique for the life of the process. */
  readonly id: string;
  /** Sends an event to this connection only. Dropped once it is closed. */
  send<E extends EventName>(event: E, payload: Events[E]): void;
  /** Runs `fn` once when the connection closes (at once if it already has). Returns a disposer. */
  onClose(fn: () => void): () => void;
  readonly closed: boolean;
  /**
   * Bytes sent to this connection that its other end has not taken yet (0 where the transport
   * cannot tell), and a promise that resolves once they are at most `bytes` (or the
   * connection closed). What a terminal session's backpressure reads (terminal/sessions.ts).
   */
  backlog(): number;
  drained(bytes: number): Promise<void>;
}

/** How a transport tells what its other end has not taken yet (see Connection.backlog). */
export interface Flow {
  backlog(): number;
  /** Registers `check`, called each time the backlog shrank; returns its disposer. */
  onShrink(check: () => void): () => void;
}

/** A connection and the hook its transport calls when it goes. */
export interface ConnectionHandle {
  connection: Connection;
  close(): void;
}

export function createConnection(
  send: <E extends EventName>(event: E, payload: Events[E]) => void,
  kind = 'c',
  flow?: Flow,
): ConnectionHandle {
  const closers = new Set<() => void>();
  let closed = false;
  const backlog = () => (closed || !flow ? 0 : flow.backlog());
  const connection: Connection = {
    id: `${kind}-${randomBytes(6).toString('hex')}`,
    send(event, payload) {
      if (!closed) send(event, payload);
    },
    onClose(fn) {
      if (closed) {
        fn();
        return () => undefined;
      }
      closers.add(fn);
      return () => closers.delete(fn);
    },
    get closed() {
      return closed;
    },
    backlog,
    drained(bytes) {
      if (backlog() <= bytes) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          if (backlog() > bytes) return;
          offShrink?.();
          offClose();
          resolve();
        };
        const offShrink = flow?.onShrink(done);
        const offClose = connection.onClose(done);
      });
    },
  };
  return {
    connection,
    close() {
      if (closed) return;
      closed = true;
      for (const fn of closers) {
        try {
          fn();
        } catch (err) {
          console.error('a close hook failed:', err);
        }
      }
      closers.clear();
    },
  };
}

/** For callers that hold nothing and listen to nothing (unit tests, one-off calls). */
export const DETACHED: Connection = {
  id: 'detached',
  send: () => undefined,
  onClose: () => () => undefined,
  closed: false,
  backlog: () => 0,
  drained: () => Promise.resolve(),
};
