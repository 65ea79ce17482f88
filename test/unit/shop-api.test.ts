import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { GatewayDeps } from '../../labs/shop/src/gateway';
import { gatewayRoutes } from '../../labs/shop/src/gateway';
import { validateCard } from '../../labs/shop/src/domains/payments';
import { HttpError } from '../../labs/shop/src/lib/errors';
import { Router } from '../../labs/shop/src/lib/http';

const openapi = parse(
  readFileSync(path.join(import.meta.dirname, '..', '..', 'labs', 'shop', 'openapi.yaml'), 'utf8'),
) as {
  paths: Record<string, Record<string, unknown>>;
};

describe('the public API', () => {
  it('is documented in openapi.yaml, route for route', () => {
    const router = new Router();
    gatewayRoutes(router, {} as GatewayDeps);
    const served = router
      .list()
      .filter(([, pattern]) => pattern.startsWith('/api/'))
      .map(([method, pattern]) => `${method} ${pattern.replace(/:(\w+)/g, '{$1}')}`)
      .sort();
    const documented = Object.entries(openapi.paths)
      .filter(([p]) => p.startsWith('/api/'))
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(served).toEqual(documented);
  });

  it('matches paths with parameters, and tells 404 from 405', () => {
    const router = new Router();
    gatewayRoutes(router, {} as GatewayDeps);
    expect(router.match('GET', '/api/products/grinder').params).toEqual({ id: 'grinder' });
    expect(router.match('DELETE', '/api/cart/items/beans%20x').params).toEqual({ productId: 'beans x' });
    expect(() => router.match('PUT', '/api/products')).toThrow(
      new HttpError(405, 'method-not-allowed', 'PUT is not allowed on /api/products'),
    );
    expect(() => router.match('GET', '/api/nope')).toThrow(
      new HttpError(404, 'not-found', 'no such endpoint: GET /api/nope'),
    );
  });
});

describe('card checks', () => {
  it('accepts a valid card and strips spaces', () => {
    expect(validateCard({ number: '4242 4242 4242 4242', expiry: '01/31', cvc: '123' })).toEqual({
      number: '4242424242424242',
      expiry: '01/31',
      cvc: '123',
    });
  });

  it.each([
    [{ number: '4242424242424241', expiry: '12/30', cvc: '123' }, 'card number is not valid'],
    [{ number: '4242', expiry: '12/30', cvc: '123' }, 'card number is not valid'],
    [{ number: '4242424242424242', expiry: '13/30', cvc: '123' }, 'expiry must be MM/YY'],
    [{ number: '4242424242424242', expiry: '12/30', cvc: '12' }, 'cvc must be 3 or 4 digits'],
    [undefined, 'card number is not valid'],
  ])('refuses %j', (card, message) => {
    expect(() => validateCard(card)).toThrow(new HttpError(400, 'invalid-card', message));
  });
});
