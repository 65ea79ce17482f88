/**
 * A live feed that connections subscribe to (the flow log today): each subscription belongs to
 * its connection, so two tabs (or two views) never end each other's, and its events go to the
 * connections that asked for them only. One source serves them all: it starts with the first
 * subscriber and stops with the last (an unsubscribe, or the connection closing).
 */
import type { Connection } from '../api/connection';
import type { EventName, Events } from '../api/contract';

/** Starts the source; it calls `emit` with each event until the returned stop is called. */
export type FeedSource<E extends EventName> = (emit: (payload: Events[E]) => void) => Promise<() => void>;

export class SharedFeed<E extends EventName> {
  /** Subscribed connections, by id, with the disposer of their close hook. */
  private readonly subscribers = new Map<string, { connection: Connection; unhook: () => void }>();
  private stop?: Promise<(() => void) | undefined>;

  constructor(
    private readonly event: E,
    private readonly source: FeedSource<E>,
  ) {}

  /** Whether `connection` is subscribed. */
  has(connection: Connection): boolean {
    return this.subscribers.has(connection.id);
  }

  /** How many connections are subscribed. */
  get size(): number {
    return this.subscribers.size;
  }

  /**
   * Subscribes `connection` (again: nothing changes) until it unsubscribes or closes; starts
   * the source for the first one. Rejects when the source cannot start (nothing subscribed).
   */
  async subscribe(connection: Connection): Promise<void> {
    if (connection.closed || this.subscribers.has(connection.id)) return;
    const unhook = connection.onClose(() => this.unsubscribe(connection));
    this.subscribers.set(connection.id, { connection, unhook });
    this.stop ??= this.source((payload) => {
      for (const { connection: c } of this.subscribers.values()) c.send(this.event, payload);
    }).catch((err: unknown) => {
      this.stop = undefined;
      this.subscribers.delete(connection.id);
      unhook();
      throw err;
    });
    await this.stop;
    // Everyone left while it started.
    if (this.subscribers.size === 0) this.end();
  }

  /** Ends `connection`'s subscription; the source stops with the last one. */
  unsubscribe(connection: Connection): void {
    const entry = this.subscribers.get(connection.id);
    if (!entry) return;
    this.subscribers.delete(connection.id);
    entry.unhook();
    if (this.subscribers.size === 0) this.end();
  }

  /** Ends every subscription and stops the source. */
  close(): void {
    for (const { unhook } of this.subscribers.values()) unhook();
    this.subscribers.clear();
    this.end();
  }

  private end(): void {
    const stopping = this.stop;
    this.stop = undefined;
    void stopping?.then((stop) => stop?.()).catch(() => undefined);
  }
}
