/**
 * The load generator (SHOP_ROLE=loadgen): starts LOAD_RATE scenarios per second for
 * LOAD_DURATION seconds against LOAD_TARGET, whether or not earlier ones have finished (an
 * open loop, like real visitors). Every second it prints a JSON line with that second's
 * figures per endpoint; at the end, one with the totals:
 *   {"type":"tick","elapsed":3,"window":[...],"total":[...]}
 *   {"type":"summary","elapsed":30.1,"endpoints":[...],"errorSamples":[...]}
 *
 * With LOAD_CAPACITY (JSON, a part of capacity.ts's CapacityOptions) it searches for the
 * capacity instead: steps of LOAD_CAPACITY.stepSeconds each at a rate capacity.ts's plan asks
 * for, starting at LOAD_RATE, each drained before the next (a step's figures are those of the
 * requests it started), after one uncounted second at that rate (the shop's code warms up),
 * until the plan ends or LOAD_DURATION seconds passed. The summary then
 * carries `capacity` (the steps, the knee, why it stopped) and its endpoints are the totals
 * over every step.
 */
import http from 'node:http';
import { env } from '../lib/config';
import type { CapacityOptions, CapacityResult, CapacityStep } from './capacity';
import { conclude, DEFAULT_CAPACITY, judge, plan } from './capacity';
import type { Scenario } from './stats';
import { DEFAULT_MIX, MixPicker, parseMix, Recorder } from './stats';

/** What a search query looks like (the search scenario takes them in turn). */
const QUERIES = ['coffee', 'grinder', 'beans light roast', 'paper filter', 'kettle pour', 'cup'];

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
  const capacity = process.env.LOAD_CAPACITY
    ? ({
        ...DEFAULT_CAPACITY,
        ...(JSON.parse(process.env.LOAD_CAPACITY) as Partial<CapacityOptions>),
        start: rate,
      } as CapacityOptions)
    : undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const recorder = new Recorder();
  /** The current capacity step's requests: started, failed, latencies (ms). */
  let stepFigures: { latencies: number[]; errors: number } | undefined;
  /** While true, requests are made but not counted (a capacity search's warm-up). */
  let warming = false;
  const errorSamples = new Set<string>();
  const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

  const send = (
    method: string,
    path: string,
    token?: string,
    body?: unknown,
    retried = false,
  ): Promise<Reply> => {
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
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed as this request went out: the request never
        // reached it, so it goes again on a new connection (as browsers and the shop's own clients do).
        if (err.code === 'ECONNRESET' && req.reusedSocket && !retried)
          send(method, path, token, body, true).then(resolve, reject);
        else reject(err);
      });
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
    const ms = performance.now() - started;
    if (warming) {
      if (error) throw new Error(error);
      return reply!.body;
    }
    recorder.record(endpoint, ms, !error);
    if (stepFigures) {
      stepFigures.latencies.push(ms);
      if (error) stepFigures.errors++;
    }
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
  let asked = 0;
  const query = () => encodeURIComponent(QUERIES[asked++ % QUERIES.length]!);
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
    search: async () => {
      await step('GET /api/search', `/api/search?q=${query()}`);
    },
    // A new visitor signs up, logs in and looks at their account (the users service alone).
    signup: async () => {
      await newAccount(true).then((token) => step('GET /api/me', '/api/me', token));
    },
  };

  const picker = new MixPicker(mix);
  const start = performance.now();
  let started = 0;
  let inFlight = 0;
  let dropped = 0;
  let lastTick = start;
  let current = rate;
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
  const tick = (now: number, elapsed: number) => {
    if (now - lastTick < 1000) return;
    const seconds = (now - lastTick) / 1000;
    lastTick = now;
    print({
      type: 'tick',
      elapsed: Math.round(elapsed * 10) / 10,
      duration,
      window: recorder.window(seconds),
      inFlight,
      dropped,
      ...(capacity ? { rate: current } : {}),
    });
  };
  /** Offers `at` scenarios/s for `seconds` (an open loop); resolves when the last is started. */
  const offer = (at: number, seconds: number) =>
    new Promise<void>((resolve) => {
      const from = performance.now();
      let due0 = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        const within = Math.min((now - from) / 1000, seconds);
        const due = Math.floor(within * at);
        while (due0 < due) {
          due0++;
          started++;
          launch();
        }
        tick(now, (now - start) / 1000);
        if (within >= seconds) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
  const drain = () => Promise.race([Promise.all(running), new Promise((r) => setTimeout(r, TIMEOUT_MS))]);

  let capacityResult: CapacityResult | undefined;
  if (capacity) {
    // A second at the first rate, not counted: the shop's code is compiled before the clock counts.
    warming = true;
    await offer(rate, 1);
    await drain();
    warming = false;
    const steps: CapacityStep[] = [];
    for (;;) {
      const next = plan(steps, capacity);
      if (next.result) {
        capacityResult = next.result;
        break;
      }
      if ((performance.now() - start) / 1000 + capacity.stepSeconds > duration) {
        capacityResult = conclude(steps, capacity, `its ${duration} s ran out before the search ended`);
        break;
      }
      current = next.next;
      stepFigures = { latencies: [], errors: 0 };
      const droppedBefore = dropped;
      const stepStart = performance.now();
      await offer(current, capacity.stepSeconds);
      await drain();
      const figures = stepFigures;
      stepFigures = undefined;
      const sorted = [...figures.latencies].sort((a, b) => a - b);
      const p95 = sorted.length
        ? sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!
        : 0;
      const judged = judge(
        {
          rate: current,
          requests: figures.latencies.length,
          errors: figures.errors,
          served: Math.round(((figures.latencies.length - figures.errors) / capacity.stepSeconds) * 10) / 10,
          p95: Math.round(p95 * 10) / 10,
          dropped: dropped - droppedBefore,
        },
        capacity,
      );
      steps.push(judged);
      print({ type: 'step', ...judged, seconds: Math.round((performance.now() - stepStart) / 100) / 10 });
    }
  } else {
    await offer(rate, duration);
    await drain();
  }
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
    endpoints: recorder.total(capacity ? elapsed : duration),
    errorSamples: [...errorSamples],
    ...(capacityResult ? { capacity: capacityResult } : {}),
  });
  agent.destroy();
}
