import { describe, expect, it } from 'vitest';
import { LOAD_SCENARIOS } from '../../electron/api/contract';
import { jsonLines } from '../../electron/engine/streams';
import {
  MixPicker,
  parseMix,
  percentile,
  Recorder,
  SCENARIOS,
  summarize,
} from '../../labs/shop/src/loadgen/stats';

describe('load statistics', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBe(0);
  });

  it('summarizes an endpoint: count, errors, rate and latency', () => {
    expect(summarize('GET /api/products', [30, 10, 20, 40], 1, 2)).toEqual({
      endpoint: 'GET /api/products',
      count: 4,
      errors: 1,
      rps: 2,
      p50: 20,
      p95: 40,
      p99: 40,
    });
  });

  it('reports each window once, and everything in the total', () => {
    const r = new Recorder();
    r.record('GET /a', 10, true);
    r.record('GET /b', 30, false);
    const first = r.window(1);
    expect(first.map((s) => [s.endpoint, s.count, s.errors])).toEqual([
      ['GET /a', 1, 0],
      ['GET /b', 1, 1],
      ['all', 2, 1],
    ]);
    r.record('GET /a', 20, true);
    expect(r.window(1).map((s) => [s.endpoint, s.count])).toEqual([
      ['GET /a', 1],
      ['all', 1],
    ]);
    const total = r.total(2);
    expect(total.find((s) => s.endpoint === 'all')).toMatchObject({ count: 3, errors: 1, rps: 1.5, p50: 20 });
  });

  it('picks scenarios in proportion to the mix, spread out', () => {
    const picker = new MixPicker({ browse: 10, cart: 3, checkout: 1 });
    const picks = Array.from({ length: 28 }, () => picker.next());
    const count = (s: string) => picks.filter((p) => p === s).length;
    expect([count('browse'), count('cart'), count('checkout')]).toEqual([20, 6, 2]);
    expect(picks.slice(0, 3)).not.toEqual(['checkout', 'checkout', 'checkout']);
  });

  it('parses a mix, and knows the same scenarios as the API', () => {
    expect(parseMix('browse=10,cart=3,checkout=1')).toEqual({ browse: 10, cart: 3, checkout: 1 });
    expect(() => parseMix('surf=1')).toThrow('unknown scenario "surf"');
    expect([...SCENARIOS]).toEqual([...LOAD_SCENARIOS]);
  });

  it('reads JSON lines split anywhere across chunks', () => {
    const seen: unknown[] = [];
    const feed = jsonLines((v) => seen.push(v));
    feed.write('{"type":"tick","elapsed":1}\n{"type":"ti');
    feed.write('ck","elapsed":2}\nnot json\n{"type":"summary"');
    feed.write('}\n');
    expect(seen).toEqual([{ type: 'tick', elapsed: 1 }, { type: 'tick', elapsed: 2 }, { type: 'summary' }]);
  });
});
