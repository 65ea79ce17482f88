import { describe, expect, it } from 'vitest';
import { callGraph } from '../../electron/topology/apply';
import { microservices, monolith } from '../../electron/topology/declarations';

describe('the call graph a status reports', () => {
  it('is the shop own: only orders calls payments, only payments its database', () => {
    const calls = callGraph(microservices);
    expect(calls).toContainEqual({ src: 'orders', dst: 'payments', port: 8080 });
    expect(calls).toContainEqual({ src: 'payments', dst: 'payments-db', port: 5432 });
    expect(calls.filter((c) => c.dst === 'payments').map((c) => c.src)).toEqual(['orders']);
    expect(calls.filter((c) => c.dst === 'payments-db').map((c) => c.src)).toEqual(['payments']);
    expect(
      calls
        .filter((c) => c.src === 'gateway')
        .map((c) => c.dst)
        .sort(),
    ).toEqual(['cart', 'catalog', 'orders', 'users']);
  });

  it('is one call in the monolith, the app to its database, and the neighbours to the app', () => {
    expect(callGraph(monolith)).toEqual([
      { src: 'shop', dst: 'shop-db', port: 5432 },
      { src: 'jumpbox', dst: 'shop', port: 8080 },
      { src: 'reporting', dst: 'shop', port: 8080 },
    ]);
  });

  it('has the neighbours call only what they legitimately need: the jumpbox the gateway, reporting the orders', () => {
    const calls = callGraph(microservices);
    expect(calls.filter((c) => ['jumpbox', 'reporting'].includes(c.src))).toEqual([
      { src: 'jumpbox', dst: 'gateway', port: 8080 },
      { src: 'reporting', dst: 'orders', port: 8080 },
    ]);
    expect(calls.filter((c) => ['jumpbox', 'reporting'].includes(c.dst))).toEqual([]);
  });
});
