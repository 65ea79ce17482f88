import { describe, expect, it } from 'vitest';
import { createConnection } from '../../electron/api/connection';
import type { FlowEvent } from '../../electron/api/contract';
import { SharedFeed } from '../../electron/services/feed';

/** A connection that records the events sent to it. */
function client() {
  const seen: string[] = [];
  const handle = createConnection((event, payload) => seen.push(`${event} ${(payload as FlowEvent).src}`));
  return { ...handle, seen };
}

/** A source that counts its starts and stops, and lets the test emit. */
function source() {
  const state = { starts: 0, stops: 0, emit: (_e: FlowEvent) => undefined as void };
  const start = async (emit: (e: FlowEvent) => void) => {
    state.starts++;
    state.emit = emit;
    return () => void state.stops++;
  };
  return { state, start };
}

const flow = (src: string) => ({ src }) as FlowEvent;
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('a shared feed', () => {
  it('sends events to the connections that subscribed, and to no other', async () => {
    const { state, start } = source();
    const feed = new SharedFeed('flows:event', start);
    const [a, b, c] = [client(), client(), client()];
    await feed.subscribe(a.connection);
    await feed.subscribe(b.connection);
    await feed.subscribe(b.connection);
    state.emit(flow('jumpbox'));
    expect(a.seen).toEqual(['flows:event jumpbox']);
    expect(b.seen).toEqual(['flows:event jumpbox']);
    expect(c.seen).toEqual([]);
    expect(state.starts).toBe(1);
  });

  it("one connection's stop leaves another's subscription running", async () => {
    const { state, start } = source();
    const feed = new SharedFeed('flows:event', start);
    const [a, b] = [client(), client()];
    await feed.subscribe(a.connection);
    await feed.subscribe(b.connection);
    feed.unsubscribe(a.connection);
    state.emit(flow('shop'));
    expect(a.seen).toEqual([]);
    expect(b.seen).toEqual(['flows:event shop']);
    expect(feed.has(a.connection)).toBe(false);
    expect(feed.has(b.connection)).toBe(true);
    await settled();
    expect(state.stops).toBe(0);
  });

  it('ends a subscription with its connection, and stops the source with the last one', async () => {
    const { state, start } = source();
    const feed = new SharedFeed('flows:event', start);
    const [a, b] = [client(), client()];
    await feed.subscribe(a.connection);
    await feed.subscribe(b.connection);
    a.close();
    expect(feed.size).toBe(1);
    b.close();
    expect(feed.size).toBe(0);
    await settled();
    expect(state.stops).toBe(1);
    // a closed connection cannot subscribe again; a new one starts the source again
    await feed.subscribe(a.connection);
    expect(feed.size).toBe(0);
    const d = client();
    await feed.subscribe(d.connection);
    expect(state.starts).toBe(2);
  });

  it('stops a source that started after everyone left, and rejects when it cannot start', async () => {
    const { state, start } = source();
    const feed = new SharedFeed('flows:event', start);
    const a = client();
    const subscribing = feed.subscribe(a.connection);
    feed.unsubscribe(a.connection);
    await subscribing;
    await settled();
    expect(state.stops).toBe(1);

    const broken = new SharedFeed('flows:event', () => Promise.reject(new Error('engine gone')));
    await expect(broken.subscribe(a.connection)).rejects.toThrow('engine gone');
    expect(broken.has(a.connection)).toBe(false);
  });
});
