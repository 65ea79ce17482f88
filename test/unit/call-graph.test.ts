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

  it('is one call in the monolith: the app to its database', () => {
    expect(callGraph(monolith)).toEqual([{ src: 'shop', dst: 'shop-db', port: 5432 }]);
  });
});
