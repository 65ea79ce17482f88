/**
 * The reporting job (SHOP_ROLE=reporting): an analytics neighbour of the shop. Every
 * REPORT_EVERY_MS (default 3000 ms) it asks the workload that owns the orders for their
 * totals (REPORT_URL, `GET /internal/orders/totals`: the monolith's app, or the orders
 * service) on a fresh connection, so that a firewall decides every call, and logs one line:
 *   {"msg":"report","orders":12,"revenue":45600,"currency":"EUR",...}   (revenue in cents)
 *   {"msg":"report failed","error":"connect timed out after 2000 ms",...}
 *
 * It serves /readyz (and `GET /report`) on its own port: ready while its last call worked,
 * so its health check says whether the flow it needs is open.
 */
import http from 'node:http';
import type { OrderTotals } from '../domains/orders';
import { env } from '../lib/config';
import { HttpError } from '../lib/errors';
import type { Router } from '../lib/http';
import { log } from '../lib/log';

/** The last call and its outcome. */
export interface LastReport {
  at: string;
  ok: boolean;
  totals?: OrderTotals;
  error?: string;
}

const CALL_TIMEOUT_MS = 2000;

/** One GET on a new connection (no keep-alive: a policy change applies to the next call). */
function fetchTotals(url: URL): Promise<OrderTotals> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return reject(new Error(`${url.host} answered ${res.statusCode}`));
        try {
          resolve(JSON.parse(text) as OrderTotals);
        } catch {
          reject(new Error(`${url.host} sent a reply that is not JSON`));
        }
      });
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer from ${url.host} within ${CALL_TIMEOUT_MS} ms`)),
      CALL_TIMEOUT_MS,
    );
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
  });
}

/** Starts the loop and registers `GET /report`; returns the readiness check (throws while the last call failed). */
export function startReporting(router: Router): () => Promise<void> {
  const url = new URL(env('REPORT_URL', 'http://orders:8080/internal/orders/totals'));
  const every = Number(env('REPORT_EVERY_MS', '3000'));
  let last: LastReport | undefined;

  const tick = async () => {
    const at = new Date().toISOString();
    try {
      const totals = await fetchTotals(url);
      last = { at, ok: true, totals };
      log('info', 'report', { ...totals, source: url.host });
    } catch (err) {
      last = { at, ok: false, error: (err as Error).message };
      log('warn', 'report failed', { source: url.host, error: last.error });
    }
    setTimeout(() => void tick(), every);
  };
  void tick();

  router.on('GET', '/report', async () => last ?? { ok: false, error: 'no call yet' });
  return async () => {
    if (!last) throw new HttpError(503, 'starting', 'no call yet');
    if (!last.ok) throw new Error(`the last call to ${url.host} failed: ${last.error}`);
  };
}
