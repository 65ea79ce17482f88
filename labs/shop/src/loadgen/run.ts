/**
 * The load generator (SHOP_ROLE=loadgen): starts LOAD_RATE scenarios per second for
 * LOAD_DURATION seconds against LOAD_TARGET, whether or not earlier ones have finished (an
 * open loop, like real visitors). Every second it prints a JSON line with that second's
 * figures per endpoint; at the end, one with the totals:
 *   {"type":"tick","elapsed":3,"window":[...],"total":[...]}
 *   {"type":"summary","elapsed":30.1,"endpoints":[...],"errorSamples":[...]}
 */
import http from 'node:http';
import { env } from '../lib/config';
import type { Scenario } from './stats';
import { DEFAULT_MIX, MixPicker, parseMix, Recorder } from './stats';

const MAX_IN_FLIGHT = 400;
const TIMEOUT_MS = 10_000;

interface Reply {
  status: number;
  body: unknown;
}

export async function runLoad(): Promise<void> {
  const target = new URL(env('LOAD_TARGET', 'http://storefront:8080'));
  const rate = Number(env('LOAD_RATE', '10'));
  const duration = Number(env('LOAD_DURATION', '10'));
  const mix = process.env.LOAD_MIX ? parseMix(process.env.LOAD_MIX) : DEFAULT_MIX;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const recorder = new Recorder();
  const errorSamples = new Set<string>();
  const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

  const send = (method: string, path: string, token?: string, body?: unknown): Promise<Reply> => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port || 80,
          method,
          path,
          agent,
          timeout: TIMEOUT_MS,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(payload ? { 'content-type': 'application/json' } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* keep the text */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end(payload);
    });
  };

  /** One measured request; throws (ending its scenario) when it fails. */
  const step = async (endpoint: string, path: string, token?: string, body?: unknown): Promise<unknown> => {
    const [method] = endpoint.split(' ');
    const started = performance.now();
    let reply: Reply | undefined;
    let error: string | undefined;
    try {
      reply = await send(method!, path, token, body);
      if (reply.status >= 400) {
        const code = (reply.body as { error?: { code?: string } }).error?.code;
        error = `${reply.status} ${code ?? ''}`.trim();
      }
    } catch (err) {
      error = (err as Error).message;
    }
    recorder.record(endpoint, performance.now() - started, !error);
    if (error) {
      if (errorSamples.size < 20) errorSamples.add(`${endpoint}: ${error}`);
      throw new Error(error);
    }
    return reply!.body;
  };

  // Visitors: one scenario at a time per account, so carts do not interfere.
  const idle: string[] = [];
  let accounts = 0;
  const newAccount = async (measured: boolean): Promise<string> => {
    const n = ++accounts;
    const email = `load-${process.pid}-${Date.now()}-${n}@example.test`;
    const credentials = { email, password: 'load-test-password', name: `Visitor ${n}` };
    if (measured) {
      await step('POST /api/users', '/api/users', undefined, credentials);
      return ((await step('POST /api/login', '/api/login', undefined, credentials)) as { token: string })
        .token;
    }
    await send('POST', '/api/users', undefined, credentials);
    return ((await send('POST', '/api/login', undefined, credentials)).body as { token: string }).token;
  };
  const withAccount = async (work: (token: string) => Promise<void>) => {
    const token = idle.pop() ?? (await newAccount(true));
    try {
      await work(token);
    } finally {
      idle.push(token);
    }
  };

  const products = (await send('GET', '/api/products')).body as { id: string }[];
  if (!Array.isArray(products) || products.length === 0) throw new Error(`${target.href} serves no products`);
  // Enough accounts for the visitors in flight at once, made before the clock starts.
  const wanted = Math.min(32, Math.ceil(rate / 2));
  while (idle.length < wanted) {
    const batch = Math.min(8, wanted - idle.length);
    idle.push(...(await Promise.all(Array.from({ length: batch }, () => newAccount(false)))));
  }
  let turn = 0;
  const product = () => products[turn++ % products.length]!.id;
  const card = { number: '4242424242424242', expiry: '12/30', cvc: '123' };

  const scenarios: Record<Scenario, () => Promise<void>> = {
    browse: async () => {
      await step('GET /api/products', '/api/products');
      await step('GET /api/products/:id', `/api/products/${product()}`);
    },
    cart: () =>
      withAccount(async (token) => {
        const id = product();
        await step('POST /api/cart/items', '/api/cart/items', token, { productId: id, quantity: 1 });
        await step('GET /api/cart', '/api/cart', token);
        await step('DELETE /api/cart/items/:id', `/api/cart/items/${id}`, token);
      }),
    checkout: () =>
      withAccount(async (token) => {
        await step('POST /api/cart/items', '/api/cart/items', token, { productId: product(), quantity: 1 });
        await step('POST /api/orders', '/api/orders', token, { card });
        await step('GET /api/orders', '/api/orders', token);
      }),
    account: () =>
      withAccount(async (token) => {
        await step('GET /api/me', '/api/me', token);
        await step('GET /api/orders', '/api/orders', token);
      }),
  };

  const picker = new MixPicker(mix);
  const start = performance.now();
  let started = 0;
  let inFlight = 0;
  let dropped = 0;
  let lastTick = start;
  const running = new Set<Promise<void>>();
  const launch = () => {
    if (inFlight >= MAX_IN_FLIGHT) {
      dropped++;
      return;
    }
    inFlight++;
    const p = scenarios[picker.next()]()
      .catch(() => undefined)
      .finally(() => {
        inFlight--;
        running.delete(p);
      });
    running.add(p);
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const elapsed = (now - start) / 1000;
      const due = Math.floor(Math.min(elapsed, duration) * rate);
      while (started < due) {
        started++;
        launch();
      }
      if (now - lastTick >= 1000) {
        const seconds = (now - lastTick) / 1000;
        lastTick = now;
        print({
          type: 'tick',
          elapsed: Math.round(elapsed * 10) / 10,
          duration,
          window: recorder.window(seconds),
          inFlight,
          dropped,
        });
      }
      if (elapsed >= duration) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  await Promise.race([Promise.all(running), new Promise((r) => setTimeout(r, TIMEOUT_MS))]);
  const elapsed = (performance.now() - start) / 1000;
  print({
    type: 'summary',
    target: target.href,
    rate,
    duration,
    mix,
    elapsed: Math.round(elapsed * 10) / 10,
    started,
    dropped,
    endpoints: recorder.total(duration),
    errorSamples: [...errorSamples],
  });
  agent.destroy();
}
