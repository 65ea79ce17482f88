/**
 * The contract suite: one conversation with the public API, held with the monolith and with
 * the microservices on the real engine. Both must answer request for request and field for
 * field the same (ids, tokens and timestamps aside), bad input included.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab, Reply } from './shop-support';
import { lab, prepare, shopClient, storefront } from './shop-support';

const project = 'microlab-it-shop';
let l: Lab;

beforeAll(async () => {
  l = lab(project);
  await l.call('resources:down', {});
  await prepare(l);
});

afterAll(async () => {
  await l.call('resources:down', {});
});

interface Step extends Reply {
  step: string;
}

const VOLATILE = new Set(['id', 'paymentId', 'createdAt', 'token']);
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Replaces ids (also inside messages), tokens and timestamps by placeholders, keeping everything else. */
function normalize(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(UUID, '<uuid>');
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        VOLATILE.has(k) && typeof v === 'string' ? `<${k}>` : normalize(v),
      ]),
    );
  }
  return value;
}

const CARD = { number: '4242 4242 4242 4242', expiry: '12/30', cvc: '123' };
const DECLINED = { number: '4000000000000002', expiry: '12/30', cvc: '123' };

/** The conversation. Returns every reply, in order, under a name. */
async function converse(baseUrl: string): Promise<Step[]> {
  const api = shopClient(baseUrl);
  const steps: Step[] = [];
  const step = async (name: string, reply: Promise<Reply>) => {
    const r = await reply;
    steps.push({ step: name, ...r });
    return r;
  };

  await step('version', api('GET', '/api/version'));
  await step('products', api('GET', '/api/products'));
  await step('one product', api('GET', '/api/products/grinder'));
  await step('unknown product', api('GET', '/api/products/no-such-thing'));
  await step('unknown endpoint', api('GET', '/api/nothing'));
  await step('wrong method', api('PUT', '/api/products'));

  const account = { email: 'ada@example.test', password: 'correct horse', name: 'Ada' };
  await step('sign up', api('POST', '/api/users', { body: account }));
  await step('sign up again', api('POST', '/api/users', { body: account }));
  await step('sign up, bad email', api('POST', '/api/users', { body: { ...account, email: 'ada' } }));
  await step(
    'sign up, no password',
    api('POST', '/api/users', { body: { email: 'b@example.test', name: 'B' } }),
  );
  await step(
    'login, wrong password',
    api('POST', '/api/login', { body: { ...account, password: 'wrong one' } }),
  );
  const login = await step('login', api('POST', '/api/login', { body: account }));
  const token = (login.body as { token: string }).token;
  await step('me, no token', api('GET', '/api/me'));
  await step('me, bad token', api('GET', '/api/me', { token: 'nope' }));
  await step('me', api('GET', '/api/me', { token }));

  // Bad input: each gets a clear 4xx and changes nothing.
  await step('empty cart', api('GET', '/api/cart', { token }));
  await step('checkout, empty cart', api('POST', '/api/orders', { token, body: { card: CARD } }));
  await step(
    'add unknown product',
    api('POST', '/api/cart/items', { token, body: { productId: 'nope', quantity: 1 } }),
  );
  await step(
    'add zero',
    api('POST', '/api/cart/items', { token, body: { productId: 'grinder', quantity: 0 } }),
  );
  await step(
    'add, quantity text',
    api('POST', '/api/cart/items', { token, body: { productId: 'grinder', quantity: 'two' } }),
  );
  await step(
    'add, malformed JSON',
    api('POST', '/api/cart/items', { token, raw: '{"productId": "grinder",' }),
  );
  await step('add, JSON array', api('POST', '/api/cart/items', { token, raw: '[1, 2]' }));
  await step(
    'add, oversized body',
    api('POST', '/api/cart/items', {
      token,
      raw: JSON.stringify({ productId: 'grinder', pad: 'x'.repeat(70_000) }),
    }),
  );
  await step('remove, not in cart', api('DELETE', '/api/cart/items/grinder', { token }));
  await step('cart after bad input', api('GET', '/api/cart', { token }));
  await step('product after bad input', api('GET', '/api/products/grinder'));
  await step('orders after bad input', api('GET', '/api/orders', { token }));

  await step(
    'add grinder',
    api('POST', '/api/cart/items', { token, body: { productId: 'grinder', quantity: 2 } }),
  );
  await step('add beans', api('POST', '/api/cart/items', { token, body: { productId: 'beans-brazil' } }));
  await step(
    'add filters',
    api('POST', '/api/cart/items', { token, body: { productId: 'filters', quantity: 3 } }),
  );
  await step('remove filters', api('DELETE', '/api/cart/items/filters', { token }));
  await step('checkout, declined card', api('POST', '/api/orders', { token, body: { card: DECLINED } }));
  await step(
    'checkout, invalid card',
    api('POST', '/api/orders', { token, body: { card: { ...CARD, number: '4242' } } }),
  );
  await step('checkout, no card', api('POST', '/api/orders', { token, body: {} }));
  await step('cart after failed checkouts', api('GET', '/api/cart', { token }));
  await step('stock after failed checkouts', api('GET', '/api/products/grinder'));

  const order = await step('checkout', api('POST', '/api/orders', { token, body: { card: CARD } }));
  const orderId = (order.body as { id: string }).id;
  await step('orders', api('GET', '/api/orders', { token }));
  await step('one order', api('GET', `/api/orders/${orderId}`, { token }));
  await step('unknown order', api('GET', '/api/orders/5b0c1d62-2a7e-4b8c-9d0e-1f2a3b4c5d6e', { token }));
  await step('cart after checkout', api('GET', '/api/cart', { token }));
  await step('stock after checkout', api('GET', '/api/products/grinder'));

  const other = { email: 'bob@example.test', password: 'another password', name: 'Bob' };
  await step('sign up bob', api('POST', '/api/users', { body: other }));
  const bob = (
    (await step('login bob', api('POST', '/api/login', { body: other }))).body as { token: string }
  ).token;
  await step("bob reads ada's order", api('GET', `/api/orders/${orderId}`, { token: bob }));
  await step('bob orders', api('GET', '/api/orders', { token: bob }));
  return steps;
}

function byName(steps: Step[]): Record<string, Reply> {
  return Object.fromEntries(steps.map(({ step, ...reply }) => [step, reply]));
}

/** What the conversation must show, whatever the deployment. */
function checkConversation(steps: Step[]): void {
  const s = byName(steps);
  const error = (name: string) => [
    s[name]!.status,
    (s[name]!.body as { error: { code: string } }).error.code,
  ];
  expect(s.version!.body).toEqual({
    app: 'microlab-shop',
    parts: {
      cart: '1.0.0',
      catalog: '1.0.0',
      gateway: '1.0.0',
      orders: '1.0.0',
      payments: '1.0.0',
      users: '1.0.0',
    },
  });
  expect((s.products!.body as unknown[]).length).toBe(8);
  expect(s['one product']!.body).toMatchObject({
    id: 'grinder',
    price: 6900,
    currency: 'EUR',
    stock: 1_000_000,
  });
  expect(s['one product']!.body).not.toHaveProperty('rating');
  expect(error('unknown product')).toEqual([404, 'unknown-product']);
  expect(error('unknown endpoint')).toEqual([404, 'not-found']);
  expect(error('wrong method')).toEqual([405, 'method-not-allowed']);
  expect(s['sign up']!.status).toBe(201);
  expect(error('sign up again')).toEqual([409, 'email-taken']);
  expect(error('sign up, bad email')).toEqual([400, 'invalid-user']);
  expect(error('sign up, no password')).toEqual([400, 'invalid-body']);
  expect(error('login, wrong password')).toEqual([401, 'invalid-credentials']);
  expect(error('me, no token')).toEqual([401, 'unauthorized']);
  expect(error('me, bad token')).toEqual([401, 'unauthorized']);
  expect(s.me!.body).toMatchObject({ email: 'ada@example.test', name: 'Ada' });

  expect(error('checkout, empty cart')).toEqual([400, 'cart-empty']);
  expect(error('add unknown product')).toEqual([404, 'unknown-product']);
  expect(error('add zero')).toEqual([400, 'invalid-quantity']);
  expect(error('add, quantity text')).toEqual([400, 'invalid-quantity']);
  expect(error('add, malformed JSON')).toEqual([400, 'invalid-json']);
  expect(error('add, JSON array')).toEqual([400, 'invalid-body']);
  expect(error('add, oversized body')).toEqual([413, 'body-too-large']);
  expect(error('remove, not in cart')).toEqual([404, 'not-in-cart']);
  // ... and nothing changed.
  const emptyCart = { items: [], total: 0, currency: 'EUR' };
  expect(s['empty cart']!.body).toEqual(emptyCart);
  expect(s['cart after bad input']!.body).toEqual(emptyCart);
  expect(s['product after bad input']!.body).toEqual(s['one product']!.body);
  expect(s['orders after bad input']!.body).toEqual([]);

  expect(error('checkout, declined card')).toEqual([402, 'payment-declined']);
  expect(error('checkout, invalid card')).toEqual([400, 'invalid-card']);
  expect(error('checkout, no card')).toEqual([400, 'invalid-card']);
  expect(s['cart after failed checkouts']!.body).toEqual(s['remove filters']!.body);
  expect(s['stock after failed checkouts']!.body).toEqual(s['one product']!.body);

  expect(s.checkout!.status).toBe(201);
  expect(s.checkout!.body).toMatchObject({
    items: [
      { productId: 'grinder', name: 'Hand grinder', price: 6900, quantity: 2 },
      { productId: 'beans-brazil', name: 'Beans: Brazil Cerrado', price: 1100, quantity: 1 },
    ],
    total: 14_900,
    currency: 'EUR',
    status: 'paid',
    card: { last4: '4242' },
  });
  expect(s.orders!.body).toEqual([s.checkout!.body]);
  expect(s['one order']!.body).toEqual(s.checkout!.body);
  expect(error('unknown order')).toEqual([404, 'unknown-order']);
  expect(s['cart after checkout']!.body).toEqual(emptyCart);
  expect((s['stock after checkout']!.body as { stock: number }).stock).toBe(1_000_000 - 2);
  expect(error("bob reads ada's order")).toEqual([404, 'unknown-order']);
  expect(s['bob orders']!.body).toEqual([]);
}

/** A port on 127.0.0.1 held by another program (this test's own listener): close it when done. */
async function busyPort(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port };
}

describe('the contract suite, on both deployments', () => {
  const transcripts: Record<string, Step[]> = {};

  it('refuses a storefront port that is in use, saying by what and what to do, and creates nothing', async () => {
    const { server, port } = await busyPort();
    try {
      const task = await l.call('deploy:up', { deployment: 'monolith', port });
      const final = await l.services.tasks.wait(task.id);
      expect(final).toMatchObject({
        state: 'failed',
        error: {
          code: 'port-in-use',
          message: `port ${port} on 127.0.0.1 is in use by another program on this machine`,
          hint: `Stop that program, or choose another port: \`microlab up <deployment> --port ${port + 1}\`.`,
        },
      });
      expect((await l.call('deploy:status', {})).workloads).toEqual([]);
      // With nothing running, a probe says so rather than "observed equals expected" over nothing.
      await expect(l.call('probe:run', {})).rejects.toMatchObject({
        code: 'not-deployed',
        message: 'nothing is running to probe',
      });
    } finally {
      server.close();
    }
  });

  it('the monolith keeps the contract, bad input included', async () => {
    const result = await l.run('deploy:up', { deployment: 'monolith', port: 0 });
    expect(result).toMatch(
      /^monolith is up: 4 containers healthy; the storefront is at http:\/\/127\.0\.0\.1:\d+\/$/,
    );
    transcripts.monolith = await converse(await storefront(l));
    checkConversation(transcripts.monolith);
  });

  it('upgrading the monolith restarts the whole app, and version 2 shows ratings', async () => {
    const result = await l.run('deploy:upgrade', { service: 'catalog', version: 2 });
    expect(result).toMatch(/^shop restarted at version 2 \(the whole app\)/);
    const api = shopClient(await storefront(l));
    const product = await api('GET', '/api/products/grinder');
    expect(product.body).toMatchObject({ id: 'grinder', rating: 4.8 });
    const version = await api('GET', '/api/version');
    expect(version.body).toMatchObject({ parts: { catalog: '2.0.0', payments: '2.0.0', gateway: '2.0.0' } });
    // The data survived the restart: it lives in the database.
    expect((product.body as { stock: number }).stock).toBe(1_000_000 - 2);
  });

  it('a busy port stops the microservices before the running monolith goes: the monolith keeps serving', async () => {
    const before = await l.call('deploy:status', {});
    const { server, port } = await busyPort();
    try {
      const task = await l.call('deploy:up', { deployment: 'microservices', port });
      const final = await l.services.tasks.wait(task.id);
      expect(final).toMatchObject({ state: 'failed', error: { code: 'port-in-use' } });
      // Nothing was removed first: the same containers, and the storefront where it was.
      const after = await l.call('deploy:status', {});
      expect(after.deployment).toBe('monolith');
      expect(after.workloads.map((w) => w.container).sort()).toEqual(
        before.workloads.map((w) => w.container).sort(),
      );
      expect((await shopClient(await storefront(l))('GET', '/api/products')).status).toBe(200);
    } finally {
      server.close();
    }
  });

  it('the microservices replace the monolith and keep the same contract', async () => {
    const result = await l.run('deploy:up', { deployment: 'microservices', port: 0 });
    expect(result).toMatch(/^microservices is up: 13 containers healthy/);
    const status = await l.call('deploy:status', {});
    expect(status.deployment).toBe('microservices');
    expect(status.workloads.map((w) => w.workload).sort()).toEqual([
      'cart',
      'cart-db',
      'catalog',
      'catalog-db',
      'gateway',
      'jumpbox',
      'orders',
      'orders-db',
      'payments',
      'payments-db',
      'reporting',
      'users',
      'users-db',
    ]);
    for (const w of status.workloads) {
      expect(w).toMatchObject({ deployment: 'microservices', state: 'running', health: 'healthy' });
      expect(w.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(w.memoryBytes).toBeGreaterThan(0);
      expect(w.labels).toMatchObject({ service: expect.any(String), tier: expect.any(String) });
      // The operator's jumpbox is a neighbour of the shop, not part of it.
      expect(w.labels.app).toBe(w.workload === 'jumpbox' ? 'ops' : 'shop');
    }
    expect(status.networks.map((n) => [n.name, n.internal])).toEqual([
      [`${project}-edge`, false],
      [`${project}-lab`, true],
    ]);
    transcripts.microservices = await converse(await storefront(l));
    checkConversation(transcripts.microservices);
  });

  it('both answer identically, request for request and field for field', () => {
    expect(transcripts.microservices!.length).toBe(transcripts.monolith!.length);
    expect(normalize(transcripts.microservices)).toEqual(normalize(transcripts.monolith));
  });
});
